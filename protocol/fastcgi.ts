// The FastCGI view's wire messages, shared by the browser and the server: what the backend decoded from
// the capture of the learner's own lab (server/fastcgi/), one JSON text frame per event on its own
// WebSocket. Imports nothing. Documented in docs/protocol.md.

export const FASTCGI_PATH = '/api/fastcgi';
export const FASTCGI_VERSION = 1;

/** Bytes of a body (STDIN, STDOUT, STDERR) or of a parameter value shown; the sizes are always whole. */
export const FASTCGI_PREVIEW_BYTES = 1024;

/** web → php-fpm, or php-fpm → web */
export type Direction = 'to-php' | 'to-web';

export type RecordType =
  | 'BEGIN_REQUEST'
  | 'ABORT_REQUEST'
  | 'END_REQUEST'
  | 'PARAMS'
  | 'STDIN'
  | 'STDOUT'
  | 'STDERR'
  | 'DATA'
  | 'GET_VALUES'
  | 'GET_VALUES_RESULT'
  | 'UNKNOWN_TYPE';

/** A text shown cut to FASTCGI_PREVIEW_BYTES; `bytes` is the whole size. */
export interface Preview {
  text: string;
  bytes: number;
  truncated: boolean;
}

/** One FastCGI record, as it crossed the wire. `at`: capture time, ms since the epoch (the backend's clock). */
export interface FcgiRecord {
  t: 'record';
  /** the TCP connection, numbered by the backend from 1 */
  conn: number;
  at: number;
  dir: Direction;
  type: RecordType | `TYPE_${number}`;
  requestId: number;
  /** content length (padding excluded) */
  length: number;
  /** BEGIN_REQUEST */
  role?: 'RESPONDER' | 'AUTHORIZER' | 'FILTER' | `ROLE_${number}`;
  keepConn?: boolean;
  /** PARAMS: the name-value pairs this record completes (a pair may span records); empty record: end of the stream */
  params?: { name: string; value: Preview }[];
  /** STDIN, STDOUT, STDERR, DATA: this record's content; an empty one ends the stream */
  body?: Preview;
  /** STDOUT: the CGI headers, on the record that completes them */
  headers?: { name: string; value: string }[];
  /** END_REQUEST */
  appStatus?: number;
  protocolStatus?: 'REQUEST_COMPLETE' | 'CANT_MPX_CONN' | 'OVERLOADED' | 'UNKNOWN_ROLE' | `STATUS_${number}`;
}

/**
 * TCP events: `connect` (web's SYN), `refused` (that SYN answered by RST: nothing listens, the 502/503 of
 * the chapter), `close` (FIN or RST), `lost` (bytes that are not FastCGI or were missed: the rest of that
 * connection is skipped).
 */
export interface FcgiConnectionEvent {
  t: 'connect' | 'refused' | 'close' | 'lost';
  conn: number;
  at: number;
  reset?: boolean;
  /** lost: why, in English for the log, shown as is */
  detail?: string;
}

/**
 * A request ended (its END_REQUEST): for the preview's timing bars, the moment PHP-FPM said the request was
 * over, with what identifies the request. With fastcgi_finish_request() this comes before the script ends.
 */
export interface FcgiRequestEnd {
  t: 'request-end';
  conn: number;
  requestId: number;
  beganAt: number;
  endedAt: number;
  appStatus: number;
  /** from PARAMS, when seen */
  requestUri?: string;
  scriptFilename?: string;
}

export type FcgiEvent = FcgiRecord | FcgiConnectionEvent | FcgiRequestEnd;

/** Server → client: watching (`host`, `port`), unavailable (French `message`: a unix socket, no lab…), or an event. */
export type FastcgiServerMessage =
  | { t: 'watching'; host: string; port: number }
  | { t: 'unavailable'; reason: 'unix-socket' | 'no-lab' | 'engine' | 'bad-message'; message: string }
  | FcgiEvent;

/** Client → server: the one message, first and only. */
export interface FastcgiWatch {
  t: 'watch';
  v: number;
  lab: string;
}

const NAME = /^[a-z][a-z0-9-]{0,30}$/;

/** Server side: a watch message, or null (the server answers bad-message and closes). */
export function parseWatch(text: string): FastcgiWatch | null {
  if (text.length > 1024) return null;
  try {
    const m = JSON.parse(text) as Record<string, unknown>;
    if (m?.t !== 'watch' || m.v !== FASTCGI_VERSION || typeof m.lab !== 'string' || !NAME.test(m.lab)) return null;
    return { t: 'watch', v: FASTCGI_VERSION, lab: m.lab };
  } catch {
    return null;
  }
}

/** Browser side: a server message, or null for anything unknown or malformed (ignored). */
export function parseFastcgiMessage(text: string): FastcgiServerMessage | null {
  let m: unknown;
  try {
    m = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof m !== 'object' || m === null || Array.isArray(m)) return null;
  const o = m as Record<string, unknown>;
  const num = (v: unknown) => typeof v === 'number' && Number.isFinite(v);
  switch (o.t) {
    case 'watching':
      return typeof o.host === 'string' && num(o.port) ? (o as unknown as FastcgiServerMessage) : null;
    case 'unavailable':
      return typeof o.reason === 'string' && typeof o.message === 'string' ? (o as unknown as FastcgiServerMessage) : null;
    case 'record':
      return num(o.conn) && num(o.at) && num(o.requestId) && typeof o.type === 'string' && (o.dir === 'to-php' || o.dir === 'to-web')
        ? (o as unknown as FastcgiServerMessage)
        : null;
    case 'connect':
    case 'refused':
    case 'close':
    case 'lost':
      return num(o.conn) && num(o.at) ? (o as unknown as FastcgiServerMessage) : null;
    case 'request-end':
      return num(o.conn) && num(o.requestId) && num(o.beganAt) && num(o.endedAt) ? (o as unknown as FastcgiServerMessage) : null;
    default:
      return null;
  }
}
