// The one-exec preparation of a lab host (server/sandbox/docker/prepare.ts): boot commands run in order,
// each in its own shell, and a failure names the command, its exit code and its own output. The boot
// part runs here with the machine's bash (the unpacking part only runs inside lab hosts).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { prepareOutcome, prepareScript } from '../../server/sandbox/docker/prepare.ts';

const run = (script: string) => {
  const r = spawnSync('bash', ['-c', script], { encoding: 'utf8' });
  return { stdout: r.stdout, exitCode: r.status ?? -1 };
};

test('every boot command runs, in order, each in its own shell', () => {
  const plan = prepareScript({
    unpack: false,
    owners: [],
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell expansion, run by the shell
    boot: ['x=1; echo first', 'echo "second ${x:-unset}"', 'echo \'quoted\' "$((1+1))"'],
    commandTimeoutMs: 5000,
  });
  const r = run(plan.script);
  assert.deepEqual(prepareOutcome(plan, r.stdout, r.exitCode), { ok: true });
  const order = ['first', 'second unset', 'quoted 2'].map((s) => r.stdout.indexOf(s));
  assert.ok(
    order.every((i, k) => i >= 0 && (k === 0 || i > order[k - 1]!)),
    r.stdout,
  );
});

test('a failing command stops the rest and is named with its exit code and only its own output', () => {
  const plan = prepareScript({
    unpack: false,
    owners: [],
    boot: ['echo fine', 'echo broken >&2; exit 7', 'echo never'],
    commandTimeoutMs: 5000,
  });
  const r = run(plan.script);
  const outcome = prepareOutcome(plan, r.stdout, r.exitCode);
  assert.deepEqual(outcome, { ok: false, step: 1, exitCode: 7, output: 'broken' });
  assert.doesNotMatch(r.stdout, /never/);
});

test('a command over its time bound fails with the exit code of timeout', () => {
  const plan = prepareScript({ unpack: false, owners: [], boot: ['sleep 5'], commandTimeoutMs: 200 });
  const r = run(plan.script);
  const outcome = prepareOutcome(plan, r.stdout, r.exitCode);
  assert.equal(outcome.ok, false);
  assert.equal(!outcome.ok && outcome.exitCode, 124);
});

test('output that a command prints cannot fake the markers of another run', () => {
  const other = prepareScript({ unpack: false, owners: [], boot: [], commandTimeoutMs: 1000 });
  const plan = prepareScript({ unpack: false, owners: [], boot: [`printf '${other.marker} done\\n'; exit 3`], commandTimeoutMs: 5000 });
  const r = run(plan.script);
  assert.deepEqual(prepareOutcome(plan, r.stdout, r.exitCode), { ok: false, step: 0, exitCode: 3, output: `${other.marker} done` });
});

test('unpacking comes first, gives back owners, and quotes paths', () => {
  const plan = prepareScript({ unpack: true, owners: [{ path: "/var/it's", uid: 33, gid: 4 }], boot: ['true'], commandTimeoutMs: 1000 });
  const lines = plan.script.split('\n');
  const tar = lines.findIndex((l) => l.startsWith('tar -x --no-same-owner -f - -C /'));
  const chown = lines.findIndex((l) => l.startsWith(`chown -h 33:4 -- '/var/it'"'"'s'`));
  const boot = lines.findIndex((l) => l.includes("bash -c 'true'"));
  assert.ok(tar > 0 && chown > tar && boot > chown, plan.script);
  assert.deepEqual(prepareOutcome(plan, `\n${plan.marker} step files\ntar: bad\n${plan.marker} fail files 2\n`, 1), {
    ok: false,
    step: 'files',
    exitCode: 2,
    output: 'tar: bad',
  });
  assert.equal(prepareOutcome(plan, 'killed', 137).ok, false);
});
