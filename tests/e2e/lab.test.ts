// A student follows the Nginx demo of the chapter in a real browser (Debian's Chromium), against the
// real server and real containers: start the lab, run the chapter's commands with the Run buttons and
// by typing, watch the preview go from 502 to PHP-FPM and back, reload the page and find the same
// shell; a second browser context is another learner with a lab of their own.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchChromium } from '../helpers/browser.ts';
import { destroyScope, newScope } from '../helpers/scope.ts';
import { isPreviewUrl, startServer, type RunningServer } from '../helpers/server.ts';
import { ensureSiteBuilt } from '../helpers/site-build.ts';

const LAB = 'atelier-lab[name="nginx-remote"]';
const scope = newScope('e2e-lab');

let server: RunningServer;
let browser: Browser;
let student: BrowserContext;
let page: Page;
const problems: string[] = [];

before(async () => {
  await ensureSiteBuilt();
  server = await startServer({ ATELIER_TEST: '1', ATELIER_LAB_SCOPE: scope });
  browser = await launchChromium();
  student = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  page = await student.newPage();
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  // The preview's 502s are the chapter's point: errors of pages on the preview origin are expected.
  page.on('console', (m) => {
    if (m.type() === 'error' && !isPreviewUrl(server, m.location().url)) problems.push(`console: ${m.text()} (${m.location().url})`);
  });
});

after(async () => {
  await browser?.close();
  await server?.stop();
  await destroyScope(scope);
});

const state = (p: Page) => p.locator(LAB).getAttribute('data-state');
const waitState = (p: Page, want: string, timeout = 120_000) =>
  p.waitForFunction(([sel, s]) => document.querySelector(sel!)?.getAttribute('data-state') === s, [LAB, want], { timeout });
const connected = (p: Page, host: string) =>
  p.waitForFunction(
    ([sel, h]) => document.querySelector(`${sel} [role=tabpanel][data-host="${h}"]`)?.getAttribute('data-connection') === 'open',
    [LAB, host],
    { timeout: 30_000 },
  );
/** The text of a host's terminal, scrollback included (the panel's own API). */
const screen = (p: Page, host: string) =>
  p.evaluate(([sel, h]) => (document.querySelector(sel!) as unknown as { screen(h: string): Promise<string> }).screen(h!), [LAB, host]);
async function screenShows(p: Page, host: string, re: RegExp, timeout = 20_000): Promise<string> {
  const end = Date.now() + timeout;
  let text = '';
  while (Date.now() < end) {
    text = await screen(p, host);
    if (re.test(text)) return text;
    await p.waitForTimeout(100);
  }
  assert.fail(`terminal ${host} never showed ${re}; it shows:\n${text.slice(-1500)}`);
}
/** The Run buttons of this lab on the page, in order. */
const runButtons = (p: Page) => p.locator('.run-block[data-lab="nginx-remote"] .run-block__button');
/** Reloads the « Navigateur » tab; returns the HTTP status line the panel shows and the page's text. */
async function preview(p: Page): Promise<{ status: string; text: string }> {
  await p.locator(`${LAB} [role=tab][data-preview]`).click();
  const status = p.locator(`${LAB} .lab__http-status`);
  await status.evaluate((el) => (el.textContent = ''));
  await p.locator(`${LAB} [data-action="preview-reload"]`).click();
  await p.waitForFunction((sel) => /HTTP \d+/.test(document.querySelector(sel)?.textContent ?? ''), `${LAB} .lab__http-status`, {
    timeout: 20_000,
  });
  const frame = p.frameLocator(`${LAB} iframe.lab__frame`);
  // biome-ignore lint/performance/useDomNodeTextContent: Playwright's innerText (the text as rendered), not the DOM's
  const text = (await frame.locator('body').innerText({ timeout: 20_000 })).trim();
  return { status: (await status.textContent()) ?? '', text };
}
async function previewUntil(p: Page, ok: (r: { status: string; text: string }) => boolean) {
  let r = { status: '', text: '' };
  for (let i = 0; i < 20; i++) {
    r = await preview(p);
    if (ok(r)) return r;
    await p.waitForTimeout(250);
  }
  return r;
}

