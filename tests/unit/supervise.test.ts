// The supervisor (server/supervise.ts) as `npm start` runs it, on a real child process: a server that
// dies is started again, and the operator finds the restart count and the crash's stack in the status file.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';

const root = resolve(import.meta.dirname, '..', '..');

test('a server that throws is restarted, and its stack is in the status file', { timeout: 30_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'atelier-supervise-'));
  const statusFile = join(dir, 'status.json');
  // Crashes on its first two starts (an uncaught exception, as a bug would), then stays up.
  const entry = join(dir, 'server.mjs');
  writeFileSync(
    entry,
    `import { existsSync, writeFileSync } from 'node:fs';
const marks = [${JSON.stringify(join(dir, 'first'))}, ${JSON.stringify(join(dir, 'second'))}];
const next = marks.find((m) => !existsSync(m));
if (next) { writeFileSync(next, ''); setImmediate(() => { throw new TypeError('boom from the lab answer'); }); }
else { console.log('listening'); setInterval(() => {}, 1000); }
`,
  );
  const child = spawn(process.execPath, [join(root, 'server/supervise.ts'), entry], {
    env: { ...process.env, ATELIER_STATUS_FILE: statusFile },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d));
  child.stderr.on('data', (d: Buffer) => (out += d));
  try {
    // The third start stays up.
    while (!out.includes('listening')) await once(child.stdout, 'data');
    const status = JSON.parse(readFileSync(statusFile, 'utf8')) as {
      restarts: number;
      child: number;
      lastCrash: { exitCode: number; stderrTail: string } | null;
    };
    assert.equal(status.restarts, 2);
    assert.equal(status.lastCrash?.exitCode, 1);
    assert.match(status.lastCrash?.stderrTail ?? '', /TypeError: boom from the lab answer\n\s+at /);
    assert.match(out, /\[supervisor\] server exited \(code 1\); restart 2/);
    assert.notEqual(status.child, 0);
  } finally {
    child.kill('SIGTERM');
    await once(child, 'exit');
    rmSync(dir, { recursive: true, force: true });
  }
  assert.equal(child.exitCode ?? 0, 0, `the supervisor stops with its server:\n${out}`);
});
