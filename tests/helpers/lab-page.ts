// A lab panel of a chapter page, as the browser tests drive it (Playwright, Debian's Chromium): its
// state, its terminals' text and connection, the « Navigateur » tab, and where the keyboard focus is.
// Every wait is a condition awaited with a deadline.
import type { Browser, BrowserContext, Frame, Page } from 'playwright-core';
import { launchChromium } from './browser.ts';
import { destroyScope } from './scope.ts';
import { isPreviewUrl, startServer, type RunningServer } from './server.ts';
import { ensureSiteBuilt } from './site-build.ts';

export interface ChapterPage {
  server: RunningServer;
  browser: Browser;
  context: BrowserContext;
  page: Page;
  /** page errors, and console errors not from the preview's origin (a lab's 502 there is the point) */
  problems: string[];
  /** closes the browser, stops the server, removes the scope's labs */
  close(): Promise<void>;
}

/**
 * What every browser test of a chapter starts with: the site built, a real server with its own lab scope,
 * Chromium at 1280×900, errors collected; the page opened at `path` unless it is null.
 */
export async function openChapterPage(
  scope: string,
  opts: { path?: string | null; env?: Record<string, string>; viewport?: { width: number; height: number } } = {},
): Promise<ChapterPage> {
  await ensureSiteBuilt();
  const server = await startServer({ ATELIER_TEST: '1', ATELIER_LAB_SCOPE: scope, ...opts.env });
  const browser = await launchChromium();
  const context = await browser.newContext({ viewport: opts.viewport ?? { width: 1280, height: 900 } });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && !isPreviewUrl(server, m.location().url)) problems.push(`console: ${m.text()} (${m.location().url})`);
  });
  if (opts.path !== null) await page.goto(`${server.url}${opts.path ?? '/05-fastcgi/'}`);
  return {
    server,
    browser,
    context,
    page,
    problems,
    async close() {
      await browser.close();
      await server.stop();
      await destroyScope(scope);
    },
  };
}

export const labSelector = (name: string) => `atelier-lab[name="${name}"]`;

/** Waits until the panel's data-state is `want`. */
export async function waitState(page: Page, lab: string, want: string, timeout = 120_000): Promise<void> {
  await page.waitForFunction(([sel, s]) => document.querySelector(sel!)?.getAttribute('data-state') === s, [labSelector(lab), want], {
    timeout,
  });
}

/** Waits until the terminal of `host` is attached to its shell. */
export async function connected(page: Page, lab: string, host: string, timeout = 30_000): Promise<void> {
  await page.waitForFunction(
    ([sel, h]) => document.querySelector(`${sel} [role=tabpanel][data-host="${h}"]`)?.getAttribute('data-connection') === 'open',
    [labSelector(lab), host],
    { timeout },
  );
}

/** The text of a host's terminal, scrollback included (the panel's own API). */
export function screen(page: Page, lab: string, host: string): Promise<string> {
  return page.evaluate(
    ([sel, h]) => (document.querySelector(sel!) as unknown as { screen(h: string): Promise<string> }).screen(h!),
    [labSelector(lab), host],
  );
}

/**
 * Waits until the terminal of `host` shows `re`; the error gives what it shows. The element's screen()
 * answers a promise (the panel module may still be loading), which waitForFunction would take for a
 * truthy value: each poll asks for the text and tests the answer of the poll before.
 */
export async function screenShows(page: Page, lab: string, host: string, re: RegExp, timeout = 30_000): Promise<string> {
  try {
    await page.waitForFunction(
      ([sel, h, source, flags]) => {
        const el = document.querySelector(sel!) as unknown as { screen(h: string): Promise<string>; __lastScreen?: Record<string, string> };
        const last = (el.__lastScreen ??= {});
        void el.screen(h!).then((text) => (last[h!] = text));
        return new RegExp(source!, flags).test(last[h!] ?? '');
      },
      [labSelector(lab), host, re.source, re.flags],
      { timeout, polling: 100 },
    );
  } catch (err) {
    const text = await screen(page, lab, host).catch(() => '(unreadable)');
    throw new Error(`terminal ${lab}/${host} never showed ${re} within ${timeout} ms; it shows:\n${text.slice(-1500)}`, { cause: err });
  }
  return screen(page, lab, host);
}

