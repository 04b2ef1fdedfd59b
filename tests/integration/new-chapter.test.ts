// An author's path, end to end, in a copy of the repository: `npm run new:chapter` makes a chapter and a
// lab that build and pass their own checks (`npm run lab -- check`, on the real engine); --keep leaves the
// lab for `shell`, `clean` removes it; a broken check is a ✗ with its output and exit code 1; a chapter
// mistake stops the build with the file, the line and the fix.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { destroyScope, newScope } from '../helpers/scope.ts';

const root = resolve(import.meta.dirname, '..', '..');
const copy = mkdtempSync(join(tmpdir(), 'atelier-new-chapter-'));
const scope = newScope('new-chapter');
const env = { ...process.env, ATELIER_TEST: '1', ATELIER_LAB_SCOPE: scope };
const node = process.execPath;
const astro = join(root, 'node_modules', '.bin', 'astro');

function run(command: string, args: string[], input?: string): Promise<{ code: number; out: string }> {
  return new Promise((ok) => {
    const child = execFile(command, args, { cwd: copy, env, maxBuffer: 16 << 20, timeout: 300_000 }, (err, stdout, stderr) =>
      ok({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: `${stdout}${stderr}` }),
    );
    if (input !== undefined) child.stdin?.end(input);
  });
}

before(() => {
  const skip = new Set(['node_modules', '.git', 'dist', '.astro', '.atelier', '.ci']);
  cpSync(root, copy, { recursive: true, filter: (src) => !skip.has(src.slice(root.length + 1).split('/')[0]!) });
  symlinkSync(join(root, 'node_modules'), join(copy, 'node_modules'));
});
after(async () => {
  rmSync(copy, { recursive: true, force: true });
  await destroyScope(scope);
});

test('a scaffolded chapter builds, and its lab passes its own checks', async () => {
  const made = await run(node, ['scripts/new-chapter.ts', '07-essai', 'Un chapitre d’essai']);
  assert.equal(made.code, 0, made.out);
  assert.match(made.out, /created content\/07-essai\.mdx and sandbox\/labs\/essai\.ts/);

  const build = await run(astro, ['build']);
  assert.equal(build.code, 0, build.out);
  const page = readFileSync(join(copy, 'dist', '07-essai', 'index.html'), 'utf8');
  assert.match(page, /atelier-lab name="essai"/);

  const checked = await run(node, ['scripts/lab.ts', 'check', 'essai']);
  assert.equal(checked.code, 0, checked.out);
  assert.match(checked.out, /✓ start +web +check default-page/);
  assert.match(checked.out, /✓ after write-page +web +check page/);
  assert.match(checked.out, /3\/3 ✓[\s\S]*the <Run> blocks of content\/07-essai\.mdx[\s\S]*2\/2 ✓/);
  assert.doesNotMatch(checked.out, /✗/);
});

test('a second scaffold with a taken number or slug is refused with what to do', async () => {
  const again = await run(node, ['scripts/new-chapter.ts', '07-autre', 'Autre']);
  assert.equal(again.code, 2);
  assert.match(again.out, /chapter 7 is already content\/07-essai\.mdx: pick another number/);
  const bad = await run(node, ['scripts/new-chapter.ts', 'essai', 'Autre']);
  assert.match(bad.out, /"essai" is no chapter slug: two digits, a dash/);
});

test('--keep leaves the lab for shell; clean removes it', async () => {
  const kept = await run(node, ['scripts/lab.ts', 'check', 'essai', '--keep']);
  assert.equal(kept.code, 0, kept.out);
  assert.match(kept.out, /kept: npm run lab -- shell essai web/);
  const shell = await run(node, ['scripts/lab.ts', 'shell', 'essai', 'web'], 'echo "marker-$((6 * 7))"; cat index.html; exit\n');
  assert.equal(shell.code, 0, shell.out);
  assert.match(shell.out, /marker-42/);
  assert.match(shell.out, /<h1>Bonjour<\/h1>/, 'the kept lab is the one the solution ran in');
  const cleaned = await run(node, ['scripts/lab.ts', 'clean']);
  assert.match(cleaned.out, /removed 1 lab\(s\)/);
  const none = await run(node, ['scripts/lab.ts', 'shell', 'essai', 'web'], 'exit\n');
  assert.match(none.out, /no kept lab essai: run npm run lab -- check essai --keep first/);
});

test('a failing check is a ✗ with its output, and the command fails', async () => {
  const file = join(copy, 'sandbox', 'labs', 'essai.ts');
  writeFileSync(file, readFileSync(file, 'utf8').replace("stdoutIncludes: ['<h1>Bonjour</h1>']", "stdoutIncludes: ['<h1>Au revoir</h1>']"));
  const checked = await run(node, ['scripts/lab.ts', 'check', 'essai']);
  assert.equal(checked.code, 1, checked.out);
  assert.match(
    checked.out,
    /✗ after write-page +web +check page .*\n +stdout lacks "<h1>Au revoir<\/h1>"\n +\$ curl -s http:\/\/localhost\/\n +--- stdout\n +<h1>Bonjour<\/h1>/,
  );
  assert.match(checked.out, /2\/3 ✓/);
});

test('a chapter mistake stops the build with the file, the line and the fix', async () => {
  const file = join(copy, 'content', '07-essai.mdx');
  writeFileSync(file, readFileSync(file, 'utf8').replace('<Check lab="essai" id="page">', '<Check lab="essai" id="pages">'));
  const build = await run(astro, ['build']);
  assert.notEqual(build.code, 0);
  assert.match(
    build.out,
    /content\/07-essai\.mdx:21: <Check lab="essai" id="pages">: lab essai has no check "pages"\n +fix: use one of its checks: default-page, page/,
  );
});
