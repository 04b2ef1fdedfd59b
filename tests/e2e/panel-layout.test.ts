// The lab panel's smaller promises, in Chromium against the real server: after a resize the terminal
// shows its bottom (the prompt); at 375 px the three buttons of the panel's bar stay on one row; links
// at the top of the chapter take the keyboard to each lab in a few key presses. And a host the server
// knows but the page did not render gets its tab and terminal from the panel's one markup (a template).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../helpers/browser.ts';
import { focused, geometry, geometryOverFrames, labSelector, resized, runAndWait, startLab, waitState } from '../helpers/lab-page.ts';
import { destroyScope, newScope } from '../helpers/scope.ts';
import { startServer, type RunningServer } from '../helpers/server.ts';
import { ensureSiteBuilt } from '../helpers/site-build.ts';

const scope = newScope('e2e-layout');
const LAB = 'apache-remote';

let server: RunningServer;
let browser: Browser;

before(async () => {
  await ensureSiteBuilt();
  server = await startServer({ ATELIER_TEST: '1', ATELIER_LAB_SCOPE: scope });
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await server?.stop();
  await destroyScope(scope);
});

/** Waits for `n` animation frames of the page. */
const framesPass = (page: Page, n: number) =>
  page.evaluate(async (count) => {
    for (let i = 0; i < count; i++) await new Promise((ok) => requestAnimationFrame(ok));
  }, n);

async function open(width: number, height = 900): Promise<Page> {
  const page = await browser.newPage({ viewport: { width, height } });
  await page.goto(`${server.url}/05-fastcgi/`);
  return page;
}

describe('a resize', () => {
  test('leaves the terminal showing its bottom, at every size', async () => {
    const page = await open(1280);
    await startLab(page, LAB, 'web');
    await runAndWait(page, LAB, 'web', 'seq 1 300');
    let g = (await geometry(page, LAB, 'web'))!;
    assert.equal(g.viewportY, g.baseY, 'at the bottom before any resize');
    // Resized while the student looks at the terminal, and while reading the text above it (the terminal
    // out of view, where xterm draws nothing), then looking at it again.
    for (const [width, height, where] of [
      [700, 500, 'out of view'],
      [1400, 1000, 'in view'],
      [375, 700, 'out of view'],
      [1280, 900, 'in view'],
    ] as const) {
      const term = page.locator(`${labSelector(LAB)} .lab__term`).first();
      if (where === 'out of view') await page.evaluate(() => scrollTo({ top: 0, behavior: 'instant' }));
      else await term.scrollIntoViewIfNeeded();
      await page.setViewportSize({ width, height });
      await framesPass(page, 5); // the page has handled the new size
      await term.scrollIntoViewIfNeeded();
      g = await resized(page, LAB, 'web', g);
      // xterm draws the new size in the next frame (one frame may still show the old first line); from
      // the third frame on, and for good, the bottom.
      const frames = await geometryOverFrames(page, LAB, 'web', 12);
      for (const later of frames.slice(3)) {
        assert.equal(
          later.viewportY,
          later.baseY,
          `${width}×${height}, ${where}: the terminal (${later.cols}×${later.rows}) shows its bottom`,
        );
      }
      g = (await geometry(page, LAB, 'web'))!;
    }
    await page.close();
  });
});

