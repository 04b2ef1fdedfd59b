// Starts the real production server (node server/main.ts) on a free port for a test file.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { SERVER_NODE_FLAGS } from '../../server/node-flags.ts';
import './loopback-names.ts'; // labs' previews are at {labId}.localhost, as a browser resolves it

export interface RunningServer {
  url: string;
  /** the preview server's own address; each lab's preview is at http://{labId}.localhost on its port */
  previewUrl: string;
  pid: number;
  /** everything the server printed, for failure messages */
  output: () => string;
  stop(): Promise<void>;
}

const root = resolve(import.meta.dirname, '..', '..');

/** A progress database of its own for a test server, in the system's temporary directory (never the repository's). */
export function testProgressDb(): string {
  return join(tmpdir(), `atelier-test-progress-${process.pid}-${randomBytes(4).toString('hex')}.sqlite`);
}

export async function startServer(env: Record<string, string> = {}): Promise<RunningServer> {
  const child = spawn(process.execPath, [...SERVER_NODE_FLAGS, 'server/main.ts'], {
    cwd: root,
    env: { ...process.env, PORT: '0', ATELIER_PREVIEW_PORT: '0', HOST: '127.0.0.1', ATELIER_PROGRESS_DB: testProgressDb(), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d));
  child.stderr.on('data', (d: Buffer) => (out += d));
  const url = await listeningUrl(child, () => out, 30_000);
  const previewUrl = /preview on (http:\/\/[^\s]+)/.exec(out)?.[1] ?? '';
  return {
    url,
    previewUrl,
    pid: child.pid!,
    output: () => out,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
}

/** Whether a URL the browser loaded is one of this server's lab previews (any lab's origin). */
export function isPreviewUrl(server: { previewUrl: string }, url: string): boolean {
  try {
    return new URL(url).port === new URL(server.previewUrl).port;
  } catch {
    return false;
  }
}

/**
 * The site's URL once a starting server (server/main.ts) prints "listening on …"; fails with what it
 * printed if it exits first or takes longer than `ms`. `output` must already collect stdout and stderr.
 */
export function listeningUrl(child: ChildProcess, output: () => string, ms: number): Promise<string> {
  return new Promise((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`server did not start in ${ms / 1000} s:\n${output()}`)), ms);
    const check = () => {
      const m = /listening on (http:\/\/[^\s]+)/.exec(output());
      if (m?.[1]) {
        clearTimeout(timer);
        ok(m[1]);
      }
    };
    child.stdout!.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      fail(new Error(`server exited with ${code}:\n${output()}`));
    });
  });
}