export interface Geometry {
  cols: number;
  rows: number;
  viewportY: number;
  baseY: number;
}

/** A host terminal's size and scroll position (the panel's own API), null before it exists. */
export function geometry(page: Page, lab: string, host: string): Promise<Geometry | null> {
  return page.evaluate(
    ([sel, h]) => (document.querySelector(sel!) as unknown as { geometry(h: string): Promise<Geometry | null> }).geometry(h!),
    [labSelector(lab), host],
  );
}

/** Waits until the terminal's size differs from `from` (a fit after a resize); returns the new geometry. */
export async function resized(page: Page, lab: string, host: string, from: Geometry, timeout = 10_000): Promise<Geometry> {
  await page.waitForFunction(
    ([sel, h, cols, rows]) => {
      const el = document.querySelector(sel as string) as unknown as {
        geometry(h: string): Promise<Geometry | null>;
        __lastGeometry?: Geometry | null;
      };
      void el.geometry(h as string).then((g) => (el.__lastGeometry = g));
      const g = el.__lastGeometry;
      return Boolean(g && (g.cols !== cols || g.rows !== rows));
    },
    [labSelector(lab), host, from.cols, from.rows] as const,
    { timeout, polling: 'raf' },
  );
  return (await geometry(page, lab, host))!;
}

/**
 * The terminal's geometry once it has been drawn `frames` more times (xterm syncs its scroll position
 * with the page in animation frames after a resize): every geometry of those frames, last one last.
 */
export function geometryOverFrames(page: Page, lab: string, host: string, frames = 10): Promise<Geometry[]> {
  return page.evaluate(
    async ([sel, h, n]) => {
      const el = document.querySelector(sel as string) as unknown as { geometry(h: string): Promise<Geometry | null> };
      const seen: Geometry[] = [];
      for (let i = 0; i < (n as number); i++) {
        await new Promise((ok) => requestAnimationFrame(ok));
        const g = await el.geometry(h as string);
        if (g) seen.push(g);
      }
      return seen;
    },
    [labSelector(lab), host, frames] as const,
  );
}

/** Types a command for the learner through the panel's API (what a Run button does) and presses Enter. */
export async function runCommand(page: Page, lab: string, host: string, command: string): Promise<void> {
  await page.evaluate(
    ([sel, h, c]) =>
      (document.querySelector(sel!) as unknown as { run(h: string, c: string, o: { exec: boolean }): Promise<void> }).run(h!, c!, {
        exec: true,
      }),
    [labSelector(lab), host, command],
  );
}

/** Runs a command and waits for its end: the line `done-<n>` its `echo` prints (not the typed echo). */
let commandCount = 0;
export async function runAndWait(page: Page, lab: string, host: string, command: string, timeout = 60_000): Promise<string> {
  const n = ++commandCount;
  await runCommand(page, lab, host, `${command}; echo fin-$((${n}*1000+1))`);
  return screenShows(page, lab, host, new RegExp(`^fin-${n * 1000 + 1}$`, 'm'), timeout);
}

/** Starts the lab with its « Lancer le lab » button (a click) and waits for a shell on `host`. */
export async function startLab(page: Page, lab: string, host: string): Promise<void> {
  await page.locator(labSelector(lab)).scrollIntoViewIfNeeded();
  await page.locator(`${labSelector(lab)} [data-action="start"]`).click();
  await waitState(page, lab, 'ready');
  await connected(page, lab, host);
  await screenShows(page, lab, host, new RegExp(`root@${host}`));
}

/** The preview iframe of the panel. */
export async function previewFrame(page: Page, lab: string): Promise<Frame> {
  const handle = await page.locator(`${labSelector(lab)} iframe.lab__frame`).elementHandle({ timeout: 10_000 });
  const frame = await handle?.contentFrame();
  if (!frame) throw new Error(`${lab}: the preview has no frame`);
  return frame;
}

/** The text of the page in the preview frame, as rendered ('' while it has no body). */
export async function previewText(page: Page, lab: string): Promise<string> {
  const frame = await previewFrame(page, lab);
  return frame
    .evaluate(() => document.body?.textContent ?? '')
    .then((t) => t.trim())
    .catch(() => ''); // navigating: no document to ask
}

