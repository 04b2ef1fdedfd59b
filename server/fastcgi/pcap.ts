// A pcap byte stream (tcpdump -w -) → IPv4 TCP segments. Pure and incremental: bytes come in any
// chunks; anything that is not a well-formed IPv4 TCP packet is skipped. A header that makes no sense
// (a bad magic, a packet longer than the snap length) stops the stream: `broken` says why.

export interface TcpSegment {
  /** ms since the epoch */
  at: number;
  src: string;
  dst: string;
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  flags: { syn: boolean; ack: boolean; fin: boolean; rst: boolean };
  payload: Buffer;
}

const MAX_PACKET = 262_144;
/** The file's magic number, read little-endian: byte order and time unit. */
const MAGIC = new Map([
  [0xa1b2c3d4, { little: true, nanos: false }],
  [0xd4c3b2a1, { little: false, nanos: false }],
  [0xa1b23c4d, { little: true, nanos: true }],
  [0x4d3cb2a1, { little: false, nanos: true }],
]);
const LINK = { ethernet: 1, raw: 101, linuxSll: 113, linuxSll2: 276 } as const;

export class PcapReader {
  #buf: Buffer = Buffer.alloc(0);
  #header: { little: boolean; nanos: boolean; link: number } | undefined;
  broken: string | undefined;

  /** Feeds bytes; returns the TCP segments of the packets they complete. Never throws. */
  push(chunk: Buffer): TcpSegment[] {
    if (this.broken) return [];
    this.#buf = this.#buf.length ? Buffer.concat([this.#buf, chunk]) : chunk;
    const out: TcpSegment[] = [];
    let at = 0;
    const b = this.#buf;
    if (!this.#header) {
      if (b.length < 24) return out;
      const magic = b.readUInt32LE(0);
      const kind = MAGIC.get(magic);
      if (!kind) return this.#break('not a pcap stream');
      this.#header = { ...kind, link: (kind.little ? b.readUInt32LE(20) : b.readUInt32BE(20)) & 0xffff };
      at = 24;
    }
    const h = this.#header;
    const u32 = (o: number) => (h.little ? b.readUInt32LE(o) : b.readUInt32BE(o));
    while (b.length - at >= 16) {
      const included = u32(at + 8);
      if (included > MAX_PACKET) return this.#break(`packet of ${included} bytes`);
      if (b.length - at < 16 + included) break;
      const time = u32(at) * 1000 + u32(at + 4) / (h.nanos ? 1e6 : 1e3);
      const segment = tcpOf(b.subarray(at + 16, at + 16 + included), h.link, time);
      if (segment) out.push(segment);
      at += 16 + included;
    }
    this.#buf = Buffer.from(b.subarray(at));
    return out;
  }

  #break(why: string): TcpSegment[] {
    this.broken = why;
    this.#buf = Buffer.alloc(0);
    return [];
  }
}

/** The IPv4 TCP segment in one captured frame, or undefined. */
export function tcpOf(frame: Buffer, link: number, at: number): TcpSegment | undefined {
  let ip: number;
  if (link === LINK.ethernet) {
    if (frame.length < 14) return undefined;
    let type = frame.readUInt16BE(12);
    ip = 14;
    if (type === 0x8100 && frame.length >= 18) (type = frame.readUInt16BE(16)), (ip = 18);
    if (type !== 0x0800) return undefined;
  } else if (link === LINK.raw) ip = 0;
  else if (link === LINK.linuxSll) {
    if (frame.length < 16 || frame.readUInt16BE(14) !== 0x0800) return undefined;
    ip = 16;
  } else if (link === LINK.linuxSll2) {
    if (frame.length < 20 || frame.readUInt16BE(0) !== 0x0800) return undefined;
    ip = 20;
  } else return undefined;
  if (frame.length < ip + 20 || frame[ip]! >> 4 !== 4) return undefined;
  const ihl = (frame[ip]! & 0x0f) * 4;
  const total = frame.readUInt16BE(ip + 2);
  // Fragments are not reassembled (lab MTUs never fragment FastCGI's TCP); protocol 6 is TCP.
  if (ihl < 20 || frame[ip + 9] !== 6 || (frame.readUInt16BE(ip + 6) & 0x3fff) !== 0) return undefined;
  const end = Math.min(frame.length, ip + total);
  const tcp = ip + ihl;
  if (end < tcp + 20) return undefined;
  const offset = (frame[tcp + 12]! >> 4) * 4;
  if (offset < 20 || tcp + offset > end) return undefined;
  const flags = frame[tcp + 13]!;
  const addr = (o: number) => `${frame[o]}.${frame[o + 1]}.${frame[o + 2]}.${frame[o + 3]}`;
  return {
    at,
    src: addr(ip + 12),
    dst: addr(ip + 16),
    srcPort: frame.readUInt16BE(tcp),
    dstPort: frame.readUInt16BE(tcp + 2),
    seq: frame.readUInt32BE(tcp + 4),
    ack: frame.readUInt32BE(tcp + 8),
    flags: { fin: (flags & 1) !== 0, syn: (flags & 2) !== 0, rst: (flags & 4) !== 0, ack: (flags & 16) !== 0 },
    payload: Buffer.from(frame.subarray(tcp + offset, end)),
  };
}
