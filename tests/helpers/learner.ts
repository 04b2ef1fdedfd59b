// A learner as the security tests see one: a cookie, the lab API with the site's Origin, and terminals
// over the real WebSocket protocol (hello, acks, pings). A Terminal waits for the shell's prompt, runs
// commands with an end marker and measures keystroke echo.
import { createHmac, randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import WebSocket from 'ws';
import { ACK_EVERY_BYTES, TERMINAL_PATH, type ServerMessage } from '../../protocol/terminal.ts';

export const COOKIE = 'atelier_learner';

/** A cookie value as server/http/identity.ts makes them: id.issuedAt.hmac(id.issuedAt). */
export function signedCookie(secret: string, opts: { id?: string; issuedAt?: number } = {}): string {
  const id = opts.id ?? randomBytes(16).toString('base64url');
  const issued = String(opts.issuedAt ?? Date.now());
  const sig = createHmac('sha256', Buffer.from(secret)).update(`${id}.${issued}`).digest('base64url');
  return `${id}.${issued}.${sig}`;
}

export interface ApiAnswer {
  status: number;
  body: Record<string, unknown> | null;
  setCookie: string | null;
}

export interface LabInfo {
  name: string;
  labId: string;
  hosts: string[];
  state: string;
  previewUrl: string;
}

export interface UpgradeOptions {
  origin?: string | null;
  cookie?: string | null;
}

/** The answer to a WebSocket upgrade: 101 (opened, then closed by us) or the refusal's status. */
export function tryUpgrade(site: string, opts: UpgradeOptions): Promise<number> {
  return new Promise((resolve) => {
    const headers: Record<string, string> = {};
    if (opts.origin) headers.Origin = opts.origin;
    if (opts.cookie) headers.Cookie = opts.cookie;
    const ws = new WebSocket(wsUrl(site), { headers, handshakeTimeout: 10_000 });
    ws.on('open', () => {
      ws.terminate();
      resolve(101);
    });
    ws.on('unexpected-response', (_req, res) => {
      res.resume();
      ws.terminate();
      resolve(res.statusCode ?? 0);
    });
    ws.on('error', () => resolve(0));
  });
}

export function wsUrl(site: string): string {
  return site.replace(/^http/, 'ws') + TERMINAL_PATH;
}

export class Learner {
  readonly site: string;
  cookie: string | null;
  constructor(site: string, cookie: string | null = null) {
    this.site = site;
    this.cookie = cookie;
  }

  get cookieHeader(): string | null {
    return this.cookie ? `${COOKIE}=${this.cookie}` : null;
  }

  /** Any request to the API, with the site's own Origin unless told otherwise. Keeps a cookie it is given. */
  async request(
    method: string,
    path: string,
    opts: { origin?: string | null; contentType?: string | null; body?: string } = {},
  ): Promise<ApiAnswer> {
    const headers: Record<string, string> = {};
    const origin = opts.origin === undefined ? this.site : opts.origin;
    if (origin) headers.Origin = origin;
    if (this.cookieHeader) headers.Cookie = this.cookieHeader;
    if (method !== 'GET') {
      const type = opts.contentType === undefined ? 'application/json' : opts.contentType;
      if (type) headers['Content-Type'] = type;
    }
    const res = await fetch(this.site + path, {
      method,
      headers,
      ...(method !== 'GET' ? { body: opts.body ?? '{}' } : {}),
      signal: AbortSignal.timeout(180_000),
    });
    const setCookie = res.headers.get('set-cookie');
    const m = setCookie ? new RegExp(`${COOKIE}=([^;]+)`).exec(setCookie) : null;
    if (m?.[1] && !this.cookie) this.cookie = m[1];
    const text = await res.text();
    let body: Record<string, unknown> | null = null;
    try {
      body = text ? (JSON.parse(text) as Record<string, unknown>) : null;
    } catch {
      body = { text };
    }
    return { status: res.status, body, setCookie };
  }

  /** GET: the lab (null for 204: none, or no identity yet; a GET never issues one). */
  async getLab(name: string): Promise<LabInfo | null> {
    const r = await this.request('GET', `/api/labs/${name}`);
    if (r.status === 204) return null;
    if (r.status !== 200) throw new Error(`GET ${name}: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body as unknown as LabInfo;
  }

  async startLab(name: string): Promise<LabInfo> {
    const r = await this.request('POST', `/api/labs/${name}`);
    if (r.status !== 200) throw new Error(`POST ${name}: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body as unknown as LabInfo;
  }

  async resetLab(name: string): Promise<LabInfo> {
    const r = await this.request('POST', `/api/labs/${name}/reset`);
    if (r.status !== 200) throw new Error(`POST ${name}/reset: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body as unknown as LabInfo;
  }

  /** A terminal on a host of my lab of that kind; resolves once the server said hello (or fails). */
  async terminal(lab: string, host: string, opts: TerminalOptions = {}): Promise<Terminal> {
    const t = new Terminal(this.site, this.cookieHeader, opts);
    await t.opened;
    t.hello(lab, host, opts.cols ?? 400, opts.rows ?? 50);
    await t.attached(30_000, opts.prompt ?? true);
    return t;
  }
}

export interface TerminalOptions {
  origin?: string;
  cols?: number;
  rows?: number;
  /** acknowledge rendered bytes like the lab panel does (default true); false: a client that never reads */
  ack?: boolean;
  /** wait for the shell's prompt after the hello (default true) */
  prompt?: boolean;
}

/** Output kept in memory per terminal; older output is dropped (a flood must not fill the test's memory). */
const KEEP_BYTES = 4 * 1024 * 1024;

const ANSI = /\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07]*\x07|\x1b[()][A-Z0-9]|\x1b[=>]/g;

export function plain(text: string): string {
  return text.replace(ANSI, '').replace(/\r/g, '');
}

/** One terminal WebSocket. `screen` is all output so far; `control` every control message. */
export class Terminal {
  readonly ws: WebSocket;
  readonly opened: Promise<void>;
  readonly closed: Promise<{ code: number; reason: string }>;
  readonly control: ServerMessage[] = [];
  /** the upgrade answer's X-Served-By header: which backend a load balancer in front chose */
  servedBy: string | undefined;
  #chunks: Buffer[] = [];
  /** bytes dropped from the front of #chunks */
  #base = 0;
  #kept = 0;
  #bytes = 0;
  #unacked = 0;
  #waiters = new Set<() => void>();
  #ack: boolean;

  constructor(site: string, cookie: string | null, opts: TerminalOptions = {}) {
    this.#ack = opts.ack ?? true;
    const headers: Record<string, string> = { Origin: opts.origin ?? site };
    if (cookie) headers.Cookie = cookie;
    this.ws = new WebSocket(wsUrl(site), { headers, handshakeTimeout: 15_000, maxPayload: 1 << 20 });
    this.opened = new Promise((ok, fail) => {
      this.ws.once('open', () => ok());
      this.ws.once('unexpected-response', (_q, res) => fail(new Error(`upgrade refused: ${res.statusCode}`)));
      this.ws.once('error', fail);
    });
    this.opened.catch(() => {});
    this.ws.once('upgrade', (res) => {
      const by = res.headers['x-served-by'];
      this.servedBy = typeof by === 'string' ? by : undefined;
    });
    this.closed = new Promise((ok) => this.ws.once('close', (code, reason) => (this.#wake(), ok({ code, reason: reason.toString() }))));
    this.ws.on('error', () => {});
    this.ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (isBinary) {
        this.#chunks.push(data);
        this.#bytes += data.length;
        this.#kept += data.length;
        if (this.#kept > KEEP_BYTES) this.forget();
        this.#unacked += data.length;
        if (this.#ack && this.#unacked >= ACK_EVERY_BYTES) this.ackNow();
        else if (this.#ack) queueMicrotask(() => this.#unacked > 0 && this.ackNow());
      } else {
        this.control.push(JSON.parse(data.toString('utf8')) as ServerMessage);
      }
      this.#wake();
    });
  }

  ackNow(): void {
    if (this.#unacked > 0 && this.ws.readyState === WebSocket.OPEN) this.send({ t: 'ack', bytes: this.#unacked });
    this.#unacked = 0;
  }

  #wake(): void {
    for (const w of [...this.#waiters]) w();
  }

  /** Output bytes received so far. */
  get received(): number {
    return this.#bytes;
  }

  /** All output as received (kept up to 4 MiB), for a terminal emulator to draw. */
  get raw(): string {
    return Buffer.concat(this.#chunks).toString('utf8');
  }

  /** All output as text, escape sequences and carriage returns removed. */
  get screen(): string {
    return plain(Buffer.concat(this.#chunks).toString('utf8'));
  }

  /** Output received after byte `offset` (as counted by `received`), as text. */
  since(offset: number): string {
    return plain(this.#sinceRaw(offset).toString('utf8'));
  }

  /** Drops what was received so far but the last 4 KiB (floods keep memory small). */
  forget(): void {
    const all = Buffer.concat(this.#chunks);
    const keep = all.subarray(Math.max(0, all.length - 4096));
    this.#base += all.length - keep.length;
    this.#chunks = [Buffer.from(keep)];
    this.#kept = keep.length;
  }

  get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  send(message: object): void {
    this.ws.send(JSON.stringify(message));
  }

  hello(lab: string, host: string, cols = 400, rows = 50): void {
    this.send({ t: 'hello', v: 1, lab, host, cols, rows });
  }

  get helloMessage(): Extract<ServerMessage, { t: 'hello' }> | undefined {
    return this.control.find((m): m is Extract<ServerMessage, { t: 'hello' }> => m.t === 'hello');
  }

  /** Waits until `test` holds, re-checked on every frame; throws after `ms` with `what`. */
  async until(test: () => boolean, ms: number, what: string): Promise<void> {
    if (test()) return;
    await new Promise<void>((ok, fail) => {
      const timer = setTimeout(() => {
        this.#waiters.delete(check);
        fail(
          new Error(
            `${what}: not within ${ms} ms\n--- control: ${JSON.stringify(this.control)}\n--- screen tail:\n${this.screen.slice(-800)}`,
          ),
        );
      }, ms);
      const check = () => {
        if (!test()) return;
        clearTimeout(timer);
        this.#waiters.delete(check);
        ok();
      };
      this.#waiters.add(check);
    });
  }

  /**
   * Waits until no output byte has arrived for `quietMs` (the shell is done drawing: a figure taken now
   * is not moved by a late prompt redraw); throws when the output is not quiet within `ms`.
   */
  async quiet(quietMs: number, ms: number): Promise<void> {
    await new Promise<void>((ok, fail) => {
      let bytes = this.#bytes;
      const settle = () => {
        stop();
        ok();
      };
      let timer = setTimeout(settle, quietMs);
      const deadline = setTimeout(() => {
        stop();
        fail(
          new Error(
            `output not quiet for ${quietMs} ms within ${ms} ms (${this.#bytes} bytes)\n--- screen tail:\n${this.screen.slice(-800)}`,
          ),
        );
      }, ms);
      const check = () => {
        if (this.#bytes === bytes) return; // a control message or the close: no output
        bytes = this.#bytes;
        clearTimeout(timer);
        timer = setTimeout(settle, quietMs);
      };
      const stop = () => {
        clearTimeout(timer);
        clearTimeout(deadline);
        this.#waiters.delete(check);
      };
      this.#waiters.add(check);
    });
  }

  /** The server's hello, then the shell's prompt. */
  async attached(ms = 30_000, prompt = true): Promise<void> {
    await this.until(() => Boolean(this.helloMessage) || this.control.some((m) => m.t === 'error') || !this.isOpen, ms, 'hello');
    if (!this.helloMessage) throw new Error(`not attached: ${JSON.stringify(this.control)}`);
    if (prompt) await this.until(() => /[#$] $/.test(this.screen), ms, 'prompt');
  }

  write(data: string | Buffer): void {
    this.ws.send(typeof data === 'string' ? Buffer.from(data) : data, { binary: true });
  }

  /** Types a command and waits for its end marker; returns its output (without the typed line) and exit code. */
  async run(command: string, ms = 30_000): Promise<{ output: string; exitCode: number }> {
    const token = randomBytes(4).toString('hex');
    const start = this.#bytes;
    // The typed line shows "\x5fDONE_%s…", the output "_DONE_<token>_<code>": only the output matches.
    this.write(`${command}; printf '\\x5fDONE_%s_%s\\n' ${token} $?\r`);
    const marker = new RegExp(`_DONE_${token}_(\\d+)`);
    await this.until(() => marker.test(this.since(start)), ms, `command ${command.slice(0, 80)}`);
    const text = this.since(start);
    const m = marker.exec(text)!;
    // The output starts after the typed line's echo, which ends with "<token> $?". Not after the first
    // newline: the previous command's prompt (and its line break) may arrive after `start`.
    const echoed = text.lastIndexOf(`${token} $?`, m.index);
    const from = echoed >= 0 ? text.indexOf('\n', echoed) + 1 : 0;
    return { output: from > 0 && from <= m.index ? text.slice(from, m.index) : '', exitCode: Number(m[1]) };
  }

  /**
   * Keystroke echo, in milliseconds: one printable character sent, timed until the shell's echo of it
   * comes back, `pauseMs` apart (the rhythm of someone typing). The line is cleared (Ctrl-U) every 40
   * characters.
   */
  async echoSamples(count: number, pauseMs = 20): Promise<number[]> {
    const out: number[] = [];
    const letters = 'abcdefghijklmnopqrstuvwxyz';
    for (let i = 0; i < count; i++) {
      if (i % 40 === 0) {
        // The line cleared and redrawn before the next timing, so that the redraw (the prompt's letters) is
        // not taken for an echo. A dot first: an empty line has nothing to erase (Ctrl-U would only ring the
        // bell), a non-empty one ends its redraw with "erase to end of line".
        const from = this.#bytes;
        this.write('.\x15');
        await this.until(() => this.#since(from).includes('\x1b[K'), 30_000, 'the line cleared (Ctrl-U)');
      }
      const ch = letters[i % letters.length]!;
      const start = this.#bytes;
      const t0 = process.hrtime.bigint();
      this.write(ch);
      await this.until(() => this.#since(start).includes(ch), 30_000, `echo of ${ch}`);
      out.push(Number(process.hrtime.bigint() - t0) / 1e6);
      if (pauseMs > 0) await sleep(pauseMs);
    }
    this.write('\x15');
    return out;
  }

  #since(offset: number): string {
    // Raw bytes (no ANSI stripping): cheap, and a letter's echo is the letter itself.
    return this.#sinceRaw(offset).toString('latin1');
  }

  #sinceRaw(offset: number): Buffer {
    let skip = Math.max(0, offset - this.#base);
    const parts: Buffer[] = [];
    for (const c of this.#chunks) {
      if (skip >= c.length) {
        skip -= c.length;
        continue;
      }
      parts.push(skip > 0 ? c.subarray(skip) : c);
      skip = 0;
    }
    return Buffer.concat(parts);
  }

  close(): void {
    this.ws.close(1000, 'bye');
  }

  /** Goes away without a close frame: the TCP connection is cut. */
  vanish(): void {
    (this.ws as unknown as { _socket: import('node:net').Socket })._socket.destroy();
  }

  /** Stops reading and answering anything (a laptop lid closed): the server must notice by itself. */
  freeze(): void {
    const socket = (this.ws as unknown as { _socket: import('node:net').Socket })._socket;
    socket.pause();
    socket.removeAllListeners('data');
  }
}

/** p-th percentile (0-100) of samples. */
export function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}
