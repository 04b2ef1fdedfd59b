// Commands and interactive shells in a lab host, through the engine's exec API.
import { randomBytes } from 'node:crypto';
import { Writable, type Duplex } from 'node:stream';
import type Docker from 'dockerode';
import { EngineError, type ExecResult, type TerminalSession } from '../provider.ts';
import { bounded, boundedOpen } from './engine.ts';

const MAX_OUTPUT_BYTES = 4 * 1024 * 1024;

/** Keeps the first MAX_OUTPUT_BYTES and drains the rest (so a chatty command never blocks or bloats). */
class Collector extends Writable {
  chunks: Buffer[] = [];
  size = 0;
  override _write(chunk: Buffer, _enc: BufferEncoding, done: () => void): void {
    if (this.size < MAX_OUTPUT_BYTES) {
      const part = chunk.subarray(0, MAX_OUTPUT_BYTES - this.size);
      this.chunks.push(part);
      this.size += part.length;
    }
    done();
  }
  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}

export interface RunOptions {
  timeoutMs: number;
  engineTimeoutMs: number;
  env?: Record<string, string>;
  workdir?: string;
  /** bytes for the command's standard input, in pieces (closed after them); none: no standard input */
  input?: Buffer | Buffer[];
}

const envList = (env: Record<string, string> = {}) => Object.entries(env).map(([k, v]) => `${k}=${v}`);

/**
 * Runs `bash -c command` as root. The command is killed inside the host after timeoutMs (coreutils
 * `timeout`: the engine API cannot kill an exec), and the wait here is bounded too.
 */
export async function runCommand(docker: Docker, container: string, command: string, options: RunOptions): Promise<ExecResult> {
  const seconds = (options.timeoutMs / 1000).toFixed(3);
  const started = Date.now();
  const exec = await bounded('exec create', options.engineTimeoutMs, (signal) =>
    docker.getContainer(container).exec({
      Cmd: ['timeout', '-k', '2', seconds, 'bash', '-c', command],
      AttachStdin: options.input !== undefined,
      AttachStdout: true,
      AttachStderr: true,
      Tty: false,
      Env: ['LANG=C.UTF-8', ...envList(options.env)],
      ...(options.workdir ? { WorkingDir: options.workdir } : {}),
      abortSignal: signal,
    } as Docker.ExecCreateOptions),
  );
  const stream = (await boundedOpen('exec start', options.engineTimeoutMs, (signal) =>
    exec.start({ hijack: true, stdin: options.input !== undefined, abortSignal: signal } as Docker.ExecStartOptions),
  )) as Duplex;
  // The engine closes the command's standard input when this side of the connection ends.
  if (options.input !== undefined) {
    for (const piece of Array.isArray(options.input) ? options.input : [options.input]) stream.write(piece);
    stream.end();
  }
  const stdout = new Collector();
  const stderr = new Collector();
  docker.modem.demuxStream(stream, stdout, stderr);

  // The stream ends when every writer of its pipes is gone. A daemon started by the command may keep
  // them open, so the end is also "the command has exited" (polled), after a moment to drain.
  let timedOutHere = false;
  await new Promise<void>((resolve) => {
    let settled = false;
    const finish = () => {
      if (settled) return;
      settled = true;
      clearInterval(poll);
      clearTimeout(hardStop);
      resolve();
    };
    stream.on('end', finish);
    stream.on('close', finish);
    stream.on('error', finish);
    const poll = setInterval(() => {
      exec
        .inspect()
        .then((info) => {
          if (!info.Running) setTimeout(() => (stream.destroy(), finish()), 300);
        })
        .catch(() => {});
    }, 1000);
    const hardStop = setTimeout(() => {
      timedOutHere = true;
      stream.destroy();
      finish();
    }, options.timeoutMs + 5000);
  });

  const info = await bounded('exec inspect', options.engineTimeoutMs, () => exec.inspect()).catch(() => undefined);
  const exitCode = info?.ExitCode ?? (timedOutHere ? 137 : -1);
  // 124: `timeout` stopped it (TERM); 137 after the deadline: it had to KILL it.
  const timedOut = timedOutHere || exitCode === 124 || (exitCode === 137 && Date.now() - started >= options.timeoutMs);
  return { exitCode, stdout: stdout.text(), stderr: stderr.text(), timedOut };
}

