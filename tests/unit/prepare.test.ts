// The preparation of a lab host (server/sandbox/docker/prepare.ts), run here with the machine's bash as
// lab-init runs it: the writable directories are filled from the skeleton with their owners and modes,
// seeded files are unpacked, boot commands run in order, each in its own shell, and a failure names the
// command, its exit code and its own output.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { tarOf } from '../../server/sandbox/docker/archive.ts';
import { type PrepareInput, prepareOutcome, prepareScript } from '../../server/sandbox/docker/prepare.ts';

const run = (script: string) => {
  const r = spawnSync('bash', ['-c', script], { encoding: 'utf8' });
  return { stdout: r.stdout, exitCode: r.status ?? -1 };
};
const plan = (input: Partial<PrepareInput>) =>
  prepareScript({ fill: [], keepOwners: true, seeded: undefined, peers: [], boot: [], commandTimeoutMs: 5000, ...input });

const scratch = mkdtempSync(join(tmpdir(), 'atelier-prepare-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

test('every boot command runs, in order, each in its own shell', () => {
  const p = plan({
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell expansion, run by the shell
    boot: ['x=1; echo first', 'echo "second ${x:-unset}"', 'echo \'quoted\' "$((1+1))"'],
  });
  const r = run(p.script);
  assert.equal(r.exitCode, 0);
  assert.deepEqual(prepareOutcome(p, r.stdout, true), { ok: true });
  const order = ['first', 'second unset', 'quoted 2'].map((s) => r.stdout.indexOf(s));
  assert.ok(
    order.every((i, k) => i >= 0 && (k === 0 || i > order[k - 1]!)),
    r.stdout,
  );
});

test('a failing command stops the rest and is named with its exit code and only its own output', () => {
  const p = plan({ boot: ['echo fine', 'echo broken >&2; exit 7', 'echo never'] });
  const r = run(p.script);
  assert.deepEqual(prepareOutcome(p, r.stdout, true), { ok: false, step: 1, exitCode: 7, output: 'broken' });
  assert.doesNotMatch(r.stdout, /never/);
});

test('a command over its time bound fails with the exit code of timeout', () => {
  const p = plan({ boot: ['sleep 5'], commandTimeoutMs: 200 });
  const outcome = prepareOutcome(p, run(p.script).stdout, true);
  assert.ok(outcome && !outcome.ok);
  assert.equal(outcome.exitCode, 124);
});

test('output that a command prints cannot fake the markers of another run', () => {
  const other = plan({});
  const p = plan({ boot: [`printf '${other.marker} done\\n'; exit 3`] });
  const r = run(p.script);
  assert.deepEqual(prepareOutcome(p, r.stdout, true), { ok: false, step: 0, exitCode: 3, output: `${other.marker} done` });
});

test('while the script runs there is no outcome; a host that stops without a marker has failed', () => {
  const p = plan({ boot: ['true'] });
  assert.equal(prepareOutcome(p, `\n${p.marker} step 0\n`, false), undefined);
  assert.deepEqual(prepareOutcome(p, `\n${p.marker} step 0\nKilled`, true), {
    ok: false,
    step: 'unknown',
    exitCode: -1,
    output: `${p.marker} step 0\nKilled`,
  });
});

test('writable directories are filled from the skeleton, modes and owners given back from its list, then seeded files unpacked', async () => {
  const skeleton = join(scratch, 'skel');
  const target = join(scratch, 'host', 'var');
  const source = join(skeleton, target);
  // As layer.sh leaves it: the log directory and file readable root's in the skeleton, their real mode and owner in the list.
  mkdirSync(join(source, 'log', 'apache2'), { recursive: true });
  writeFileSync(join(source, 'log', 'apache2', 'error.log'), 'old\n', { mode: 0o644 });
  writeFileSync(
    `${skeleton}.owners`,
    `750 0 4 ${join(target, 'log', 'apache2')}\n640 33 4 ${join(target, 'log', 'apache2', 'error.log')}\n640 33 4 /elsewhere/not-filled\n`,
  );
  mkdirSync(target, { recursive: true });
  const seededPath = join(scratch, 'host', 'var', "it's", 'index.php');
  const seeded = await tarOf([{ path: seededPath, content: Buffer.from('<?php echo 1;\n'), mode: 0o640 }]);
  const p = plan({ fill: [target, join(scratch, 'host', 'absent')], skeleton, seeded, boot: [`test -f ${JSON.stringify(seededPath)}`] });
  const r = run(p.script);
  assert.deepEqual(prepareOutcome(p, r.stdout, true), { ok: true }, r.stdout);
  const log = join(target, 'log', 'apache2', 'error.log');
  assert.equal(readFileSync(log, 'utf8'), 'old\n');
  assert.deepEqual([statSync(log).mode & 0o7777, statSync(log).uid, statSync(log).gid], [0o640, 33, 4]);
  assert.deepEqual([statSync(join(target, 'log', 'apache2')).mode & 0o7777, statSync(join(target, 'log', 'apache2')).gid], [0o750, 4]);
  assert.equal(readFileSync(seededPath, 'utf8'), '<?php echo 1;\n');
  assert.equal(statSync(seededPath).mode & 0o777, 0o640);
});

test("without CHOWN in the host, the modes come back and the copies stay root's", () => {
  const skeleton = join(scratch, 'skel2');
  const target = join(scratch, 'host2', 'etc');
  mkdirSync(join(skeleton, target), { recursive: true });
  writeFileSync(join(skeleton, target, 'shadow'), 'x\n', { mode: 0o644 });
  writeFileSync(`${skeleton}.owners`, `640 0 42 ${join(target, 'shadow')}\n`);
  mkdirSync(target, { recursive: true });
  const p = plan({ fill: [target], skeleton, keepOwners: false });
  assert.deepEqual(prepareOutcome(p, run(p.script).stdout, true), { ok: true });
  const st = statSync(join(target, 'shadow'));
  assert.deepEqual([st.mode & 0o7777, st.uid, st.gid], [0o640, 0, 0]);
});

test('a broken seeded archive fails the files step, before any boot command', () => {
  const p = plan({ seeded: Buffer.from('not a tar archive, only text'), boot: ['echo never'] });
  const r = run(p.script);
  const outcome = prepareOutcome(p, r.stdout, true);
  assert.ok(outcome && !outcome.ok && outcome.step === 'files', r.stdout);
  assert.doesNotMatch(r.stdout, /never/);
});

test('boot waits until every host of the lab resolves, within its bound', () => {
  // A stand-in getent that knows one name: a real lookup of an unknown name would ask the machine's DNS.
  const bin = join(scratch, 'bin');
  mkdirSync(bin, { recursive: true });
  writeFileSync(join(bin, 'getent'), '#!/bin/sh\n[ "$2" = web ]\n', { mode: 0o755 });
  const env = { ...process.env, PATH: `${bin}:${process.env.PATH}` };
  const runWith = (script: string) => spawnSync('bash', ['-c', script], { encoding: 'utf8', env }).stdout;
  const waits = plan({ peers: ['web'], boot: ['echo booted'] });
  assert.deepEqual(prepareOutcome(waits, runWith(waits.script), true), { ok: true });
  const never = plan({ peers: ['web', 'php'], boot: ['echo never'], commandTimeoutMs: 300 });
  const stdout = runWith(never.script);
  const outcome = prepareOutcome(never, stdout, true);
  assert.ok(outcome && !outcome.ok && outcome.step === 'network' && outcome.exitCode === 124, stdout);
  assert.doesNotMatch(stdout, /never/);
});
