// The terminal wire protocol, shared by the browser and the server (and nothing else is shared).
// One WebSocket per terminal. Binary frames carry raw terminal bytes (client → server: keystrokes,
// server → client: output). Text frames carry small JSON control messages, validated here.
// It imports nothing, so the browser bundle stays small. Documented in docs/protocol.md.

export const PROTOCOL_VERSION = 1;
/** Path of the WebSocket endpoint on the site's origin. */
export const TERMINAL_PATH = '/api/terminal';
/** Largest frame either side accepts (a paste of a big config file fits; a flood does not). */
export const MAX_FRAME_BYTES = 64 * 1024;
/** Flow control: the server stops reading from the shell while this many bytes are unacknowledged… */
export const HIGH_WATER_BYTES = 512 * 1024;
/** …and resumes below this. The client acknowledges bytes once xterm.js has rendered them. */
export const LOW_WATER_BYTES = 128 * 1024;
/** The client acknowledges at least every ACK_EVERY_BYTES rendered bytes. */
export const ACK_EVERY_BYTES = 32 * 1024;
/** The server pings idle connections this often; a peer silent for 2 intervals is dead. */
export const HEARTBEAT_MS = 15_000;

export type LabState = 'starting' | 'ready' | 'disconnected' | 'expired' | 'exited' | 'error';

export type ClientMessage =
  | { t: 'hello'; v: number; lab: string; host: string; cols: number; rows: number }
  | { t: 'resize'; cols: number; rows: number }
  | { t: 'ack'; bytes: number }
  | { t: 'pause' }
  | { t: 'resume' }
  | { t: 'ping'; id: number };

export type ServerMessage =
  | { t: 'hello'; v: number; labId: string; host: string; hosts: string[]; resumed: boolean; expiresAt: number }
  | { t: 'status'; state: LabState; message?: string }
  | { t: 'error'; code: ErrorCode; message: string }
  | { t: 'pong'; id: number };

export type ErrorCode =
  | 'bad-message'
  | 'too-large'
  | 'version'
  | 'unknown-lab'
  | 'unknown-host'
  | 'no-room'
  | 'rate-limited'
  | 'expired'
  | 'engine'
  | 'not-ready';

export class ProtocolError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

const NAME = /^[a-z][a-z0-9-]{0,30}$/;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
function intIn(v: unknown, min: number, max: number): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;
}
function size(m: Record<string, unknown>): boolean {
  return intIn(m.cols, 1, 1000) && intIn(m.rows, 1, 500);
}

/** Parses a client text frame; throws ProtocolError with a message that says what was wrong. */
export function parseClientMessage(text: string): ClientMessage {
  if (text.length > MAX_FRAME_BYTES) throw new ProtocolError('too-large', `control message over ${MAX_FRAME_BYTES} bytes`);
  let m: unknown;
  try {
    m = JSON.parse(text);
  } catch {
    throw new ProtocolError('bad-message', 'control message is not JSON');
  }
  if (!isObject(m) || typeof m.t !== 'string') throw new ProtocolError('bad-message', 'control message needs a string field "t"');
  switch (m.t) {
    case 'hello':
      if (!intIn(m.v, 0, 1000)) throw new ProtocolError('bad-message', 'hello needs an integer version "v"');
      if (m.v !== PROTOCOL_VERSION)
        throw new ProtocolError('version', `protocol version ${m.v} not supported (server speaks ${PROTOCOL_VERSION})`);
      if (typeof m.lab !== 'string' || !NAME.test(m.lab)) throw new ProtocolError('bad-message', 'hello needs a lab name');
      if (typeof m.host !== 'string' || !NAME.test(m.host)) throw new ProtocolError('bad-message', 'hello needs a host name');
      if (!size(m)) throw new ProtocolError('bad-message', 'hello needs cols (1-1000) and rows (1-500)');
      return { t: 'hello', v: m.v, lab: m.lab, host: m.host, cols: m.cols as number, rows: m.rows as number };
    case 'resize':
      if (!size(m)) throw new ProtocolError('bad-message', 'resize needs cols (1-1000) and rows (1-500)');
      return { t: 'resize', cols: m.cols as number, rows: m.rows as number };
    case 'ack':
      if (!intIn(m.bytes, 0, 2 ** 31)) throw new ProtocolError('bad-message', 'ack needs a byte count');
      return { t: 'ack', bytes: m.bytes };
    case 'pause':
      return { t: 'pause' };
    case 'resume':
      return { t: 'resume' };
    case 'ping':
      if (!intIn(m.id, 0, 2 ** 31)) throw new ProtocolError('bad-message', 'ping needs an integer id');
      return { t: 'ping', id: m.id };
    default:
      throw new ProtocolError('bad-message', `unknown control message "${String(m.t).slice(0, 32)}"`);
  }
}

/** Parses a server text frame (browser side). Unknown or malformed messages return null: the client ignores them. */
export function parseServerMessage(text: string): ServerMessage | null {
  let m: unknown;
  try {
    m = JSON.parse(text);
  } catch {
    return null;
  }
  if (!isObject(m) || typeof m.t !== 'string') return null;
  const str = (v: unknown) => typeof v === 'string';
  switch (m.t) {
    case 'hello':
      return str(m.labId) && str(m.host) && Array.isArray(m.hosts) && m.hosts.every(str) && typeof m.resumed === 'boolean'
        ? (m as ServerMessage)
        : null;
    case 'status':
      return str(m.state) && (m.message === undefined || str(m.message)) ? (m as ServerMessage) : null;
    case 'error':
      return str(m.code) && str(m.message) ? (m as ServerMessage) : null;
    case 'pong':
      return intIn(m.id, 0, 2 ** 31) ? (m as ServerMessage) : null;
    default:
      return null;
  }
}

export function encode(message: ClientMessage | ServerMessage): string {
  return JSON.stringify(message);
}