// Hangs up one terminal: SIGHUP to the shell that leads the terminal's session (bash passes it on to
// its jobs, as when a terminal window closes), SIGKILL a second later if it is still there. Daemons the
// learner started from that shell have their own session and no controlling terminal (tty_nr, field 7
// of /proc/PID/stat, is 0): they carry the terminal's id in their environment but keep running.
const HANGUP = `t=$1; leaders=
for d in /proc/[0-9]*; do
  grep -qxzF "ATELIER_TERMINAL=$t" "$d/environ" 2>/dev/null || continue
  stat=$(cat "$d/stat" 2>/dev/null) || continue
  set -- \${stat##*) }
  [ "$4" = "\${d#/proc/}" ] && [ "$5" != 0 ] && leaders="$leaders \${d#/proc/}"
done
[ -n "$leaders" ] || exit 0
kill -HUP $leaders 2>/dev/null
for i in 1 2 3 4 5 6 7 8 9 10; do kill -0 $leaders 2>/dev/null || exit 0; sleep 0.1; done
kill -KILL $leaders 2>/dev/null; exit 0`;

// Hangs up the terminals of a host that no live session of this backend owns: every session leader on a
// terminal carrying ATELIER_TERMINAL, opened by this backend ($1, ATELIER_BACKEND; none: an older one), but
// the ids given. A backend that died (SIGKILL, crash) leaves its shells idle in the
// containers, where nobody can reach them again. Prints how many it found.
const HANGUP_STRAY = `backend=$1; shift; keep=" $* "; leaders=
for d in /proc/[0-9]*; do
  env=$(tr '\\0' '\\n' < "$d/environ" 2>/dev/null)
  id=$(printf '%s\\n' "$env" | sed -n 's/^ATELIER_TERMINAL=//p')
  [ -n "$id" ] || continue
  owner=$(printf '%s\\n' "$env" | sed -n 's/^ATELIER_BACKEND=//p')
  [ -z "$owner" ] || [ "$owner" = "$backend" ] || continue
  case "$keep" in *" $id "*) continue ;; esac
  stat=$(cat "$d/stat" 2>/dev/null) || continue
  set -- \${stat##*) }
  [ "$4" = "\${d#/proc/}" ] && [ "$5" != 0 ] && leaders="$leaders \${d#/proc/}"
done
echo $leaders | wc -w
[ -n "$leaders" ] || exit 0
kill -HUP $leaders 2>/dev/null
for i in 1 2 3 4 5 6 7 8 9 10; do kill -0 $leaders 2>/dev/null || exit 0; sleep 0.1; done
kill -KILL $leaders 2>/dev/null; exit 0`;

/**
 * Hangs up the terminal shells that backend `backendId` opened in a container, except `keep` (ids of its
 * live sessions); returns how many. Shells of other backends sharing the labs are theirs, live or not.
 */
export async function hangUpStrayShells(
  docker: Docker,
  container: string,
  backendId: string,
  keep: string[],
  engineTimeoutMs: number,
): Promise<number> {
  const ids = keep.filter((id) => /^[0-9a-f]+$/.test(id)).join(' ');
  if (!/^[a-z0-9-]+$/.test(backendId)) throw new RangeError(`bad backend id ${backendId}`);
  const script = HANGUP_STRAY.replaceAll("'", `'"'"'`);
  const r = await runCommand(docker, container, `bash -c '${script}' hangup-stray ${backendId} ${ids}`, {
    timeoutMs: 5000,
    engineTimeoutMs,
  });
  return Number.parseInt(r.stdout.trim(), 10) || 0;
}

