// The logic of « Vérifier » (server/labs/checks.ts) on scripted lab answers: the check first, then its
// diagnoses in order, the first that applies wins; what a lab prints is quoted on one line, printable
// and short, whatever it is (the learner is root in their lab). Real labs: tests/integration/checks.test.ts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NoSuchCheckError, runCheck, type RunInLab } from '../../server/labs/checks.ts';
import { parseLab } from '../../sandbox/labs/schema.ts';

const lab = parseLab('test', {
  id: 'test-lab',
  title: 'Test',
  chapter: '05-fastcgi',
  hosts: [{ name: 'web' }],
  preview: { host: 'web', port: 80 },
  checks: [
    {
      id: 'page',
      title: 'La page répond',
      host: 'web',
      run: 'check',
      expect: { stdoutIncludes: ['ok'] },
      diagnoses: [
        {
          id: 'first',
          host: 'web',
          run: 'probe-1',
          expect: { stdoutMatches: 'error: (.+)' },
          explain: 'Erreur : {1}.',
          hint: 'Voir {1}',
          example: { after: 'start', host: 'web', run: 'true' },
        },
        {
          id: 'second',
          host: 'web',
          run: 'probe-2',
          explain: 'Deuxième.',
          hint: 'Essayez encore.',
          example: { after: 'start', host: 'web', run: 'true' },
        },
      ],
    },
  ],
});

/** A lab that answers each command from a table (exit code 1 and no output for the others), and records the calls. */
function scripted(answers: Record<string, { exitCode: number; stdout: string }>) {
  const calls: string[] = [];
  const run: RunInLab = async (_host, command) => {
    calls.push(command);
    return answers[command] ?? { exitCode: 1, stdout: '' };
  };
  return { run, calls };
}

test('a check that holds is ✓, and no diagnosis runs', async () => {
  const lab1 = scripted({ check: { exitCode: 0, stdout: 'ok' } });
  assert.deepEqual(await runCheck(lab, 'page', lab1.run), { checkId: 'page', title: 'La page répond', ok: true });
  assert.deepEqual(lab1.calls, ['check']);
});

test('the first diagnosis that applies is the answer, with its quotes filled', async () => {
  const lab1 = scripted({ 'probe-1': { exitCode: 0, stdout: 'error: unknown directive "fastcgi_pas" in default.conf:32\n' } });
  const outcome = await runCheck(lab, 'page', lab1.run);
  assert.equal(outcome.ok, false);
  assert.deepEqual(outcome.diagnosis, {
    id: 'first',
    explain: 'Erreur : unknown directive "fastcgi_pas" in default.conf:32.',
    hint: 'Voir unknown directive "fastcgi_pas" in default.conf:32',
  });
  assert.deepEqual(lab1.calls, ['check', 'probe-1']);
});

test('the next one when the first does not apply; a plain answer when none does', async () => {
  const second = scripted({ 'probe-2': { exitCode: 0, stdout: '' } });
  assert.equal((await runCheck(lab, 'page', second.run)).diagnosis?.id, 'second');
  const none = await runCheck(lab, 'page', scripted({}).run);
  assert.equal(none.diagnosis?.id, 'not-yet');
  assert.match(none.diagnosis!.explain, /Pas encore\u202F: «\u00A0La page répond\u00A0»/);
});

test('what a lab prints is quoted on one line, without control characters, at most 160 characters', async () => {
  const hostile = `error: \u001b[2J\u0007${'A'.repeat(5000)}\r\nSet-Cookie: x`;
  const outcome = await runCheck(lab, 'page', scripted({ 'probe-1': { exitCode: 0, stdout: hostile } }).run);
  const quoted = outcome.diagnosis!.explain.slice('Erreur : '.length, -1);
  assert.ok(quoted.length <= 160, `${quoted.length} characters`);
  assert.doesNotMatch(quoted, /[\u0000-\u001f\u007f]/);
  assert.ok(quoted.endsWith('…'));
});

test('a check the lab does not have is refused before anything runs', async () => {
  const lab1 = scripted({});
  await assert.rejects(runCheck(lab, 'rm -rf /', lab1.run), NoSuchCheckError);
  assert.deepEqual(lab1.calls, []);
});
