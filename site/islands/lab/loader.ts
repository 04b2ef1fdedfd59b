// The only lab script a chapter page loads up front (a few hundred bytes once compressed). It defines
// <atelier-lab>, and loads the panel (xterm.js and the rest) when the panel comes near the viewport,
// or at once when the learner clicks « Lancer le lab » or a run button. It also shows the run buttons
// of code blocks whose lab has a panel on this page.
import type { LabPanelApi, RunOptions } from './panel.ts';
import type { TerminalGeometry } from './terminal-view.ts';
import { codeOfBlock } from './run-text.ts';

const LOAD_FAILED = 'Le panneau du lab n’a pas pu se charger. Rechargez la page.';

export class AtelierLabElement extends HTMLElement {
  #panel: Promise<LabPanelApi> | null = null;
  #observer: IntersectionObserver | null = null;

  connectedCallback(): void {
    if (this.#panel) return;
    this.querySelector('[data-action="start"]')?.addEventListener('click', this.#onEarlyStart, { once: true });
    if (!('IntersectionObserver' in window)) return void this.load();
    this.#observer = new IntersectionObserver(
      (entries) => {
        if (entries.some((e) => e.isIntersecting)) void this.load();
      },
      { rootMargin: '400px 0px' }, // start loading a little before it shows
    );
    this.#observer.observe(this);
  }

  disconnectedCallback(): void {
    this.#observer?.disconnect();
  }

  /** Loads and mounts the panel (once). */
  load(): Promise<LabPanelApi> {
    this.#observer?.disconnect();
    this.#panel ??= import('./panel.ts')
      .then(({ mountLabPanel }) => {
        this.querySelector('[data-action="start"]')?.removeEventListener('click', this.#onEarlyStart);
        this.dataset.loaded = '';
        return mountLabPanel(this);
      })
      .catch((err: unknown) => {
        const message = this.querySelector('.lab__message');
        if (message) {
          message.textContent = LOAD_FAILED;
          (message as HTMLElement).hidden = false;
        }
        this.#panel = null; // a later click may retry
        throw err;
      });
    return this.#panel;
  }

  start(): Promise<void> {
    return this.load().then((p) => p.start());
  }
  reset(options?: { confirm?: boolean }): Promise<void> {
    return this.load().then((p) => p.reset(options));
  }
  run(host: string, text: string, options?: RunOptions): Promise<void> {
    return this.load().then((p) => p.run(host, text, options));
  }
  /** Text of a host's terminal (scrollback included); '' until the panel is loaded. */
  async screen(host: string): Promise<string> {
    return this.#panel ? (await this.#panel).screen(host) : '';
  }
  /** A host terminal's size and scroll position; null until it exists. */
  async geometry(host: string): Promise<TerminalGeometry | null> {
    return this.#panel ? (await this.#panel).geometry(host) : null;
  }

  // Clicked before the panel module arrived (slow network): load it and start once it is there.
  #onEarlyStart = (): void => {
    void this.start().catch(() => {});
  };
}

/** The panel a run block types into: the nearest one of that lab above it, else the first one. */
function panelFor(block: HTMLElement): AtelierLabElement | null {
  const lab = block.dataset.lab ?? '';
  const all = Array.from(document.querySelectorAll<AtelierLabElement>('atelier-lab')).filter((p) => p.getAttribute('name') === lab);
  const above = all.filter((p) => p.compareDocumentPosition(block) & Node.DOCUMENT_POSITION_FOLLOWING);
  return above.at(-1) ?? all[0] ?? null;
}

function setupRunButtons(): void {
  for (const block of document.querySelectorAll<HTMLElement>('.run-block')) {
    const button = block.querySelector<HTMLButtonElement>('.run-block__button');
    if (!button || !panelFor(block)) continue; // no panel of that lab on this page: nothing to run in
    button.hidden = false;
    button.addEventListener('click', async () => {
      const panel = panelFor(block);
      const host = block.dataset.host ?? '';
      const text = codeOfBlock(block);
      if (!panel || !host || !text) return;
      button.disabled = true;
      block.removeAttribute('data-error');
      try {
        await panel.run(host, text, { exec: block.dataset.exec !== undefined });
      } catch (err) {
        block.dataset.error = String((err as Error)?.message ?? err);
        console.warn(`[lab] run button: ${block.dataset.error}`);
      } finally {
        button.disabled = false;
      }
    });
  }
}

/** The « Vérifier » buttons (../check.ts) load like the panel: when one comes near the viewport, or on a press. */
function setupChecks(): void {
  const boxes = [...document.querySelectorAll<HTMLElement>('.check[data-lab][data-check]')];
  if (boxes.length === 0) return;
  let loaded: Promise<void> | null = null;
  const load = () => (loaded ??= import('../check.ts').then(({ initChecks }) => initChecks(document)));
  const observer =
    'IntersectionObserver' in window
      ? new IntersectionObserver(
          (entries) => {
            if (!entries.some((e) => e.isIntersecting)) return;
            observer?.disconnect();
            void load();
          },
          { rootMargin: '400px 0px' },
        )
      : null;
  for (const box of boxes) {
    observer?.observe(box);
    // A press before the module is there: load it, then press again for the learner.
    const button = box.querySelector<HTMLButtonElement>('.check__button');
    const early = () => void load().then(() => button?.click());
    button?.addEventListener('click', early, { once: true });
    box.addEventListener('atelier:check-ready', () => button?.removeEventListener('click', early), { once: true });
  }
  if (!observer) void load();
}

if (!customElements.get('atelier-lab')) {
  customElements.define('atelier-lab', AtelierLabElement);
  const setup = () => {
    setupRunButtons();
    setupChecks();
    // The demos' progress in the table of contents and the panels: small, wanted at once.
    if (document.querySelector('[data-progress-lab]')) void import('../progress.ts');
  };
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', setup, { once: true });
  else setup();
}
