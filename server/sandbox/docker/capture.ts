// The capture helper of the FastCGI view: a container that joins one host's network namespace and runs
// tcpdump from the lab image: NET_RAW to open its socket, then no capability at all. It listens on nothing, shares no process,
// file or mount with the lab, and carries the lab's labels, so the reaper and destroyLab remove it with
// the lab. One per host: a new capture replaces the previous one. docs/security.md, capture helper.
import { type Readable, Transform, type TransformCallback } from 'node:stream';
import type Docker from 'dockerode';
import { HostNotFoundError, type PacketCapture } from '../provider.ts';
import { bounded, boundedOpen, engineMessage, isNotFound, statusCode } from './engine.ts';
import { LABEL } from './labels.ts';

/** on the capture helper: the host whose traffic it captures (it has no atelier.host: it is no host) */
export const CAPTURE_LABEL = 'atelier.capture';

export const CAPTURE_LIMITS = { memoryBytes: 32 * 1024 * 1024, pidsLimit: 8, nanoCpus: 250_000_000 } as const;

/** The engine's default read-only paths (as in host-spec.ts), plus the cgroup mount. */
const READONLY_PATHS = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger', '/sys/fs/cgroup'];

export function captureName(hostContainer: string): string {
  return `${hostContainer}-capture`;
}

/** The helper's container: tcpdump writing pcap on stdout, packets to or from `port` over TCP only. */
export function captureContainerSpec(input: {
  hostContainer: string;
  image: string;
  labels: Record<string, string>;
  host: string;
  port: number;
}): Docker.ContainerCreateOptions {
  const labels: Record<string, string> = { ...input.labels, [CAPTURE_LABEL]: input.host };
  delete labels[LABEL.host];
  return {
    name: captureName(input.hostContainer),
    Image: input.image,
    // -p: no promiscuous mode (that would need NET_ADMIN); -U: each packet flushed as it comes; -s 0: whole
    // packets (record lengths need every byte). Once its socket is open, tcpdump becomes Debian's user
    // tcpdump (SETUID, SETGID) and keeps no capability at all (measured in tests/security/capture.test.ts).
    Entrypoint: ['/usr/bin/tcpdump'],
    Cmd: ['-i', 'eth0', '-p', '-n', '-U', '-s', '0', '-w', '-', `tcp port ${input.port}`],
    User: '0:0',
    Labels: labels,
    AttachStdout: true,
    AttachStderr: true,
    NetworkDisabled: false,
    HostConfig: {
      NetworkMode: `container:${input.hostContainer}`,
      RestartPolicy: { Name: 'no' },
      Privileged: false,
      CapDrop: ['ALL'],
      CapAdd: ['NET_RAW', 'SETGID', 'SETUID'],
      SecurityOpt: ['no-new-privileges:true'],
      ReadonlyRootfs: true,
      Memory: CAPTURE_LIMITS.memoryBytes,
      MemorySwap: CAPTURE_LIMITS.memoryBytes,
      PidsLimit: CAPTURE_LIMITS.pidsLimit,
      NanoCpus: CAPTURE_LIMITS.nanoCpus,
      OomScoreAdj: 500,
      ReadonlyPaths: READONLY_PATHS,
      // The pcap goes to the backend only: the engine keeps no copy of it on disk.
      LogConfig: { Type: 'none', Config: {} },
      Binds: [],
    },
  };
}

/** Docker's attach stream without a TTY: 8-byte frame headers; keeps stdout, drops stderr, keeps backpressure. */
export class StdoutOfAttach extends Transform {
  #pending: Buffer = Buffer.alloc(0);

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    let buf = this.#pending.length ? Buffer.concat([this.#pending, chunk]) : chunk;
    while (buf.length >= 8) {
      const size = buf.readUInt32BE(4);
      if (buf.length < 8 + size) break;
      if (buf[0] === 1) this.push(buf.subarray(8, 8 + size));
      buf = buf.subarray(8 + size);
    }
    this.#pending = Buffer.from(buf);
    done();
  }
}

export interface CaptureTarget {
  docker: Docker;
  engineMs: number;
  /** the host's container name */
  hostContainer: string;
  host: string;
  labId: string;
  port: number;
}

/** Starts a capture helper (replacing an older one of the same host) and streams its pcap. */
export async function startCapture(t: CaptureTarget): Promise<PacketCapture> {
  if (!Number.isInteger(t.port) || t.port < 1 || t.port > 65535) throw new RangeError(`bad port ${t.port}`);
  const notFound = (err: unknown): never => {
    const code = statusCode(err);
    if (code === 404 || code === 409 || (code === 500 && /not running|is paused|non running/i.test(engineMessage(err)))) {
      throw new HostNotFoundError(t.labId, t.host);
    }
    throw err;
  };
  const hostInfo = await bounded('container inspect', t.engineMs, (signal) =>
    t.docker.getContainer(t.hostContainer).inspect({ abortSignal: signal }),
  ).catch(notFound);
  if (!hostInfo.State.Running) throw new HostNotFoundError(t.labId, t.host);
  const name = captureName(t.hostContainer);
  await removeCapture(t.docker, name, t.engineMs);
  const container = await bounded('capture create', t.engineMs, (signal) =>
    t.docker.createContainer({
      ...captureContainerSpec({
        hostContainer: t.hostContainer,
        image: hostInfo.Config.Image,
        labels: hostInfo.Config.Labels ?? {},
        host: t.host,
        port: t.port,
      }),
      abortSignal: signal,
    }),
  );
  try {
    const raw = (await boundedOpen('capture attach', t.engineMs, (signal) =>
      container.attach({ stream: true, stdout: true, stderr: true, abortSignal: signal } as {}),
    )) as unknown as Readable;
    await bounded('capture start', t.engineMs, (signal) => container.start({ abortSignal: signal })).catch(notFound);
    const output = raw.pipe(new StdoutOfAttach());
    raw.on('error', (err) => output.destroy(err));
    let closed: Promise<void> | undefined;
    return {
      output,
      close: () =>
        (closed ??= (async () => {
          raw.destroy();
          output.destroy();
          await removeCapture(t.docker, name, t.engineMs);
        })()),
    };
  } catch (err) {
    await removeCapture(t.docker, name, t.engineMs).catch(() => {});
    throw err;
  }
}

export async function removeCapture(docker: Docker, name: string, engineMs: number): Promise<void> {
  await bounded('capture remove', engineMs, (signal) => docker.getContainer(name).remove({ force: true, abortSignal: signal } as {})).catch(
    (err) => {
      if (!isNotFound(err) && statusCode(err) !== 409) throw err;
    },
  );
}
