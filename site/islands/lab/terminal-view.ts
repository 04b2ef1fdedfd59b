// One xterm.js terminal in the page: fit to its box, clickable links, Unicode 11 widths, WebGL renderer
// when the browser has it (DOM renderer otherwise, or after a lost GPU context), copy and paste keys
// that work in a browser (Ctrl+C must stay SIGINT, Ctrl+Shift+C opens Chromium's inspector).
import { Terminal, type ITheme } from '@xterm/xterm';
import { FitAddon } from '@xterm/addon-fit';
import { Unicode11Addon } from '@xterm/addon-unicode11';
import { WebLinksAddon } from '@xterm/addon-web-links';
import type { WebglAddon } from '@xterm/addon-webgl';

export interface TerminalViewOptions {
  container: HTMLElement;
  /** accessible name of the terminal's input, e.g. "Terminal web" */
  label: string;
  theme: ITheme;
  screenReaderMode: boolean;
  /** text typed or pasted */
  onData(data: string): void;
  onBinary(data: string): void;
  onResize(cols: number, rows: number): void;
  /** which renderer draws now; `reason` says why WebGL is not (or no longer) used */
  onRenderer?(renderer: 'webgl' | 'dom', reason?: string): void;
}

export class TerminalView {
  readonly term: Terminal;
  readonly #fit = new FitAddon();
  readonly #container: HTMLElement;
  readonly #observer: ResizeObserver;
  #webgl: WebglAddon | null = null;
  #fitQueued = false;
  #disposed = false;

  constructor(o: TerminalViewOptions) {
    this.#container = o.container;
    this.term = new Terminal({
      allowProposedApi: true, // term.unicode (Unicode 11 widths)
      cursorBlink: true,
      fontFamily:
        getComputedStyle(o.container).getPropertyValue('--lab-term-font').trim() ||
        'ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, "Liberation Mono", monospace',
      fontSize: 14,
      lineHeight: 1.1,
      scrollback: 5000,
      theme: o.theme,
      screenReaderMode: o.screenReaderMode,
    });
    this.term.loadAddon(this.#fit);
    this.term.loadAddon(new WebLinksAddon());
    this.term.loadAddon(new Unicode11Addon());
    this.term.unicode.activeVersion = '11';
    this.term.attachCustomKeyEventHandler((e) => this.#key(e));
    this.term.onData(o.onData);
    this.term.onBinary(o.onBinary);
    this.term.onResize(({ cols, rows }) => o.onResize(cols, rows));
    this.term.open(o.container);
    this.term.textarea?.setAttribute('aria-label', o.label); // xterm's default is English
    this.fit();
    this.#observer = new ResizeObserver(() => this.#queueFit());
    this.#observer.observe(o.container);
    void this.#startWebgl(o.onRenderer);
  }

  get cols(): number {
    return this.term.cols;
  }
  get rows(): number {
    return this.term.rows;
  }
  get renderer(): 'webgl' | 'dom' {
    return this.#webgl ? 'webgl' : 'dom';
  }

  write(data: Uint8Array, done: () => void): void {
    this.term.write(data, done);
  }

  /** Fits rows and columns to the box; skipped while the box has no size (hidden tab, collapsed page). */
  fit(): void {
    if (this.#disposed || this.#container.clientWidth === 0 || this.#container.clientHeight === 0) return;
    try {
      this.#fit.fit();
    } catch {
      // the renderer is not measured yet: the ResizeObserver calls again once it is
    }
  }

  setTheme(theme: ITheme): void {
    this.term.options.theme = theme;
  }

  setScreenReaderMode(on: boolean): void {
    this.term.options.screenReaderMode = on;
  }

  focus(): void {
    this.term.focus();
  }

  /** Types text as a paste: with bracketed paste (bash ≥ 5.1), several lines wait for Enter. */
  paste(text: string): void {
    this.term.paste(text);
  }

  clear(): void {
    this.term.reset();
  }

  /** Every line of the buffer (scrollback included) as text, trailing blanks removed: for tests and copy. */
  text(): string {
    const buffer = this.term.buffer.active;
    const lines: string[] = [];
    for (let i = 0; i < buffer.length; i++) lines.push(buffer.getLine(i)?.translateToString(true) ?? '');
    while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
    return lines.join('\n');
  }

  dispose(): void {
    this.#disposed = true;
    this.#observer.disconnect();
    this.term.dispose();
  }

  #queueFit(): void {
    if (this.#fitQueued) return;
    this.#fitQueued = true;
    requestAnimationFrame(() => {
      this.#fitQueued = false;
      this.fit();
    });
  }

  #key(e: KeyboardEvent): boolean {
    if (e.type !== 'keydown' || !e.ctrlKey || e.altKey || e.metaKey) return true;
    const key = e.key.toLowerCase();
    const copy = key === 'c' && (e.shiftKey || this.term.hasSelection());
    if (copy) {
      e.preventDefault();
      void copyText(this.term.getSelection());
      if (!e.shiftKey) this.term.clearSelection();
      return false;
    }
    // Ctrl+V and Ctrl+Shift+V: leave the key to the browser, whose paste event xterm turns into input
    // (otherwise Ctrl+V would send ^V, bash's "insert next key literally", which nobody expects here).
    if (key === 'v') return false;
    return true;
  }

  async #startWebgl(onRenderer?: (renderer: 'webgl' | 'dom', reason?: string) => void): Promise<void> {
    const onFallback = (reason: string) => onRenderer?.('dom', reason);
    if (!hasWebgl2()) return onFallback('no-webgl2');
    try {
      const { WebglAddon } = await import('@xterm/addon-webgl');
      if (this.#disposed) return;
      const addon = new WebglAddon();
      addon.onContextLoss(() => {
        addon.dispose();
        this.#webgl = null;
        onFallback('context-lost');
      });
      this.term.loadAddon(addon);
      this.#webgl = addon;
      onRenderer?.('webgl');
    } catch (err) {
      this.#webgl = null;
      onFallback(`webgl-failed: ${String(err)}`);
    }
  }
}

let webgl2: boolean | undefined;
/** Asked once per page; the probe context is released at once (browsers cap live WebGL contexts). */
function hasWebgl2(): boolean {
  if (webgl2 === undefined) {
    try {
      const gl = document.createElement('canvas').getContext('webgl2');
      webgl2 = gl !== null;
      gl?.getExtension('WEBGL_lose_context')?.loseContext();
    } catch {
      webgl2 = false;
    }
  }
  return webgl2;
}

/** Clipboard API where allowed (secure contexts); the older execCommand path elsewhere (plain http). */
async function copyText(text: string): Promise<void> {
  if (!text) return;
  try {
    await navigator.clipboard.writeText(text);
    return;
  } catch {
    // fall through
  }
  const area = document.createElement('textarea');
  area.value = text;
  area.setAttribute('readonly', '');
  area.style.cssText = 'position:fixed;opacity:0;left:0;top:0';
  document.body.append(area);
  area.select();
  try {
    document.execCommand('copy');
  } finally {
    area.remove();
  }
}
