// The real production server (node server/main.ts) in a child process of its own, as in production,
// on free ports, with test labels and a scope of its own so that its labs are this benchmark's only.
// It gets an IPC channel: server/main.ts then answers "atelier:metrics" (bytes queued per session, its
// memory). Its RSS and CPU time are also read from /proc.
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { listeningUrl, testProgressDb } from '../../tests/helpers/server.ts';
import { SERVER_NODE_FLAGS } from '../../server/node-flags.ts';

const root = resolve(import.meta.dirname, '..', '..');

export interface ServerMetrics {
  peakQueued: number;
  sessions: number;
  memory: NodeJS.MemoryUsage;
  /** warm pool: ready labs (shells open) per definition */
  pool: Record<string, number>;
}

export interface BenchServer {
  url: string;
  scope: string;
  pid: number;
  env: Record<string, string>;
  output(): string;
  metrics(): Promise<ServerMetrics | null>;
  /** from /proc: resident set now and its peak (VmHWM), bytes */
  rss(): { rss: number; peak: number };
  /** user+system CPU seconds used so far */
  cpuSeconds(): number;
  stop(): Promise<void>;
}

/** Every scope of bench/run.ts starts with it (bench/lib/cleanup.ts removes only those). */
export const BENCH_SCOPE_PREFIX = 'atlbench-';

/** A scope unique to this run (lowercase, as the configuration requires). */
export function benchScope(name: string): string {
  return `${BENCH_SCOPE_PREFIX}${name}-${randomBytes(3).toString('hex')}`;
}

export async function startBenchServer(name: string, env: Record<string, string> = {}): Promise<BenchServer> {
  const scope = env.ATELIER_LAB_SCOPE ?? benchScope(name);
  const fullEnv: Record<string, string> = {
    PORT: '0',
    ATELIER_PREVIEW_PORT: '0',
    HOST: '127.0.0.1',
    ATELIER_TEST: '1',
    ATELIER_PROGRESS_DB: testProgressDb(),
    ATELIER_LAB_SCOPE: scope,
    // Benchmarks open many labs and terminals from few learners: the per-learner rate limits would
    // measure themselves, not the system.
    ATELIER_LAB_CREATES_PER_MINUTE: '100000',
    ATELIER_CONNECTS_PER_MINUTE: '100000',
    ATELIER_CONNECTIONS_PER_LEARNER: '1000',
    ATELIER_LAB_CREATES_PER_MINUTE_PER_ADDRESS: '0',
    ATELIER_CONNECTS_PER_MINUTE_PER_ADDRESS: '0',
    ...env,
  };
  const child: ChildProcess = fork(resolve(root, 'server/main.ts'), [], {
    execArgv: SERVER_NODE_FLAGS,
    cwd: root,
    env: { ...process.env, ...fullEnv },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out = (out + d).slice(-200_000)));
  child.stderr!.on('data', (d: Buffer) => (out = (out + d).slice(-200_000)));
  const url = await listeningUrl(child, () => out, 60_000);
  const pid = child.pid!;
  const status = () => readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status())?.[1] ?? 0) * 1024;
  return {
    url,
    scope,
    pid,
    env: fullEnv,
    output: () => out,
    metrics() {
      if (!child.connected) return Promise.resolve(null);
      return new Promise((ok) => {
        const timer = setTimeout(() => (child.off('message', on), ok(null)), 2000);
        const on = (m: unknown) => {
          const msg = m as { t?: string } & ServerMetrics;
          if (msg?.t !== 'atelier:metrics') return;
          clearTimeout(timer);
          child.off('message', on);
          ok({ peakQueued: msg.peakQueued, sessions: msg.sessions, memory: msg.memory, pool: msg.pool ?? {} });
        };
        child.on('message', on);
        child.send('atelier:metrics');
      });
    },
    rss: () => ({ rss: kb('VmRSS'), peak: kb('VmHWM') }),
    cpuSeconds() {
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (100 Hz)
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await once(child, 'exit');
      clearTimeout(timer);
    },
  };
}
