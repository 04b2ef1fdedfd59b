// The terminal WebSocket endpoint: checks who connects and from where, then relays bytes between one
// WebSocket and one ShellSession, with flow control and heartbeats. Malformed input gets an error
// frame; nothing a client sends can throw out of here.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import {
  encode,
  HEARTBEAT_MS,
  MAX_FRAME_BYTES,
  parseClientMessage,
  ProtocolError,
  PROTOCOL_VERSION,
  TERMINAL_PATH,
  type ErrorCode,
  type ServerMessage,
} from '../../protocol/terminal.ts';
import type { Identity } from '../http/identity.ts';
import { originAllowed } from '../http/origin.ts';
import type { RateLimiter } from '../http/rate-limit.ts';
import { UnknownLabError, type LabAccess } from './ports.ts';
import { InputActivity } from './input-activity.ts';
import { GATEWAY_MESSAGES as M } from './messages.ts';
import { ShellSession, type ShellClient } from './shell-session.ts';

export interface GatewayOptions {
  labs: LabAccess;
  identity: Identity;
  allowedOrigins: ReadonlySet<string>;
  connectionsPerLearner: number;
  connectLimiter: RateLimiter;
  /** per-address limit of connections (absent: none) */
  addressAllowed?: (req: IncomingMessage) => boolean;
  graceMs: number;
  /** a terminal's output rate past its burst while others type (0: none), see ShellSession */
  outputBytesPerSecond?: number;
  helloTimeoutMs?: number;
  log?: (msg: string) => void;
}

export class TerminalGateway {
  readonly #wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES, perMessageDeflate: false });
  readonly #sessions = new Map<string, ShellSession>();
  readonly #opening = new Map<string, Promise<ShellSession>>();
  readonly #perLearner = new Map<string, number>();
  readonly #activity = new InputActivity();
  readonly #opts: GatewayOptions;
  readonly #heartbeat: NodeJS.Timeout;

  constructor(opts: GatewayOptions) {
    this.#opts = opts;
    this.#heartbeat = setInterval(() => this.#beat(), HEARTBEAT_MS);
    this.#heartbeat.unref();
  }

  /** Shell sessions alive now (attached or within their grace period). */
  get sessionCount(): number {
    return this.#sessions.size;
  }

