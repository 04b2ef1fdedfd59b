// One xterm.js terminal in the page: fit to its box, clickable links, Unicode 11 widths, WebGL renderer
// when the browser has it (DOM renderer otherwise, or after a lost GPU context), copy and paste keys
// that work in a browser (Ctrl+C must stay SIGINT, Ctrl+Shift+C opens Chromium's inspector), and a way
// out for the keyboard (WCAG 2.1.2, no keyboard trap): Tab belongs to the shell (completion), so Escape
// then Tab (or Shift+Tab) leaves the terminal. The Escape is held back until the next key: followed by
// Tab it is dropped, so the shell is not left waiting for the rest of an Alt sequence; followed by any
// other key it is sent first, then that key. The way out is written under the panel and given to screen
// readers as the description of the terminal's input.
import { Terminal, type ITheme } from '@xterm/xterm';
import { FitAddon } from '@xterm/addon-fit';
import { Unicode11Addon } from '@xterm/addon-unicode11';
import { WebLinksAddon } from '@xterm/addon-web-links';
import type { WebglAddon } from '@xterm/addon-webgl';

export interface TerminalViewOptions {
  container: HTMLElement;
  /** accessible name of the terminal's input, e.g. "Terminal web" */
  label: string;
  /** id of the element that tells how to leave the terminal (aria-describedby of its input) */
  describedBy?: string;
  theme: ITheme;
  screenReaderMode: boolean;
  /** text typed or pasted */
  onData(data: string): void;
  onBinary(data: string): void;
  onResize(cols: number, rows: number): void;
  /** which renderer draws now; `reason` says why WebGL is not (or no longer) used */
  onRenderer?(renderer: 'webgl' | 'dom', reason?: string): void;
  /** the screen is about to be wiped by clear() (the transcript keeps its text) */
  beforeClear?(): void;
}

/** Columns and rows, and which lines are shown: `viewportY` equals `baseY` when it shows the bottom. */
export interface TerminalGeometry {
  cols: number;
  rows: number;
  /** first buffer line shown */
  viewportY: number;
  /** first line of the bottom screen (lines above it are scrollback) */
  baseY: number;
}

export class TerminalView {
  readonly term: Terminal;
  readonly #fit = new FitAddon();
  readonly #container: HTMLElement;
  readonly #observer: ResizeObserver;
  readonly #visibility: IntersectionObserver;
  /** the terminal's box is in the window (xterm draws nothing, and measures nothing new, outside it) */
  #inView = true;
  /** the box changed size while out of the window: fitted when it comes back */
  #fitWhenInView = false;
  #webgl: WebglAddon | null = null;
  #fitQueued = false;
  #disposed = false;
  /** an Escape waits for the next key: Tab leaves the terminal, anything else sends it */
  #escapeHeld = false;
  readonly #onData: (data: string) => void;
  readonly #beforeClear: (() => void) | undefined;

  constructor(o: TerminalViewOptions) {
    this.#container = o.container;
    this.#onData = o.onData;
    this.#beforeClear = o.beforeClear;
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
    const input = this.term.textarea;
    input?.setAttribute('aria-label', o.label); // xterm's default is English
    if (o.describedBy) input?.setAttribute('aria-describedby', o.describedBy);
    // An Escape followed by leaving the terminal (mouse, Tab) was the way out, not a key for the shell.
    input?.addEventListener('blur', () => (this.#escapeHeld = false));
    this.fit();
    this.#observer = new ResizeObserver(() => this.#queueFit());
    this.#observer.observe(o.container);
    // A resized box is fitted while in view: xterm pauses its renderer out of view, and a resize then
    // leaves its scroll area the old height (the prompt out of reach until the next output). A box
    // resized out of view is fitted once it is back (the first fit, before the shell starts, is done
    // wherever the box is: the shell must know its size). Observes the element xterm observes, and is
    // created after xterm's observer: xterm resumes its renderer before this one says "in view".
    this.#visibility = new IntersectionObserver((entries) => {
      this.#inView = entries.at(-1)?.isIntersecting ?? this.#inView;
      if (this.#inView && this.#fitWhenInView) {
        this.#fitWhenInView = false;
        this.#queueFit();
      }
    });
    this.#visibility.observe(this.term.element?.querySelector('.xterm-screen') ?? o.container);
    void this.#startWebgl(o.onRenderer);
  }

