// The real production server (node server/main.ts) as a child process the security tests can watch and
// hurt: its PID (never restarted), its memory (RSS from /proc), SIGKILL, and a restart with the same
// environment. Labs are test-labelled and scoped, so each test file sees and cleans only its own.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { listeningUrl, testProgressDb } from './server.ts';
import { SERVER_NODE_FLAGS } from '../../server/node-flags.ts';

const root = resolve(import.meta.dirname, '..', '..');

export interface Backend {
  url: string;
  previewUrl: string;
  port: number;
  previewPort: number;
  pid: number;
  /** the environment it was started with (start it again with the same to find its labs) */
  env: Record<string, string>;
  /** everything it printed so far */
  output(): string;
  /** resident memory now, in bytes (0 once it is gone) */
  rssBytes(): number;
  /** writes a heap snapshot of the server after a full collection to `path` (returns it) */
  heapSnapshot(path: string): Promise<string>;
  /** process.memoryUsage() of the server right after a full garbage collection (it runs with --expose-gc) */
  memoryAfterGc(): Promise<NodeJS.MemoryUsage>;
  /** resident memory right after a full garbage collection (the server runs with --expose-gc), bytes */
  rssAfterGc(): Promise<number>;
  /** still running? */
  alive(): boolean;
  kill(signal: NodeJS.Signals): Promise<void>;
  stop(): Promise<void>;
}

/** Environment of a backend for one test file: its own lab scope, a known secret, test labels. */
export function securityEnv(name: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    ATELIER_TEST: '1',
    ATELIER_LAB_SCOPE: `sec-${name}-${process.pid}`,
    ATELIER_SECRET: randomBytes(32).toString('hex'),
    // The reaper must not remove labs while a test looks at them; tests call the API instead.
    ATELIER_REAPER_INTERVAL_SECONDS: '3600',
    // Kept in the environment, so that a restarted server finds the same progress.
    ATELIER_PROGRESS_DB: testProgressDb(),
    ...extra,
  };
}

export async function startBackend(env: Record<string, string>): Promise<Backend> {
  const fullEnv = { PORT: '0', ATELIER_PREVIEW_PORT: '0', HOST: '127.0.0.1', ATELIER_PROGRESS_DB: testProgressDb(), ...env };
  // An IPC channel: the server answers "atelier:gc", and stops by itself if this process dies.
  const child: ChildProcess = spawn(process.execPath, ['--expose-gc', ...SERVER_NODE_FLAGS, 'server/main.ts'], {
    cwd: root,
    env: { ...process.env, ...fullEnv },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d));
  child.stderr!.on('data', (d: Buffer) => (out += d));
  let exited = child.exitCode !== null;
  const exit = new Promise<void>((ok) => child.once('exit', () => ((exited = true), ok())));
  const url = await listeningUrl(child, () => out, 60_000);
  // A server on every address (HOST=0.0.0.0) is reached at 127.0.0.1, one of the site's default origins.
  const local = (u: string) => u.replace('//0.0.0.0:', '//127.0.0.1:');
  const previewUrl = local(/preview on (http:\/\/[^\s]+)/.exec(out)?.[1] ?? '');
  const pid = child.pid!;
  const memoryAfterGc = async () => {
    child.send('atelier:gc');
    const [answer] = (await once(child, 'message')) as [{ t: string; memory: NodeJS.MemoryUsage; collected: boolean }];
    if (!answer.collected) throw new Error('the server was not started with --expose-gc');
    return answer.memory;
  };
  return {
    url: local(url),
    previewUrl,
    port: Number(new URL(local(url)).port),
    previewPort: Number(new URL(previewUrl).port),
    pid,
    env,
    output: () => out,
    rssBytes() {
      try {
        const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
        return Number(kb ?? 0) * 1024;
      } catch {
        return 0;
      }
    },
    memoryAfterGc,
    rssAfterGc: async () => (await memoryAfterGc()).rss,
    async heapSnapshot(path) {
      child.send({ t: 'atelier:heap-snapshot', path });
      const [answer] = (await once(child, 'message')) as [{ t: string; path: string }];
      return answer.path;
    },
    alive: () => !exited,
    async kill(signal) {
      if (exited) return;
      child.kill(signal);
      await exit;
    },
    async stop() {
      if (exited) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exit;
      clearTimeout(timer);
    },
  };
}
