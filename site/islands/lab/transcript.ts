// Each host's transcript: the text of what the learner typed (as the shell echoed it) and what came back,
// with colour and cursor codes taken out, readable by a screen reader and downloadable as a text file.
// It never leaves the browser unless downloaded, and keeps at most TRANSCRIPT_MAX_CHARS characters.
//
// The text is read from the terminal's own buffer, not from the bytes: xterm.js has parsed them already
// (no second parser on the output path), and its lines are what the learner saw, wraps included. A line
// enters the transcript once it scrolled out of the screen (in batches, from onLineFeed, long before
// the scrollback drops it); the lines still on screen are read at each look. What would erase lines
// before they are in (clear's CSI 2 J and 3 J, a reset) is caught by parser hooks that run at that exact
// point of the stream, before xterm's own handler. docs/architecture.md says why not @xterm/headless.
import type { IBuffer, IDisposable, IEvent, IMarker, IParser } from '@xterm/xterm';
import { TRANSCRIPT_TEXT as T } from './strings.ts';

/** The transcript's size bound, in characters (the trimmed note aside). */
export const TRANSCRIPT_MAX_CHARS = 200_000;
/** Lines scrolled out of the screen that wait before they are copied (far below the scrollback's 5000). */
const BATCH = 100;

/** Lines kept in order, the oldest dropped past `max` characters (newlines counted). Pure. */
export class BoundedLines {
  readonly max: number;
  #lines: string[] = [];
  #chars = 0;
  #trimmed = false;

  constructor(max = TRANSCRIPT_MAX_CHARS) {
    this.max = max;
  }

  get lines(): readonly string[] {
    return this.#lines;
  }
  /** Some of the oldest text was dropped. */
  get trimmed(): boolean {
    return this.#trimmed;
  }