  /** Peak bytes queued for a client across live sessions (benchmarks). */
  peakQueued(): number {
    let peak = 0;
    for (const s of this.#sessions.values()) peak = Math.max(peak, s.peakQueued);
    return peak;
  }

  /** Handles an HTTP upgrade; returns false when the path is not ours (e.g. Vite's HMR socket). */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    const path = (req.url ?? '').split('?')[0];
    if (path !== TERMINAL_PATH) return false;
    socket.on('error', () => socket.destroy());
    const refuse = (status: number, text: string) => {
      socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    };
    if (!originAllowed(req, this.#opts.allowedOrigins)) return (refuse(403, 'Forbidden'), true);
    const learner = this.#opts.identity.identify(req);
    if (!learner) return (refuse(401, 'Unauthorized'), true);
    if (this.#opts.addressAllowed && !this.#opts.addressAllowed(req)) return (refuse(429, 'Too Many Requests'), true);
    if (!this.#opts.connectLimiter.take(learner) || (this.#perLearner.get(learner) ?? 0) >= this.#opts.connectionsPerLearner) {
      return (refuse(429, 'Too Many Requests'), true);
    }
    this.#wss.handleUpgrade(req, socket, head, (ws) => this.#serve(ws, learner));
    return true;
  }

  /**
   * Ends every shell held for this lab instance: after a reset its hosts are new, and a shell of the old
   * ones (still held in its grace period, or still draining output it was sent) must never be resumed.
   */
  async endLab(labId: string): Promise<void> {
    const ending = [...this.#sessions].filter(([key]) => key.split('\u0000')[1] === labId);
    for (const [key] of ending) this.#sessions.delete(key);
    await Promise.all(ending.map(([, s]) => s.close()));
  }

  async close(): Promise<void> {
    clearInterval(this.#heartbeat);
    for (const ws of this.#wss.clients) ws.terminate();
    await Promise.all([...this.#sessions.values()].map((s) => s.close()));
    this.#wss.close();
  }

  #beat(): void {
    for (const ws of this.#wss.clients) {
      const alive = ws as WebSocket & { atelierAlive?: boolean };
      if (alive.atelierAlive === false) {
        ws.terminate(); // silent for a whole interval: a dead peer (laptop asleep, cable pulled)
        continue;
      }
      alive.atelierAlive = false;
      ws.ping();
    }
  }

  #serve(ws: WebSocket, learner: string): void {
    this.#perLearner.set(learner, (this.#perLearner.get(learner) ?? 0) + 1);
    const alive = ws as WebSocket & { atelierAlive?: boolean };
    alive.atelierAlive = true;
    ws.on('pong', () => (alive.atelierAlive = true));
    const send = (m: ServerMessage) => {
      if (ws.readyState === ws.OPEN) ws.send(encode(m));
    };
    const fail = (code: ErrorCode, message: string, close = false) => {
      send({ t: 'error', code, message });
      if (close) ws.close(4000, code);
    };

    let session: ShellSession | null = null;
    let client: ShellClient | null = null;
    const input = new InputGate(ws, (close) => fail('rate-limited', M.inputDropped, close));
    let labId = '';
    let helloSeen = false;
    // A resize that comes while the shell is being attached (the panel fits the terminal once its font
    // has loaded) is applied after: dropped, it left readline a few columns off the screen (issue 11).
    let pendingSize: { cols: number; rows: number } | undefined;
    const helloTimer = setTimeout(() => fail('bad-message', M.noHello, true), this.#opts.helloTimeoutMs ?? 10_000);

    ws.on('message', (data: RawData, isBinary: boolean) => {
      alive.atelierAlive = true;
      try {
        const bytes = toBuffer(data);
        if (isBinary) {
          if (!session) throw new ProtocolError('not-ready', 'terminal not attached yet: send hello first');
          input.write(session, bytes);
          this.#opts.labs.touch(labId);
          return;
        }
        const msg = parseClientMessage(bytes.toString('utf8'));
        switch (msg.t) {
          case 'hello': {
            if (helloSeen) throw new ProtocolError('bad-message', 'hello sent twice');
            helloSeen = true;
            clearTimeout(helloTimer);
            void this.#attach(learner, msg.lab, msg.host, { cols: msg.cols, rows: msg.rows }, ws, send).then(
              (attached) => {
                if (!attached) return;
                ({ session, client, labId } = attached);
                if (pendingSize) void session.shell.resize(pendingSize.cols, pendingSize.rows).catch(() => {});
                pendingSize = undefined;
              },
              (err: unknown) => {
                const [code, message] = describe(err);
                fail(code, message, true);
              },
            );
            return;
          }
          case 'resize':
            if (session) void session.shell.resize(msg.cols, msg.rows).catch(() => {});
            else if (helloSeen) pendingSize = { cols: msg.cols, rows: msg.rows };
            return;
          case 'ack':
            session?.ack(msg.bytes);
            return;
          case 'pause':
            session?.hold(true);
            return;
          case 'resume':
            session?.hold(false);
            return;
          case 'ping':
            send({ t: 'pong', id: msg.id });
            return;
        }
      } catch (err) {
        const [code, message] = describe(err);
        fail(code, message);
      }
    });

    ws.on('error', () => ws.terminate());
    ws.on('close', () => {
      clearTimeout(helloTimer);
      const n = (this.#perLearner.get(learner) ?? 1) - 1;
      if (n <= 0) this.#perLearner.delete(learner);
      else this.#perLearner.set(learner, n);
      if (session && client) session.detach(client);
    });
  }

  async #attach(
    learner: string,
    name: string,
    host: string,
    size: { cols: number; rows: number },
    ws: WebSocket,
    send: (m: ServerMessage) => void,
  ): Promise<{ session: ShellSession; client: ShellClient; labId: string } | null> {
    const lab = await this.#opts.labs.find(learner, name);
    if (!lab) throw new ProtocolError('unknown-lab', M.noSuchLab(name));
    if (lab.state === 'expired') throw new ProtocolError('expired', M.expired);
    if (!lab.hosts.includes(host)) throw new ProtocolError('unknown-host', M.noSuchHost(name, host));
    if (ws.readyState !== ws.OPEN) return null;

    const key = `${learner}\u0000${lab.labId}\u0000${host}`;
    const existing = this.#sessions.get(key);
    const resumed = Boolean(existing && !existing.closed);
    const session = resumed ? existing! : await this.#open(key, lab.labId, host, size);
    if (ws.readyState !== ws.OPEN) return null; // the client left while the shell was opening

    const client: ShellClient = {
      send: (data) => {
        if (ws.readyState === ws.OPEN) ws.send(data, { binary: true });
        return ws.bufferedAmount;
      },
      end: (reason) => {
        if (reason === 'replaced') send({ t: 'status', state: 'disconnected', message: M.replaced });
        else send({ t: 'status', state: 'exited', message: M.exited });
        ws.close(1000, reason);
      },
    };
    send({ t: 'hello', v: PROTOCOL_VERSION, labId: lab.labId, host, hosts: lab.hosts, resumed, expiresAt: lab.expiresAt });
    const replay = session.attach(client);
    if (resumed && replay.length > 0) client.send(replay);
    if (resumed) void session.shell.resize(size.cols, size.rows).catch(() => {});
    send({ t: 'status', state: 'ready' });
    this.#opts.labs.touch(lab.labId);
    return { session, client, labId: lab.labId };
  }

  /** Opens one shell per key even when two connections ask at the same moment. */
  #open(key: string, labId: string, host: string, size: { cols: number; rows: number }): Promise<ShellSession> {
    const pending = this.#opening.get(key);
    if (pending) return pending;
    const opening = this.#opts.labs
      .openShell(labId, host, size)
      .then((shell) => {
        const session = new ShellSession(shell, {
          graceMs: this.#opts.graceMs,
          outputBytesPerSecond: this.#opts.outputBytesPerSecond ?? 0,
          activity: this.#activity,
          onClose: () => {
            if (this.#sessions.get(key) === session) this.#sessions.delete(key);
          },
        });
        this.#sessions.set(key, session);
        return session;
      })
      .finally(() => this.#opening.delete(key));
    this.#opening.set(key, opening);
    return opening;
  }
}

/** How long a connection's reading waits for a shell that does not read its input, before input is dropped. */
const INPUT_HOLD_MS = 3000;
/** While input is dropped, the connection is read at this pace: frames are parsed (control messages go on) without churning memory… */
const DROP_BYTES_PER_SECOND = 1024 * 1024;
/** …and past this much dropped input the connection is closed (the client comes back to the same shell). */
const DROP_MAX_BYTES = 4 * 1024 * 1024;

/**
 * Input flow control for one connection. When the engine is behind on a shell's input (a paste into a
 * slow program), the WebSocket is read no further, so TCP holds the client back. A shell that reads
 * nothing for INPUT_HOLD_MS (`stty -echo -icanon; sleep 60`, output stopped by Ctrl-S) would hold the
 * connection's control messages too (pings, acks, resizes): reading resumes, and its input is dropped,
 * as a terminal drops what overflows its line, until the engine takes input again, and is read at
 * DROP_BYTES_PER_SECOND; a client that keeps pushing past DROP_MAX_BYTES is disconnected. Memory stays
 * bounded either way.
 */
class InputGate {
  #state: 'open' | 'held' | 'dropping' = 'open';
  #dropped = 0;
  readonly #ws: WebSocket;
  readonly #onDrop: (close: boolean) => void;

  constructor(ws: WebSocket, onDrop: (close: boolean) => void) {
    this.#ws = ws;
    this.#onDrop = onDrop;
  }

  write(session: ShellSession, bytes: Buffer): void {
    if (this.#state === 'dropping') {
      this.#dropped += bytes.length;
      if (this.#dropped > DROP_MAX_BYTES) {
        this.#onDrop(true);
        return;
      }
      // Read no faster than DROP_BYTES_PER_SECOND: paused for the time this frame is worth.
      this.#ws.pause();
      setTimeout(() => this.#state === 'dropping' && this.#ws.resume(), Math.ceil((bytes.length * 1000) / DROP_BYTES_PER_SECOND)).unref();
      return;
    }
    if (session.input(bytes) || this.#state === 'held') return;
    this.#state = 'held';
    this.#ws.pause();
    const hold = setTimeout(() => {
      this.#state = 'dropping';
      this.#dropped = 0;
      this.#ws.resume();
      this.#onDrop(false);
    }, INPUT_HOLD_MS);
    void session.shell.drained().then(() => {
      clearTimeout(hold);
      if (this.#state !== 'open') this.#ws.resume();
      this.#state = 'open';
    });
  }
}

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

function describe(err: unknown): [ErrorCode, string] {
  if (err instanceof ProtocolError) return [err.code, err.message];
  if (err instanceof UnknownLabError) return ['unknown-lab', err.message];
  return ['engine', M.engine];
}
