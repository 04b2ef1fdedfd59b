// A capture of port `port` → FastCGI events: TCP reassembly per connection and direction, then records,
// with the state a record needs from the ones before it (PARAMS pairs spanning records, STDOUT's CGI
// headers, a request's start for its END_REQUEST). Pure, incremental, bounded, and nothing thrown:
// garbage becomes a `lost` event and the rest of that connection is skipped.
import type { Direction, FcgiEvent, FcgiRecord } from '../../protocol/fastcgi.ts';
import { PcapReader, type TcpSegment } from './pcap.ts';
import { cgiHeaders, fixedFields, nameValuePairs, preview, RecordFramer, typeName } from './records.ts';

export const LIMITS = {
  connections: 64,
  /** bytes held out of order per direction before the gap is given up */
  outOfOrderBytes: 256 * 1024,
  requestsPerConnection: 64,
  /** a PARAMS stream, and the start of a STDOUT stream searched for headers */
  paramsBytes: 64 * 1024,
  headerBytes: 8 * 1024,
} as const;

interface Request {
  beganAt: number;
  params: Buffer;
  stdout: Buffer;
  headersDone: boolean;
  requestUri?: string;
  scriptFilename?: string;
}

interface Flow {
  /** next expected sequence number, once known */
  next: number | undefined;
  held: Map<number, Buffer>;
  heldBytes: number;
  framer: RecordFramer;
  fin: boolean;
}

interface Connection {
  id: number;
  synAt: number | undefined;
  established: boolean;
  flows: Record<Direction, Flow>;
  requests: Map<number, Request>;
  lost: boolean;
}

const newFlow = (): Flow => ({ next: undefined, held: new Map(), heldBytes: 0, framer: new RecordFramer(), fin: false });
/** signed distance a - b in sequence space */
const seqDiff = (a: number, b: number) => (a - b) | 0;

export class FastcgiDecoder {
  readonly #port: number;
  readonly #pcap = new PcapReader();
  readonly #connections = new Map<string, Connection>();
  #count = 0;
  #brokenTold = false;

  constructor(port: number) {
    this.#port = port;
  }

  /** pcap bytes in, events out. Never throws. */
  push(chunk: Buffer): FcgiEvent[] {
    const out: FcgiEvent[] = [];
    try {
      for (const s of this.#pcap.push(chunk)) this.#segment(s, out);
    } catch (err) {
      // A bug here must not take the backend down: the capture goes on without the faulty connection state.
      this.#connections.clear();
      out.push({ t: 'lost', conn: 0, at: Date.now(), detail: `decoder: ${(err as Error).message}` });
    }
    if (this.#pcap.broken && !this.#brokenTold) {
      this.#brokenTold = true;
      out.push({ t: 'lost', conn: 0, at: Date.now(), detail: `capture: ${this.#pcap.broken}` });
    }
    return out;
  }

  #segment(s: TcpSegment, out: FcgiEvent[]): void {
    let dir: Direction;
    let key: string;
    if (s.dstPort === this.#port) (dir = 'to-php'), (key = `${s.src}:${s.srcPort}>${s.dst}`);
    else if (s.srcPort === this.#port) (dir = 'to-web'), (key = `${s.dst}:${s.dstPort}>${s.src}`);
    else return;
    let c = this.#connections.get(key);
    if (s.flags.syn && !s.flags.ack && dir === 'to-php') {
      // A new connection (or the same port reused): start afresh.
      c = this.#open(key);
      c.synAt = s.at;
      c.flows['to-php'].next = (s.seq + 1) >>> 0;
      out.push({ t: 'connect', conn: c.id, at: s.at });
      return;
    }
    if (!c) {
      // A last ACK after the close, or a reset of nothing known: no connection to draw.
      if (s.flags.rst || !s.payload.length) return;
      c = this.#open(key); // caught mid-connection (keep-alive opened before the capture)
      out.push({ t: 'connect', conn: c.id, at: s.at });
    }
    if (s.flags.rst) {
      out.push(
        !c.established && dir === 'to-web' && c.synAt !== undefined
          ? { t: 'refused', conn: c.id, at: s.at }
          : { t: 'close', conn: c.id, at: s.at, reset: true },
      );
      this.#connections.delete(key);
      return;
    }
    const flow = c.flows[dir];
    if (s.flags.syn) {
      c.established = true;
      flow.next = (s.seq + 1) >>> 0;
      return;
    }
    c.established = true;
    if (flow.next === undefined) flow.next = s.seq;
    if (s.payload.length) this.#data(c, dir, s.seq, s.payload, s.at, out);
    if (s.flags.fin) {
      flow.fin = true;
      if (c.flows['to-php'].fin && c.flows['to-web'].fin) {
        out.push({ t: 'close', conn: c.id, at: s.at });
        this.#connections.delete(key);
      }
    }
  }

  #open(key: string): Connection {
    this.#connections.delete(key);
    if (this.#connections.size >= LIMITS.connections) {
      const oldest = this.#connections.keys().next().value;
      if (oldest !== undefined) this.#connections.delete(oldest);
    }
    const c: Connection = {
      id: ++this.#count,
      synAt: undefined,
      established: false,
      flows: { 'to-php': newFlow(), 'to-web': newFlow() },
      requests: new Map(),
      lost: false,
    };
    this.#connections.set(key, c);
    return c;
  }

  /** In-order bytes go to the records; early ones wait (bounded); repeated ones are dropped. */
  #data(c: Connection, dir: Direction, seq: number, payload: Buffer, at: number, out: FcgiEvent[]): void {
    const flow = c.flows[dir];
    let d = seqDiff(seq, flow.next!);
    if (d < 0) {
      if (-d >= payload.length) return; // a retransmission of bytes already seen
      payload = payload.subarray(-d);
      seq = flow.next!;
      d = 0;
    }
    if (d > 0) {
      if (!flow.held.has(seq)) {
        flow.held.set(seq, payload);
        flow.heldBytes += payload.length;
      }
      if (flow.heldBytes > LIMITS.outOfOrderBytes) this.#lose(c, at, `${dir}: a gap in the stream (missed packets)`, out);
      return;
    }
    this.#bytes(c, dir, payload, at, out);
    flow.next = (flow.next! + payload.length) >>> 0;
    // Then whatever was waiting for these bytes.
    for (let again = true; again && flow.held.size; ) {
      again = false;
      for (const [s, p] of flow.held) {
        const gap = seqDiff(s, flow.next!);
        if (gap > 0) continue;
        flow.held.delete(s);
        flow.heldBytes -= p.length;
        if (-gap < p.length) {
          const rest = p.subarray(-gap);
          this.#bytes(c, dir, rest, at, out);
          flow.next = (flow.next! + rest.length) >>> 0;
        }
        again = true;
      }
    }
  }

