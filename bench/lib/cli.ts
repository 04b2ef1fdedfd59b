// The bare tools, for baselines: a lab made by the Docker CLI (bench/baseline/cli-lab.sh) and a shell
// reached by `docker exec -it` through node-pty in this process (no server, no WebSocket).
import { spawn, spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import pty from 'node-pty';

const root = resolve(import.meta.dirname, '..', '..');

export interface CliLab {
  /** time the script reports from `docker network create` to the last boot command */
  readyMs: number;
  /** wall time of the whole script (includes reading the lab definition with node) */
  wallMs: number;
  phases: Record<string, number>;
  container(host: string): string;
  remove(): void;
}

/** Creates a lab with bench/baseline/cli-lab.sh --create-only --keep. */
export async function cliLab(lab: string): Promise<CliLab> {
  const started = performance.now();
  const child = spawn('bash', [resolve(root, 'bench/baseline/cli-lab.sh'), lab, '--create-only', '--keep'], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const prefix = `atelier-test-cli-${child.pid}`;
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d));
  child.stderr.on('data', (d: Buffer) => (out += d));
  const code = await new Promise<number | null>((ok) => child.on('close', ok));
  const wallMs = performance.now() - started;
  const remove = () => {
    const ids = spawnSync('docker', ['ps', '-aq', '--filter', `name=^${prefix}-`], { encoding: 'utf8' })
      .stdout.split('\n')
      .filter(Boolean);
    if (ids.length > 0) spawnSync('docker', ['rm', '-f', ...ids], { stdio: 'ignore' });
    spawnSync('docker', ['network', 'rm', `${prefix}-net`], { stdio: 'ignore' });
  };
  if (code !== 0) {
    remove();
    throw new Error(`cli-lab.sh ${lab} failed (${code}):\n${out}`);
  }
  const phases = Object.fromEntries([...out.matchAll(/^(\w[\w ]*?)\s+(\d+) ms$/gm)].map((m) => [m[1]!.trim(), Number(m[2])]));
  return { readyMs: phases['lab ready'] ?? Number.NaN, wallMs, phases, container: (host) => `${prefix}-${host}`, remove };
}

export interface PtyShell {
  startedAt: number;
  firstByteAt: number;
  firstByte: Promise<void>;
  write(data: string): void;
  onData(listener: (data: string, at: number) => void): void;
  /** output since the last mark() */
  text(): string;
  mark(): void;
  waitFor(pattern: string | RegExp, timeoutMs?: number): Promise<void>;
  kill(): Promise<void>;
}

/** `docker exec -it <container> bash -l` on a pseudo-terminal of this process. */
export function dockerExecShell(container: string, options: { cols?: number; rows?: number; workdir?: string } = {}): PtyShell {
  const args = ['exec', '-it', '-e', 'TERM=xterm-256color', ...(options.workdir ? ['-w', options.workdir] : []), container, 'bash', '-l'];
  const startedAt = performance.now();
  const p = pty.spawn('docker', args, { name: 'xterm-256color', cols: options.cols ?? 120, rows: options.rows ?? 32 });
  let text = '';
  const listeners: ((data: string, at: number) => void)[] = [];
  const waiters = new Set<() => void>();
  const shell: PtyShell = {
    startedAt,
    firstByteAt: 0,
    firstByte: new Promise<void>((ok) =>
      waiters.add(function first() {
        if (shell.firstByteAt) waiters.delete(first), ok();
      }),
    ),
    write: (data) => p.write(data),
    onData: (l) => listeners.push(l),
    text: () => text,
    mark: () => (text = ''),
    waitFor(pattern, timeoutMs = 10_000) {
      const ok = () => (typeof pattern === 'string' ? text.includes(pattern) : pattern.test(text));
      if (ok()) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const check = () => {
          if (!ok()) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve();
        };
        const timer = setTimeout(
          () => (
            waiters.delete(check),
            reject(new Error(`docker exec shell: no ${pattern} after ${timeoutMs} ms: ${JSON.stringify(text.slice(-200))}`))
          ),
          timeoutMs,
        );
        waiters.add(check);
      });
    },
    kill() {
      return new Promise((ok) => {
        const timer = setTimeout(ok, 3000);
        p.onExit(() => (clearTimeout(timer), ok()));
        p.write('\x04');
        p.write('exit\r');
        setTimeout(() => p.kill(), 500);
      });
    },
  };
  p.onData((data) => {
    const at = performance.now();
    if (!shell.firstByteAt) shell.firstByteAt = at;
    text = (text + data).slice(-65536);
    for (const l of listeners) l(data, at);
    for (const w of [...waiters]) w();
  });
  return shell;
}