export interface ShellOptions {
  /** the backend opening it (ATELIER_BACKEND_ID), written in the shell's environment */
  backendId: string;
  labId: string;
  host: string;
  /** default: the image's working directory */
  workdir?: string;
  cols: number;
  rows: number;
  env: Record<string, string>;
  engineTimeoutMs: number;
}

/** `bash -l` on a pseudo-terminal. The hijacked engine connection is the output stream itself. */
export async function openShell(docker: Docker, container: string, options: ShellOptions): Promise<TerminalSession> {
  const id = randomBytes(8).toString('hex');
  const exec = await bounded('terminal exec create', options.engineTimeoutMs, (signal) =>
    docker.getContainer(container).exec({
      Cmd: ['bash', '-l'],
      AttachStdin: true,
      AttachStdout: true,
      AttachStderr: true,
      Tty: true,
      Env: [
        ...envList(options.env),
        'TERM=xterm-256color',
        'LANG=C.UTF-8',
        `ATELIER_TERMINAL=${id}`,
        `ATELIER_BACKEND=${options.backendId}`,
      ],
      ...(options.workdir ? { WorkingDir: options.workdir } : {}),
      abortSignal: signal,
    } as Docker.ExecCreateOptions),
  );
  const socket = (await boundedOpen('terminal exec start', options.engineTimeoutMs, (signal) =>
    exec.start({ hijack: true, stdin: true, Tty: true, abortSignal: signal } as Docker.ExecStartOptions),
  )) as Duplex;

  const resize = async (cols: number, rows: number) => {
    if (!(Number.isInteger(cols) && Number.isInteger(rows) && cols > 0 && rows > 0 && cols <= 1000 && rows <= 1000)) {
      throw new RangeError(`bad terminal size ${cols}x${rows}`);
    }
    await bounded('terminal resize', options.engineTimeoutMs, (signal) => exec.resize({ h: rows, w: cols, abortSignal: signal } as {}));
  };

  const exited = new Promise<{ exitCode: number | null }>((resolve) => {
    socket.once('close', () => {
      bounded('terminal exec inspect', options.engineTimeoutMs, () => exec.inspect())
        .then((info) => resolve({ exitCode: info.Running ? null : info.ExitCode }))
        .catch(() => resolve({ exitCode: null }));
    });
  });
  socket.on('error', () => {}); // an engine that goes away ends the session through 'close'

  let closing: Promise<void> | undefined;
  const session: TerminalSession = {
    id,
    labId: options.labId,
    host: options.host,
    output: socket,
    write(data) {
      return socket.destroyed || !socket.writable || socket.write(data);
    },
    drained() {
      if (socket.destroyed || !socket.writableNeedDrain) return Promise.resolve();
      return new Promise((resolve) => {
        const done = () => {
          socket.off('drain', done);
          socket.off('close', done);
          resolve();
        };
        socket.on('drain', done);
        socket.on('close', done);
      });
    },
    resize,
    close() {
      closing ??= (async () => {
        if (!socket.destroyed) {
          // The engine keeps an exec running when its client disconnects: hang it up first.
          await runHangup(docker, container, id, options.engineTimeoutMs).catch(() => {});
        }
        socket.destroy();
        await Promise.race([exited, new Promise((r) => setTimeout(r, options.engineTimeoutMs))]);
      })();
      return closing;
    },
    exited,
  };
  try {
    await resize(options.cols, options.rows);
  } catch (err) {
    await session.close();
    throw err instanceof EngineError || err instanceof RangeError
      ? err
      : new EngineError(`terminal resize: ${(err as Error).message}`, { cause: err });
  }
  return session;
}

async function runHangup(docker: Docker, container: string, id: string, engineTimeoutMs: number): Promise<void> {
  await runCommand(docker, container, `bash -c '${HANGUP.replaceAll("'", `'"'"'`)}' hangup ${id}`, {
    timeoutMs: 5000,
    engineTimeoutMs,
  });
}
