// One terminal's WebSocket (docs/protocol.md): hello, output with flow control, keystrokes in frames
// under the size limit, heartbeats, and reconnection with backoff to the same shell. It knows nothing
// of xterm.js or the page: output goes to an OutputSink, state changes to a listener.
import {
  encode,
  HEARTBEAT_MS,
  parseServerMessage,
  PROTOCOL_VERSION,
  type ClientMessage,
  type LabState,
  type ServerMessage,
} from '../../../protocol/terminal.ts';
import { reconnectDelay } from './backoff.ts';
import { FlowAccountant, type FlowActions } from './flow.ts';
import { binaryStringFrames, textFrames } from './frames.ts';

export type ConnectionState =
  /** socket opening, or hello not answered yet */
  | 'connecting'
  /** attached to the shell */
  | 'open'
  /** dropped; a reconnection is scheduled */
  | 'waiting'
  /** another tab took this terminal over; reconnect only when asked */
  | 'replaced'
  /** the shell ended (exit, or its lab went away) */
  | 'exited'
  /** the lab expired */
  | 'expired'
  /** the server has no lab of this kind for this learner */
  | 'gone'
  /** refused for good (protocol version, unknown host…) */
  | 'failed'
  /** closed by us */
  | 'closed';

export interface StateDetail {
  /** French message from the server, when it gave one */
  message?: string;
  /** with 'waiting': when the next attempt starts */
  retryInMs?: number;
}

export type ServerHello = Extract<ServerMessage, { t: 'hello' }>;

export interface ConnectionListener {
  state(state: ConnectionState, detail: StateDetail): void;
  hello?(hello: ServerHello): void;
  labStatus?(state: LabState, message: string | undefined): void;
}

/** Where output goes: `done` must be called once the bytes are processed (xterm's write callback). */
export interface OutputSink {
  write(data: Uint8Array, done: () => void): void;
}

export interface ConnectionOptions {
  url: string;
  lab: string;
  host: string;
  size(): { cols: number; rows: number };
  sink: OutputSink;
  listener: ConnectionListener;
  /** how long output must stay quiet before the rest is acknowledged */
  idleAckMs?: number;
  /** a connection that has not attached after this long is dropped and retried */
  attachTimeoutMs?: number;
  heartbeatMs?: number;
  random?: () => number;
  /** opens the socket; tests outside a browser pass one that sets Origin and Cookie */
  openSocket?: (url: string) => WebSocket;
}

type Timer = ReturnType<typeof setTimeout>;

/** Codes after which retrying cannot help. */
const FATAL = new Set(['version', 'unknown-host', 'bad-message', 'too-large']);

export class TerminalConnection {
  readonly #o: Required<ConnectionOptions>;
  #ws: WebSocket | null = null;
  #state: ConnectionState = 'closed';
  #attempt = 0;
  #flow = new FlowAccountant();
  /** what the server said before closing (status or fatal error): decides what a close means */
  #ending: { state: ConnectionState; message?: string } | null = null;
  /** last retryable error message (no-room, engine…), shown while waiting */
  #retryMessage: string | undefined;
  #lastHeard = 0;
  #lastOutput = 0;
  #pingId = 0;
  #sentSize = '';
  #retryTimer: Timer | undefined;
  #attachTimer: Timer | undefined;
  #idleTimer: Timer | undefined;
  #probeTimer: Timer | undefined;
  #heartbeat: ReturnType<typeof setInterval> | undefined;
  #openWaiters: Array<{ ok: () => void; fail: (e: Error) => void }> = [];

