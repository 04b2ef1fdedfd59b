// The lab panel in the page, once it has scrolled into view: it shows the lab's lifecycle (lifecycle.ts:
// check, start, reset, expiry, without the page) with the state badge, the start screen and the
// buttons; holds one terminal per host (host-terminal.ts) and the « Navigateur » preview (preview.ts);
// and takes its turn with the page's other panels (registry.ts). The markup is LabPanel.astro's; for a
// host the server knows but the page did not render, a copy of the panel's <template>.
// xterm's stylesheet travels inside this lazily loaded module (a string, injected once) so that the
// chapter page's own stylesheet stays free of it until a terminal is needed.
import xtermCss from '@xterm/xterm/css/xterm.css?inline';
import { createLab, getLab, resetLab, type LabInfo } from './api.ts';
import type { ConnectionState } from './connection.ts';
import { setupFullscreen } from './fullscreen.ts';
import { HostTerminal } from './host-terminal.ts';
import { LabLifecycle, type LifecycleView } from './lifecycle.ts';
import { FastcgiView } from './fastcgi-view.ts';
import { PreviewView } from './preview.ts';
import { claim, heldByAnother, holds, register, unclaim } from './registry.ts';
import { ACTION, startDetail, TEXT, type PanelState } from './strings.ts';
import { setupTabs, type SelectedBy, type Tabs } from './tabs.ts';
import type { TerminalGeometry } from './terminal-view.ts';
import { terminalTheme, watchColorMode, type ColorMode } from './theme.ts';

export interface RunOptions {
  /** press Enter after typing */
  exec?: boolean;
}

/** What <atelier-lab> exposes once loaded (see loader.ts). */
export interface LabPanelApi {
  readonly state: PanelState;
  start(): Promise<void>;
  reset(options?: { confirm?: boolean }): Promise<void>;
  run(host: string, text: string, options?: RunOptions): Promise<void>;
  /** the text of a host's terminal, scrollback included ('' before it exists) */
  screen(host: string): string;
  connectionState(host: string): ConnectionState | 'none';
  /** a host terminal's size and scroll position (null before it exists) */
  geometry(host: string): TerminalGeometry | null;
}

const NAME = /^[a-z][a-z0-9-]{0,30}$/;
const SCREEN_READER_KEY = 'atelier.lab.screenReaderMode';

export function mountLabPanel(root: HTMLElement): LabPanelApi {
  if (!document.getElementById('xterm-css')) {
    const style = document.createElement('style');
    style.id = 'xterm-css';
    style.textContent = xtermCss;
    document.head.prepend(style); // first, so the panel's own rules (lab.css) win on equal specificity
  }
  return new LabPanel(root);
}

class LabPanel implements LabPanelApi {
  readonly #root: HTMLElement;
  readonly #name: string;
  readonly #lab: LabLifecycle;
  readonly #badge: HTMLElement;
  readonly #start: HTMLElement;
  readonly #startText: HTMLElement;
  readonly #startDefault: string;
  readonly #steps: HTMLElement;
  readonly #startButton: HTMLButtonElement;
  readonly #resetButton: HTMLButtonElement | null;
  readonly #message: HTMLElement;
  readonly #tablist: HTMLElement;
  readonly #body: HTMLElement;
  readonly #tabs: Tabs;
  readonly #preview: PreviewView | null;
  readonly #fastcgi: FastcgiView | null;
  readonly #terminals = new Map<string, HostTerminal>();
  #mode: ColorMode = 'light';
  #screenReader = false;
  /** the learner asked for the lab from the start screen: the keyboard goes on in the terminal */
  #focusOnAttach = false;
  /** « Lancer le lab » was pressed and its start has not ended yet */
  #startPending = false;

