// The chapter with a keyboard only, in Chromium against the real server and real labs: a student
// reaches the first lab, starts it, types in its terminal, leaves the terminal (Escape then Tab, which
// the panel writes under the terminal and gives screen readers as the terminal's description) and
// reaches the next section, without a mouse. A page loaded while the lab runs leaves the focus and the
// scroll where the page puts them. « Lancer le lab » reached while the panel still asks whether a lab
// runs (« vérification… ») keeps the focus and takes the press.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page, Route } from 'playwright-core';
import { launchChromium } from '../helpers/browser.ts';
import { connected, focused, labSelector, screenShows, waitState } from '../helpers/lab-page.ts';
import { destroyScope, newScope } from '../helpers/scope.ts';
import { isPreviewUrl, startServer, type RunningServer } from '../helpers/server.ts';
import { ensureSiteBuilt } from '../helpers/site-build.ts';

const scope = newScope('e2e-keyboard');
const LAB = 'apache-remote';

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
  page.on('console', (m) => {
    if (m.type() === 'error' && !isPreviewUrl(server, m.location().url)) problems.push(`console: ${m.text()} (${m.location().url})`);
  });
});

after(async () => {
  await browser?.close();
  await server?.stop();
  await destroyScope(scope);
});

type Focus = Awaited<ReturnType<typeof focused>>;

/** Presses `key` until `ok` holds for the focused element; the number of presses, or a failure after `max`. */
async function pressUntil(key: string, ok: (f: Focus) => boolean | Promise<boolean>, max: number, what: string): Promise<number> {
  const path: string[] = [];
  for (let n = 1; n <= max; n++) {
    await page.keyboard.press(key);
    const f = await focused(page);
    path.push(`${f.tag}${f.lab ? `[${f.lab}]` : ''} ${f.text}`.trim());
    if (await ok(f)) return n;
  }
  assert.fail(`${what}: not reached with ${max} × ${key}; the focus went through:\n  ${path.slice(-15).join('\n  ')}`);
}

/** Whether the focused element comes after the element with this id in the page. */
const focusAfter = (id: string) =>
  page.evaluate((target) => {
    const el = document.getElementById(target);
    const active = document.activeElement;
    return Boolean(el && active && active !== document.body && el.compareDocumentPosition(active) & Node.DOCUMENT_POSITION_FOLLOWING);
  }, id);

describe('a student with a keyboard only', () => {
  test('reaches the first lab, starts it, types, leaves the terminal and reaches the next section', async () => {
    await page.goto(`${server.url}/05-fastcgi/`);
    const presses = await pressUntil('Tab', (f) => f.lab === LAB && f.text === 'Lancer le lab', 120, '« Lancer le lab » of the first lab');
    await waitState(page, LAB, 'idle', 30_000); // the panel has asked whether a lab runs: none
    assert.equal((await focused(page)).text, 'Lancer le lab', `the focus stays on « Lancer le lab » (${presses} Tab)`);

    await page.keyboard.press('Enter');
    await waitState(page, LAB, 'ready');
    await connected(page, LAB, 'web');
    await screenShows(page, LAB, 'web', /root@web/);
    assert.equal((await focused(page)).inTerminal, 'web', 'after the start the keyboard types in the terminal');

    // The way out is written in the panel and is the description of the terminal's input.
    const description = await page.evaluate(() => {
      const ids = document.activeElement?.getAttribute('aria-describedby') ?? '';
      return ids
        .split(/\s+/)
        .map((id) => document.getElementById(id)?.textContent ?? '')
        .join(' ')
        .replace(/[ \t\r\n]+/g, ' '); // not \s: it would also fold the narrow no-break space before « : »
    });
    assert.match(description, /Quitter le terminal au clavier\u202F: Échap puis Tab/);
    assert.ok(await page.locator(`${labSelector(LAB)} .lab__keys`).isVisible(), 'the way out is shown, not only announced');

    await page.keyboard.type('echo clavier-$((6*7))');
    await page.keyboard.press('Enter');
    await screenShows(page, LAB, 'web', /^clavier-42$/m);
    await page.keyboard.press('Tab'); // bash completion: Tab alone stays in the terminal
    assert.equal((await focused(page)).inTerminal, 'web', 'Tab alone is for the shell');
    await page.keyboard.press('Backspace');

    // Escape then another key is still an Escape for the shell (Alt+B: one word back).
    await page.keyboard.type('echo un deux');
    await page.keyboard.press('Escape');
    await page.keyboard.press('b');
    await page.keyboard.type('X');
    await page.keyboard.press('Enter');
    await screenShows(page, LAB, 'web', /^un Xdeux$/m);

    // Escape then Shift+Tab: back to the host's tab.
    await page.keyboard.press('Escape');
    await page.keyboard.press('Shift+Tab');
    const back = await focused(page);
    assert.equal(back.inTerminal, null, 'Escape then Shift+Tab leaves the terminal');
    assert.equal(back.lab, LAB);
    assert.match(back.text, /web/, 'to the terminal’s tab');

    // Into the terminal again, out with Escape then Tab; the Escape did not reach the shell.
    await page.keyboard.press('Tab');
    await pressUntil('Tab', (f) => f.inTerminal === 'web', 10, 'the terminal again');
    await page.keyboard.press('Escape');
    await page.keyboard.press('Tab');
    const out = await focused(page);
    assert.equal(out.inTerminal, null, `Escape then Tab leaves the terminal (focus: ${JSON.stringify(out)})`);
    assert.notEqual(out.tag, 'body');
    await page.keyboard.press('Shift+Tab');
    assert.equal((await focused(page)).inTerminal, 'web', 'Shift+Tab comes back into the terminal');
    await page.keyboard.type('echo retour-$((2*3))');
    await page.keyboard.press('Enter');
    await screenShows(page, LAB, 'web', /^retour-6$/m); // a left-over Escape would have eaten the "e" of echo

    await page.keyboard.press('Escape');
    await page.keyboard.press('Tab');
    await pressUntil('Tab', () => focusAfter('avec-nginx'), 60, 'the next section (« Avec Nginx »)');
  });
});