  get cols(): number {
    return this.term.cols;
  }
  get rows(): number {
    return this.term.rows;
  }
  geometry(): TerminalGeometry {
    const buffer = this.term.buffer.active;
    return { cols: this.term.cols, rows: this.term.rows, viewportY: buffer.viewportY, baseY: buffer.baseY };
  }

  get renderer(): 'webgl' | 'dom' {
    return this.#webgl ? 'webgl' : 'dom';
  }

  write(data: Uint8Array, done: () => void): void {
    this.term.write(data, done);
  }

  /**
   * Fits rows and columns to the box; skipped while the box has no size (hidden tab, collapsed page). A
   * terminal that showed its bottom (the prompt) shows it again after the new size: xterm keeps the first
   * line shown, so fewer rows would otherwise leave the prompt below the window. One scrolled up to read
   * stays where it was.
   */
  fit(): void {
    if (this.#disposed || this.#container.clientWidth === 0 || this.#container.clientHeight === 0) return;
    const buffer = this.term.buffer.active;
    const atBottom = buffer.viewportY >= buffer.baseY;
    try {
      this.#fit.fit();
    } catch {
      // the renderer is not measured yet: the ResizeObserver calls again once it is
    }
    if (atBottom) this.#toBottom(5);
  }

  /**
   * Scrolls to the bottom, now and in each of the next frames where it is not there: xterm gives its
   * scroll area the new height only when it next draws (until then it clamps a scroll to the old one),
   * and a late scroll event of that area can bring back the first line shown before the resize.
   */
  #toBottom(frames: number): void {
    const buffer = this.term.buffer.active;
    if (buffer.viewportY < buffer.baseY) this.term.scrollToBottom();
    if (frames <= 0) return;
    requestAnimationFrame(() => {
      if (!this.#disposed) this.#toBottom(frames - 1);
    });
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
    this.#beforeClear?.();
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
    this.#visibility.disconnect();
    this.term.dispose();
  }

  #queueFit(): void {
    if (!this.#inView) {
      this.#fitWhenInView = true;
      return;
    }
    if (this.#fitQueued) return;
    this.#fitQueued = true;
    requestAnimationFrame(() => {
      this.#fitQueued = false;
      if (this.#inView) this.fit();
      else this.#fitWhenInView = true; // left the window since the resize
    });
  }

  /** For xterm: false when the key is not for the shell (xterm then leaves it to the browser). */
  #key(e: KeyboardEvent): boolean {
    if (e.type === 'keydown') {
      const wayOut = this.#escapeKey(e);
      if (wayOut !== undefined) return wayOut;
    }
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

  /** Escape then Tab: see the top of this file. Undefined when the key is none of this business. */
  #escapeKey(e: KeyboardEvent): boolean | undefined {
    const plain = !e.ctrlKey && !e.altKey && !e.metaKey;
    if (this.#escapeHeld) {
      if (MODIFIER_KEYS.has(e.key)) return true; // Shift on its way to Shift+Tab: still held
      this.#escapeHeld = false;
      if (e.key === 'Tab' && plain) return false; // not sent: the browser moves the focus on
      this.#onData('\x1b'); // any other key: the Escape was for the shell, it goes first
    }
    if (e.key === 'Escape' && plain && !e.shiftKey && !e.isComposing) {
      this.#escapeHeld = true;
      e.preventDefault();
      return false;
    }
    return undefined;
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

const MODIFIER_KEYS = new Set(['Shift', 'Control', 'Alt', 'AltGraph', 'Meta', 'CapsLock', 'NumLock']);

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
