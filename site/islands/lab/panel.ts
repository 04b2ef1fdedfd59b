// The lab panel, once it has scrolled into view: the learner's lab (HTTP API), one terminal per host
// (xterm.js + one WebSocket each), the « Navigateur » preview, the state badge and the buttons.
// The markup comes from LabPanel.astro; this module only adds behaviour (and tabs for hosts the
// server knows but the page did not render).
// xterm's stylesheet travels inside this lazily loaded module (a string, injected once) so that the
// chapter page's own stylesheet stays free of it until a terminal is needed.
import xtermCss from '@xterm/xterm/css/xterm.css?inline';
import { TERMINAL_PATH } from '../../../protocol/terminal.ts';
import { createLab, getLab, LabApiError, resetLab, type LabInfo } from './api.ts';
import { TerminalConnection, type ConnectionState, type StateDetail } from './connection.ts';
import { setupFullscreen } from './fullscreen.ts';
import { PreviewView } from './preview.ts';
import { ACTION, sentence, STATE_LABEL, STATE_LABEL_ELSEWHERE, TEXT, type PanelState } from './strings.ts';
import { setupTabs, type SelectedBy, type Tabs } from './tabs.ts';
import { TerminalView, type TerminalGeometry } from './terminal-view.ts';
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

interface HostTerminal {
  host: string;
  tab: HTMLElement;
  panel: HTMLElement;
  view: TerminalView | null;
  conn: TerminalConnection | null;
  state: ConnectionState | 'none';
  detail: StateDetail;
  countdown?: ReturnType<typeof setInterval>;
}

const NAME = /^[a-z][a-z0-9-]{0,30}$/;
const START_TIMEOUT_MS = 120_000;
const SCREEN_READER_KEY = 'atelier.lab.screenReaderMode';

