// « Vérifier » through the real server and real labs (issue 12). Every diagnosis of every lab is given
// when it should: a lab put in that failure state by the diagnosis's own example (the reference solution
// up to a step, then a breaking command) gets exactly that diagnosis. Then what the API refuses, and the
// progress that a pass leaves: kept across a reset and a backend restart.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { loadLabs } from '../../sandbox/labs/index.ts';
import { stepCommand } from '../../sandbox/labs/plan.ts';
import type { Lab, LabStep } from '../../sandbox/labs/schema.ts';
import { securityEnv, startBackend, type Backend } from '../helpers/backend.ts';
import { containerName, execIn, removeScope } from '../helpers/engine.ts';
import { Learner } from '../helpers/learner.ts';

let server: Backend;
const env = securityEnv('checks', { ATELIER_LAB_CREATES_PER_MINUTE: '1000' });

before(async () => {
  server = await startBackend(env);
});
after(async () => {
  await server?.stop();
  await removeScope(env.ATELIER_LAB_SCOPE!);
});

const quote = (text: string) => `'${text.replaceAll("'", `'"'"'`)}'`;

/** Runs a command of the lab definition in a host as the server's runners do (`bash -c`, as root). */
async function runIn(labId: string, host: string, command: string): Promise<void> {
  const r = await execIn(containerName(labId, host), `bash -c ${quote(command)}`, 60_000);
  assert.equal(r.exitCode, 0, `${host}: ${command}\n${r.stdout}${r.stderr}`);
}

/** The solution's steps up to and including `after` ("start": none). */
function stepsUpTo(lab: Lab, after: string): LabStep[] {
  if (after === 'start') return [];
  return lab.solution.slice(0, lab.solution.findIndex((s) => s.id === after) + 1);
}

const check = (learner: Learner, lab: string, id: string, body?: string) =>
  learner.request('POST', `/api/labs/${lab}/checks/${id}`, body === undefined ? {} : { body });

for (const lab of loadLabs().filter((l) => l.checks.some((c) => c.diagnoses.length > 0))) {
  describe(`${lab.id}: every diagnosis, from a lab in that state`, () => {
    let learner: Learner | undefined;
    for (const c of lab.checks) {
      for (const d of c.diagnoses) {
        test(`${c.id} → ${d.id}`, { timeout: 300_000 }, async () => {
          const info = learner ? await learner.resetLab(lab.id) : await (learner = new Learner(server.url)).startLab(lab.id);
          for (const step of stepsUpTo(lab, d.example.after)) await runIn(info.labId, step.host, stepCommand(step));
          await runIn(info.labId, d.example.host, d.example.run);
          const answer = await check(learner!, lab.id, c.id);
          assert.equal(answer.status, 200, JSON.stringify(answer.body));
          assert.equal(answer.body?.ok, false);
          const diagnosis = answer.body?.diagnosis as { id: string; explain: string; hint: string };
          assert.equal(diagnosis.id, d.id, diagnosis.explain);
          // Quotes of the lab's state are filled in; nothing of the template is left.
          assert.doesNotMatch(`${diagnosis.explain} ${diagnosis.hint}`, /\{\d\}/);
        });
      }
    }
  });
}

describe('what « Vérifier » refuses, and the progress it keeps', () => {
  const LAB = 'nginx-remote';

  test('a check the lab does not have, a lab the learner has not started, another origin', async () => {
    const learner = new Learner(server.url);
    const noLab = await check(learner, LAB, 'page');
    assert.equal(noLab.status, 409);
    assert.equal(noLab.body?.error, 'no-lab');
    await learner.startLab(LAB);
    const unknown = await check(learner, LAB, 'no-such-check');
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body?.error, 'unknown-check');
    const foreign = await learner.request('POST', `/api/labs/${LAB}/checks/page`, { origin: 'http://evil.example' });
    assert.equal(foreign.status, 403);
  });

  test('a command sent by the browser is never run: only the check named in the path', async () => {
    const learner = new Learner(server.url);
    const { labId } = await learner.startLab(LAB);
    const answer = await check(learner, LAB, 'local-502', JSON.stringify({ run: 'touch /tmp/pwned', command: 'touch /tmp/pwned' }));
    assert.equal(answer.status, 200);
    assert.equal(answer.body?.ok, true);
    const probe = await execIn(containerName(labId, 'web'), 'test -e /tmp/pwned && echo present || echo absent');
    assert.equal(probe.stdout.trim(), 'absent');
  });

  test('checks are rate-limited per learner', async () => {
    const learner = new Learner(server.url);
    await learner.startLab(LAB);
    const answers = await Promise.all(Array.from({ length: 15 }, () => check(learner, LAB, 'no-such-check')));
    const limited = answers.filter((a) => a.status === 429).length;
    console.log(`# figure: checks: 15 at once from one learner, ${15 - limited} answered, ${limited} refused (429)`);
    assert.ok(limited >= 4, `${limited} of 15 refused`);
    assert.ok(answers.every((a) => a.status === 404 || a.status === 429));
  });

  test('a passed check is remembered: after a reset and a backend restart', async () => {
    const learner = new Learner(server.url);
    await learner.startLab(LAB);
    const before = await learner.request('GET', '/api/progress');
    assert.deepEqual(before.body?.passed, []);
    const pass = await check(learner, LAB, 'local-502');
    assert.equal(pass.body?.ok, true);
    // A failed check is not recorded.
    const fail = await check(learner, LAB, 'page');
    assert.equal(fail.body?.ok, false);
    await learner.resetLab(LAB);
    await server.stop();
    server = await startBackend(server.env);
    const kept = await new Learner(server.url, learner.cookie).request('GET', '/api/progress');
    assert.deepEqual(
      ((kept.body?.passed ?? []) as { lab: string; checkId: string }[]).map((p) => `${p.lab}/${p.checkId}`),
      [`${LAB}/local-502`],
    );
  });
});