  push(line: string): void {
    const kept = line.length >= this.max ? line.slice(line.length - this.max + 1) : line;
    if (kept !== line) this.#trimmed = true;
    this.#lines.push(kept);
    this.#chars += kept.length + 1;
    if (this.#chars <= this.max) return;
    // Down to 90 %: one splice for many lines, not a shift per line in a flood.
    let drop = 0;
    while (this.#chars > this.max * 0.9 && drop < this.#lines.length - 1) this.#chars -= (this.#lines[drop++]?.length ?? 0) + 1;
    this.#lines.splice(0, drop);
    this.#trimmed = true;
  }
}

/** The transcript's text: the trimmed note, then the lines; the whole bounded (the oldest lines go). Pure. */
export function transcriptText(trimmed: boolean, lines: readonly string[], max = TRANSCRIPT_MAX_CHARS): string {
  let text = lines.join('\n');
  while (text.endsWith('\n')) text = text.slice(0, -1);
  if (text.length > max) {
    const cut = text.indexOf('\n', text.length - max);
    text = cut < 0 ? text.slice(text.length - max) : text.slice(cut + 1);
    trimmed = true;
  }
  return trimmed ? `${T.trimmed}\n${text}` : text;
}

/**
 * Rows [from, to) of a buffer as logical lines: a wrapped row continues the line above it (its break is
 * no newline the program wrote). Trailing blanks go, but not those where a row wrapped.
 */
export function logicalLines(buffer: IBuffer, cols: number, from: number, to: number): string[] {
  const lines: string[] = [];
  let current: string | null = null;
  for (let y = from; y < to; y++) {
    const row = buffer.getLine(y);
    if (!row) break;
    const wrapsOn = buffer.getLine(y + 1)?.isWrapped === true && y + 1 < to;
    const text = row.translateToString(!wrapsOn, 0, cols);
    if (current !== null && row.isWrapped) current += text;
    else {
      if (current !== null) lines.push(current.trimEnd());
      current = text;
    }
  }
  if (current !== null) lines.push(current.trimEnd());
  return lines;
}

/** What the transcript reads of a terminal: xterm.js's Terminal (or @xterm/headless's, in unit tests). */
export interface TranscriptSource {
  readonly cols: number;
  readonly buffer: { readonly active: IBuffer; readonly normal: IBuffer };
  readonly parser: IParser;
  readonly onLineFeed: IEvent<void>;
  registerMarker(cursorYOffset?: number): IMarker | undefined;
}

/** One terminal's transcript, fed by its buffer. */
export class TerminalTranscript implements IDisposable {
  readonly #term: TranscriptSource;
  readonly #log: BoundedLines;
  readonly #hooks: IDisposable[];
  /** the first line of the normal buffer not in the log yet */
  #from: IMarker | undefined;
  /** where #from goes when it is placed again: the top after a reset, else the cursor's line */
  #restart: 'top' | 'cursor' = 'top';
  /** the next reset (RIS) comes before a replay of the screen: what is on screen now comes again */
  #replay = false;

  constructor(term: TranscriptSource, max = TRANSCRIPT_MAX_CHARS) {
    this.#term = term;
    this.#log = new BoundedLines(max);
    this.#hooks = [
      term.onLineFeed(() => this.#onLineFeed()),
      // Hooks return false: xterm's own handler runs next.
      term.parser.registerCsiHandler({ final: 'J' }, (params) => {
        if (params[0] === 2) this.#beforeErase('screen');
        if (params[0] === 3) this.#beforeErase('scrollback');
        return false;
      }),
      term.parser.registerEscHandler({ final: 'c' }, () => {
        if (this.#replay) this.#replay = false;
        else this.commitAll();
        this.#drop('top'); // the replay's screen comes from the top
        return false;
      }),
    ];
  }

  /** The server replays a resumed shell's recent output after a reset: do not keep the screen twice. */
  replayFollows(): void {
    this.#replay = true;
  }

  /** Before the terminal is reset (term.reset(), RIS): every line goes in, the next ones start at the top. */
  commitAll(): void {
    const buffer = this.#term.buffer.normal;
    const from = this.#start();
    this.#commit(from, Math.max(from, lastText(buffer, from)));
    this.#drop('top');
  }

  /** The whole transcript, bounded. */
  text(): string {
    const buffer = this.#term.buffer.normal;
    const from = this.#start();
    const live = logicalLines(buffer, this.#term.cols, from, lastText(buffer, from));
    return transcriptText(this.#log.trimmed, [...this.#log.lines, ...live], this.#log.max);
  }

  dispose(): void {
    for (const h of this.#hooks) h.dispose();
    this.#from?.dispose();
  }

  #onLineFeed(): void {
    if (this.#term.buffer.active.type !== 'normal') return; // a full-screen program: not a transcript
    const buffer = this.#term.buffer.normal;
    const from = this.#start();
    if (buffer.baseY - from < BATCH) return;
    // Up to a line's first row: a line still wrapping onto the screen is not finished.
    let to = buffer.baseY;
    while (to > from && buffer.getLine(to)?.isWrapped) to--;
    this.#commit(from, to);
  }

  #beforeErase(what: 'screen' | 'scrollback'): void {
    if (this.#term.buffer.active.type !== 'normal') return;
    const buffer = this.#term.buffer.normal;
    const from = this.#start();
    const cursor = buffer.baseY + buffer.cursorY;
    // The screen: all its text goes in (clear moved the cursor home first). The scrollback alone: the
    // lines above the cursor's (the screen stays, its last lines are not finished).
    this.#commit(from, what === 'screen' ? Math.max(from, lastText(buffer, from)) : Math.max(from, cursor));
    // What comes next is written from the cursor's line.
    this.#place(cursor);
  }

  #commit(from: number, to: number): void {
    if (to <= from) return;
    for (const line of logicalLines(this.#term.buffer.normal, this.#term.cols, from, to)) this.#log.push(line);
    this.#place(to);
  }

  /** The first line not in the log; placed again if the buffer lost it (reset, resize, trim). */
  #start(): number {
    if (this.#from && !this.#from.isDisposed && this.#from.line >= 0) return this.#from.line;
    const buffer = this.#term.buffer.normal;
    const line = this.#restart === 'top' ? 0 : buffer.baseY + buffer.cursorY;
    this.#place(line);
    return line;
  }

  #place(line: number): void {
    this.#from?.dispose();
    this.#from = undefined;
    this.#restart = 'cursor';
    const buffer = this.#term.buffer.normal;
    // Markers are made in the active buffer: none while a full-screen program has the other one.
    if (this.#term.buffer.active.type !== 'normal') return;
    const marker = this.#term.registerMarker(line - (buffer.baseY + buffer.cursorY));
    if (!marker) return;
    this.#from = marker;
  }

  #drop(restart: 'top' | 'cursor'): void {
    this.#from?.dispose();
    this.#from = undefined;
    this.#restart = restart;
  }
}

/** The end (exclusive) of the text in rows [from, …): past the last row that is not blank. */
function lastText(buffer: IBuffer, from: number): number {
  for (let y = buffer.length - 1; y >= from; y--) if (buffer.getLine(y)?.translateToString(true)) return y + 1;
  return from;
}

/** What the panel draws: the transcript in its <details> (LabHostPanel.astro), refreshed while open. */
export class TranscriptView implements IDisposable {
  readonly transcript: TerminalTranscript;
  readonly #details: HTMLDetailsElement;
  readonly #text: HTMLElement;
  readonly #file: string;
  readonly #written: IDisposable;
  #queued: ReturnType<typeof setTimeout> | undefined;

  constructor(details: HTMLDetailsElement, term: TranscriptSource & { onWriteParsed: IEvent<void> }, lab: string, host: string) {
    this.transcript = new TerminalTranscript(term);
    this.#details = details;
    this.#file = `transcription-${lab}-${host}.txt`;
    const summary = details.querySelector('summary');
    if (summary) summary.textContent = T.summary(host);
    const text = details.querySelector<HTMLElement>('.lab__transcript-text');
    if (!text) throw new Error('lab panel markup: missing .lab__transcript-text');
    this.#text = text;
    text.setAttribute('aria-label', T.summary(host));
    details.querySelector<HTMLButtonElement>('.lab__transcript-download')?.addEventListener('click', () => this.#download());
    details.addEventListener('toggle', () => this.#draw());
    // Drawn at most four times a second, and only while open: a flood costs nothing here when closed.
    this.#written = term.onWriteParsed(() => {
      if (this.#details.open) this.#queued ??= setTimeout(() => this.#draw(), 250);
    });
  }

  dispose(): void {
    clearTimeout(this.#queued);
    this.#written.dispose();
    this.transcript.dispose();
  }

  #draw(): void {
    clearTimeout(this.#queued);
    this.#queued = undefined;
    if (!this.#details.open) return;
    const box = this.#details; // it scrolls, its summary sticky
    const atBottom = box.scrollTop + box.clientHeight >= box.scrollHeight - 4;
    this.#text.textContent = this.transcript.text() || T.empty;
    if (atBottom) box.scrollTop = box.scrollHeight;
  }

  #download(): void {
    const url = URL.createObjectURL(new Blob([`${this.transcript.text()}\n`], { type: 'text/plain;charset=utf-8' }));
    const link = document.createElement('a');
    link.href = url;
    link.download = this.#file;
    link.click();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
  }
}
