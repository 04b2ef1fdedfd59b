// axe-core on the chapter page with a running lab, in Chromium against the real server: the terminal
// focused (right after « Lancer le lab »), then left with the keyboard (Escape then Tab), the host's
// transcript open, then the « Navigateur » tab showing the lab's page. Every violation counts, whatever its impact.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../helpers/browser.ts';
import { chipShows, focused, labSelector, previewShows, startLab } from '../helpers/lab-page.ts';
import { destroyScope, newScope } from '../helpers/scope.ts';
import { startServer, type RunningServer } from '../helpers/server.ts';
import { ensureSiteBuilt, root } from '../helpers/site-build.ts';

const axeSource = readFileSync(join(root, 'node_modules', 'axe-core', 'axe.min.js'), 'utf8');
const scope = newScope('e2e-axe');
const LAB = 'apache-remote';

let server: RunningServer;
let browser: Browser;
let page: Page;

before(async () => {
  await ensureSiteBuilt();
  server = await startServer({ ATELIER_TEST: '1', ATELIER_LAB_SCOPE: scope });
  browser = await launchChromium();
  page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  await page.goto(`${server.url}/05-fastcgi/`);
});

after(async () => {
  await browser?.close();
  await server?.stop();
  await destroyScope(scope);
});

/** Every axe violation of the page, one line each. */
async function violations(p: Page): Promise<string[]> {
  // Evaluated through the DevTools protocol: the site's Content-Security-Policy allows no injected script tag.
  await p.evaluate(axeSource);
  return p.evaluate(async () => {
    type Result = {
      violations: Array<{ id: string; impact: string; help: string; nodes: Array<{ target: unknown; failureSummary?: string }> }>;
    };
    const axe = (window as unknown as { axe: { run(ctx: Document, options: object): Promise<Result> } }).axe;
    // The preview's frame holds the learner's page, on another origin: not the site's markup.
    const result = await axe.run(document, { iframes: false });
    return result.violations.map(
      (v) =>
        `${v.impact} ${v.id}: ${v.help} at ${v.nodes
          .slice(0, 5)
          .map((n) => `${JSON.stringify(n.target)} (${(n.failureSummary ?? '').replace(/\s+/g, ' ')})`)
          .join(' ')}`,
    );
  });
}

describe('axe on the chapter page with a running lab', () => {
  test('the terminal focused: no violation', async () => {
    await startLab(page, LAB, 'web');
    assert.equal((await focused(page)).inTerminal, 'web', 'the terminal has the focus');
    assert.deepEqual(await violations(page), []);
    assert.equal((await focused(page)).inTerminal, 'web', 'still, after the check');
  });

  test('the terminal left with the keyboard: no violation', async () => {
    await page.keyboard.press('Escape');
    await page.keyboard.press('Tab');
    const f = await focused(page);
    assert.equal(f.inTerminal, null, `the focus is out of the terminal (${JSON.stringify(f)})`);
    assert.deepEqual(await violations(page), []);
  });

  test('the host’s transcript open: no violation', async () => {
    await page.locator(`${labSelector(LAB)} .lab__panel--term[data-host="web"] .lab__transcript > summary`).click();
    await page.waitForFunction(
      (sel) => /root@web/.test(document.querySelector(sel)?.textContent ?? ''),
      `${labSelector(LAB)} .lab__panel--term[data-host="web"] .lab__transcript-text`,
    );
    assert.deepEqual(await violations(page), []);
  });

  test('the « Navigateur » tab shown: no violation', async () => {
    await page.locator(`${labSelector(LAB)} [role=tab][data-preview]`).click();
    await previewShows(page, LAB, /Apache2 Debian Default Page/);
    await chipShows(page, LAB, /^HTTP 200 OK$/);
    assert.deepEqual(await violations(page), []);
  });
});