  #lose(c: Connection, at: number, detail: string, out: FcgiEvent[]): void {
    if (c.lost) return;
    c.lost = true;
    c.requests.clear();
    for (const f of Object.values(c.flows)) (f.held = new Map()), (f.heldBytes = 0);
    out.push({ t: 'lost', conn: c.id, at, detail });
  }

  #bytes(c: Connection, dir: Direction, bytes: Buffer, at: number, out: FcgiEvent[]): void {
    if (c.lost) return;
    const framer = c.flows[dir].framer;
    for (const r of framer.push(bytes)) this.#record(c, dir, r.type, r.requestId, r.content, at, out);
    if (framer.lost) this.#lose(c, at, `${dir}: ${framer.lost}`, out);
  }

  #record(c: Connection, dir: Direction, type: number, requestId: number, content: Buffer, at: number, out: FcgiEvent[]): void {
    const record: FcgiRecord = {
      t: 'record',
      conn: c.id,
      at,
      dir,
      type: typeName(type),
      requestId,
      length: content.length,
      ...fixedFields(type, content),
    };
    let request = c.requests.get(requestId);
    if (type === 1) {
      if (!request && c.requests.size >= LIMITS.requestsPerConnection) c.requests.delete(c.requests.keys().next().value!);
      request = { beganAt: at, params: Buffer.alloc(0), stdout: Buffer.alloc(0), headersDone: false };
      c.requests.set(requestId, request);
    } else if (type === 4) {
      const stream = request ? Buffer.concat([request.params, content]) : content;
      const { pairs, used } = nameValuePairs(stream);
      record.params = pairs.map((p) => ({ name: p.name.toString('latin1').slice(0, 256), value: preview(p.value) }));
      if (request) {
        request.params = Buffer.from(stream.subarray(used, used + LIMITS.paramsBytes));
        for (const p of pairs) {
          const name = p.name.toString('latin1');
          if (name === 'REQUEST_URI') request.requestUri = p.value.toString('utf8').slice(0, 1024);
          if (name === 'SCRIPT_FILENAME') request.scriptFilename = p.value.toString('utf8').slice(0, 1024);
        }
      }
    } else if (type >= 5 && type <= 8) {
      record.body = preview(content);
      if (type === 6 && request && !request.headersDone && content.length) {
        request.stdout = Buffer.concat([request.stdout, content]).subarray(0, LIMITS.headerBytes);
        const headers = cgiHeaders(request.stdout);
        if (headers) (record.headers = headers), (request.headersDone = true), (request.stdout = Buffer.alloc(0));
      }
    }
    out.push(record);
    if (type === 3) {
      out.push({
        t: 'request-end',
        conn: c.id,
        requestId,
        beganAt: request?.beganAt ?? at,
        endedAt: at,
        appStatus: record.appStatus ?? 0,
        ...(request?.requestUri !== undefined && { requestUri: request.requestUri }),
        ...(request?.scriptFilename !== undefined && { scriptFilename: request.scriptFilename }),
      });
      c.requests.delete(requestId);
    }
  }
}
