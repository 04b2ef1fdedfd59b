// Commands and shells in a lab pod through the pods/exec WebSocket, framed by channel.ts. The socket comes
// from client-node's WebSocketHandler (its credentials and TLS), but the frames are read here rather than
// by client-node's Exec: that gives flow control (pausing the socket stops reading from the API server)
// and the negotiated subprotocol (v5 can close stdin alone).
import { randomBytes } from 'node:crypto';
import { PassThrough } from 'node:stream';
import type { KubeConfig } from '@kubernetes/client-node';
// Not re-exported by the package's index; its own Exec and Attach use it.
import { WebSocketHandler } from '@kubernetes/client-node/dist/web-socket-handler.js';
import { EngineError, type ExecResult, type TerminalSession } from '../provider.ts';
import { closeStdinFrame, decodeFrame, type ExitStatus, execQuery, PROTOCOLS, resizeFrame, stdinFrame } from './channel.ts';
import { CONTAINER } from './manifests.ts';

const MAX_OUTPUT_BYTES = 4 * 1024 * 1024;
/** bytes queued on the socket before write() says "wait" */
const INPUT_HIGH_WATER = 64 * 1024;

export interface PodRef {
  namespace: string;
  pod: string;
}

/** The exec API has neither environment nor working directory: env(1) and cd do it in the pod. */
export function wrapCommand(command: string[], env: Record<string, string>, workdir: string | undefined): string[] {
  const pairs = Object.entries(env).map(([k, v]) => `${k}=${v}`);
  const cd = workdir ? ['bash', '-c', 'cd -- "$0" && exec "$@"', workdir] : [];
  return ['env', ...pairs, ...cd, ...command];
}

type Socket = Awaited<ReturnType<WebSocketHandler['connect']>>;
const OPEN = 1;

