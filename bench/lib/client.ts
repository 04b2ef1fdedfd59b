// A learner as the lab panel is one: a cookie from the first POST /api/labs/{name}, POSTs with the site's Origin,
// and one WebSocket per terminal that acknowledges output the way the panel does for xterm.js (the
// panel's own FlowAccountant: ack every 32 KiB rendered, the rest when output goes quiet). Timestamps
// are taken with performance.now() so every figure is in milliseconds on one clock.
import { WebSocket } from 'ws';
import { encode, parseServerMessage, PROTOCOL_VERSION, TERMINAL_PATH, type ServerMessage } from '../../protocol/terminal.ts';
import { FlowAccountant, type FlowActions } from '../../site/islands/lab/flow.ts';

export interface LabInfoBody {
  name: string;
  labId: string;
  hosts: string[];
  state: string;
  expiresAt: number;
  previewUrl: string;
}

export class Learner {
  readonly origin: string;
  cookie = '';

  constructor(origin: string) {
    this.origin = origin;
  }

  /** GET /api/labs/{name} (204 when the learner has no such lab; never gives a cookie). */
  async get(lab: string): Promise<{ status: number; body: LabInfoBody | null }> {
    const res = await fetch(`${this.origin}/api/labs/${lab}`, { headers: this.cookie ? { cookie: this.cookie } : {} });
    return { status: res.status, body: res.status === 200 ? ((await res.json()) as LabInfoBody) : null };
  }

  /** POST /api/labs/{name}[/reset]: creates (or claims, or returns) the learner's lab; the first one gives the cookie. */
  async post(lab: string, reset = false): Promise<{ status: number; body: LabInfoBody | { error: string; message: string } }> {
    const res = await fetch(`${this.origin}/api/labs/${lab}${reset ? '/reset' : ''}`, {
      method: 'POST',
      headers: { ...(this.cookie ? { cookie: this.cookie } : {}), origin: this.origin, 'content-type': 'application/json' },
      body: '{}',
    });
    const set = res.headers.getSetCookie().find((c) => c.startsWith('atelier_learner='));
    if (set) this.cookie = set.split(';')[0]!;
    return { status: res.status, body: (await res.json()) as LabInfoBody };
  }

  /** Opens a terminal WebSocket and sends hello at once. */
  terminal(lab: string, host: string, options: TerminalClientOptions = {}): Terminal {
    return new Terminal(this, lab, host, options);
  }
}

type Waiter = { test: () => boolean; resolve: () => void };

export interface TerminalClientOptions {
  cols?: number;
  rows?: number;
  /** acknowledge output as the panel does (default true) */
  ack?: boolean;
  /** keep the last 64 KiB of output as text for waitFor (default true; off for floods: it costs CPU) */
  keepText?: boolean;
}

export class Terminal {
  readonly ws: WebSocket;
  /** when the WebSocket was asked for */
  readonly openedAt = performance.now();
  helloSentAt = 0;
  hello: Extract<ServerMessage, { t: 'hello' }> | null = null;
  helloAt = 0;
  readyAt = 0;
  firstByteAt = 0;
  /** bytes of output received */
  received = 0;
  /** output as text since the last mark() (bounded: the last 64 KiB) */
  #text = '';
  readonly messages: ServerMessage[] = [];
  readonly #waiters = new Set<Waiter>();
  readonly #flow = new FlowAccountant();
  readonly #ack: boolean;
  /** keep output as text for waitFor (costs CPU during floods) */
  keepText: boolean;
  #idleTimer: NodeJS.Timeout | undefined;
  /** called with every output chunk (after accounting) */
  onData: ((chunk: Buffer, at: number) => void) | null = null;
  closed: Promise<{ code: number; reason: string }>;
  error: Error | null = null;