describe('a host the page did not render', () => {
  test('gets a tab and a terminal panel made from the panel’s template, like the rendered ones', async () => {
    const page = await open(1280);
    await startLab(page, LAB, 'web');
    // The server's answer names one more host than the built page (a definition changed since the build).
    await page.route(`**/api/labs/${LAB}`, async (route) => {
      const response = await route.fetch();
      const body = (await response.json()) as { hosts?: string[] };
      if (Array.isArray(body.hosts)) body.hosts = [...body.hosts, 'db'];
      await route.fulfill({ response, json: body });
    });
    await page.reload();
    await page.locator(labSelector(LAB)).scrollIntoViewIfNeeded();
    await page.waitForSelector(`${labSelector(LAB)} [role=tabpanel][data-host="db"] .xterm`, { state: 'attached', timeout: 30_000 });
    const shape = (host: string) =>
      page.evaluate(
        ([sel, h]) => {
          const tab = document.querySelector(`${sel} [role=tab][data-host="${h}"]`)!;
          const panel = document.querySelector(`${sel} [role=tabpanel][data-host="${h}"]`)!;
          // The markup's own elements; what xterm.js puts in the terminal's box is not markup of ours.
          const outline = (el: Element): string =>
            `${el.tagName.toLowerCase()}.${[...el.classList].join('.')}(${el.classList.contains('lab__term') ? '' : [...el.children].map(outline).join(',')})`;
          return {
            tab: tab.textContent?.replace(/\s+/g, ' ').trim(),
            controls: tab.getAttribute('aria-controls') === panel.id && panel.getAttribute('aria-labelledby') === tab.id,
            outline: `${outline(tab)} ${outline(panel)}`.replaceAll(h!, 'HOST'),
          };
        },
        [labSelector(LAB), host],
      );
    const db = await shape('db');
    const web = await shape('web');
    assert.equal(db.tab, '$ db');
    assert.equal(db.controls, true);
    assert.equal(db.outline, web.outline);
    await page.close();
  });
});

describe('at 375 px', () => {
  test('the panel’s buttons stay on one row, with their full names', async () => {
    const page = await open(375, 800);
    const bar = page.locator(`${labSelector(LAB)} .lab__actions`);
    await bar.scrollIntoViewIfNeeded();
    const tops = await bar.locator('button').evaluateAll((buttons) => buttons.map((b) => Math.round(b.getBoundingClientRect().top)));
    assert.equal(tops.length, 3);
    assert.equal(new Set(tops).size, 1, `one row: the buttons start at ${tops.join(', ')} px`);
    for (const name of ['Réinitialiser', 'Mode lecteur d’écran', 'Plein écran']) {
      assert.equal(
        await page.locator(labSelector(LAB)).getByRole('button', { name, exact: true }).count(),
        1,
        `a button named « ${name} »`,
      );
    }
    const { scrollWidth, clientWidth } = await page.evaluate(() => ({
      scrollWidth: document.documentElement.scrollWidth,
      clientWidth: document.documentElement.clientWidth,
    }));
    assert.ok(scrollWidth <= clientWidth, 'nothing scrolls sideways');
    await page.close();
  });
});

describe('links to the labs at the top of the chapter', () => {
  test('take the keyboard to « Lancer le lab » of the first lab in 10 key presses, and to every lab', async () => {
    const page = await open(1280);
    const keys: string[] = [];
    const press = async (key: string) => {
      keys.push(key);
      await page.keyboard.press(key);
      return focused(page);
    };
    let f = await press('Tab');
    while (!/PHP-FPM distant avec Apache httpd/.test(f.text) && keys.length < 10) f = await press('Tab');
    assert.match(f.text, /PHP-FPM distant avec Apache httpd/, `the link to the first lab after ${keys.length} Tab`);
    f = await press('Enter');
    assert.equal(f.id, 'lab-apache-remote', 'the lab has the focus');
    while (f.text !== 'Lancer le lab' && keys.length < 15) f = await press('Tab');
    assert.equal(f.text, 'Lancer le lab');
    assert.ok(keys.length <= 10, `${keys.length} key presses: ${keys.join(' ')}`);
    await waitState(page, LAB, 'idle', 30_000);

    const links = await page.locator('nav.lab-links a').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
    const panels = await page.locator('atelier-lab').evaluateAll((ls) => ls.map((l) => `#${l.id}`));
    assert.deepEqual(links, panels, 'one link per lab, in the order of the chapter');
    await page.close();
  });
});
