// « Vérifier » in the chapter, in Chromium against the real server and a real lab (issue 12): a new
// student asks before starting the lab (told to start it), starts nginx-remote, asks before the step
// (✗ with the 127.0.0.1 diagnosis and a hint), runs the chapter's steps with its Run buttons, asks again
// (✓), and after a reload finds the checks still ticked, the panel's steps and the progress « 2 étapes
// sur 3 » in the table of contents and on the home page. Then, stuck after a reset: asks for the solution
// of a step, sees the diff of their file against the solution's, applies it (a dialog, by keyboard), and
// the check passes. Last, « Appliquer » refuses (the server's 409, in French) once the learner changed
// their file outside the step, and the file stays as it was.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Page } from 'playwright-core';
import { typographyError } from '../helpers/french-typography.ts';
import { type ChapterPage, connected, labSelector, openChapterPage, runAndWait, screenShows, waitState } from '../helpers/lab-page.ts';
import { newScope } from '../helpers/scope.ts';

const LAB = 'nginx-remote';
let chapter: ChapterPage;
let page: Page;

before(async () => {
  chapter = await openChapterPage(newScope('e2e-check'));
  page = chapter.page;
});
after(async () => {
  await chapter?.close();
});

const box = (id: string) => page.locator(`.check[data-lab="${LAB}"][data-check="${id}"]`);

/** Clicks « Vérifier » and waits for its answer; returns the box's state and text. */
async function verify(id: string): Promise<{ state: string; text: string }> {
  const check = box(id);
  await check.evaluate((el) => {
    delete (el as HTMLElement).dataset.state;
    el.querySelector('.check__result')!.textContent = '';
  });
  await check.locator('.check__button').click();
  await page.waitForFunction((el) => Boolean((el as HTMLElement).dataset.state), await check.elementHandle(), { timeout: 60_000 });
  return { state: (await check.getAttribute('data-state')) ?? '', text: (await check.locator('.check__result').textContent()) ?? '' };
}

test('before the lab runs, « Vérifier » says to start it', async () => {
  const answer = await verify('page');
  assert.equal(answer.state, 'error');
  assert.match(answer.text, /lancez d’abord le lab/);
});

test('before the step: ✗, Nginx looks for PHP-FPM on its own machine', async () => {
  await page.locator(`${labSelector(LAB)} [data-action="start"]`).click();
  await waitState(page, LAB, 'ready');
  await connected(page, LAB, 'web');
  const answer = await verify('page');
  assert.equal(answer.state, 'failed');
  assert.match(answer.text, /sa propre machine \(fastcgi_pass 127\.0\.0\.1:9000\)/);
  assert.match(answer.text, /Piste\u202F: .*remplacez 127\.0\.0\.1 par php/i);
  assert.deepEqual(await stepStates(), { 'local-502': 'todo', 'points-at-php': 'todo', 'remote-502': 'todo', page: 'failed' });
});

