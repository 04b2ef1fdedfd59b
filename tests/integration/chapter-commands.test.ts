// The commands a student runs from the chapter's « Exécuter » / « Taper » buttons work in the labs:
// each <Run> block of content/05-fastcgi.mdx is run, in the chapter's order, in a real lab of its kind
// (a block bound to a solution step runs that step, and then the checks that hold after it: the stop block
// of the Apache demo is followed by its 503), and the state the chapter announces after the last block is
// checked from the outside.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { checkFailures } from '../../sandbox/labs/expect.ts';
import { getLab } from '../../sandbox/labs/index.ts';
import { stepCommand } from '../../sandbox/labs/plan.ts';
import { loadConfig } from '../../server/config.ts';
import { DockerProvider } from '../../server/sandbox/docker/provider.ts';
import { newLabId, type PreviewTarget } from '../../server/sandbox/provider.ts';
import { pollUntil } from '../helpers/engine.ts';
import { httpGet as get } from '../helpers/http-get.ts';

const config = loadConfig({ ...process.env, ATELIER_TEST: '1' });
const provider = new DockerProvider({ config, definitions: getLab, log: () => {} });
const chapter = readFileSync(new URL('../../content/05-fastcgi.mdx', import.meta.url), 'utf8');

interface Block {
  lab: string;
  host: string;
  code: string;
  /** the solution step the block shows, if it is bound to one */
  step?: string;
}

const lab = (name: string) => getLab(name) ?? assert.fail(`no lab definition ${name}`);

/** <Run lab="…" step="…" /> (the step's command, as runners run it) and <Run lab="…" host="…"> ```lang … ``` </Run>, in page order. */
function runBlocks(mdx: string): Block[] {
  const re =
    /<Run lab="([a-z0-9-]+)" step="([a-z0-9-]+)"[^>]*\/>|<Run lab="([a-z0-9-]+)" host="([a-z0-9-]+)"[^>]*>\s*```[a-z]*\n([\s\S]*?)\n```\s*<\/Run>/g;
  return [...mdx.matchAll(re)].map((m) => {
    if (m[3] !== undefined) return { lab: m[3], host: m[4]!, code: m[5]! };
    const step = lab(m[1]!).solution.find((s) => s.id === m[2]) ?? assert.fail(`${m[1]} has no step ${m[2]}`);
    return { lab: m[1]!, host: step.host, code: stepCommand(step), step: step.id! };
  });
}

/** Graceful reloads finish in the background: poll until the page says what the chapter says (or 10 s). */
function eventually(target: PreviewTarget, path: string, ok: (r: { status: number; body: string }) => boolean) {
  return pollUntil(() => get(target, path), ok, 10_000, 250);
}

const blocks = runBlocks(chapter);
const PAGE = /<h1>PHP-FPM<\/h1>[\s\S]*<h2>\d+\.\d+\.\d+<\/h2>/;

/** What the chapter says once its last command of each lab has run. */
const endState: Record<string, { path: string; expect: (r: { status: number; body: string }) => boolean; says: string }> = {
  'apache-remote': { path: '/', expect: (r) => r.status === 200 && PAGE.test(r.body), says: 'PHP-FPM restarted: the page works' },
  'nginx-remote': { path: '/index.php', expect: (r) => r.status === 502, says: 'PHP-FPM stopped again: 502' },
  'apache-local': { path: '/', expect: (r) => r.status === 200 && PAGE.test(r.body), says: 'page served through the socket' },
  'nginx-local': { path: '/index.php', expect: (r) => r.status === 200 && PAGE.test(r.body), says: 'page served through the socket' },
  'finish-request': { path: '/avec-finish.php', expect: (r) => r.status === 200, says: 'the page answers' },
};

test('every lab of the chapter has Run blocks, and every Run block names a lab and host that exist', () => {
  const labs = new Set(blocks.map((b) => b.lab));
  assert.deepEqual([...labs].sort(), Object.keys(endState).sort());
  for (const b of blocks) {
    assert.ok(
      lab(b.lab).hosts.some((h) => h.name === b.host),
      `${b.lab} has no host ${b.host}`,
    );
  }
});

before(() => provider.init());
after(() => provider.close());

for (const name of Object.keys(endState)) {
  describe(`chapter commands in ${name}`, () => {
    const labId = newLabId();
    before(() => provider.createLab({ labId, owner: 'chapter-test', definition: lab(name), expiresAt: new Date(Date.now() + 3_600_000) }));
    after(() => provider.destroyLab(labId));

    blocks
      .filter((b) => b.lab === name)
      .forEach((b, i) => {
        test(`block ${i + 1} on ${b.host}: ${b.step ? `step ${b.step}` : b.code.split('\n')[0]}`, async () => {
          const r = await provider.exec(labId, b.host, b.code, { timeoutMs: 60_000 });
          assert.equal(r.exitCode, 0, `exit ${r.exitCode}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`);
        });
        for (const check of lab(name).checks.filter((c) => b.step !== undefined && c.after === b.step)) {
          test(`  then check ${check.id}: ${check.title}`, async () => {
            const r = await provider.exec(labId, check.host, check.run, { timeoutMs: (check.timeoutSeconds ?? 60) * 1000 });
            assert.deepEqual(checkFailures(check.expect, r), [], `--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`);
          });
        }
      });

    test(`afterwards: ${endState[name]!.says}`, async () => {
      const target = await provider.previewTarget(labId);
      const want = endState[name]!;
      const r = await eventually(target, want.path, want.expect);
      assert.ok(want.expect(r), `GET ${want.path} → ${r.status}\n${r.body.slice(0, 500)}`);
    });
  });
}