describe('the Nginx demo in the browser', () => {
  test('the panel starts idle, and only its small loader is on the page before it scrolls into view', async () => {
    await page.goto(`${server.url}/05-fastcgi/`);
    assert.equal(await state(page), 'idle');
    const scripts = () =>
      page.evaluate(() =>
        (performance.getEntriesByType('resource') as PerformanceResourceTiming[])
          .filter((e) => e.name.endsWith('.js'))
          .map((e) => ({ name: new URL(e.name).pathname.replace(/^\/_astro\//, ''), bytes: e.decodedBodySize })),
      );
    // Up front: the copy button (ec), the lab loader, and the demos' progress in the table of contents
    // (issue 12: shown at once). Neither the panel (xterm.js) nor the « Vérifier » code.
    await page.waitForFunction(() => performance.getEntriesByType('resource').some((e) => /\/progress\.[^/]*\.js$/.test(e.name)));
    const before = await scripts();
    const names = before.map((s) => s.name.replace(/[.][\w-]+[.]js$/, ''));
    assert.deepEqual(
      names.sort(),
      ['LabPanel.astro_astro_type_script_index_0_lang', 'ec', 'progress'],
      before.map((s) => s.name).join(', '),
    );
    const bytes = before.reduce((n, s) => n + s.bytes, 0);
    assert.ok(bytes < 12 * 1024, `the scripts before the panel is in view stay small (${bytes} bytes)`);
    await page.locator(LAB).scrollIntoViewIfNeeded();
    await page.waitForFunction(
      (n) => performance.getEntriesByType('resource').filter((e) => e.name.endsWith('.js')).length > n,
      before.length,
    );
    assert.ok(
      (await scripts()).some((s) => s.name.startsWith('panel.')),
      'the terminal code loads once the panel is in view',
    );
  });

  test('a new student starts the lab and gets a shell on web and php', async () => {
    await page.locator(`${LAB} [data-action="start"]`).click();
    await waitState(page, 'ready');
    await connected(page, 'web');
    await screenShows(page, 'web', /root@web/);
  });

  test('the first Run button shows the 502 and the chapter’s log line', async () => {
    const buttons = runButtons(page);
    assert.equal(await buttons.count(), 5);
    await buttons.nth(0).click();
    const text = await screenShows(page, 'web', /connect\(\) failed \(111: Connection refused\)/);
    assert.match(text, /502 Bad Gateway/);
    assert.match(text, /upstream: "fastcgi:\/\/127\.0\.0\.1:9000"/);
  });

  test('pointing Nginx at php: the Run button types, the student presses Enter; then the reload', async () => {
    await runButtons(page).nth(1).click();
    await screenShows(page, 'web', /sed -E -i/);
    await page.keyboard.press('Enter');
    await runButtons(page).nth(2).click();
    await screenShows(page, 'web', /test is successful/);
    const r = await previewUntil(page, (x) => x.status.includes('502'));
    assert.match(r.status, /HTTP 502 Bad Gateway/, 'still 502: PHP-FPM is not started');
  });

  test('PHP-FPM started on php: the preview shows PHP-FPM and the PHP version', async () => {
    await runButtons(page).nth(3).click();
    await connected(page, 'php');
    await screenShows(page, 'php', /Starting PHP 8\.2 FastCGI Process Manager|php8\.2-fpm/);
    const r = await previewUntil(page, (x) => /PHP-FPM/.test(x.text));
    assert.match(r.text, /PHP-FPM\s+8\.2\.\d+/);
    assert.match(r.status, /HTTP 200/);
  });

  test('stopping PHP-FPM gives 502 in the preview; the student types the start command again', async () => {
    await runButtons(page).nth(4).click();
    await screenShows(page, 'php', /Stopping PHP 8\.2 FastCGI Process Manager|stop/);
    assert.match((await previewUntil(page, (x) => x.status.includes('502'))).status, /HTTP 502 Bad Gateway/);
    await page.locator(`${LAB} [role=tab][data-host="php"]`).click();
    await page.locator(`${LAB} [role=tabpanel][data-host="php"] .xterm`).click();
    await page.keyboard.type('service php8.2-fpm start && echo relance-$((3*3))');
    await page.keyboard.press('Enter');
    await screenShows(page, 'php', /relance-9/);
    assert.match((await previewUntil(page, (x) => /PHP-FPM/.test(x.text))).text, /PHP-FPM\s+8\.2\.\d+/);
  });

  test('after a page reload the student finds the same shell, with its history', async () => {
    const labId = await page.locator(LAB).getAttribute('data-lab-id');
    await page.reload();
    await page.locator(LAB).scrollIntoViewIfNeeded();
    await waitState(page, 'ready');
    await connected(page, 'php');
    assert.equal(await page.locator(LAB).getAttribute('data-lab-id'), labId);
    await screenShows(page, 'php', /relance-9/);
    await page.locator(`${LAB} [role=tab][data-host="php"]`).click();
    await page.locator(`${LAB} [role=tabpanel][data-host="php"] .xterm`).click();
    await page.keyboard.type('history | tail -n 3');
    await page.keyboard.press('Enter');
    await screenShows(page, 'php', /\d+\s+service php8\.2-fpm start && echo relance/);
  });

  test('a second student (another browser context) has another lab', async () => {
    const other = await browser.newContext();
    const p2 = await other.newPage();
    // The panel starts 'idle', asks the API whether this learner has a lab ('checking'), then settles: its
    // answer is awaited first, so that the state before the question is not taken for the settled one.
    const asked = p2.waitForResponse((r) => r.request().method() === 'GET' && new URL(r.url()).pathname === '/api/labs/nginx-remote', {
      timeout: 30_000,
    });
    await p2.goto(`${server.url}/05-fastcgi/`);
    await p2.locator(LAB).scrollIntoViewIfNeeded();
    await asked;
    await p2.waitForFunction((sel) => !['checking', null].includes(document.querySelector(sel)?.getAttribute('data-state') ?? null), LAB, {
      timeout: 30_000,
    });
    assert.equal(await state(p2), 'idle', 'the other student has no lab yet');
    await p2.locator(`${LAB} [data-action="start"]`).click();
    await waitState(p2, 'ready');
    const mine = await page.locator(LAB).getAttribute('data-lab-id');
    const theirs = await p2.locator(LAB).getAttribute('data-lab-id');
    assert.ok(mine && theirs && mine !== theirs, `${mine} vs ${theirs}`);
    await connected(p2, 'web');
    const text = await screenShows(p2, 'web', /root@web/);
    assert.doesNotMatch(text, /relance-9|sed -i/, 'nothing of the first student’s shells');
    await other.close();
  });

  test('no page error and no console error along the way', () => {
    assert.deepEqual(problems, []);
  });
});
