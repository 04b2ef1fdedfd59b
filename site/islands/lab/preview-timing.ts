// The timing of the page in the « Navigateur » tab: for each request the preview made (the page, then
// what it loaded), time to first byte and to last byte as the preview proxy measured them, drawn as bars
// on one scale; and, where the lab tells it (php-fpm's access log in finish-request), when the PHP script
// really ended, as a second bar: with fastcgi_finish_request() the answer is complete long before.
// Each row says its figures in words (the bars are for the eye only).
import type { PreviewRequestTiming, ScriptTiming } from '../../../protocol/preview.ts';
import { TIMING_TEXT as T } from './strings.ts';

export { milliseconds } from './strings.ts';

export interface TimingRow {
  id: string;
  path: string;
  status: number;
  /** percentages of the scale */
  firstByte: number;
  lastByte: number;
  /** when the script ended, if the lab told it */
  script?: number;
  text: string;
}

/** Rows for the requests of a page, on the scale of the longest time among them. */
export function timingRows(requests: readonly PreviewRequestTiming[], scripts: ReadonlyMap<string, number> = new Map()): TimingRow[] {
  const times = requests.flatMap((r) => [r.firstByteMs ?? 0, r.lastByteMs ?? 0, scripts.get(r.id) ?? 0]);
  const scale = Math.max(1, ...times);
  const pct = (ms: number) => Math.round((ms / scale) * 1000) / 10;
  return requests.map((r) => {
    const script = scripts.get(r.id);
    const words = [
      r.path,
      r.status ? `HTTP ${r.status}` : T.noAnswer,
      r.firstByteMs === null ? T.noFirstByte : T.firstByte(r.firstByteMs),
      r.lastByteMs === null ? T.noLastByte : T.lastByte(r.lastByteMs),
      ...(script === undefined ? [] : [T.scriptEnd(script)]),
    ];
    return {
      id: r.id,
      path: r.path,
      status: r.status,
      firstByte: pct(r.firstByteMs ?? 0),
      lastByte: pct(r.lastByteMs ?? r.firstByteMs ?? 0),
      ...(script === undefined ? {} : { script: pct(script) }),
      text: words.join(T.separator),
    };
  });
}

export class PreviewTimingView {
  readonly #root: HTMLElement;
  readonly #list: HTMLOListElement;
  #requests: readonly PreviewRequestTiming[] = [];
  readonly #scripts = new Map<string, number>();

  constructor(after: Element) {
    // A named group, focusable: its list scrolls (max-height), so the keyboard must reach it (WCAG 2.1.1);
    // not a landmark, as two panels could show one each under the same title.
    this.#root = document.createElement('div');
    this.#root.setAttribute('role', 'group');
    this.#root.tabIndex = 0;
    this.#root.className = 'lab__timing';
    this.#root.hidden = true;
    const title = document.createElement('h3');
    title.className = 'lab__timing-title';
    title.textContent = T.title;
    title.id = `${after.closest('[id]')?.id ?? 'lab'}-timing`;
    this.#root.setAttribute('aria-labelledby', title.id);
    const legend = document.createElement('p');
    legend.className = 'lab__timing-legend';
    legend.textContent = T.legend;
    this.#list = document.createElement('ol');
    this.#list.className = 'lab__timing-list';
    this.#root.append(title, legend, this.#list);
    after.after(this.#root);
  }

  /** The page's requests (a new page: the script times of the previous one go). */
  show(requests: readonly PreviewRequestTiming[]): void {
    if (requests[0]?.id !== this.#requests[0]?.id) this.#scripts.clear();
    this.#requests = requests;
    this.#draw();
  }

  /** When the lab's scripts ended, for the requests shown. */
  addScripts(scripts: readonly ScriptTiming[]): void {
    const ids = new Set(this.#requests.map((r) => r.id));
    for (const s of scripts) if (ids.has(s.request)) this.#scripts.set(s.request, s.durationMs);
    this.#draw();
  }

  /** Ids of the shown requests whose script end is not known yet. */
  waitingScripts(): string[] {
    return this.#requests.filter((r) => r.status && !this.#scripts.has(r.id)).map((r) => r.id);
  }

  clear(): void {
    this.show([]);
  }

  #draw(): void {
    const rows = timingRows(this.#requests, this.#scripts);
    this.#root.hidden = rows.length === 0;
    this.#list.replaceChildren(
      ...rows.map((row) => {
        const li = document.createElement('li');
        li.className = 'lab__timing-row';
        li.dataset.request = row.id;
        const text = document.createElement('span');
        text.className = 'lab__timing-text';
        text.textContent = row.text;
        const bars = document.createElement('span');
        bars.className = 'lab__timing-bars';
        bars.setAttribute('aria-hidden', 'true');
        bars.append(bar('response', row.firstByte, row.lastByte));
        if (row.script !== undefined) bars.append(bar('script', 0, row.script));
        li.append(text, bars);
        return li;
      }),
    );
  }
}

/** A bar from 0 to `end` percent, darker from `mark` (the first byte) on. */
function bar(kind: 'response' | 'script', mark: number, end: number): HTMLElement {
  const el = document.createElement('span');
  el.className = `lab__timing-bar lab__timing-bar--${kind}`;
  el.dataset.end = String(end);
  el.style.width = `${Math.max(end, 0.5)}%`;
  el.style.setProperty('--mark', `${end > 0 ? (mark / end) * 100 : 0}%`);
  return el;
}
