// The « Navigateur » tab: the lab's web host as the preview proxy serves it, from another origin, in a
// sandboxed iframe. The address bar holds the path inside the lab; each time the tab is shown the page
// is fetched again, since the learner usually comes here right after changing the server (the proxy
// answers with Cache-Control: no-store and no validators, so the browser never shows a kept copy).
//
// The chip beside the address is the HTTP status of the page on screen, which the iframe cannot tell its
// parent: the proxy records the status of each page it serves (navigations only) and the lab API gives
// the last one. From the moment a page is asked for, the chip says « chargement… »; once that page has
// loaded it shows the recorded status if it is newer than the one shown before, and nothing otherwise:
// never the status of the page that was there before.
import type { PreviewStatus, ScriptTiming } from '../../../protocol/preview.ts';
import { PreviewTimingView } from './preview-timing.ts';
import { PREVIEW_TEXT } from './strings.ts';

/** What the lab API says of the last page the preview served (docs/protocol.md, preview-status). */
export type PreviewResult = Pick<PreviewStatus, 'path' | 'status' | 'statusText' | 'seq'> & Partial<Pick<PreviewStatus, 'requests'>>;

/** How long after a page loads the panel still asks when its PHP scripts ended (finish-request: 4 s of work). */
const SCRIPT_WAIT_MS = 12_000;
const SCRIPT_POLL_MS = 500;

export type ChipKind = 'loading' | 'unknown' | 'result';

/** The chip's text and colour class ('2', '4', '5'… or '' for none). */
export function previewChip(kind: ChipKind, result?: PreviewResult): { text: string; cls: string } {
  if (kind === 'loading') return { text: PREVIEW_TEXT.loading, cls: '' };
  if (kind === 'unknown' || !result) return { text: '', cls: '' };
  if (!result.status) return { text: result.statusText, cls: '5' };
  return { text: `HTTP ${result.status} ${result.statusText}`.trim(), cls: String(Math.floor(result.status / 100)) };
}

export class PreviewView {
  readonly #panel: HTMLElement;
  readonly #form: HTMLFormElement;
  readonly #input: HTMLInputElement;
  readonly #frame: HTMLIFrameElement;
  readonly #open: HTMLAnchorElement;
  readonly #reload: HTMLButtonElement;
  readonly #placeholder: HTMLElement | null;
  readonly #status: HTMLOutputElement;
  readonly #lab: string;
  readonly #timing: PreviewTimingView;
  /** the site picker (a lab whose web server has several virtual hosts), or null */
  readonly #site: HTMLSelectElement | null;
  /** the preview URL of each site, from the lab API */
  #sites: string[] = [];
  /** false once the lab said it does not log its scripts' times (204) */
  #scriptsLogged = true;
  #base: URL | null = null;
  /** one more each time a page is asked for: a late answer about an earlier page is dropped */
  #generation = 0;
  /** the newest result shown so far: an older or equal one is not about the page just loaded */
  #shownSeq = 0;

