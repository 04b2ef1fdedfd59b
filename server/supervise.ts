// `npm start` runs the server under this supervisor: if the server process still dies (a bug, memory),
// it is started again within seconds, and learners find their labs again (they live in the engine, and
// the cookie key on disk). The operator sees each restart in the log and, with the last crash's exit
// status and the end of what it printed (its stack), in the status file (ATELIER_STATUS_FILE).
// Usage: node server/supervise.ts [ENTRY] (default: server/main.ts).
import { fork } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { SERVER_NODE_FLAGS } from './node-flags.ts';

const root = resolve(import.meta.dirname, '..');
const entry = resolve(process.argv[2] ?? resolve(root, 'server/main.ts'));
const statusFile = resolve(root, process.env.ATELIER_STATUS_FILE ?? '.atelier/supervisor.json');
/** what is kept of the child's standard error, for the crash report */
const TAIL_BYTES = 16 * 1024;
/** a child that ran this long was healthy: the next restart is immediate again */
const HEALTHY_MS = 60_000;
const FIRST_DELAY_MS = 500;
const MAX_DELAY_MS = 30_000;

interface Crash {
  at: string;
  exitCode: number | null;
  signal: string | null;
  /** the end of the child's standard error: the uncaught exception's stack when it threw */
  stderrTail: string;
}
const status = {
  supervisor: process.pid,
  entry,
  startedAt: new Date().toISOString(),
  child: 0,
  restarts: 0,
  lastCrash: null as Crash | null,
};

let stopping = false;
let delay = FIRST_DELAY_MS;
let child: ReturnType<typeof fork> | undefined;

function log(message: string): void {
  console.error(`[supervisor] ${message}`);
}

function writeStatus(): void {
  try {
    mkdirSync(dirname(statusFile), { recursive: true });
    writeFileSync(statusFile, `${JSON.stringify(status, null, 2)}\n`);
  } catch (err) {
    log(`status file ${statusFile} not written: ${(err as Error).message}`);
  }
}

function start(): void {
  const startedAt = Date.now();
  // With an IPC channel the server stops by itself if this supervisor dies (server/main.ts).
  const running = fork(entry, [], { execArgv: SERVER_NODE_FLAGS, stdio: ['inherit', 'inherit', 'pipe', 'ipc'] });
  child = running;
  status.child = running.pid ?? 0;
  writeStatus();
  let tail = Buffer.alloc(0);
  running.stderr!.on('data', (chunk: Buffer) => {
    process.stderr.write(chunk);
    tail = Buffer.concat([tail, chunk]);
    if (tail.length > TAIL_BYTES) tail = tail.subarray(tail.length - TAIL_BYTES);
  });
  running.on('exit', (exitCode, signal) => {
    if (stopping) process.exit(exitCode ?? 0);
    status.restarts++;
    status.lastCrash = { at: new Date().toISOString(), exitCode, signal, stderrTail: tail.toString('utf8') };
    delay = Date.now() - startedAt > HEALTHY_MS ? FIRST_DELAY_MS : Math.min(delay * 2, MAX_DELAY_MS);
    log(`server exited (${signal ?? `code ${exitCode}`}); restart ${status.restarts} in ${delay} ms; details in ${statusFile}`);
    writeStatus();
    setTimeout(start, delay);
  });
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    stopping = true;
    if (!child || child.exitCode !== null || child.signalCode !== null) process.exit(0);
    child.kill(signal);
  });
}
start();