test('after the chapter’s steps, run with its buttons: ✓', async () => {
  const run = (step: string) => page.locator(`.run-block[data-lab="${LAB}"][data-step="${step}"] .run-block__button`);
  // The sed: typed into web's terminal, the student presses Enter.
  await run('point-at-php').click();
  // (the end of the line only: the long command wraps where the terminal's width says)
  await screenShows(page, LAB, 'web', /\/default\.conf\s*$/);
  await page.keyboard.press('Enter');
  // The reload runs at once.
  await run('reload').click();
  await screenShows(page, LAB, 'web', /Reloading nginx[^\n]*\n[\s\S]*root@web[^\n]*# $/);
  assert.equal((await verify('remote-502')).state, 'passed');
  // PHP-FPM started on php.
  await run('start-php').click();
  await connected(page, LAB, 'php');
  await screenShows(page, LAB, 'php', /Starting PHP[\s\S]*root@php[^\n]*# $/);
  const answer = await verify('page');
  assert.equal(answer.state, 'passed', answer.text);
  assert.match(answer.text, /✓ Réussi/);
  assert.deepEqual(await stepStates(), { 'local-502': 'todo', 'points-at-php': 'todo', 'remote-502': 'passed', page: 'passed' });
  assert.equal(await progressIn('.toc'), '2\u00A0étapes sur 4');
});

test('after a reload, the checks passed are still ticked', async () => {
  await page.reload();
  for (const id of ['remote-502', 'page']) {
    await page.waitForFunction((el) => (el as HTMLElement).dataset.state === 'passed', await box(id).elementHandle(), { timeout: 20_000 });
  }
  assert.equal(await box('local-502').getAttribute('data-state'), null);
  assert.deepEqual(await stepStates(), { 'local-502': 'todo', 'points-at-php': 'todo', 'remote-502': 'passed', page: 'passed' });
  assert.equal(await progressIn('.toc'), '2\u00A0étapes sur 4');
  assert.equal(await progressIn(`${labSelector(LAB)} .lab-steps`), '2\u00A0étapes sur 4');
  await page.goto(`${chapter.server.url}/`);
  assert.equal(await progressIn('.demo-list'), '2\u00A0étapes sur 4');
  await page.goBack();
});

test('stuck: the solution of a step is a diff of their file, « Appliquer » asks, then runs it, and the check passes', async () => {
  // Back to the start state (the progress stays): the learner's default.conf still says 127.0.0.1.
  await page
    .locator(labSelector(LAB))
    .evaluate((el) => (el as unknown as { reset(o: { confirm: boolean }): Promise<void> }).reset({ confirm: false }));
  await waitState(page, LAB, 'ready');
  const check = box('points-at-php');
  await check.locator('.check__solution-button').click();
  const diff = check.locator('.solution__diff');
  await diff.waitFor({ timeout: 120_000 });
  assert.match((await check.locator('.solution__legend').textContent()) ?? '', /− votre fichier.*\+ la solution/);
  const lines = (await diff.evaluate((el) => [...el.children].map((c) => `${c.tagName} ${c.textContent}`))).filter(
    (l) => !l.startsWith('SPAN'),
  );
  assert.deepEqual(
    lines.map((l) => l.replace(/ +/g, ' ')),
    [
      'DEL votre fichier\u202F: − fastcgi_pass 127.0.0.1:9000;',
      'INS la solution\u202F: + #fastcgi_pass 127.0.0.1:9000;',
      'INS la solution\u202F: + fastcgi_pass php:9000;',
    ],
  );
  // « Appliquer » asks first; Escape cancels and gives the focus back.
  const apply = check.locator('.solution__apply');
  await apply.click();
  const dialog = page.locator('dialog.solution-dialog');
  await dialog.waitFor();
  assert.match((await dialog.textContent()) ?? '', /lancer sur web[\s\S]*sed -E -i[\s\S]*fastcgi_pass +php:9000/);
  assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Annuler');
  await page.keyboard.press('Escape');
  await dialog.waitFor({ state: 'detached' });
  assert.equal(await apply.evaluate((el) => el === document.activeElement), true);
  // Confirmed by keyboard: Tab to « Appliquer », Enter. The check runs by itself afterwards.
  await check.evaluate((el) => delete (el as HTMLElement).dataset.state);
  await apply.click();
  await dialog.waitFor();
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Appliquer');
  await page.keyboard.press('Enter');
  await page.waitForFunction((el) => Boolean((el as HTMLElement).dataset.state), await check.elementHandle(), { timeout: 120_000 });
  assert.equal(await check.getAttribute('data-state'), 'passed', (await check.locator('.check__result').textContent()) ?? '');
  assert.match((await check.locator('.check__solution').textContent()) ?? '', /Votre fichier est déjà comme la solution/);
  // Only what the page itself caused: the 409 of « Vérifier » before the lab ran.
  assert.deepEqual(
    chapter.problems.filter((p) => !/status of 409/.test(p)),
    [],
  );
});

test('a change of the learner outside the step: « Appliquer » refuses with the server’s French 409 message, the file untouched', async () => {
  const CONF = '/etc/nginx/conf.d/default.conf';
  await page
    .locator(labSelector(LAB))
    .evaluate((el) => (el as unknown as { reset(o: { confirm: boolean }): Promise<void> }).reset({ confirm: false }));
  await waitState(page, LAB, 'ready');
  await connected(page, LAB, 'web');
  const check = box('points-at-php');
  const toggle = check.locator('.check__solution-button');
  if ((await toggle.getAttribute('aria-expanded')) === 'true') await toggle.click(); // closed, then opened: loaded again
  await toggle.click();
  const apply = check.locator('.solution__apply');
  await apply.waitFor({ timeout: 120_000 });
  // Shown while the file was the step's only: then the learner adds a line of their own, above the step's.
  await runAndWait(page, LAB, 'web', `sed -i '1i # mon essai' ${CONF}`);
  await apply.click();
  await page.locator('dialog.solution-dialog .solution-dialog__confirm').click();
  const status = check.locator('.solution__status');
  await page.waitForFunction((el) => !/…$/.test(el?.textContent ?? ''), await status.elementHandle(), { timeout: 60_000 });
  const message = (await status.textContent()) ?? '';
  assert.match(
    message,
    new RegExp(`^Votre fichier ${CONF} \\(sur web\\) a des changements qui ne font pas partie de cette étape \\(ligne 1\\)`),
  );
  assert.equal(typographyError(message), undefined, message);
  // Nothing ran: the learner's line is there and the step's line still says 127.0.0.1.
  const screen = await runAndWait(
    page,
    LAB,
    'web',
    `echo "premiere=$(head -1 ${CONF}) reste=$(grep -cE '^\\s*fastcgi_pass\\s+127' ${CONF})"`,
  );
  assert.match(screen, /^premiere=# mon essai reste=1$/m);
  assert.deepEqual(
    chapter.problems.filter((p) => !/status of 409/.test(p)),
    [],
  );
});

/** The state of each step in the panel's list. */
function stepStates(): Promise<Record<string, string>> {
  return page
    .locator(`${labSelector(LAB)} .lab-steps__step`)
    .evaluateAll((items) => Object.fromEntries(items.map((i) => [(i as HTMLElement).dataset.stepCheck, (i as HTMLElement).dataset.state])));
}

/** The nginx-remote progress shown inside `scope`, once drawn. */
async function progressIn(scope: string): Promise<string> {
  const progress = page.locator(`${scope} .progress[data-progress-lab="${LAB}"]`);
  await progress.and(page.locator(':not([hidden])')).waitFor({ timeout: 20_000 });
  return (await progress.textContent()) ?? '';
}
