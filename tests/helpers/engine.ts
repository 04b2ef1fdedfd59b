// The engine side of the security tests: the containers, networks and volumes of one lab scope, commands
// run in a container (as the engine runs them, not through the server), and the terminal sessions alive
// in a container (the shells the gateway opened carry ATELIER_TERMINAL in their environment).
import type { Duplex } from 'node:stream';
import { Writable } from 'node:stream';
import Docker from 'dockerode';

export const docker = new Docker();

export interface ScopeObjects {
  containers: Docker.ContainerInfo[];
  networks: Docker.NetworkInspectInfo[];
  volumes: Docker.VolumeInspectInfo[];
}

/** Everything the engine holds for a lab scope (see ATELIER_LAB_SCOPE). */
export async function scopeObjects(scope: string): Promise<ScopeObjects> {
  const filters = { label: [`atelier.scope=${scope}`] };
  const [containers, networks, volumes] = await Promise.all([
    docker.listContainers({ all: true, filters } as Docker.ContainerListOptions),
    docker.listNetworks({ filters } as {}),
    docker.listVolumes({ filters } as {}),
  ]);
  return { containers, networks, volumes: volumes.Volumes ?? [] };
}

/** Removes everything of a scope (the end of a test file; scripts/clean-test-labs.ts catches the rest). */
export async function removeScope(scope: string): Promise<void> {
  const { containers } = await scopeObjects(scope);
  await Promise.all(
    containers.map((c) =>
      docker
        .getContainer(c.Id)
        .remove({ force: true, v: true })
        .catch(() => {}),
    ),
  );
  const { networks, volumes } = await scopeObjects(scope);
  await Promise.all(
    networks.map((n) =>
      docker
        .getNetwork(n.Id)
        .remove()
        .catch(() => {}),
    ),
  );
  await Promise.all(
    volumes.map((v) =>
      docker
        .getVolume(v.Name)
        .remove()
        .catch(() => {}),
    ),
  );
}

/** The containers of one lab instance. */
export async function labContainers(labId: string): Promise<Docker.ContainerInfo[]> {
  return docker.listContainers({ all: true, filters: { label: [`atelier.lab-id=${labId}`] } } as Docker.ContainerListOptions);
}

/** The container name of a lab host (test naming). */
export function containerName(labId: string, host: string): string {
  return `atelier-test-${labId}-${host}`;
}

class Sink extends Writable {
  chunks: Buffer[] = [];
  override _write(chunk: Buffer, _e: BufferEncoding, done: () => void): void {
    this.chunks.push(chunk);
    done();
  }
  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}

/** `sh -c command` in a container through the engine; output and exit code. */
export async function execIn(
  container: string,
  command: string,
  timeoutMs = 30_000,
): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  const exec = await docker.getContainer(container).exec({
    Cmd: ['timeout', '-k', '2', String(timeoutMs / 1000), 'sh', '-c', command],
    AttachStdout: true,
    AttachStderr: true,
  });
  const stream = (await exec.start({ hijack: true, stdin: false })) as Duplex;
  const out = new Sink();
  const err = new Sink();
  docker.modem.demuxStream(stream, out, err);
  await new Promise<void>((ok) => {
    stream.on('end', ok);
    stream.on('close', ok);
    stream.on('error', ok);
  });
  const info = await exec.inspect();
  return { exitCode: info.ExitCode ?? -1, stdout: out.text(), stderr: err.text() };
}

// Terminal shells: processes carrying a terminal's id that lead their session on a terminal (fields 6 and 7
// of /proc/PID/stat), as the server's hang-up counts them. A daemon started from a terminal (no terminal
// of its own) keeps the id in its environment but is no shell: hang-ups spare it by design.
const LIST_SESSIONS = `for d in /proc/[0-9]*; do
  id=$(tr '\\0' '\\n' < $d/environ 2>/dev/null | grep '^ATELIER_TERMINAL=') || continue
  stat=$(cat $d/stat 2>/dev/null) || continue
  set -- \${stat##*) }
  [ "$4" = "\${d#/proc/}" ] && [ "$5" != 0 ] && echo "$id"
done | sort -u`;

/** Terminal shells alive in a container (-1 when the container does not run). */
export async function terminalSessions(container: string): Promise<number> {
  return (await terminalSessionIds(container))?.length ?? -1;
}

/** The session ids of the terminal shells alive in a container (null when the container does not run). */
export async function terminalSessionIds(container: string): Promise<string[] | null> {
  try {
    const r = await execIn(container, LIST_SESSIONS);
    return r.stdout.split('\n').filter(Boolean).sort();
  } catch {
    return null;
  }
}

/** Exec sessions the engine runs in a container now (terminal shells, commands); finished ones are not listed. */
export async function runningExecs(container: string): Promise<number> {
  const info = await docker.getContainer(container).inspect();
  return (info.ExecIDs ?? []).length;
}

/** Processes in a container (from its pids cgroup, as the kernel counts them). */
export async function processCount(container: string): Promise<number> {
  const r = await execIn(container, 'ls -d /proc/[0-9]* | wc -l');
  return Number(r.stdout.trim());
}

/** Polls `probe` until `done` holds; returns the last value (callers assert on it). */
export async function pollUntil<T>(probe: () => Promise<T>, done: (v: T) => boolean, ms: number, everyMs = 250): Promise<T> {
  const deadline = Date.now() + ms;
  let v = await probe();
  while (!done(v) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, everyMs));
    v = await probe();
  }
  return v;
}
