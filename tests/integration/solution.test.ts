// Help when stuck (issue 12), through the real server and real labs: « Voir la solution de cette étape »
// compares the learner's files with the reference (the solution run in a throwaway lab of the same
// definition), « Appliquer » runs the step in their lab and refuses to lose work that is not the step's.
// First, what makes the comparison honest: each step of each lab changes exactly the files it declares.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { loadLabs } from '../../sandbox/labs/index.ts';
import { stepCommand } from '../../sandbox/labs/plan.ts';
import { securityEnv, startBackend, type Backend } from '../helpers/backend.ts';
import { containerName, execIn, removeScope } from '../helpers/engine.ts';
import { Learner } from '../helpers/learner.ts';

let server: Backend;
const env = securityEnv('solution', { ATELIER_LAB_CREATES_PER_MINUTE: '1000', ATELIER_CHECKS_PER_MINUTE: '1000' });

before(async () => {
  server = await startBackend(env);
});
after(async () => {
  await server?.stop();
  await removeScope(env.ATELIER_LAB_SCOPE!);
});

const quote = (text: string) => `'${text.replaceAll("'", `'"'"'`)}'`;

async function sh(labId: string, host: string, command: string): Promise<string> {
  const r = await execIn(containerName(labId, host), `bash -c ${quote(command)}`, 60_000);
  assert.equal(r.exitCode, 0, `${host}: ${command}\n${r.stdout}${r.stderr}`);
  return r.stdout;
}

/** Every file and link under the configuration and code directories, with its content's digest or target. */
const LISTING = `for d in /etc /scripts /code /var/www; do [ -d $d ] || continue
find $d -xdev -type l -printf '%p -> %l\\n'; find $d -xdev -type f -exec md5sum {} + | awk '{print $2" "$1}'; done | sort`;

function changed(before: string, after: string): string[] {
  const map = (text: string) =>
    new Map(
      text
        .split('\n')
        .filter(Boolean)
        .map((l) => [l.split(' ')[0]!, l] as const),
    );
  const [a, b] = [map(before), map(after)];
  return [...new Set([...a.keys(), ...b.keys()])].filter((p) => a.get(p) !== b.get(p)).sort();
}

describe('each step changes exactly the files it declares', () => {
  for (const lab of loadLabs().filter((l) => l.solution.length > 0)) {
    test(lab.id, { timeout: 300_000 }, async () => {
      const { labId } = await new Learner(server.url).startLab(lab.id);
      const hosts = lab.hosts.map((h) => h.name);
      for (const step of lab.solution) {
        const before = await Promise.all(hosts.map((h) => sh(labId, h, LISTING)));
        await sh(labId, step.host, stepCommand(step));
        const after = await Promise.all(hosts.map((h) => sh(labId, h, LISTING)));
        hosts.forEach((h, i) => {
          const expected = h === step.host ? [...step.files].sort() : [];
          assert.deepEqual(changed(before[i]!, after[i]!), expected, `${lab.id}, step ${step.id ?? step.title}, host ${h}`);
        });
      }
    });
  }
});