/** One panel per lab kind holds the terminals at a time: two panels would steal the shell from each other. */
const holders = new Map<string, LabPanel>();
/** Page-wide wake-ups (network back, tab visible again) reach every panel. */
const panels = new Set<LabPanel>();
let wakeListeners = false;

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
  readonly #badge: HTMLElement;
  readonly #start: HTMLElement;
  readonly #startText: HTMLElement;
  readonly #startButton: HTMLButtonElement;
  readonly #message: HTMLElement;
  readonly #tablist: HTMLElement;
  readonly #body: HTMLElement;
  readonly #tabs: Tabs;
  readonly #preview: PreviewView | null;
  readonly #previewTab: HTMLElement | null;
  readonly #terminals = new Map<string, HostTerminal>();
  #state: PanelState = 'idle';
  #info: LabInfo | null = null;
  #busy: Promise<void> | null = null;
  /** the lab operation « Réessayer » repeats after it failed */
  #retry: (() => Promise<void>) | null = null;
  #mode: ColorMode = 'light';
  /** a terminal attached since the lab was (re)attached: later drops are "disconnected", not "starting" */
  #everOpen = false;
  readonly #startDefault: string;
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
    this.#startButton = need(root, '[data-action="start"]');
    this.#message = need(root, '.lab__message');
    this.#startDefault = this.#startText.textContent ?? '';
    this.#tablist = need(root, '[role="tablist"]');
    this.#body = need(root, '.lab__body');
    this.#previewTab = root.querySelector('[role="tab"][data-preview]');
    const previewPanel = root.querySelector<HTMLElement>('[role="tabpanel"][data-preview]');
    this.#preview = previewPanel ? new PreviewView(previewPanel) : null;

    for (const tab of root.querySelectorAll<HTMLElement>('[role="tab"][data-host]')) this.#adopt(tab);
    this.#tabs = setupTabs(this.#tablist, (tab, by) => this.#onTab(tab, by));

    // Buttons that cannot act now are aria-disabled, not disabled: a disabled button that has the focus
    // drops it to the page's body (a keyboard user lands at the top of the page).
    this.#startButton.addEventListener('click', () => void this.#onStartButton());
    const reset = root.querySelector<HTMLButtonElement>('[data-action="reset"]');
    reset?.addEventListener('click', () => {
      if (reset.getAttribute('aria-disabled') !== 'true') void this.reset().catch(() => {});
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
    panels.add(this);
    listenForWakeUps();

    if (!NAME.test(this.#name)) {
      this.#setState('error', `Nom de lab invalide : « ${this.#name} ».`);
      return;
    }
    void this.#check().catch(() => {}); // shown in the panel
  }

  get state(): PanelState {
    return this.#state;
  }

  /** Starts (or finds) the learner's lab and attaches the terminals. */
  start(): Promise<void> {
    this.#retry = () => this.start();
    if (this.#start.contains(document.activeElement)) this.#focusOnAttach = true;
    return this.#exclusive(async () => {
      if ((this.#state === 'ready' || this.#state === 'disconnected') && holders.get(this.#name) === this) return;
      if (this.#state === 'idle' && this.#info?.state === 'ready') return this.#attach(this.#info); // shown by another panel so far
      // An expired lab is replaced by a fresh one; creating would hand back the expired one.
      const fresh = this.#state === 'expired' || this.#info?.state === 'expired';
      this.#setState('starting');
      const info = fresh ? await resetLab(this.#name) : await createLab(this.#name);
      await this.#attach(await this.#whenReady(info));
    });
  }

  reset(options: { confirm?: boolean } = {}): Promise<void> {
    if ((options.confirm ?? true) && !window.confirm(TEXT.confirmReset)) return Promise.resolve();
    this.#retry = () => this.reset({ confirm: false });
    return this.#exclusive(async () => {
      this.#detach();
      for (const t of this.#terminals.values()) t.view?.clear();
      this.#setState('starting');
      await this.#attach(await this.#whenReady(await resetLab(this.#name)));
    });
  }

  async run(host: string, text: string, options: RunOptions = {}): Promise<void> {
    this.#root.scrollIntoView({ block: 'nearest', behavior: prefersReducedMotion() ? 'auto' : 'smooth' });
    if (this.#state !== 'ready' && this.#state !== 'disconnected') await this.start();
    if (!this.#info || this.#state === 'expired' || this.#state === 'idle') throw new Error(this.#message.textContent || TEXT.startFailed);
    if (holders.get(this.#name) !== this) this.#claimAndConnect();
    const t = this.#terminals.get(host);
    if (!t?.view || !t.conn) throw new Error(`le lab « ${this.#name} » n'a pas d'hôte « ${host} »`);
    this.#tabs.select(t.tab);
    if (t.conn.state !== 'open' && t.conn.state !== 'connecting' && t.conn.state !== 'waiting') t.conn.connect();
    await t.conn.settled();
    t.view.paste(text);
    if (options.exec) t.conn.input('\r');
    t.view.focus();
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

  /** Called by the page-wide listeners. */
  wake(): void {
    for (const t of this.#terminals.values()) t.conn?.wake();
  }

  // ——— lab lifecycle ———

  /** On load: if the learner already has this lab (page reload), attach to it at once. */
  async #check(): Promise<void> {
    this.#retry = () => this.#check();
    await this.#exclusive(async () => {
      this.#setState('checking');
      const info = await getLab(this.#name);
      if (!info) return this.#setState('idle');
      if (info.state === 'expired') return this.#expired(info);
      if (holders.has(this.#name)) {
        // another panel of this page shows this lab already
        this.#info = info;
        return this.#setState('idle', TEXT.otherPanel);
      }
      await this.#attach(await this.#whenReady(info));
    });
  }

  /**
   * « Lancer le lab »: while the panel is still asking whether a lab runs (« vérification… ») the press
   * is kept and the start follows the answer (#exclusive runs them in turn); while a start is under way
   * the button is aria-disabled and presses are ignored.
   */
  async #onStartButton(): Promise<void> {
    if (this.#startButton.getAttribute('aria-disabled') === 'true') return;
    this.#focusOnAttach = true;
    this.#startPending = true;
    this.#startButton.setAttribute('aria-disabled', 'true');
    // Failures are shown in the panel by #exclusive.
    const op = this.#state === 'error' && this.#retry ? this.#retry : () => this.start();
    await op().catch(() => {});
    this.#startPending = false;
    this.#syncButtons();
  }

  /**
   * Runs lab operations one after the other (a run button clicked while the page is still asking for
   * the lab waits for the answer); failures end in the 'error' state with their French message.
   */
  #exclusive(op: () => Promise<void>): Promise<void> {
    const run = (this.#busy ?? Promise.resolve())
      .catch(() => {})
      .then(op)
      .catch((err: unknown) => {
        if (err instanceof LabApiError && err.code === 'expired-lab') return;
        this.#setState('error', err instanceof LabApiError ? err.message : `${TEXT.startFailed} ${String((err as Error)?.message ?? err)}`);
        throw err;
      })
      .finally(() => {
        if (this.#busy === run) this.#busy = null;
      });
    this.#busy = run;
    return run;
  }

  /** A lab answered 'starting' (containers booting): ask again until it is ready. */
  async #whenReady(info: LabInfo): Promise<LabInfo> {
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (info.state === 'starting') {
      if (Date.now() > deadline) throw new LabApiError(0, 'timeout', TEXT.startTimeout);
      await sleep(1000);
      const next = await getLab(this.#name);
      if (!next) throw new LabApiError(404, 'no-lab', TEXT.noLab);
      info = next;
    }
    if (info.state === 'expired') {
      this.#expired(info);
      throw new LabApiError(410, 'expired-lab', TEXT.expired);
    }
    return info;
  }

  async #attach(info: LabInfo): Promise<void> {
    const changed = this.#info?.labId !== info.labId;
    this.#info = info;
    this.#root.dataset.labId = info.labId;
    const title = this.#root.querySelector('.lab__title');
    if (title && info.title) title.textContent = info.title;
    for (const host of info.hosts) if (!this.#terminals.has(host)) this.#addHost(host);
    for (const t of this.#terminals.values()) t.tab.hidden = !info.hosts.includes(t.host);
    this.#preview?.setBase(info.previewUrl);
    if (changed) for (const t of this.#terminals.values()) t.view?.clear();
    this.#everOpen = false;
    this.#setState('starting'); // until the terminals attach: #refresh
    this.#claimAndConnect();
  }

  #claimAndConnect(): void {
    const previous = holders.get(this.#name);
    if (previous && previous !== this) previous.#release();
    holders.set(this.#name, this);
    // The learner pressed « Lancer le lab » (the start screen goes): the keyboard goes on in the
    // terminal. A lab found running when the page loads takes neither focus nor scroll.
    const focus = this.#focusOnAttach || this.#start.contains(document.activeElement);
    this.#focusOnAttach = false;
    this.#start.hidden = true; // before the terminals open: xterm measures its box
    const selected = this.#tabs.selected() ?? this.#tabs.tabs()[0];
    if (selected) this.#tabs.select(selected);
    for (const t of this.#terminals.values()) {
      if (!this.#info?.hosts.includes(t.host)) continue;
      this.#ensureView(t);
      if (!t.conn) t.conn = this.#connection(t);
      if (t.conn.state !== 'open' && t.conn.state !== 'connecting') t.conn.connect();
    }
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

  /** Another panel of the page took the lab: stop our sockets; « Lancer le lab » takes it back. */
  #release(): void {
    if (holders.get(this.#name) === this) holders.delete(this.#name);
    for (const t of this.#terminals.values()) t.conn?.close();
    this.#setState('idle', TEXT.otherPanel);
  }

  #detach(): void {
    for (const t of this.#terminals.values()) t.conn?.close();
  }

  #expired(info: LabInfo | null): void {
    this.#detach();
    if (info) this.#info = info;
    this.#preview?.setBase(null);
    this.#setState('expired');
  }

  // ——— terminals ———

  #adopt(tab: HTMLElement): HostTerminal | null {
    const host = tab.dataset.host ?? '';
    const panel = document.getElementById(tab.getAttribute('aria-controls') ?? '');
    if (!host || !panel) return null;
    const t: HostTerminal = { host, tab, panel, view: null, conn: null, state: 'none', detail: {} };
    this.#terminals.set(host, t);
    return t;
  }

  /** A host the server knows but the page did not render (definition changed since the build). */
  #addHost(host: string): void {
    const id = `${this.#root.id || `lab-${this.#name}`}-${host}`;
    const tab = document.createElement('button');
    Object.assign(tab, { type: 'button', id: `${id}-tab`, className: 'lab__tab', textContent: host, tabIndex: -1 });
    tab.setAttribute('role', 'tab');
    tab.setAttribute('aria-selected', 'false');
    tab.setAttribute('aria-controls', `${id}-panel`);
    tab.dataset.host = host;
    this.#tablist.insertBefore(tab, this.#previewTab);
    const panel = document.createElement('div');
    Object.assign(panel, { id: `${id}-panel`, className: 'lab__panel lab__panel--term', hidden: true });
    panel.setAttribute('role', 'tabpanel');
    panel.setAttribute('aria-labelledby', tab.id);
    panel.dataset.host = host;
    panel.innerHTML =
      '<div class="lab__term"></div><div class="lab__overlay" hidden><p class="lab__overlay-text"></p><button type="button" class="lab__button lab__overlay-button"></button></div>';
    this.#body.insertBefore(panel, this.#body.querySelector('[data-preview]'));
    this.#adopt(tab);
  }

  #ensureView(t: HostTerminal): TerminalView {
    if (t.view) return t.view;
    const container = need<HTMLElement>(t.panel, '.lab__term');
    t.view = new TerminalView({
      container,
      label: `Terminal ${t.host} du lab`,
      describedBy: this.#root.querySelector('.lab__keys')?.id,
      theme: this.#theme(),
      screenReaderMode: this.#screenReader,
      onData: (data) => void t.conn?.input(data),
      onBinary: (data) => void t.conn?.inputBinary(data),
      onResize: (cols, rows) => t.conn?.resize(cols, rows),
      onRenderer: (renderer, reason) => {
        t.panel.dataset.renderer = renderer;
        if (reason && reason !== 'no-webgl2') console.info(`[lab ${this.#name}/${t.host}] ${TEXT.webglFallback} (${reason})`);
      },
    });
    t.panel.dataset.renderer = t.view.renderer;
    return t.view;
  }

  #connection(t: HostTerminal): TerminalConnection {
    const view = this.#ensureView(t);
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    return new TerminalConnection({
      url: `${scheme}//${location.host}${TERMINAL_PATH}`,
      lab: this.#name,
      host: t.host,
      size: () => {
        view.fit();
        return { cols: view.cols, rows: view.rows };
      },
      sink: view,
      listener: {
        state: (state, detail) => this.#onConnection(t, state, detail),
        hello: (hello) => {
          t.panel.dataset.resumed = String(hello.resumed);
          // The server replays the recent screen of a resumed shell: start from a blank terminal so it
          // is not shown twice. RIS goes through xterm's write queue, so it lands before the replay.
          if (hello.resumed) view.term.write('\x1bc');
        },
        labStatus: (state) => {
          if (state === 'expired') this.#expired(null);
        },
      },
    });
  }

  #onConnection(t: HostTerminal, state: ConnectionState, detail: StateDetail): void {
    t.state = state;
    t.detail = detail;
    t.panel.dataset.connection = state;
    clearInterval(t.countdown);
    const message = detail.message ? sentence(detail.message) : undefined;
    switch (state) {
      case 'open':
      case 'closed':
        this.#hideOverlay(t);
        break;
      case 'connecting':
        this.#showOverlay(t, TEXT.connecting);
        break;
      case 'waiting': {
        const until = Date.now() + (detail.retryInMs ?? 0);
        const show = () => {
          const seconds = Math.ceil((until - Date.now()) / 1000);
          const text = seconds > 0 ? TEXT.reconnectingIn(seconds) : TEXT.reconnecting;
          this.#showOverlay(t, message ? `${message} ${text}` : text, ACTION.retry, () => t.conn?.connect());
        };
        show();
        t.countdown = setInterval(show, 1000);
        break;
      }
      case 'replaced':
        // The other tab took the whole lab: taking it back takes back every terminal.
        this.#showOverlay(t, TEXT.replaced, ACTION.reconnect, () => {
          for (const other of this.#terminals.values()) if (other.state === 'replaced' || other === t) other.conn?.connect();
        });
        break;
      case 'exited':
        this.#showOverlay(t, message ?? TEXT.exited, ACTION.newShell, () => t.conn?.connect());
        void this.#recheck(); // a shell also ends when its lab was removed
        break;
      case 'expired':
        this.#expired(null);
        break;
      case 'gone':
        void this.#recheck();
        break;
      case 'failed':
        this.#showOverlay(t, message ?? TEXT.failed, ACTION.retry, () => t.conn?.connect());
        break;
    }
    this.#refresh();
  }

  /** A terminal ended in a way that may mean the lab is gone: ask the API what remains. */
  async #recheck(): Promise<void> {
    let info: LabInfo | null;
    try {
      info = await getLab(this.#name);
    } catch {
      return;
    }
    if (!info) {
      this.#detach();
      this.#info = null;
      this.#preview?.setBase(null);
      this.#setState('idle', TEXT.noLab);
    } else if (info.state === 'expired') this.#expired(info);
    else if (info.labId !== this.#info?.labId) await this.#attach(info).catch(() => {}); // reset from another tab
  }

  /** While the lab is up, the badge follows the worst of its terminals. */
  #refresh(): void {
    if (!['ready', 'disconnected', 'starting', 'error'].includes(this.#state)) return;
    if (!this.#info || holders.get(this.#name) !== this) return;
    const states = [...this.#terminals.values()].filter((t) => this.#info!.hosts.includes(t.host)).map((t) => t.state);
    if (states.includes('open')) this.#everOpen = true;
    let next: PanelState = 'ready';
    let label: string | undefined;
    if (states.includes('failed')) next = 'error';
    else if (states.includes('waiting') || (states.includes('connecting') && this.#everOpen)) next = 'disconnected';
    else if (states.includes('connecting')) next = 'starting';
    else if (states.includes('replaced')) [next, label] = ['disconnected', STATE_LABEL_ELSEWHERE]; // no automatic reconnection
    if (next !== this.#state || (label ?? STATE_LABEL[next]) !== this.#badge.textContent) this.#setState(next, undefined, label);
  }

  /** A tab was selected: the page is loaded again, or the terminal fitted (and focused after a click only). */
  #onTab(tab: HTMLElement, by: SelectedBy): void {
    if (tab.dataset.preview !== undefined) {
      this.#preview?.load();
      return;
    }
    const t = this.#terminals.get(tab.dataset.host ?? '');
    if (t?.view) {
      t.view.fit();
      if (by === 'pointer') t.view.focus();
    }
  }

  #showOverlay(t: HostTerminal, text: string, action?: string, onAction?: () => void): void {
    const overlay = t.panel.querySelector<HTMLElement>('.lab__overlay');
    if (!overlay) return;
    overlay.hidden = false;
    overlay.dataset.kind = action ? 'action' : 'info';
    const p = overlay.querySelector('.lab__overlay-text');
    if (p) p.textContent = text;
    const button = overlay.querySelector<HTMLButtonElement>('.lab__overlay-button');
    if (button) {
      button.hidden = !action;
      button.textContent = action ?? '';
      button.onclick = onAction ?? null;
    }
  }

  #hideOverlay(t: HostTerminal): void {
    const overlay = t.panel.querySelector<HTMLElement>('.lab__overlay');
    if (overlay) overlay.hidden = true;
  }

  // ——— state, badge, start screen ———

  #setState(state: PanelState, message?: string, label?: string): void {
    this.#state = state;
    this.#root.dataset.state = state;
    this.#badge.dataset.state = state;
    this.#badge.textContent = label ?? STATE_LABEL[state];
    this.#root.toggleAttribute('aria-busy', state === 'checking' || state === 'starting');
    // The start screen covers the terminals until they exist, and again when the lab is gone.
    // A failed lab operation (with its message) covers the terminals too; a failed terminal shows its
    // own overlay instead.
    const attached = holders.get(this.#name) === this && [...this.#terminals.values()].some((t) => t.conn && t.conn.state !== 'closed');
    this.#start.hidden = attached && state !== 'expired' && state !== 'idle' && !(state === 'error' && message);
    this.#startText.textContent = state === 'expired' ? TEXT.expired : state === 'starting' ? TEXT.starting : this.#startDefault;
    this.#syncButtons();
    this.#message.textContent = message ?? '';
    this.#message.hidden = !message;
    this.#root.dispatchEvent(new CustomEvent('atelier-lab-state', { detail: { state, message }, bubbles: true }));
  }

  /** What « Lancer le lab » and « Réinitialiser » say and whether they can act now. */
  #syncButtons(): void {
    const state = this.#state;
    this.#startButton.setAttribute('aria-disabled', String(state === 'starting' || this.#startPending));
    this.#startButton.textContent = state === 'expired' ? ACTION.newLab : state === 'error' ? ACTION.retry : ACTION.start;
    const reset = this.#root.querySelector<HTMLButtonElement>('[data-action="reset"]');
    reset?.setAttribute('aria-disabled', String(!this.#info || state === 'checking' || state === 'starting' || state === 'idle'));
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

function listenForWakeUps(): void {
  if (wakeListeners) return;
  wakeListeners = true;
  const wakeAll = () => {
    for (const p of panels) p.wake();
  };
  window.addEventListener('online', wakeAll);
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible') wakeAll();
  });
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
const sleep = (ms: number) => new Promise<void>((ok) => setTimeout(ok, ms));
