// « Vérifier » in the chapter, in Chromium against the real server and a real lab (issue 12): a new
// student asks before starting the lab (told to start it), starts nginx-remote, asks before the step
// (✗ with the 127.0.0.1 diagnosis and a hint), runs the chapter's steps with its Run buttons, asks again
// (✓), and after a reload finds the check still ticked.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../helpers/browser.ts';
import { connected, labSelector, screenShows, waitState } from '../helpers/lab-page.ts';
import { destroyScope, newScope } from '../helpers/scope.ts';
import { startServer, type RunningServer } from '../helpers/server.ts';
import { ensureSiteBuilt } from '../helpers/site-build.ts';

const scope = newScope('e2e-check');
const LAB = 'nginx-remote';
let server: RunningServer;
let browser: Browser;
let page: Page;
const problems: string[] = [];

before(async () => {
  await ensureSiteBuilt();
  server = await startServer({ ATELIER_TEST: '1', ATELIER_LAB_SCOPE: scope });
  browser = await launchChromium();
  page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
});
after(async () => {
  await browser?.close();
  await server?.stop();
  await destroyScope(scope);
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
  await page.goto(`${server.url}/05-fastcgi/`);
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
  assert.match(answer.text, /Piste : .*remplacez 127\.0\.0\.1 par php/i);
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
});

test('after a reload, the checks passed are still ticked', async () => {
  await page.reload();
  for (const id of ['remote-502', 'page']) {
    await page.waitForFunction((el) => (el as HTMLElement).dataset.state === 'passed', await box(id).elementHandle(), { timeout: 20_000 });
  }
  assert.equal(await box('local-502').getAttribute('data-state'), null);
  assert.deepEqual(problems, []);
});
