// The commands a student runs from the chapter's « Exécuter » / « Taper » buttons work in the labs:
// each <Run> block of the chapters (content/05-fastcgi.mdx, content/06-php-multitenant.mdx) is run, in the chapter's order, in a real lab of its kind
// (a block bound to a solution step runs that step, and then the checks that hold after it: the stop block
// of the Apache demo is followed by its 503), and the state the chapter announces after the last block is
// checked from the outside.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { getLab, loadLabs } from '../../sandbox/labs/index.ts';
import { chapterItems, chapterText, formatRow, labExec, runItems } from '../../scripts/lab/verify.ts';
import { loadConfig } from '../../server/config.ts';
import { DockerProvider } from '../../server/sandbox/docker/provider.ts';
import { newLabId } from '../../server/sandbox/provider.ts';
import { pollUntil } from '../helpers/engine.ts';
import { httpGet as get, type GetTarget } from '../helpers/http-get.ts';
import { previewOf } from '../helpers/lab-ops.ts';

const config = loadConfig({ ...process.env, ATELIER_TEST: '1' });
const provider = new DockerProvider({ config, log: () => {} });

const lab = (name: string) => getLab(name) ?? assert.fail(`no lab definition ${name}`);
/** The chapter a lab belongs to (its definition's `chapter`), as MDX. */
const chapterOf = (name: string) => readFileSync(new URL(`../../content/${lab(name).chapter}.mdx`, import.meta.url), 'utf8');

/** Graceful reloads finish in the background: poll until the page says what the chapter says (or 10 s). */
function eventually(target: GetTarget, path: string, ok: (r: { status: number; body: string }) => boolean) {
  return pollUntil(() => get(target, path), ok, 10_000, 250);
}

const PAGE = /<h1>PHP-FPM<\/h1>[\s\S]*<h2>\d+\.\d+\.\d+<\/h2>/;

/** What the chapter says once its last command of each lab has run. */
const endState: Record<string, { path: string; expect: (r: { status: number; body: string }) => boolean; says: string }> = {
  'apache-remote': { path: '/', expect: (r) => r.status === 200 && PAGE.test(r.body), says: 'PHP-FPM restarted: the page works' },
  'nginx-remote': { path: '/index.php', expect: (r) => r.status === 502, says: 'PHP-FPM stopped again: 502' },
  'apache-local': { path: '/', expect: (r) => r.status === 200 && PAGE.test(r.body), says: 'page served through the socket' },
  'nginx-local': { path: '/index.php', expect: (r) => r.status === 200 && PAGE.test(r.body), says: 'page served through the socket' },
  'finish-request': { path: '/avec-finish.php', expect: (r) => r.status === 200, says: 'the page answers' },
  // Chapter 06: the first site (Nginx's default for a Host it does not serve) runs as its own user.
  'php-pools': { path: '/', expect: (r) => r.status === 200 && r.body.includes('id="utilisateur">site-a'), says: 'site A runs as site-a' },
};

test('every lab of the chapter has Run blocks', () => {
  for (const name of Object.keys(endState)) assert.ok(chapterItems(lab(name), chapterOf(name)).length > 0, name);
});

before(() => provider.init());
after(() => provider.close());

for (const name of Object.keys(endState)) {
  describe(`chapter commands in ${name}`, () => {
    const labId = newLabId();
    before(() => provider.createLab({ labId, owner: 'chapter-test', definition: lab(name), expiresAt: new Date(Date.now() + 3_600_000) }));
    after(() => provider.destroyLab(labId));

    // The code of `npm run lab -- check` (scripts/lab/verify.ts): each block, and after a step-bound one its checks.
    test('the Run blocks in page order, with the checks after each step', async () => {
      const rows = await runItems(chapterItems(lab(name), chapterOf(name)), labExec(provider, lab(name), labId));
      assert.deepEqual(rows.filter((r) => !r.ok).map(formatRow), [], rows.map(formatRow).join('\n'));
    });

    test(`afterwards: ${endState[name]!.says}`, async () => {
      const target = previewOf(provider, lab(name), labId);
      const want = endState[name]!;
      const r = await eventually(target, want.path, want.expect);
      assert.ok(want.expect(r), `GET ${want.path} → ${r.status}\n${r.body.slice(0, 500)}`);
    });
  });
}

// Any other lab (no end state written above): its chapter's <Run> blocks, as `npm run lab -- check` runs them.
for (const other of loadLabs().filter((l) => !(l.id in endState))) {
  const text = chapterText(other);
  const items = text === undefined ? [] : chapterItems(other, text);
  if (items.length === 0) continue;
  describe(`chapter commands in ${other.id} (content/${other.chapter}.mdx)`, () => {
    const labId = newLabId();
    before(() => provider.createLab({ labId, owner: 'chapter-test', definition: other, expiresAt: new Date(Date.now() + 3_600_000) }));
    after(() => provider.destroyLab(labId));
    test('the Run blocks in page order, with the checks after each step', async () => {
      const rows = await runItems(items, labExec(provider, other, labId));
      assert.deepEqual(rows.filter((r) => !r.ok).map(formatRow), [], rows.map(formatRow).join('\n'));
    });
  });
}
