// FastCGI records (FastCGI 1.0 specification, section 3): framing of one direction of a connection, and
// the fields of each record type. Pure; bounded (a record is at most 8 + 65535 + 255 bytes).
import { FASTCGI_PREVIEW_BYTES, type FcgiRecord, type Preview, type RecordType } from '../../protocol/fastcgi.ts';

export const HEADER_BYTES = 8;

const TYPES: Record<number, RecordType> = {
  1: 'BEGIN_REQUEST',
  2: 'ABORT_REQUEST',
  3: 'END_REQUEST',
  4: 'PARAMS',
  5: 'STDIN',
  6: 'STDOUT',
  7: 'STDERR',
  8: 'DATA',
  9: 'GET_VALUES',
  10: 'GET_VALUES_RESULT',
  11: 'UNKNOWN_TYPE',
};
const ROLES = { 1: 'RESPONDER', 2: 'AUTHORIZER', 3: 'FILTER' } as const;
const PROTOCOL_STATUS = { 0: 'REQUEST_COMPLETE', 1: 'CANT_MPX_CONN', 2: 'OVERLOADED', 3: 'UNKNOWN_ROLE' } as const;

export interface RawRecord {
  type: number;
  requestId: number;
  content: Buffer;
}

/** Splits one direction's bytes into records. A version other than 1 means this is not FastCGI: `lost`. */
export class RecordFramer {
  #buf: Buffer = Buffer.alloc(0);
  lost: string | undefined;

  push(bytes: Buffer): RawRecord[] {
    if (this.lost) return [];
    this.#buf = this.#buf.length ? Buffer.concat([this.#buf, bytes]) : bytes;
    const out: RawRecord[] = [];
    let at = 0;
    const b = this.#buf;
    while (b.length - at >= HEADER_BYTES) {
      if (b[at] !== 1) {
        this.lost = `version ${b[at]} where a FastCGI record starts`;
        this.#buf = Buffer.alloc(0);
        return out;
      }
      const length = b.readUInt16BE(at + 4);
      const whole = HEADER_BYTES + length + b[at + 6]!;
      if (b.length - at < whole) break;
      out.push({ type: b[at + 1]!, requestId: b.readUInt16BE(at + 2), content: Buffer.from(b.subarray(at + 8, at + 8 + length)) });
      at += whole;
    }
    this.#buf = Buffer.from(b.subarray(at));
    return out;
  }
}

export function preview(bytes: Buffer): Preview {
  const cut = bytes.subarray(0, FASTCGI_PREVIEW_BYTES);
  return { text: cut.toString('utf8'), bytes: bytes.length, truncated: bytes.length > cut.length };
}

export function typeName(type: number): FcgiRecord['type'] {
  return TYPES[type] ?? `TYPE_${type}`;
}

/** BEGIN_REQUEST's role and flags; END_REQUEST's statuses (short contents give what they can). */
export function fixedFields(type: number, c: Buffer): Partial<FcgiRecord> {
  if (type === 1 && c.length >= 3) {
    const role = c.readUInt16BE(0);
    return { role: ROLES[role as 1] ?? `ROLE_${role}`, keepConn: (c[2]! & 1) === 1 };
  }
  if (type === 3 && c.length >= 5) {
    const status = c[4]!;
    return { appStatus: c.readUInt32BE(0), protocolStatus: PROTOCOL_STATUS[status as 0] ?? `STATUS_${status}` };
  }
  return {};
}

/**
 * Name-value pairs (section 3.4) from the start of `b`: the complete ones, and how many bytes they used
 * (the rest waits for the next record). Lengths of 1 byte, or 4 with the high bit set.
 */
export function nameValuePairs(b: Buffer): { pairs: { name: Buffer; value: Buffer }[]; used: number } {
  const pairs: { name: Buffer; value: Buffer }[] = [];
  let at = 0;
  const length = (o: number): [number, number] | undefined => {
    if (o >= b.length) return undefined;
    if (b[o]! < 0x80) return [b[o]!, 1];
    if (o + 4 > b.length) return undefined;
    return [b.readUInt32BE(o) & 0x7fffffff, 4];
  };
  for (;;) {
    const n = length(at);
    if (!n) break;
    const v = length(at + n[1]);
    if (!v) break;
    const start = at + n[1] + v[1];
    if (start + n[0] + v[0] > b.length) break;
    pairs.push({ name: b.subarray(start, start + n[0]), value: b.subarray(start + n[0], start + n[0] + v[0]) });
    at = start + n[0] + v[0];
  }
  return { pairs, used: at };
}

/** The CGI header block at the start of a response (up to the blank line), or undefined while incomplete. */
export function cgiHeaders(b: Buffer): { name: string; value: string }[] | undefined {
  const text = b.toString('latin1');
  const end = text.search(/\r?\n\r?\n/);
  if (end < 0) return undefined;
  return text
    .slice(0, end)
    .split(/\r?\n/)
    .map((line) => {
      const colon = line.indexOf(':');
      return colon < 0 ? { name: line, value: '' } : { name: line.slice(0, colon).trim(), value: line.slice(colon + 1).trim() };
    });
}