async function openSocket(
  kc: KubeConfig,
  ref: PodRef,
  command: string[],
  stdin: boolean,
  tty: boolean,
  timeoutMs: number,
): Promise<Socket> {
  const path = `/api/v1/namespaces/${ref.namespace}/pods/${ref.pod}/exec?${execQuery(command, { container: CONTAINER, stdin, tty })}`;
  let timer: NodeJS.Timeout | undefined;
  const opening = new WebSocketHandler(kc).connect(path, null, () => true);
  try {
    const socket = await Promise.race([
      opening,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new EngineError(`exec in ${ref.pod}: no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    if (!(PROTOCOLS as readonly string[]).includes(socket.protocol)) {
      socket.terminate();
      throw new EngineError(
        `exec in ${ref.pod}: the API server speaks ${socket.protocol || 'no subprotocol'}, not v4 or v5.channel.k8s.io`,
      );
    }
    // The frames are read here (channel.ts), not by client-node's handler.
    socket.onmessage = null;
    return socket;
  } catch (err) {
    void opening.then((s) => s.terminate()).catch(() => {});
    throw err instanceof EngineError ? err : new EngineError(`exec in ${ref.pod}: ${(err as Error)?.message ?? err}`, { cause: err });
  } finally {
    clearTimeout(timer);
  }
}

/** `bash -c command` killed inside the pod after timeoutMs (coreutils timeout), the wait bounded here too. */
export async function runCommand(
  kc: KubeConfig,
  ref: PodRef,
  command: string,
  options: { timeoutMs: number; engineTimeoutMs: number; env?: Record<string, string>; workdir?: string },
): Promise<ExecResult> {
  const seconds = (options.timeoutMs / 1000).toFixed(3);
  const argv = wrapCommand(['timeout', '-k', '2', seconds, 'bash', '-c', command], { LANG: 'C.UTF-8', ...options.env }, options.workdir);
  const socket = await openSocket(kc, ref, argv, false, false, options.engineTimeoutMs);
  const out = { stdout: [] as Buffer[], stderr: [] as Buffer[], size: 0 };
  let status: ExitStatus | undefined;
  let timedOutHere = false;
  await new Promise<void>((resolve) => {
    const hardStop = setTimeout(() => {
      timedOutHere = true;
      socket.terminate();
    }, options.timeoutMs + 5000);
    socket.on('message', (message: Buffer) => {
      const frame = decodeFrame(message);
      if (frame?.channel === 'stdout' || frame?.channel === 'stderr') {
        const part = frame.data.subarray(0, Math.max(0, MAX_OUTPUT_BYTES - out.size));
        out[frame.channel].push(part);
        out.size += part.length;
      } else if (frame?.channel === 'error') status = frame.status;
    });
    socket.on('error', () => {});
    socket.once('close', () => {
      clearTimeout(hardStop);
      resolve();
    });
  });
  if (!status && !timedOutHere) throw new EngineError(`exec in ${ref.pod}: the connection closed without an exit status`);
  const exitCode = status?.exitCode ?? 137;
  return {
    exitCode,
    stdout: Buffer.concat(out.stdout).toString('utf8'),
    stderr: Buffer.concat(out.stderr).toString('utf8') || (status?.exitCode === null ? status.message : ''),
    timedOut: timedOutHere || exitCode === 124 || exitCode === 137,
  };
}

/**
 * Hangs up the shell started with ATELIER_TERMINAL=$1: its session leader gets SIGHUP (bash passes it to
 * its jobs), then SIGKILL if still there a second later. Closing the socket alone may leave it running.
 */
export const HANGUP = `for d in /proc/[0-9]*; do
  tr '\\0' '\\n' < "$d/environ" 2>/dev/null | grep -qx "ATELIER_TERMINAL=$1" || continue
  set -- "$1" $(sed 's/^.*) //' "$d/stat" 2>/dev/null)
  [ "$5" = "\${d#/proc/}" ] && kill -HUP "\${d#/proc/}" && pid=\${d#/proc/}
done
[ -n "$pid" ] || exit 0
for i in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$pid" 2>/dev/null || exit 0; sleep 0.1; done
kill -KILL "$pid" 2>/dev/null; exit 0`;

export interface ShellOptions {
  labId: string;
  host: string;
  backendId: string;
  workdir: string;
  env: Record<string, string>;
  cols: number;
  rows: number;
  engineTimeoutMs: number;
}

/** `bash -l` on the pod's TTY; resize on channel 4; output paused by pausing the socket. */
export async function openShell(kc: KubeConfig, ref: PodRef, options: ShellOptions): Promise<TerminalSession> {
  const id = randomBytes(8).toString('hex');
  const env = { ...options.env, TERM: 'xterm-256color', LANG: 'C.UTF-8', ATELIER_TERMINAL: id, ATELIER_BACKEND: options.backendId };
  const socket = await openSocket(kc, ref, wrapCommand(['bash', '-l'], env, options.workdir), true, true, options.engineTimeoutMs);
  const output = new PassThrough({
    read() {
      socket.resume();
    },
  });
  let status: ExitStatus | undefined;
  socket.on('message', (message: Buffer) => {
    const frame = decodeFrame(message);
    if (frame?.channel === 'stdout' || frame?.channel === 'stderr') {
      if (!output.push(frame.data)) socket.pause();
    } else if (frame?.channel === 'error') status = frame.status;
  });
  socket.on('error', () => {}); // a dropped connection ends the session through 'close'
  const exited = new Promise<{ exitCode: number | null }>((resolve) => {
    socket.once('close', () => {
      output.push(null);
      resolve({ exitCode: status?.exitCode ?? null });
    });
  });
  const send = (frame: Buffer) => {
    if (socket.readyState === OPEN) socket.send(frame);
  };
  let closing: Promise<void> | undefined;
  const session: TerminalSession = {
    id,
    labId: options.labId,
    host: options.host,
    output,
    write(data) {
      send(stdinFrame(data));
      return socket.bufferedAmount < INPUT_HIGH_WATER;
    },
    async drained() {
      while (socket.readyState === OPEN && socket.bufferedAmount >= INPUT_HIGH_WATER) await new Promise((r) => setTimeout(r, 10));
    },
    async resize(cols, rows) {
      send(resizeFrame(cols, rows));
    },
    close() {
      closing ??= (async () => {
        if (socket.readyState === OPEN) {
          await runCommand(kc, ref, `bash -c '${HANGUP.replaceAll("'", `'"'"'`)}' hangup ${id}`, {
            timeoutMs: 5000,
            engineTimeoutMs: options.engineTimeoutMs,
          }).catch(() => {});
          const end = closeStdinFrame(socket.protocol);
          if (end) send(end);
        }
        socket.close();
        await Promise.race([exited, new Promise((r) => setTimeout(r, options.engineTimeoutMs).unref())]);
        socket.terminate();
      })();
      return closing;
    },
    exited,
  };
  await session.resize(options.cols, options.rows).catch(async (err: unknown) => {
    await session.close();
    throw err;
  });
  return session;
}
