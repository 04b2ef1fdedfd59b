// The FastCGI chapter in a real browser (Debian's Chromium) served by the real production server.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../helpers/browser.ts';
import { startServer, type RunningServer } from '../helpers/server.ts';
import { chapter, chapters, ensureSiteBuilt, root } from '../helpers/site-build.ts';

const axeSource = readFileSync(join(root, 'node_modules', 'axe-core', 'axe.min.js'), 'utf8');

/** The h2 and h3 of the source text, as a reader sees them. */
const sourceHeadings = readFileSync(join(root, 'content', 'sources', '05-fastcgi.md'), 'utf8')
  .split('\n')
  .filter((l) => /^#{2,3} /.test(l))
  .map((l) => comparable(l.replace(/^#+ /, '').replace('Demo / Exercice', 'Démo / Exercice'))); // the one fixed typo of the headings

/** Typographic apostrophes and non-breaking spaces compare equal to the plain ones. */
function comparable(text: string): string {
  return text
    .replace(/[’']/g, "'")
    .replace(/[\s\u00A0\u202F]+/g, ' ')
    .trim();
}

let server: RunningServer;
let browser: Browser;

before(async () => {
  await ensureSiteBuilt();
  server = await startServer();
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

interface Watched {
  page: Page;
  problems: string[];
  requests: string[];
}

async function open(path: string, options: { width?: number; colorScheme?: 'light' | 'dark' } = {}): Promise<Watched> {
  const page = await browser.newPage({
    viewport: { width: options.width ?? 1280, height: 900 },
    colorScheme: options.colorScheme ?? 'light',
  });
  const watched: Watched = { page, problems: [], requests: [] };
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') watched.problems.push(`console ${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => watched.problems.push(`page error: ${e.message}`));
  page.on('request', (r) => watched.requests.push(r.url()));
  page.on('requestfailed', (r) => {
    // ERR_ABORTED is the browser cancelling a request itself (a click that leaves the page while a lab
    // panel coming into view still loads): not a failure of the site. Error statuses are caught below.
    if (r.failure()?.errorText === 'net::ERR_ABORTED') return;
    watched.problems.push(`request failed: ${r.url()} (${r.failure()?.errorText})`);
  });
  page.on('response', (r) => {
    if (r.status() >= 400) watched.problems.push(`HTTP ${r.status()}: ${r.url()}`);
  });
  const response = await page.goto(server.url + path, { waitUntil: 'load' });
  assert.equal(response?.status(), 200, `${path} answers 200`);
  return watched;
}

async function seriousAxeViolations(page: Page): Promise<string[]> {
  // Evaluated through the DevTools protocol: the site's Content-Security-Policy allows no injected script tag.
  await page.evaluate(axeSource);
  const violations = await page.evaluate(async () => {
    const axe = (
      window as unknown as {
        axe: {
          run: (
            ctx: Document,
          ) => Promise<{ violations: Array<{ id: string; impact: string; help: string; nodes: Array<{ target: unknown }> }> }>;
        };
      }
    ).axe;
    const result = await axe.run(document);
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      targets: v.nodes.slice(0, 5).map((n) => JSON.stringify(n.target)),
    }));
  });
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.impact} ${v.id}: ${v.help} at ${v.targets.join(' ')}`);
}

describe('the FastCGI chapter in Chromium', () => {
  test('loads with no console error, no failed request and nothing from another host', async () => {
    const { page, problems, requests } = await open('/05-fastcgi/');
    await page.waitForLoadState('networkidle');
    assert.deepEqual(problems, []);
    const elsewhere = requests.filter((u) => !u.startsWith(server.url) && !u.startsWith('data:'));
    assert.deepEqual(elsewhere, []);
    assert.equal(await page.locator('h1').textContent(), 'Un site dynamique avec FastCGI');
    await page.close();
  });

  test('shows every section heading of the source, in order', async () => {
    const { page } = await open('/05-fastcgi/');
    const shown = (await page.locator('.prose :is(h2, h3)').allTextContents()).map(comparable);
    assert.deepEqual(shown, sourceHeadings);
    assert.equal(shown.length, 11);
    await page.close();
  });

  test('shows the five sequence diagrams', async () => {
    const { page } = await open('/05-fastcgi/');
    const svgs = page.locator('figure.sequence-diagram svg');
    assert.equal(await svgs.count(), 5);
    for (const svg of await svgs.all()) {
      await svg.scrollIntoViewIfNeeded();
      assert.ok(await svg.isVisible());
      const box = await svg.boundingBox();
      assert.ok(box && box.width > 300 && box.height > 150, `diagram drawn at a readable size: ${JSON.stringify(box)}`);
    }
    await page.close();
  });

  for (const colorScheme of ['light', 'dark'] as const) {
    test(`axe finds no serious or critical violation in the ${colorScheme} theme`, async () => {
      const { page } = await open('/05-fastcgi/', { colorScheme });
      const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
      assert.equal(bg === 'rgb(20, 22, 26)', colorScheme === 'dark', `the page follows prefers-color-scheme (${bg})`);
      assert.deepEqual(await seriousAxeViolations(page), []);
      await page.close();
    });
  }

  test('the theme toggle switches to dark, is remembered, and axe is still happy', async () => {
    const { page } = await open('/05-fastcgi/');
    const toggle = page.locator('#theme-toggle');
    assert.ok(await toggle.isVisible());
    assert.equal(await toggle.getAttribute('aria-pressed'), 'false');
    await toggle.click();
    assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'dark');
    assert.equal(await toggle.getAttribute('aria-pressed'), 'true');
    await page.reload();
    assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'dark');
    assert.equal(await page.evaluate(() => getComputedStyle(document.body).backgroundColor), 'rgb(20, 22, 26)');
    assert.deepEqual(await seriousAxeViolations(page), []);
    await page.close();
  });

  test('at 375 px wide no page scrolls sideways (the home page and every chapter)', async () => {
    for (const path of ['/', ...chapters().map((c) => c.href)]) {
      const { page } = await open(path, { width: 375 });
      const { scrollWidth, clientWidth } = await page.evaluate(() => ({
        scrollWidth: document.documentElement.scrollWidth,
        clientWidth: document.documentElement.clientWidth,
      }));
      assert.ok(scrollWidth <= clientWidth, `${path}: content is ${scrollWidth} px wide in a ${clientWidth} px window`);
      await page.close();
    }
  });

  test('the keyboard reaches a skip link first, and it leads to the text', async () => {
    const { page } = await open('/05-fastcgi/');
    await page.keyboard.press('Tab');
    const focused = await page.evaluate(() => ({
      text: document.activeElement?.textContent,
      href: document.activeElement?.getAttribute('href'),
    }));
    assert.deepEqual(focused, { text: 'Aller au contenu', href: '#contenu' });
    const outline = await page.evaluate(() => getComputedStyle(document.activeElement!).outlineStyle);
    assert.notEqual(outline, 'none', 'focus is visible');
    await page.keyboard.press('Enter');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'contenu');
    await page.close();
  });
});

describe('printing the chapter', () => {
  test('hides navigation and the toggle, shows where links go, prints code in the light theme', async () => {
    const { page } = await open('/05-fastcgi/', { colorScheme: 'dark' });
    await page.emulateMedia({ media: 'print' });
    await page.evaluate(() => dispatchEvent(new Event('beforeprint')));
    for (const selector of ['.site-header', '#theme-toggle', '.toc', '.chapter-nav', '.skip-link', '.lab']) {
      assert.equal(await page.locator(selector).first().isVisible(), false, `${selector} is not printed`);
    }
    const after = await page.evaluate(
      () => getComputedStyle(document.querySelector('.prose a[href^="https://fr.wikipedia.org"]')!, '::after').content,
    );
    assert.equal(after, '" (https://fr.wikipedia.org/wiki/FastCGI)"');
    const codeBg = await page.evaluate(() => getComputedStyle(document.querySelector('.expressive-code pre')!).backgroundColor);
    assert.equal(codeBg, 'rgb(255, 255, 255)', 'code blocks print on white');
    await page.close();
  });
});

describe('navigation between pages', () => {
  test('the home page links to the chapter', async () => {
    const { page, problems } = await open('/');
    await page.locator('a[href="/05-fastcgi/"]').click();
    await page.waitForURL(`${server.url}/05-fastcgi/`);
    assert.equal(await page.locator('h1').textContent(), 'Un site dynamique avec FastCGI');
    assert.deepEqual(problems, []);
    await page.close();
  });

  test('the conclusion link /06-php-multitenant reaches chapter 06, its banner if it is still to come', async () => {
    const six = chapter('06-php-multitenant');
    const { page, problems } = await open('/05-fastcgi/');
    await page.locator('.prose a[href="/06-php-multitenant"]').click();
    await page.waitForURL(/\/06-php-multitenant\/?$/);
    assert.equal(comparable((await page.locator('h1').textContent()) ?? ''), comparable(six.title));
    if (six.status === 'coming') assert.match((await page.locator('.status-banner').textContent()) ?? '', /en cours d’écriture/);
    else assert.equal(await page.locator('.status-banner').count(), 0, 'no banner on a published chapter');
    assert.deepEqual(problems, []);
    await page.close();
  });

  test('the table of contents jumps to its section', async () => {
    const { page } = await open('/05-fastcgi/');
    await page.locator('.toc a', { hasText: 'Conclusion' }).click();
    await page.waitForURL(/#conclusion$/);
    assert.ok(await page.locator('#conclusion').isVisible());
    await page.close();
  });
});