  constructor(root: HTMLElement) {
    this.#panel = root;
    this.#form = need(root.querySelector('form'), 'form');
    this.#input = need(root.querySelector('input'), 'input');
    this.#frame = need(root.querySelector('iframe'), 'iframe');
    this.#open = need(root.querySelector('a[target="_blank"]'), 'open link');
    this.#reload = need(root.querySelector('[data-action="preview-reload"]'), 'reload button');
    this.#status = need(root.querySelector('output.lab__http-status'), 'status');
    this.#placeholder = root.querySelector('.lab__preview-empty');
    this.#site = root.querySelector('select[data-preview-site]');
    // Another site is another origin (server/preview/location.ts): its own root and first page, loaded at once.
    this.#site?.addEventListener('change', () => {
      const picker = this.#site!;
      this.#input.value = picker.selectedOptions[0]?.dataset.path ?? '/';
      // No blank page in between: Chromium drops a navigation asked in the same task as about:blank.
      this.#useBase(this.#sites[picker.selectedIndex] ?? this.#sites[0] ?? null, false);
      this.load();
    });
    this.#timing = new PreviewTimingView(this.#frame);
    this.#form.addEventListener('submit', (e) => {
      e.preventDefault();
      this.load();
    });
    this.#reload.addEventListener('click', () => this.load());
    this.#lab = root.closest('atelier-lab')?.getAttribute('name') ?? '';
    // Also after a navigation inside the frame (a link the learner followed).
    this.#frame.addEventListener('load', () => {
      if (!this.#base || !this.#frame.getAttribute('src') || this.#frame.getAttribute('src') === 'about:blank') return;
      root.removeAttribute('aria-busy');
      void this.#showStatus(this.#generation);
    });
    this.#sync();
  }

  /** The preview origin's URL of this lab (LabInfo.previewUrl), or null when no lab runs. */
  setBase(previewUrl: string | null, sites: string[] = previewUrl ? [previewUrl] : []): void {
    this.#sites = previewUrl ? sites : [];
    this.#useBase((this.#site && this.#sites[this.#site.selectedIndex]) || previewUrl);
  }

  /** `setBase`'s URL for the site picked (LabInfo.previewUrls). */
  #useBase(previewUrl: string | null, blank = true): void {
    const base = previewUrl ? new URL(previewUrl) : null;
    if (base?.href === this.#base?.href) return;
    this.#base = base;
    // Another lab (reset) or none: what the frame shows belongs to the previous one. Removing src would
    // keep that document on screen (HTML spec), so the frame is emptied.
    this.#generation++;
    if (blank) this.#frame.src = 'about:blank';
    this.#chip('unknown');
    this.#timing.clear();
    this.#scriptsLogged = true;
    this.#sync(); // the panel loads the new lab's page when it selects its tab again (claimAndConnect)
  }

  /** Loads the path of the address bar (again). */
  load(): void {
    const url = this.#url();
    if (!url) return;
    this.#input.value = pathIn(this.#base!, url);
    this.#open.href = url.href;
    this.#panel.setAttribute('aria-busy', 'true');
    this.#generation++;
    this.#chip('loading');
    // Setting src, even to the same value, navigates again (HTML spec): a reload that needs no access
    // to the other origin's window.
    this.#frame.src = url.href;
  }

  async #showStatus(generation: number): Promise<void> {
    if (!this.#lab) return;
    let result: PreviewResult | null = null;
    try {
      const res = await fetch(`/api/labs/${encodeURIComponent(this.#lab)}/preview-status`, { cache: 'no-store' });
      if (res.status === 200) result = (await res.json()) as PreviewResult;
    } catch {
      // unknown: the chip stays empty
    }
    if (generation !== this.#generation) return; // another page was asked for meanwhile
    if (!result || typeof result.seq !== 'number' || result.seq <= this.#shownSeq) return this.#chip('unknown');
    this.#shownSeq = result.seq;
    this.#chip('result', result);
    this.#timing.show(result.requests ?? []);
    void this.#followScripts(generation);
  }

  /** Asks the lab when the page's PHP scripts ended, until all are known or SCRIPT_WAIT_MS have passed. */
  async #followScripts(generation: number): Promise<void> {
    const until = Date.now() + SCRIPT_WAIT_MS;
    while (this.#scriptsLogged && generation === this.#generation && this.#timing.waitingScripts().length > 0 && Date.now() < until) {
      try {
        const res = await fetch(`/api/labs/${encodeURIComponent(this.#lab)}/preview-script`, { cache: 'no-store' });
        if (res.status === 204 || res.status === 404) this.#scriptsLogged = false;
        else if (res.ok && generation === this.#generation)
          this.#timing.addScripts(((await res.json()) as { scripts: ScriptTiming[] }).scripts);
      } catch {
        return;
      }
      if (this.#timing.waitingScripts().length > 0) await new Promise((ok) => setTimeout(ok, SCRIPT_POLL_MS));
    }
  }

  #chip(kind: ChipKind, result?: PreviewResult): void {
    const { text, cls } = previewChip(kind, result);
    this.#status.textContent = text;
    this.#status.dataset.class = cls;
    this.#status.dataset.kind = kind;
  }

  #url(): URL | null {
    if (!this.#base) return null;
    return resolvePreviewPath(this.#base, this.#input.value);
  }

  #sync(): void {
    const ready = this.#base !== null;
    this.#input.disabled = !ready;
    this.#reload.disabled = !ready;
    if (this.#site) this.#site.disabled = !ready || this.#sites.length < 2;
    this.#frame.hidden = !ready;
    if (this.#placeholder) this.#placeholder.hidden = ready;
    if (ready) this.#open.href = (this.#url() ?? this.#base!).href;
    else this.#open.removeAttribute('href');
    this.#open.toggleAttribute('aria-disabled', !ready);
  }
}

/**
 * The URL of `path` under the lab's preview base, never outside it: "/index.php", "index.php" and
 * "?a=1" stay inside /p/<lab>/, and "../" cannot climb out (it resolves against the base's root).
 */
export function resolvePreviewPath(base: URL, path: string): URL {
  const clean = path.trim().replace(/^\/+/, '');
  const url = new URL(clean, base);
  if (url.origin !== base.origin || !url.pathname.startsWith(base.pathname)) return new URL(base.href);
  url.hash = '';
  return url;
}

/** "/index.php?x=1" for a URL under the base. */
export function pathIn(base: URL, url: URL): string {
  return `/${url.pathname.slice(base.pathname.length)}${url.search}`;
}

function need<T>(value: T | null, what: string): T {
  if (value === null) throw new Error(`lab panel markup: missing preview ${what}`);
  return value;
}