  constructor(root: HTMLElement) {
    this.#root = root;
    this.#name = root.getAttribute('name') ?? '';
    this.#badge = need(root, '.lab__badge');
    this.#start = need(root, '.lab__start');
    this.#startText = need(root, '.lab__start-text');
    this.#startDefault = this.#startText.textContent ?? '';
    this.#steps = need(root, '.lab__steps');
    this.#startButton = need(root, '[data-action="start"]');
    this.#resetButton = root.querySelector('[data-action="reset"]');
    this.#message = need(root, '.lab__message');
    this.#tablist = need(root, '[role="tablist"]');
    this.#body = need(root, '.lab__body');
    const previewPanel = root.querySelector<HTMLElement>('[role="tabpanel"][data-preview]');
    this.#preview = previewPanel ? new PreviewView(previewPanel) : null;
    const fastcgiPanel = root.querySelector<HTMLElement>('[role="tabpanel"][data-fastcgi]');
    this.#fastcgi = fastcgiPanel ? new FastcgiView(fastcgiPanel, this.#name) : null;

    for (const tab of root.querySelectorAll<HTMLElement>('[role="tab"][data-host]')) this.#adopt(tab);
    this.#tabs = setupTabs(this.#tablist, (tab, by) => this.#onTab(tab, by));

    this.#lab = new LabLifecycle({
      name: this.#name,
      api: { getLab, createLab, resetLab },
      hooks: {
        attach: (info, changed) => this.#attach(info, changed),
        detach: (gone) => this.#detach(gone),
        holding: () => holds(this.#name, this),
        heldElsewhere: () => heldByAnother(this.#name, this),
        show: (view) => this.#show(view),
      },
    });

    // Buttons that cannot act now are aria-disabled, not disabled: a disabled button that has the focus
    // drops it to the page's body (a keyboard user lands at the top of the page).
    this.#startButton.addEventListener('click', () => void this.#onStartButton());
    this.#resetButton?.addEventListener('click', () => {
      if (this.#resetButton?.getAttribute('aria-disabled') !== 'true') void this.reset().catch(() => {});
    });
    const fullscreen = root.querySelector<HTMLButtonElement>('[data-action="fullscreen"]');
    if (fullscreen) setupFullscreen(root, fullscreen);
    this.#setupScreenReaderToggle(root.querySelector<HTMLButtonElement>('[data-action="screen-reader"]'));
    watchColorMode((mode) => {
      this.#mode = mode;
      const theme = this.#theme();
      // The frame around the terminal takes the terminal's own background: no seam.
      if (theme.background) root.style.setProperty('--lab-surface', theme.background);
      for (const t of this.#terminals.values()) t.view?.setTheme(theme);
    });
    register(this);

    if (!NAME.test(this.#name)) {
      this.#lab.fail(`Nom de lab invalide : « ${this.#name} ».`);
      return;
    }
    void this.#lab.check().catch(() => {}); // shown in the panel
  }

  get state(): PanelState {
    return this.#lab.state;
  }

  /** Starts (or finds) the learner's lab and attaches the terminals. */
  start(): Promise<void> {
    if (this.#start.contains(document.activeElement)) this.#focusOnAttach = true;
    return this.#lab.start();
  }

  reset(options: { confirm?: boolean } = {}): Promise<void> {
    if ((options.confirm ?? true) && !window.confirm(TEXT.confirmReset)) return Promise.resolve();
    return this.#lab.reset();
  }

  async run(host: string, text: string, options: RunOptions = {}): Promise<void> {
    this.#root.scrollIntoView({ block: 'nearest', behavior: prefersReducedMotion() ? 'auto' : 'smooth' });
    if (this.state !== 'ready' && this.state !== 'disconnected') await this.start();
    if (!this.#lab.info || this.state === 'expired' || this.state === 'idle') throw new Error(this.#lab.view.message || TEXT.startFailed);
    if (!holds(this.#name, this)) this.#claimAndConnect();
    const t = this.#terminals.get(host);
    const view = t?.view;
    if (!t || !view || !t.connection) throw new Error(`le lab « ${this.#name} » n'a pas d'hôte « ${host} »`);
    this.#tabs.select(t.tab);
    t.connect('waiting');
    await t.connection.settled();
    view.paste(text);
    if (options.exec) t.connection.input('\r');
    view.focus();
  }

  screen(host: string): string {
    return this.#terminals.get(host)?.view?.text() ?? '';
  }

  connectionState(host: string): ConnectionState | 'none' {
    return this.#terminals.get(host)?.state ?? 'none';
  }

  geometry(host: string): TerminalGeometry | null {
    return this.#terminals.get(host)?.view?.geometry() ?? null;
  }

  /** The page woke up (registry.ts). */
  wake(): void {
    for (const t of this.#terminals.values()) t.wake();
  }

  /** Another panel of the page took the lab (registry.ts): stop our sockets; « Lancer le lab » takes it back. */
  release(): void {
    unclaim(this.#name, this);
    for (const t of this.#terminals.values()) t.close();
    this.#lab.released();
  }

  // ——— the lifecycle's hooks ———

  #attach(info: LabInfo, changed: boolean): void {
    this.#root.dataset.labId = info.labId;
    const title = this.#root.querySelector('.lab__title');
    if (title && info.title) title.textContent = info.title;
    for (const host of info.hosts) if (!this.#terminals.has(host)) this.#addHost(host);
    for (const t of this.#terminals.values()) t.tab.hidden = !info.hosts.includes(t.host);
    this.#preview?.setBase(info.previewUrl, info.previewUrls);
    if (changed) for (const t of this.#terminals.values()) t.view?.clear();
    this.#claimAndConnect();
    // The FastCGI tab on screen: watch this lab (a new one after a reset; again after « démarrez le lab »).
    if (this.#tabs.selected()?.dataset.fastcgi !== undefined) {
      if (changed) this.#fastcgi?.close();
      this.#fastcgi?.open();
    }
  }

  #detach(gone: boolean): void {
    this.#fastcgi?.close();
    for (const t of this.#terminals.values()) t.close();
    // The old lab's page goes as well, also on a reset: the lab keeps its id, hence its preview URL, and
    // the frame would otherwise keep what it loaded while the hosts were recreated.
    this.#preview?.setBase(null);
    if (!gone) for (const t of this.#terminals.values()) t.view?.clear(); // a reset: the old screens go
  }

  /** Draws the lifecycle's view: badge, start screen, message, buttons. */
  #show(view: LifecycleView): void {
    const { state, message } = view;
    this.#root.dataset.state = state;
    this.#badge.dataset.state = state;
    this.#badge.textContent = view.label;
    // Not while starting: assistive technology holds back a busy region's live changes, and the badge
    // announces each step of the start.
    this.#root.toggleAttribute('aria-busy', state === 'checking');
    // The start screen covers the terminals until they exist, and again when the lab is gone. A failed
    // lab operation (with its message) covers the terminals too; a failed terminal shows its own overlay.
    const attached = holds(this.#name, this) && [...this.#terminals.values()].some((t) => t.connection && t.connection.state !== 'closed');
    this.#start.hidden = attached && state !== 'expired' && state !== 'idle' && !(state === 'error' && message);
    this.#startText.textContent =
      state === 'expired'
        ? TEXT.expired
        : view.progress
          ? startDetail(view.progress.step, view.progress.ahead)
          : state === 'starting'
            ? TEXT.starting
            : this.#startDefault;
    this.#showSteps(view);
    this.#message.textContent = message ?? '';
    this.#message.hidden = !message;
    this.#syncButtons();
    this.#root.dispatchEvent(new CustomEvent('atelier-lab-state', { detail: { state, message }, bubbles: true }));
  }

  /** The start's steps: those before the current one done, the current one marked (the list is not announced: the badge is). */
  #showSteps(view: LifecycleView): void {
    const current = view.progress?.step;
    this.#steps.hidden = view.state !== 'starting';
    let done = Boolean(current);
    for (const li of this.#steps.querySelectorAll<HTMLElement>('li[data-step]')) {
      const here = li.dataset.step === current;
      if (here) done = false;
      li.toggleAttribute('data-done', done);
      if (here) li.setAttribute('aria-current', 'step');
      else li.removeAttribute('aria-current');
    }
  }

  /** What « Lancer le lab » and « Réinitialiser » say and whether they can act now. */
  #syncButtons(): void {
    const state = this.state;
    this.#startButton.setAttribute('aria-disabled', String(state === 'starting' || this.#startPending));
    this.#startButton.textContent = state === 'expired' ? ACTION.newLab : state === 'error' ? ACTION.retry : ACTION.start;
    const idle = !this.#lab.info || state === 'checking' || state === 'starting' || state === 'idle';
    this.#resetButton?.setAttribute('aria-disabled', String(idle));
  }

  /**
   * « Lancer le lab »: while the panel is still asking whether a lab runs (« vérification… ») the press
   * is kept and the start follows the answer (the lifecycle runs them in turn); while a start is under
   * way the button is aria-disabled and presses are ignored.
   */
  async #onStartButton(): Promise<void> {
    if (this.#startButton.getAttribute('aria-disabled') === 'true') return;
    this.#focusOnAttach = true;
    this.#startPending = true;
    this.#syncButtons();
    await this.#lab.retry().catch(() => {}); // failures are shown in the panel
    this.#startPending = false;
    this.#syncButtons();
  }

  // ——— terminals ———

  #claimAndConnect(): void {
    claim(this.#name, this);
    // The learner pressed « Lancer le lab » (the start screen goes): the keyboard goes on in the
    // terminal. A lab found running when the page loads takes neither focus nor scroll.
    const focus = this.#focusOnAttach || this.#start.contains(document.activeElement);
    this.#focusOnAttach = false;
    this.#start.hidden = true; // before the terminals open: xterm measures its box
    const selected = this.#tabs.selected() ?? this.#tabs.tabs()[0];
    if (selected) this.#tabs.select(selected);
    for (const t of this.#terminals.values()) if (this.#lab.info?.hosts.includes(t.host)) t.connect();
    if (focus) this.#focusSelected();
    this.#refresh();
  }

  /** The focus to the selected tab's terminal, or to the tab itself (the « Navigateur » tab). */
  #focusSelected(): void {
    const tab = this.#tabs.selected();
    const t = this.#terminals.get(tab?.dataset.host ?? '');
    if (t?.view) t.view.focus();
    else tab?.focus();
  }

  /** The badge follows the lab's terminals. */
  #refresh(): void {
    const hosts = this.#lab.info?.hosts ?? [];
    this.#lab.terminals(new Map([...this.#terminals.values()].filter((t) => hosts.includes(t.host)).map((t) => [t.host, t.state])));
  }

  #onConnection(t: HostTerminal): void {
    // A shell also ends when its lab was removed; 'gone': the server has no such lab for this learner.
    if (t.state === 'exited' || t.state === 'gone') void this.#lab.recheck();
    else if (t.state === 'expired') this.#lab.expire();
    this.#refresh();
  }

  #adopt(tab: HTMLElement): void {
    const host = tab.dataset.host ?? '';
    const panel = document.getElementById(tab.getAttribute('aria-controls') ?? '');
    if (!host || !panel) return;
    const t = new HostTerminal({
      lab: this.#name,
      host,
      tab,
      panel,
      describedBy: this.#root.querySelector('.lab__keys')?.id,
      theme: () => this.#theme(),
      screenReader: () => this.#screenReader,
      changed: (changed) => this.#onConnection(changed),
      reclaim: () => {
        for (const other of this.#terminals.values()) if (other.state === 'replaced') other.connect();
      },
      expired: () => this.#lab.expire(),
    });
    this.#terminals.set(host, t);
  }

  /** A host the server knows but the page did not render (its definition changed since the build). */
  #addHost(host: string): void {
    const template = need<HTMLTemplateElement>(this.#root, 'template[data-host-template]');
    const copy = template.content.cloneNode(true) as DocumentFragment;
    const tab = need<HTMLElement>(copy, '[role="tab"]');
    const panel = need<HTMLElement>(copy, '[role="tabpanel"]');
    const id = `${this.#root.id || `lab-${this.#name}`}-${host}`;
    Object.assign(tab, { id: `${id}-tab`, tabIndex: -1 });
    tab.setAttribute('aria-controls', `${id}-panel`);
    tab.setAttribute('aria-selected', 'false');
    tab.dataset.host = host;
    need(tab, '.lab__tab-host').textContent = host;
    Object.assign(panel, { id: `${id}-panel`, hidden: true });
    panel.setAttribute('aria-labelledby', tab.id);
    panel.dataset.host = host;
    this.#tablist.insertBefore(tab, this.#tablist.querySelector('[data-preview]'));
    this.#body.insertBefore(panel, this.#body.querySelector('[data-preview]'));
    this.#adopt(tab);
  }

  /** A tab was selected: the page is loaded again, or the terminal fitted (and focused after a click only). */
  #onTab(tab: HTMLElement, by: SelectedBy): void {
    if (tab.dataset.preview !== undefined) {
      this.#preview?.load();
      return;
    }
    if (tab.dataset.fastcgi !== undefined) {
      this.#fastcgi?.open();
      return;
    }
    const view = this.#terminals.get(tab.dataset.host ?? '')?.view;
    if (view) {
      view.fit();
      if (by === 'pointer') view.focus();
    }
  }

  #theme() {
    const style = getComputedStyle(this.#root);
    return terminalTheme(this.#mode, (name) => style.getPropertyValue(name));
  }

  #setupScreenReaderToggle(button: HTMLButtonElement | null): void {
    this.#screenReader = readFlag(SCREEN_READER_KEY);
    if (!button) return;
    button.setAttribute('aria-pressed', String(this.#screenReader));
    button.addEventListener('click', () => {
      this.#screenReader = !this.#screenReader;
      writeFlag(SCREEN_READER_KEY, this.#screenReader);
      button.setAttribute('aria-pressed', String(this.#screenReader));
      for (const t of this.#terminals.values()) t.view?.setScreenReaderMode(this.#screenReader);
    });
  }
}

function need<T extends Element>(root: ParentNode, selector: string): T {
  const el = root.querySelector<T>(selector);
  if (!el) throw new Error(`lab panel markup: missing ${selector}`);
  return el;
}

function readFlag(key: string): boolean {
  try {
    return localStorage.getItem(key) === '1';
  } catch {
    return false;
  }
}
function writeFlag(key: string, on: boolean): void {
  try {
    localStorage.setItem(key, on ? '1' : '0');
  } catch {
    // storage disabled: the setting lasts for this page only
  }
}

const prefersReducedMotion = () => window.matchMedia('(prefers-reduced-motion: reduce)').matches;
