// The « Navigateur » tab: the lab's web host as the preview proxy serves it, from another origin, in a
// sandboxed iframe. The address bar holds the path inside the lab; each time the tab is shown the page
// is fetched again, since the learner usually comes here right after changing the server.

export class PreviewView {
  readonly #form: HTMLFormElement;
  readonly #input: HTMLInputElement;
  readonly #frame: HTMLIFrameElement;
  readonly #open: HTMLAnchorElement;
  readonly #reload: HTMLButtonElement;
  readonly #placeholder: HTMLElement | null;
  readonly #status: HTMLOutputElement;
  readonly #lab: string;
  #base: URL | null = null;

  constructor(root: HTMLElement) {
    this.#form = need(root.querySelector('form'), 'form');
    this.#input = need(root.querySelector('input'), 'input');
    this.#frame = need(root.querySelector('iframe'), 'iframe');
    this.#open = need(root.querySelector('a[target="_blank"]'), 'open link');
    this.#reload = need(root.querySelector('[data-action="preview-reload"]'), 'reload button');
    this.#placeholder = root.querySelector('.lab__preview-empty');
    this.#form.addEventListener('submit', (e) => {
      e.preventDefault();
      this.load();
    });
    this.#reload.addEventListener('click', () => this.load());
    // The HTTP status of the page (502, 503…), which the iframe cannot tell its parent: asked of the API.
    this.#lab = root.closest('atelier-lab')?.getAttribute('name') ?? '';
    this.#status = document.createElement('output');
    this.#status.className = 'lab__http-status';
    this.#status.setAttribute('aria-live', 'polite');
    this.#form.after(this.#status);
    this.#frame.addEventListener('load', () => {
      root.removeAttribute('aria-busy');
      void this.#showStatus();
    });
    this.#sync();
  }

  /** The preview origin's URL of this lab (LabInfo.previewUrl), or null when no lab runs. */
  setBase(previewUrl: string | null): void {
    const base = previewUrl ? new URL(previewUrl) : null;
    if (base?.href === this.#base?.href) return;
    this.#base = base;
    if (!base) this.#frame.removeAttribute('src');
    this.#sync();
  }

  /** Loads the path of the address bar (again). */
  load(): void {
    const url = this.#url();
    if (!url) return;
    this.#input.value = pathIn(this.#base!, url);
    this.#open.href = url.href;
    this.#frame.closest('[role="tabpanel"]')?.setAttribute('aria-busy', 'true');
    // Setting src, even to the same value, navigates again (HTML spec): a reload that needs no access
    // to the other origin's window.
    this.#frame.src = url.href;
  }

  async #showStatus(): Promise<void> {
    if (!this.#base || !this.#lab) return;
    try {
      const res = await fetch(`/api/labs/${this.#lab}/preview-status`, { cache: 'no-store' });
      if (res.status !== 200) return void (this.#status.textContent = '');
      const last = (await res.json()) as { status: number; statusText: string };
      this.#status.textContent = last.status ? `HTTP ${last.status} ${last.statusText}` : last.statusText;
      this.#status.dataset.class = String(Math.floor(last.status / 100));
    } catch {
      this.#status.textContent = '';
    }
  }

  #url(): URL | null {
    if (!this.#base) return null;
    return resolvePreviewPath(this.#base, this.#input.value);
  }

  #sync(): void {
    const ready = this.#base !== null;
    this.#input.disabled = !ready;
    this.#reload.disabled = !ready;
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