/** Waits until the preview frame shows a page whose text matches `re` (re-checked across its navigations). */
export async function previewShows(page: Page, lab: string, re: RegExp, timeout = 20_000): Promise<string> {
  const frame = await previewFrame(page, lab);
  try {
    await frame.waitForFunction(
      ([source, flags]) => new RegExp(source!, flags).test(document.body?.textContent ?? ''),
      [re.source, re.flags],
      {
        timeout,
      },
    );
  } catch (err) {
    throw new Error(
      `the preview of ${lab} never showed ${re} within ${timeout} ms; it shows: ${(await previewText(page, lab)).slice(0, 400)}`,
      {
        cause: err,
      },
    );
  }
  return previewText(page, lab);
}

/** The status chip of the « Navigateur » tab. */
export function chip(page: Page, lab: string): Promise<string> {
  return page
    .locator(`${labSelector(lab)} .lab__http-status`)
    .textContent()
    .then((t) => (t ?? '').trim());
}

/** Waits until the chip matches `re`. */
export async function chipShows(page: Page, lab: string, re: RegExp, timeout = 20_000): Promise<string> {
  try {
    await page.waitForFunction(
      ([sel, source]) => new RegExp(source!).test(document.querySelector(`${sel} .lab__http-status`)?.textContent?.trim() ?? ''),
      [labSelector(lab), re.source],
      { timeout },
    );
  } catch (err) {
    throw new Error(`the chip of ${lab} never showed ${re} within ${timeout} ms; it shows « ${await chip(page, lab)} »`, { cause: err });
  }
  return chip(page, lab);
}

/**
 * Does `action` (something that loads a page in the « Navigateur » tab) and returns every text the chip
 * took from then on, in order, up to the first that is a status (not « chargement… », not empty): the
 * status the panel settled on for that page, whatever it showed on the way.
 */
export async function chipTexts(page: Page, lab: string, action: () => Promise<void>, timeout = 20_000): Promise<string[]> {
  await page.evaluate((sel) => {
    const el = document.querySelector(`${sel} .lab__http-status`)!;
    const w = window as unknown as { __chipTexts: string[]; __chipObserver?: MutationObserver };
    w.__chipObserver?.disconnect();
    w.__chipTexts = [];
    w.__chipObserver = new MutationObserver(() => w.__chipTexts.push(el.textContent?.trim() ?? ''));
    w.__chipObserver.observe(el, { childList: true, characterData: true, subtree: true });
  }, labSelector(lab));
  await action();
  const settled = () =>
    page.evaluate(() => {
      const w = window as unknown as { __chipTexts: string[] };
      const i = w.__chipTexts.findIndex((t) => t !== '' && t !== 'chargement…');
      return i < 0 ? null : w.__chipTexts.slice(0, i + 1);
    });
  try {
    await page.waitForFunction(
      () => (window as unknown as { __chipTexts: string[] }).__chipTexts.some((t) => t !== '' && t !== 'chargement…'),
      undefined,
      { timeout },
    );
  } catch (err) {
    throw new Error(`the chip of ${lab} took no status within ${timeout} ms; it shows « ${await chip(page, lab)} »`, { cause: err });
  }
  return (await settled()) ?? [];
}

/** What has the keyboard focus: a short description for assertions and failure messages. */
export function focused(page: Page): Promise<{ tag: string; text: string; inTerminal: string | null; lab: string | null; id: string }> {
  return page.evaluate(() => {
    const el = document.activeElement;
    return {
      tag: el?.tagName.toLowerCase() ?? '',
      text: (el?.getAttribute('aria-label') || el?.textContent || '').trim().replace(/\s+/g, ' ').slice(0, 80),
      // In the terminal itself: its transcript and overlay are in the host's panel too, but out of it.
      inTerminal: el?.closest('.lab__term') ? (el.closest('[role=tabpanel][data-host]')?.getAttribute('data-host') ?? null) : null,
      lab: el?.closest('atelier-lab')?.getAttribute('name') ?? null,
      id: el?.id ?? '',
    };
  });
}