  constructor(learner: Learner, lab: string, host: string, options: TerminalClientOptions) {
    this.#ack = options.ack ?? true;
    this.keepText = options.keepText ?? true;
    const url = learner.origin.replace(/^http/, 'ws') + TERMINAL_PATH;
    this.ws = new WebSocket(url, { headers: { cookie: learner.cookie, origin: learner.origin }, perMessageDeflate: false });
    this.ws.binaryType = 'nodebuffer';
    this.ws.on('open', () => {
      this.helloSentAt = performance.now();
      this.ws.send(encode({ t: 'hello', v: PROTOCOL_VERSION, lab, host, cols: options.cols ?? 120, rows: options.rows ?? 32 }));
    });
    this.ws.on('message', (data: Buffer, isBinary: boolean) => {
      const at = performance.now();
      if (isBinary) return this.#output(data, at);
      const m = parseServerMessage(data.toString('utf8'));
      if (!m) return;
      this.messages.push(m);
      if (m.t === 'hello') {
        this.hello = m;
        this.helloAt = at;
      } else if (m.t === 'status' && m.state === 'ready' && !this.readyAt) this.readyAt = at;
      else if (m.t === 'error') this.error = new Error(`${m.code}: ${m.message}`);
      this.#wake();
    });
    this.closed = new Promise((resolve) => {
      this.ws.on('close', (code, reason) => {
        clearTimeout(this.#idleTimer);
        this.#wake();
        resolve({ code, reason: reason.toString() });
      });
    });
    this.ws.on('error', (err) => {
      this.error = err;
      this.#wake();
    });
  }

  #output(chunk: Buffer, at: number): void {
    if (!this.firstByteAt) this.firstByteAt = at;
    this.received += chunk.length;
    if (this.keepText) this.#text = (this.#text + chunk.toString('latin1')).slice(-65536);
    this.onData?.(chunk, at);
    if (this.#ack) {
      // xterm.js renders asynchronously and calls back; the panel acknowledges what was rendered.
      const flow = this.#flow;
      this.#act(flow.received(chunk.length));
      setImmediate(() => {
        this.#act(flow.rendered(chunk.length));
        if (flow.drained) {
          clearTimeout(this.#idleTimer);
          this.#idleTimer = setTimeout(() => this.#act(flow.idle()), 100);
        }
      });
    }
    this.#wake();
  }

  #act(a: FlowActions): void {
    if (this.ws.readyState !== WebSocket.OPEN) return;
    if (a.ack) this.ws.send(encode({ t: 'ack', bytes: a.ack }));
    if (a.pause) this.ws.send(encode({ t: 'pause' }));
    if (a.resume) this.ws.send(encode({ t: 'resume' }));
  }

  #wake(): void {
    for (const w of this.#waiters) if (w.test()) this.#waiters.delete(w), w.resolve();
  }

  /** Forgets output received so far (for waitFor). */
  mark(): void {
    this.#text = '';
  }

  get text(): string {
    return this.#text;
  }

  /** Resolves when `test` holds (checked on every event), rejects after `timeoutMs` or on close/error. */
  until(test: () => boolean, timeoutMs: number, what: string): Promise<void> {
    if (test()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        test: () => test() || this.error !== null || this.ws.readyState >= WebSocket.CLOSING,
        resolve: () => {
          clearTimeout(timer);
          if (test()) resolve();
          else
            reject(new Error(`${what}: ${this.error?.message ?? 'connection closed'} (output: ${JSON.stringify(this.#text.slice(-300))})`));
        },
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(waiter);
        reject(new Error(`${what}: nothing after ${timeoutMs} ms (output: ${JSON.stringify(this.#text.slice(-300))})`));
      }, timeoutMs);
      this.#waiters.add(waiter);
    });
  }

  /** Waits for output matching `pattern` since the last mark(). */
  waitFor(pattern: RegExp | string, timeoutMs = 10_000): Promise<void> {
    const test = () => (typeof pattern === 'string' ? this.#text.includes(pattern) : pattern.test(this.#text));
    return this.until(test, timeoutMs, `waiting for ${pattern}`);
  }

  /** Waits until the shell printed something after hello (the prompt). */
  firstOutput(timeoutMs = 30_000): Promise<void> {
    return this.until(() => this.firstByteAt > 0, timeoutMs, 'waiting for the first output');
  }

  /** Waits for the server's `status: ready` (the terminal is attached). */
  ready(timeoutMs = 30_000): Promise<void> {
    return this.until(() => this.readyAt > 0, timeoutMs, 'waiting for status ready');
  }

  send(data: string | Buffer): void {
    this.ws.send(typeof data === 'string' ? Buffer.from(data) : data, { binary: true });
  }

  close(): Promise<{ code: number; reason: string }> {
    if (this.ws.readyState === WebSocket.CONNECTING || this.ws.readyState === WebSocket.OPEN) this.ws.close(1000);
    return this.closed;
  }
}