describe('nginx-remote: the solution of a step, and applying it', () => {
  const LAB = 'nginx-remote';
  const CONF = '/etc/nginx/conf.d/default.conf';
  const learner = new Learner('');
  let labId = '';
  const solution = (id: string) => learner.request('POST', `/api/labs/${LAB}/checks/${id}/solution`);
  const apply = (id: string) => learner.request('POST', `/api/labs/${LAB}/checks/${id}/apply`);
  const check = (id: string) => learner.request('POST', `/api/labs/${LAB}/checks/${id}`);
  type View = {
    steps: { run: string }[];
    files: { path: string; same: boolean; hunks: { lines: { op: string; text: string }[] }[] }[];
    apply: { possible: boolean; reason?: string; restores?: unknown[]; runs?: { host: string; run: string }[] };
  };

  before(async () => {
    Object.assign(learner, { site: server.url });
    ({ labId } = await learner.startLab(LAB));
  });

  test('before the lab, a check it does not have, another origin: refused', async () => {
    const stranger = new Learner(server.url);
    assert.equal((await stranger.request('POST', `/api/labs/${LAB}/checks/page/solution`)).status, 409);
    assert.equal((await solution('no-such-check')).status, 404);
    assert.equal((await apply('no-such-check')).status, 404);
    const foreign = await learner.request('POST', `/api/labs/${LAB}/checks/page/apply`, { origin: 'http://evil.example' });
    assert.equal(foreign.status, 403);
  });

  test('the step’s diff: the learner’s file against the solution’s, and what « Appliquer » will do', async () => {
    const started = performance.now();
    const first = await solution('points-at-php');
    const firstMs = performance.now() - started;
    assert.equal(first.status, 200, JSON.stringify(first.body));
    const again = performance.now();
    const view = (await solution('points-at-php')).body as unknown as View;
    console.log(
      `# figure: « Voir la solution »: first ${Math.round(firstMs)} ms (reference lab), then ${Math.round(performance.now() - again)} ms`,
    );
    assert.deepEqual(view, first.body);
    assert.deepEqual(
      view.files.map((f) => [f.path, f.same]),
      [[CONF, false]],
    );
    const changes = view.files[0]!.hunks.flatMap((h) => h.lines.filter((l) => l.op !== ' ').map((l) => `${l.op}${l.text.trim()}`));
    assert.deepEqual(changes, ['-fastcgi_pass   127.0.0.1:9000;', '+#fastcgi_pass   127.0.0.1:9000;', '+fastcgi_pass   php:9000;']);
    assert.equal(view.apply.possible, true);
    assert.deepEqual(view.apply.restores, []);
    // The step is the edit only: the reload is the next check's step (remote-502).
    assert.deepEqual(
      view.apply.runs?.map((r) => r.host),
      ['web'],
    );
    assert.match(view.apply.runs![0]!.run, /^sed -E -i /);
  });

  test('a change of the learner outside the step: « Appliquer » refuses and touches nothing', async () => {
    await sh(labId, 'web', `sed -i '1i # mon essai' ${CONF}`);
    const before = await sh(labId, 'web', `md5sum ${CONF}`);
    const view = (await solution('points-at-php')).body as unknown as View;
    assert.equal(view.apply.possible, false);
    assert.match(view.apply.reason ?? '', /ligne 1\)/);
    const refused = await apply('points-at-php');
    assert.equal(refused.status, 409);
    assert.equal(refused.body?.error, 'apply-refused');
    assert.match(String(refused.body?.message), /ne font pas partie de cette étape/);
    assert.equal(await sh(labId, 'web', `md5sum ${CONF}`), before);
  });

  test('the learner’s own wrong try at the step is the step’s: applied over it, then the check passes', async () => {
    await sh(labId, 'web', `sed -i -e '1d' -e 's/fastcgi_pass   127.0.0.1:9000;/fastcgi_pass   php:9001;/' ${CONF}`);
    const view = (await solution('points-at-php')).body as unknown as View;
    assert.equal(view.apply.possible, true, view.apply.reason);
    assert.deepEqual(view.apply.restores, [{ host: 'web', path: CONF }]);
    const applied = await apply('points-at-php');
    assert.deepEqual(applied.body, { ok: true });
    assert.equal((await check('points-at-php')).body?.ok, true);
    assert.equal(((await solution('points-at-php')).body as unknown as View).files[0]!.same, true);
    // Then the next step, the reload: a step without files.
    assert.deepEqual(((await solution('remote-502')).body as unknown as View).apply.runs, [
      { host: 'web', run: 'nginx -t && service nginx reload' },
    ]);
    assert.deepEqual((await apply('remote-502')).body, { ok: true });
    assert.equal((await check('remote-502')).body?.ok, true);
  });

  test('a step without files (start PHP-FPM): applied, the page check passes; the start state has nothing to apply', async () => {
    const view = (await solution('page')).body as unknown as View;
    assert.deepEqual(view.files, []);
    assert.deepEqual(view.apply.runs, [{ host: 'php', run: 'service php8.2-fpm start' }]);
    assert.deepEqual((await apply('page')).body, { ok: true });
    assert.equal((await check('page')).body?.ok, true);
    const start = await apply('local-502');
    assert.equal(start.status, 409);
    assert.match(String(start.body?.message), /état de départ/);
  });
});
