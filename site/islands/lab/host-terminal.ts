// One host of a lab panel: its tab and tab panel (markup from LabHostTab.astro and LabHostPanel.astro),
// its terminal (xterm.js, made when first needed), the WebSocket to its shell, and the overlay that
// says why the terminal cannot be used now (connecting, connection lost, opened elsewhere, shell ended…)
// with the button that helps. The panel hears of each change of its connection.
import type { ITheme } from '@xterm/xterm';
import { TERMINAL_PATH } from '../../../protocol/terminal.ts';
import { TerminalConnection, type ConnectionState, type StateDetail } from './connection.ts';
import { ACTION, sentence, TEXT } from './strings.ts';
import { TerminalView } from './terminal-view.ts';
import { TranscriptView } from './transcript.ts';

export interface HostTerminalOptions {
  /** lab kind, e.g. nginx-remote */
  lab: string;
  host: string;
  tab: HTMLElement;
  panel: HTMLElement;
  /** id of the text that tells how to leave the terminal */
  describedBy?: string;
  theme(): ITheme;
  screenReader(): boolean;
  /** the connection's state changed (the overlay is up to date) */
  changed(t: HostTerminal): void;
  /** « Reprendre ici » after another tab took the lab: take back every terminal it took */
  reclaim(): void;
  /** the server said the lab expired */
  expired(): void;
}

export class HostTerminal {
  readonly host: string;
  readonly tab: HTMLElement;
  readonly panel: HTMLElement;
  readonly #o: HostTerminalOptions;
  #view: TerminalView | null = null;
  #transcript: TranscriptView | null = null;
  #conn: TerminalConnection | null = null;
  #state: ConnectionState | 'none' = 'none';
  #countdown: ReturnType<typeof setInterval> | undefined;

  constructor(options: HostTerminalOptions) {
    this.#o = options;
    this.host = options.host;
    this.tab = options.tab;
    this.panel = options.panel;
  }

  get state(): ConnectionState | 'none' {
    return this.#state;
  }
  get view(): TerminalView | null {
    return this.#view;
  }
  get connection(): TerminalConnection | null {
    return this.#conn;
  }

  /** The terminal, made the first time it is needed (the tab panel measures its box then). */
  ensureView(): TerminalView {
    if (this.#view) return this.#view;
    const container = this.panel.querySelector<HTMLElement>('.lab__term');
    if (!container) throw new Error('lab panel markup: missing .lab__term');
    const view = new TerminalView({
      container,
      label: `Terminal ${this.host} du lab`,
      describedBy: this.#o.describedBy,
      theme: this.#o.theme(),
      screenReaderMode: this.#o.screenReader(),
      onData: (data) => void this.#conn?.input(data),
      onBinary: (data) => void this.#conn?.inputBinary(data),
      onResize: (cols, rows) => this.#conn?.resize(cols, rows),
      onRenderer: (renderer, reason) => {
        this.panel.dataset.renderer = renderer;
        if (reason && reason !== 'no-webgl2') console.info(`[lab ${this.#o.lab}/${this.host}] ${TEXT.webglFallback} (${reason})`);
      },
      beforeClear: () => this.#transcript?.transcript.commitAll(),
    });
    this.panel.dataset.renderer = view.renderer;
    this.#view = view;
    const details = this.panel.querySelector<HTMLDetailsElement>('.lab__transcript');
    if (details) this.#transcript = new TranscriptView(details, view.term, this.#o.lab, this.host);
    return view;
  }

  /** Connects unless connected or connecting (`even`: also while waiting for a reconnection). */
  connect(even: 'waiting' | null = null): void {
    const conn = (this.#conn ??= this.#connection());
    if (conn.state === 'open' || conn.state === 'connecting' || conn.state === even) return;
    conn.connect();
  }

  close(): void {
    this.#conn?.close();
  }

  wake(): void {
    this.#conn?.wake();
  }

  #connection(): TerminalConnection {
    const view = this.ensureView();
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    return new TerminalConnection({
      url: `${scheme}//${location.host}${TERMINAL_PATH}`,
      lab: this.#o.lab,
      host: this.host,
      size: () => {
        view.fit();
        return { cols: view.cols, rows: view.rows };
      },
      sink: view,
      listener: {
        state: (state, detail) => this.#onState(state, detail),
        hello: (hello) => {
          this.panel.dataset.resumed = String(hello.resumed);
          // The server replays the recent screen of a resumed shell: start from a blank terminal so it
          // is not shown twice. RIS goes through xterm's write queue, so it lands before the replay.
          // The transcript keeps what it has and takes the screen from the replay.
          if (hello.resumed) {
            this.#transcript?.transcript.replayFollows();
            view.term.write('\x1bc');
          }
        },
        labStatus: (state) => {
          if (state === 'expired') this.#o.expired();
        },
      },
    });
  }

  #onState(state: ConnectionState, detail: StateDetail): void {
    this.#state = state;
    this.panel.dataset.connection = state;
    clearInterval(this.#countdown);
    const message = detail.message ? sentence(detail.message) : undefined;
    const retry = () => this.#conn?.connect();
    switch (state) {
      case 'open':
      case 'closed':
        this.#hideOverlay();
        break;
      case 'connecting':
        this.#showOverlay(TEXT.connecting);
        break;
      case 'waiting': {
        const until = Date.now() + (detail.retryInMs ?? 0);
        const show = () => {
          const seconds = Math.ceil((until - Date.now()) / 1000);
          const text = seconds > 0 ? TEXT.reconnectingIn(seconds) : TEXT.reconnecting;
          this.#showOverlay(message ? `${message} ${text}` : text, ACTION.retry, retry);
        };
        show();
        this.#countdown = setInterval(show, 1000);
        break;
      }
      case 'replaced':
        // The other tab took the whole lab: taking it back takes back every terminal.
        this.#showOverlay(TEXT.replaced, ACTION.reconnect, () => this.#o.reclaim());
        break;
      case 'exited':
        this.#showOverlay(message ?? TEXT.exited, ACTION.newShell, retry);
        break;
      case 'failed':
        this.#showOverlay(message ?? TEXT.failed, ACTION.retry, retry);
        break;
      case 'expired': // the panel's start screen says it
      case 'gone': // the panel asks the API what remains
        break;
    }
    this.#o.changed(this);
  }

  #showOverlay(text: string, action?: string, onAction?: () => void): void {
    const overlay = this.panel.querySelector<HTMLElement>('.lab__overlay');
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

  #hideOverlay(): void {
    const overlay = this.panel.querySelector<HTMLElement>('.lab__overlay');
    if (overlay) overlay.hidden = true;
  }
}