describe('a page loaded while the lab runs', () => {
  test('leaves the focus and the scroll where the page puts them when the terminals attach', async () => {
    await page.goto(`${server.url}/05-fastcgi/`);
    // Scrolled so the panel is just below the window: near enough to load and attach, not in view. Code
    // blocks out of view are laid out at a guessed height (content-visibility: auto) until they come near
    // it, so the page is scrolled again once its height has stayed the same for 10 frames.
    const where = () => page.evaluate((sel) => Math.round(document.querySelector(sel)!.getBoundingClientRect().top), labSelector(LAB));
    for (let i = 0; i < 3; i++) {
      await page.evaluate((sel) => {
        Object.assign(window, { __height: undefined, __still: 0 });
        const top = document.querySelector(sel)!.getBoundingClientRect().top + scrollY;
        scrollTo({ top: Math.max(0, top - innerHeight - 200), behavior: 'instant' });
      }, labSelector(LAB));
      await page.waitForFunction(
        () => {
          const w = window as unknown as { __height?: number; __still?: number };
          const h = document.documentElement.scrollHeight;
          w.__still = w.__height === h ? (w.__still ?? 0) + 1 : 0;
          w.__height = h;
          return w.__still >= 10;
        },
        undefined,
        { polling: 'raf', timeout: 10_000 },
      );
      if ((await where()) > 900) break;
    }
    const before = await where();
    assert.ok(before > 900, `the panel is below the window (${before} px from its top)`);
    await waitState(page, LAB, 'ready');
    await connected(page, LAB, 'web');
    await screenShows(page, LAB, 'web', /root@web/);
    const resumed = await page.locator(`${labSelector(LAB)} [role=tabpanel][data-host="web"]`).getAttribute('data-resumed');
    assert.equal(resumed, 'true', 'the same shell, attached again');
    const f = await focused(page);
    assert.equal(f.tag, 'body', `the focus stays where the page put it, not in the terminal: ${JSON.stringify(f)}`);
    // Measured on screen, not as scrollY: the browser's scroll anchoring moves scrollY when content
    // above the window changes height, while what is shown stays put.
    assert.ok(Math.abs((await where()) - before) <= 2, `the page did not scroll to the terminal (${before} px, now ${await where()} px)`);
  });
});

describe('« Lancer le lab » while the panel is still checking', () => {
  test('keeps the focus, takes the press, and starts the lab once the check has answered', async () => {
    const NGINX = 'nginx-remote';
    // The panel's question « does this learner have a lab? » is held back: « vérification… » lasts.
    let release = () => {};
    const gate = new Promise<void>((ok) => (release = ok));
    const url = `**/api/labs/${NGINX}`;
    const hold = async (route: Route) => {
      if (route.request().method() === 'GET') await gate;
      await route.continue();
    };
    await page.route(url, hold);
    try {
      await page.goto('about:blank');
      await page.goto(`${server.url}/05-fastcgi/#avec-nginx`);
      await pressUntil('Tab', (f) => f.lab === NGINX && f.text === 'Lancer le lab', 60, '« Lancer le lab » of the Nginx lab');
      await waitState(page, NGINX, 'checking', 30_000);
      assert.equal((await focused(page)).text, 'Lancer le lab', 'the focus stays on the button while the panel checks');
      await page.keyboard.press('Enter');
      const f = await focused(page);
      assert.equal(f.text, 'Lancer le lab', `the press does not drop the focus: ${JSON.stringify(f)}`);
      assert.equal(
        await page.locator(`${labSelector(NGINX)} [data-action="start"]`).getAttribute('aria-disabled'),
        'true',
        'the press is taken',
      );
      assert.equal(await page.locator(labSelector(NGINX)).getAttribute('data-state'), 'checking');
    } finally {
      release();
    }
    await waitState(page, NGINX, 'ready');
    await connected(page, NGINX, 'web');
    assert.equal((await focused(page)).inTerminal, 'web', 'the keyboard goes on in the terminal');
    await page.unroute(url, hold);
  });
});

test('no page error and no console error of the site along the way', () => {
  assert.deepEqual(problems, []);
});