  constructor(options: ConnectionOptions) {
    this.#o = {
      idleAckMs: 100,
      attachTimeoutMs: 20_000,
      heartbeatMs: HEARTBEAT_MS,
      random: Math.random,
      openSocket: (url: string) => new WebSocket(url),
      ...options,
    };
  }

  get state(): ConnectionState {
    return this.#state;
  }

  /** Connects now (first time, or on the learner's request after a stop): backoff starts over. */
  connect(): void {
    this.#attempt = 0;
    this.#retryMessage = undefined;
    this.#open();
  }

  /** Closes for good (until connect() is called again). */
  close(): void {
    this.#clearTimers();
    const ws = this.#ws;
    this.#ws = null;
    if (ws) {
      detach(ws);
      ws.close(1000);
    }
    this.#setState('closed', {});
  }

  /** Keystrokes from xterm's onData. Dropped while not attached: the overlay says why. */
  input(data: string): boolean {
    return this.#sendFrames(textFrames(data));
  }

  /** xterm's onBinary (some mouse reports). */
  inputBinary(data: string): boolean {
    return this.#sendFrames(binaryStringFrames(data));
  }

  resize(cols: number, rows: number): void {
    const size = `${cols}x${rows}`;
    if (this.#state !== 'open' || size === this.#sentSize) return;
    this.#sentSize = size;
    this.#control({ t: 'resize', cols, rows });
  }

  /**
   * Resolves once attached and the output has been quiet for `quietMs` (the prompt is drawn), so text
   * typed for the learner lands at the prompt, with the shell's bracketed-paste mode known. Rejects if
   * the connection ends in a state that needs the learner (replaced, exited, expired, failed…).
   */
  async settled(quietMs = 150): Promise<void> {
    if (this.#state === 'connecting' || this.#state === 'waiting') {
      await new Promise<void>((ok, fail) => this.#openWaiters.push({ ok, fail }));
    } else if (this.#state !== 'open') {
      throw new Error(`terminal ${this.#state}`);
    }
    for (;;) {
      const wait = this.#lastOutput + quietMs - Date.now();
      if (wait <= 0 && this.#flow.drained) return;
      await sleep(Math.max(wait, 20));
    }
  }

  /**
   * The page woke up (laptop lid opened, network back): check the link at once instead of waiting for
   * the next heartbeat, and retry now if we were waiting.
   */
  wake(probeMs = 5000): void {
    if (this.#state === 'waiting') {
      this.connect();
      return;
    }
    if (this.#state !== 'open' || !this.#ws) return;
    const asked = Date.now();
    this.#ping();
    clearTimeout(this.#probeTimer);
    this.#probeTimer = setTimeout(() => {
      if (this.#lastHeard < asked) this.#dead();
    }, probeMs);
  }

  #open(): void {
    this.#clearTimers();
    if (this.#ws) {
      detach(this.#ws);
      this.#ws.close();
    }
    this.#ending = null;
    this.#flow = new FlowAccountant();
    this.#setState('connecting', {});
    let ws: WebSocket;
    try {
      ws = this.#o.openSocket(this.#o.url);
    } catch {
      this.#dropped();
      return;
    }
    ws.binaryType = 'arraybuffer';
    this.#ws = ws;
    ws.onopen = () => {
      const { cols, rows } = this.#o.size();
      this.#sentSize = `${cols}x${rows}`;
      this.#lastHeard = Date.now();
      this.#control({ t: 'hello', v: PROTOCOL_VERSION, lab: this.#o.lab, host: this.#o.host, cols, rows });
      this.#heartbeat = setInterval(() => this.#beat(), this.#o.heartbeatMs);
    };
    ws.onmessage = (event: MessageEvent) => {
      this.#lastHeard = Date.now();
      if (typeof event.data === 'string') this.#onControl(event.data);
      else if (event.data instanceof ArrayBuffer) this.#onOutput(new Uint8Array(event.data));
    };
    ws.onclose = () => {
      if (this.#ws === ws) this.#dropped();
    };
    ws.onerror = () => {}; // a close event follows
    this.#attachTimer = setTimeout(() => {
      if (this.#state === 'connecting') this.#dead();
    }, this.#o.attachTimeoutMs);
  }

  #onControl(text: string): void {
    const m = parseServerMessage(text);
    if (!m) return; // unknown or malformed: ignored (a newer server may send more)
    switch (m.t) {
      case 'hello':
        clearTimeout(this.#attachTimer);
        this.#attempt = 0;
        this.#retryMessage = undefined;
        this.#setState('open', {});
        this.#o.listener.hello?.(m);
        for (const w of this.#openWaiters.splice(0)) w.ok();
        return;
      case 'status':
        if (m.state === 'disconnected') this.#ending = { state: 'replaced', ...(m.message ? { message: m.message } : {}) };
        else if (m.state === 'exited') this.#ending = { state: 'exited', ...(m.message ? { message: m.message } : {}) };
        else if (m.state === 'expired') this.#ending = { state: 'expired', ...(m.message ? { message: m.message } : {}) };
        this.#o.listener.labStatus?.(m.state, m.message);
        return;
      case 'error':
        if (m.code === 'expired') this.#ending = { state: 'expired', message: m.message };
        else if (m.code === 'unknown-lab') this.#ending = { state: 'gone', message: m.message };
        else if (FATAL.has(m.code) && this.#state !== 'open') this.#ending = { state: 'failed', message: m.message };
        else if (m.code === 'no-room' || m.code === 'rate-limited' || m.code === 'engine') this.#retryMessage = m.message;
        else console.warn(`[lab ${this.#o.lab}/${this.#o.host}] ${m.code}: ${m.message}`);
        return;
      case 'pong':
        return;
    }
  }

  #onOutput(bytes: Uint8Array): void {
    const flow = this.#flow;
    const n = bytes.length;
    this.#lastOutput = Date.now();
    this.#act(flow.received(n));
    this.#o.sink.write(bytes, () => {
      if (flow !== this.#flow) return; // output of an earlier connection
      this.#act(flow.rendered(n));
      if (flow.drained) {
        clearTimeout(this.#idleTimer);
        this.#idleTimer = setTimeout(() => this.#act(flow.idle()), this.#o.idleAckMs);
      }
    });
  }

  #act(actions: FlowActions): void {
    if (actions.ack) this.#control({ t: 'ack', bytes: actions.ack });
    if (actions.pause) this.#control({ t: 'pause' });
    if (actions.resume) this.#control({ t: 'resume' });
  }

  #beat(): void {
    if (Date.now() - this.#lastHeard > 2 * this.#o.heartbeatMs) {
      this.#dead();
      return;
    }
    this.#ping();
  }

  #ping(): void {
    this.#pingId = (this.#pingId + 1) % 2 ** 31;
    this.#control({ t: 'ping', id: this.#pingId });
  }

  /** The peer stopped answering: don't wait for the browser's own close (it can take minutes). */
  #dead(): void {
    const ws = this.#ws;
    if (ws) {
      detach(ws);
      ws.close();
    }
    this.#dropped();
  }

  #dropped(): void {
    this.#clearTimers();
    this.#ws = null;
    const ending = this.#ending;
    this.#ending = null;
    if (ending) {
      this.#setState(ending.state, ending.message ? { message: ending.message } : {});
      return;
    }
    const delay = reconnectDelay(this.#attempt++, this.#o.random);
    this.#setState('waiting', { retryInMs: delay, ...(this.#retryMessage ? { message: this.#retryMessage } : {}) });
    this.#retryTimer = setTimeout(() => this.#open(), delay);
  }

  #control(message: ClientMessage): void {
    if (this.#ws?.readyState === WebSocket.OPEN) this.#ws.send(encode(message));
  }

  #sendFrames(frames: Uint8Array<ArrayBuffer>[]): boolean {
    const ws = this.#ws;
    if (this.#state !== 'open' || !ws || ws.readyState !== WebSocket.OPEN) return false;
    for (const frame of frames) ws.send(frame);
    return true;
  }

  #setState(state: ConnectionState, detail: StateDetail): void {
    this.#state = state;
    if (state !== 'open' && state !== 'connecting' && state !== 'waiting') {
      for (const w of this.#openWaiters.splice(0)) w.fail(new Error(detail.message ?? `terminal ${state}`));
    }
    this.#o.listener.state(state, detail);
  }

  #clearTimers(): void {
    clearTimeout(this.#retryTimer);
    clearTimeout(this.#attachTimer);
    clearTimeout(this.#idleTimer);
    clearTimeout(this.#probeTimer);
    clearInterval(this.#heartbeat);
    this.#heartbeat = undefined;
  }
}

function detach(ws: WebSocket): void {
  ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
}

const sleep = (ms: number) => new Promise<void>((ok) => setTimeout(ok, ms));
