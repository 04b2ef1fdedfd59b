// Builds pcap files of Ethernet/IPv4/TCP packets for the FastCGI decoder's tests.
export interface Packet {
  at: number;
  src: string;
  dst: string;
  srcPort: number;
  dstPort: number;
  seq: number;
  ack?: number;
  flags?: Partial<{ syn: boolean; ack: boolean; fin: boolean; rst: boolean }>;
  payload?: Buffer;
}

export function pcapHeader(): Buffer {
  const h = Buffer.alloc(24);
  h.writeUInt32LE(0xa1b2c3d4, 0);
  h.writeUInt16LE(2, 4);
  h.writeUInt16LE(4, 6);
  h.writeUInt32LE(262144, 16);
  h.writeUInt32LE(1, 20);
  return h;
}

const ip4 = (a: string) => Buffer.from(a.split('.').map(Number));

export function pcapPacket(p: Packet): Buffer {
  const payload = p.payload ?? Buffer.alloc(0);
  const tcp = Buffer.alloc(20);
  tcp.writeUInt16BE(p.srcPort, 0);
  tcp.writeUInt16BE(p.dstPort, 2);
  tcp.writeUInt32BE(p.seq >>> 0, 4);
  tcp.writeUInt32BE((p.ack ?? 0) >>> 0, 8);
  tcp[12] = 5 << 4;
  const f = p.flags ?? { ack: true };
  tcp[13] = (f.fin ? 1 : 0) | (f.syn ? 2 : 0) | (f.rst ? 4 : 0) | (f.ack ? 16 : 0);
  const ip = Buffer.alloc(20);
  ip[0] = 0x45;
  ip.writeUInt16BE(20 + 20 + payload.length, 2);
  ip[8] = 64;
  ip[9] = 6;
  ip4(p.src).copy(ip, 12);
  ip4(p.dst).copy(ip, 16);
  const eth = Buffer.alloc(14);
  eth.writeUInt16BE(0x0800, 12);
  const frame = Buffer.concat([eth, ip, tcp, payload]);
  const rec = Buffer.alloc(16);
  rec.writeUInt32LE(Math.floor(p.at / 1000), 0);
  rec.writeUInt32LE(Math.round((p.at % 1000) * 1000), 4);
  rec.writeUInt32LE(frame.length, 8);
  rec.writeUInt32LE(frame.length, 12);
  return Buffer.concat([rec, frame]);
}

export function pcapFile(packets: Packet[]): Buffer {
  return Buffer.concat([pcapHeader(), ...packets.map(pcapPacket)]);
}

/** One FastCGI record. */
export function fcgiRecord(type: number, requestId: number, content: Buffer, padding = 0): Buffer {
  const h = Buffer.alloc(8);
  h[0] = 1;
  h[1] = type;
  h.writeUInt16BE(requestId, 2);
  h.writeUInt16BE(content.length, 4);
  h[6] = padding;
  return Buffer.concat([h, content, Buffer.alloc(padding)]);
}

/** FastCGI name-value pairs. */
export function nameValues(pairs: [string, string][]): Buffer {
  const len = (n: number) => {
    if (n < 128) return Buffer.from([n]);
    const b = Buffer.alloc(4);
    b.writeUInt32BE((n | 0x80000000) >>> 0);
    return b;
  };
  return Buffer.concat(pairs.flatMap(([n, v]) => [len(Buffer.byteLength(n)), len(Buffer.byteLength(v)), Buffer.from(n), Buffer.from(v)]));
}
