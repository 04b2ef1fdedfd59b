// The « FastCGI » tab, in Chromium against the real server and a real lab (issue 15): in nginx-remote, once
// the chapter's steps have run, a student opens the tab, loads the page in « Navigateur », and sees the
// records their own request made (BEGIN_REQUEST, PARAMS with SCRIPT_FILENAME=/scripts/index.php, STDOUT,
// END_REQUEST), each opening onto its fields; then breaks SCRIPT_FILENAME and sees the wrong path and
// PHP-FPM's « Primary script unknown ». A unix-socket lab says why it has nothing to show.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Page } from 'playwright-core';
import { getLab } from '../../sandbox/labs/index.ts';
import { stepCommand } from '../../sandbox/labs/plan.ts';
import { type ChapterPage, labSelector, openChapterPage, previewShows, runAndWait, startLab } from '../helpers/lab-page.ts';
import { newScope } from '../helpers/scope.ts';

const LAB = 'nginx-remote';
let chapter: ChapterPage;
let page: Page;

before(async () => {
  chapter = await openChapterPage(newScope('e2e-fastcgi'));
  page = chapter.page;
});
after(async () => {
  await chapter?.close();
});

const panel = (lab = LAB) => page.locator(labSelector(lab));
const tab = (name: string, lab = LAB) => panel(lab).locator(`[role="tab"][data-${name}]`);
const rows = () => panel().locator('.lab__fastcgi-records > li');

/** The arrows' labels (type and note), in order. */
const arrows = () => rows().locator('.fcgi__arrow').allTextContents();

/** Waits until some arrow matches `re`; returns all of them. */
async function arrowShows(re: RegExp, timeout = 30_000): Promise<string[]> {
  await page.waitForFunction(
    ([sel, source]) =>
      [...document.querySelectorAll(`${sel} .lab__fastcgi-records .fcgi__arrow`)].some((a) =>
        new RegExp(source!).test(a.textContent ?? ''),
      ),
    [labSelector(LAB), re.source] as const,
    { timeout },
  );
  return arrows();
}

test('nginx-remote: the page loaded in the preview, its records live in the FastCGI tab', async () => {
  await startLab(page, LAB, 'web');
  for (const step of getLab(LAB)!.solution) await runAndWait(page, LAB, step.host, stepCommand(step));
  await tab('fastcgi').click();
  await page.waitForFunction(
    (sel) => /Capture du port 9000/.test(document.querySelector(`${sel} .lab__fastcgi-status`)?.textContent ?? ''),
    labSelector(LAB),
    {
      timeout: 30_000,
    },
  );
  await tab('preview').click();
  await previewShows(page, LAB, /PHP-FPM/);
  await tab('fastcgi').click();
  const seen = await arrowShows(/END_REQUEST/);
  const order = ['BEGIN_REQUEST', 'PARAMS', 'STDOUT', 'END_REQUEST'].map((t) => seen.findIndex((a) => a.includes(t)));
  assert.ok(
    order.every((i, k) => i >= 0 && (k === 0 || i > order[k - 1]!)),
    `records in order: ${seen.join(' | ')}`,
  );
  assert.ok(
    seen.some((a) => /PARAMS.*SCRIPT_FILENAME=\/scripts\/index\.php/.test(a)),
    seen.join(' | '),
  );
  assert.ok(
    seen.some((a) => /STDOUT.*Content-type: text\/html/.test(a)),
    seen.join(' | '),
  );
  // The PARAMS arrow opens onto its pairs.
  const params = rows().filter({ hasText: 'SCRIPT_FILENAME=/scripts/index.php' }).first();
  await params.locator('summary').click();
  const fields = (await params.locator('.fcgi__fields').textContent()) ?? '';
  assert.match(fields, /SCRIPT_FILENAME\s*\/scripts\/index\.php/);
  assert.match(fields, /REQUEST_METHOD\s*GET/);
  assert.match(fields, /DOCUMENT_ROOT/);
  // STDOUT's body is shown with its size.
  const stdout = rows()
    .filter({ has: page.locator('.fcgi__type', { hasText: /^STDOUT$/ }) })
    .first();
  await stdout.locator('summary').click();
  assert.match((await stdout.locator('.fcgi__fields').textContent()) ?? '', /<h1>PHP-FPM<\/h1>/);
  assert.match((await stdout.locator('.fcgi__note').textContent()) ?? '', /\d+\u202Foctets/);
});

test('SCRIPT_FILENAME broken: the wrong path goes to PHP-FPM, which answers « Primary script unknown »', async () => {
  await runAndWait(
    page,
    LAB,
    'web',
    `sed -i 's|/scripts\\$fastcgi_script_name|/code$fastcgi_script_name|' /etc/nginx/conf.d/default.conf && nginx -s reload`,
  );
  await tab('preview').click();
  await previewShows(page, LAB, /File not found/);
  await tab('fastcgi').click();
  const seen = await arrowShows(/STDERR.*Primary script unknown/);
  assert.ok(
    seen.some((a) => /PARAMS.*SCRIPT_FILENAME=\/code\/index\.php/.test(a)),
    seen.join(' | '),
  );
});

// (after a lab was started: the learner has a cookie, as the socket's gate asks)
test('a unix-socket lab says what the tab can show, and why', async () => {
  await panel('nginx-local').scrollIntoViewIfNeeded();
  await tab('fastcgi', 'nginx-local').click();
  await page.waitForFunction(
    (sel) => document.querySelector(`${sel} [data-fastcgi-state="unavailable"]`) !== null,
    labSelector('nginx-local'),
    { timeout: 15_000 },
  );
  const text = await panel('nginx-local').locator('.lab__fastcgi-status').textContent();
  assert.match(text ?? '', /socket Unix/);
  assert.match(text ?? '', /aucun paquet ne passe par le réseau/);
});

test('no error in the page', () => {
  assert.deepEqual(chapter.problems, []);
});
