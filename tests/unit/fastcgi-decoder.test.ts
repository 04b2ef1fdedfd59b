// The FastCGI decoder (server/fastcgi/): on captures recorded from the real labs through the capture helper
// (tests/fixtures/fastcgi/record.ts), and with properties: any segmentation, any order of arrival, and any
// garbage.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import type { FcgiEvent, FcgiRecord, FcgiRequestEnd } from '../../protocol/fastcgi.ts';
import { FastcgiDecoder, LIMITS } from '../../server/fastcgi/decoder.ts';
import { FASTCGI_OVER_TCP } from '../../server/fastcgi/targets.ts';
import { getLab } from '../../sandbox/labs/index.ts';
import { fcgiRecord, nameValues, pcapFile, pcapHeader, pcapPacket, type Packet } from '../helpers/pcap.ts';

const fixture = (name: string) => readFileSync(new URL(`../fixtures/fastcgi/${name}`, import.meta.url));
const decode = (bytes: Buffer, port = 9000) => new FastcgiDecoder(port).push(bytes);
const records = (events: FcgiEvent[]) => events.filter((e): e is FcgiRecord => e.t === 'record');
const param = (events: FcgiEvent[], name: string) =>
  records(events)
    .flatMap((r) => r.params ?? [])
    .filter((p) => p.name === name)
    .map((p) => p.value.text);

describe('captures of the real labs', () => {
  test('nginx-remote: a GET then a POST, each on its own connection, every record type in order', () => {
    const events = decode(fixture('nginx-remote.pcap'));
    assert.deepEqual(
      events.map((e) => (e.t === 'record' ? `${e.dir} ${e.type}` : e.t)),
      [
        ...['connect', 'to-php BEGIN_REQUEST', 'to-php PARAMS', 'to-php PARAMS', 'to-php STDIN', 'to-web STDOUT', 'to-web END_REQUEST'],
        ...['request-end', 'close'],
        ...['connect', 'to-php BEGIN_REQUEST', 'to-php PARAMS', 'to-php PARAMS', 'to-php STDIN', 'to-php STDIN', 'to-web STDOUT'],
        ...['to-web END_REQUEST', 'request-end', 'close'],
      ],
    );
    const begin = records(events)[0]!;
    assert.equal(begin.role, 'RESPONDER');
    assert.equal(begin.keepConn, false);
    assert.deepEqual(param(events, 'SCRIPT_FILENAME'), ['/scripts/index.php', '/scripts/index.php']);
    assert.deepEqual(param(events, 'REQUEST_METHOD'), ['GET', 'POST']);
    assert.deepEqual(param(events, 'QUERY_STRING'), ['q=1', '']);
    assert.ok(param(events, 'DOCUMENT_ROOT').length === 2);
    const body = records(events).find((r) => r.type === 'STDIN' && r.length > 0)!;
    assert.deepEqual(body.body, { text: 'nom=Ada&langue=fran%C3%A7ais', bytes: 28, truncated: false });
    const stdout = records(events).find((r) => r.type === 'STDOUT')!;
    assert.deepEqual(stdout.headers, [{ name: 'Content-type', value: 'text/html; charset=UTF-8' }]);
    assert.match(stdout.body!.text, /<h1>PHP-FPM<\/h1>/);
    const end = records(events).find((r) => r.type === 'END_REQUEST')!;
    assert.equal(end.appStatus, 0);
    assert.equal(end.protocolStatus, 'REQUEST_COMPLETE');
    const ends = events.filter((e): e is FcgiRequestEnd => e.t === 'request-end');
    assert.deepEqual(
      ends.map((e) => [e.requestUri, e.scriptFilename, e.appStatus]),
      [
        ['/index.php?q=1', '/scripts/index.php', 0],
        ['/index.php', '/scripts/index.php', 0],
      ],
    );
    for (const e of ends) assert.ok(e.endedAt >= e.beganAt && e.endedAt - e.beganAt < 5000);
  });

  test('nginx-remote, SCRIPT_FILENAME broken: the wrong path, « Primary script unknown » on STDERR, a 404 status', () => {
    const events = decode(fixture('nginx-remote-wrong-script.pcap'));
    assert.deepEqual(param(events, 'SCRIPT_FILENAME'), ['/code/index.php']);
    assert.deepEqual(
      records(events)
        .filter((r) => r.type === 'STDERR')
        .map((r) => r.body!.text),
      ['Primary script unknown'],
    );
    assert.deepEqual(records(events).find((r) => r.type === 'STDOUT')!.headers![0], { name: 'Status', value: '404 Not Found' });
  });

  test('nginx-remote, PHP-FPM stopped: the SYN answered by a RST is a refused connection', () => {
    assert.deepEqual(
      decode(fixture('nginx-remote-refused.pcap')).map((e) => e.t),
      ['connect', 'refused'],
    );
  });

  test('apache-remote: mod_proxy_fcgi’s SCRIPT_FILENAME names the proxy', () => {
    const events = decode(fixture('apache-remote.pcap'));
    assert.deepEqual(param(events, 'SCRIPT_FILENAME'), [
      'proxy:fcgi://php:9000/var/www/html/index.php',
      'proxy:fcgi://php:9000/var/www/html/index.php',
    ]);
    assert.equal(records(events).filter((r) => r.type === 'END_REQUEST').length, 2);
  });

  test('the labs over TCP are those whose PHP-FPM host listens on that port', () => {
    for (const [name, target] of Object.entries(FASTCGI_OVER_TCP)) {
      const lab = getLab(name);
      assert.ok(
        lab?.hosts.some((h) => h.name === target.host && h.boot.some((b) => b.includes(String(target.port)))),
        name,
      );
    }
  });
});

// --- synthetic streams --------------------------------------------------------------------------------

const WEB = '10.0.0.2';
const PHP = '10.0.0.3';

/** A request and its answer on one connection, as byte streams each way. */
function exchange(requestId: number, script: string, body: string): { toPhp: Buffer; toWeb: Buffer } {
  const params = nameValues([
    ['SCRIPT_FILENAME', script],
    ['REQUEST_METHOD', 'POST'],
    ['QUERY_STRING', 'a=1'],
  ]);
  const out = Buffer.from(`Content-type: text/plain\r\n\r\n${body}`);
  const end = Buffer.alloc(8);
  return {
    toPhp: Buffer.concat([
      fcgiRecord(1, requestId, Buffer.from([0, 1, 1, 0, 0, 0, 0, 0])),
      // A pair split across two PARAMS records, as a server may send it.
      fcgiRecord(4, requestId, params.subarray(0, 10)),
      fcgiRecord(4, requestId, params.subarray(10), 3),
      fcgiRecord(4, requestId, Buffer.alloc(0)),
      fcgiRecord(5, requestId, Buffer.from(body)),
      fcgiRecord(5, requestId, Buffer.alloc(0)),
    ]),
    toWeb: Buffer.concat([fcgiRecord(6, requestId, out), fcgiRecord(6, requestId, Buffer.alloc(0)), fcgiRecord(3, requestId, end)]),
  };
}

/** Packets of one connection whose streams are cut at the given points (fractions of each stream). */
function packets(toPhp: Buffer, toWeb: Buffer, cutsPhp: number[], cutsWeb: number[]): { opening: Packet[]; data: Packet[] } {
  const split = (b: Buffer, cuts: number[]) => {
    const at = [...new Set(cuts.map((c) => Math.floor(c * b.length)))].filter((c) => c > 0 && c < b.length).sort((x, y) => x - y);
    return [0, ...at].map((s, i) => ({ offset: s, bytes: b.subarray(s, at[i] ?? b.length) }));
  };
  const isn = { web: 0xfffffff0, php: 1000 }; // the client's sequence numbers wrap around
  const opening: Packet[] = [
    { at: 1, src: WEB, dst: PHP, srcPort: 40000, dstPort: 9000, seq: isn.web, flags: { syn: true } },
    { at: 2, src: PHP, dst: WEB, srcPort: 9000, dstPort: 40000, seq: isn.php, flags: { syn: true, ack: true } },
  ];
  const data: Packet[] = [
    ...split(toPhp, cutsPhp).map((s) => ({
      at: 3,
      src: WEB,
      dst: PHP,
      srcPort: 40000,
      dstPort: 9000,
      seq: isn.web + 1 + s.offset,
      payload: s.bytes,
    })),
    ...split(toWeb, cutsWeb).map((s) => ({
      at: 4,
      src: PHP,
      dst: WEB,
      srcPort: 9000,
      dstPort: 40000,
      seq: isn.php + 1 + s.offset,
      payload: s.bytes,
    })),
  ];
  return { opening, data };
}

/** Events without their capture times (a packet's time depends on how it was cut). */
const shape = (events: FcgiEvent[]) =>
  events.map((e) => {
    const { at: _at, ...rest } = e as FcgiEvent & { at?: number };
    return e.t === 'request-end' ? { ...rest, beganAt: 0, endedAt: 0 } : rest;
  });

describe('properties', () => {
  const { toPhp, toWeb } = exchange(7, '/scripts/index.php', 'x'.repeat(3000));
  const whole = packets(toPhp, toWeb, [], []);
  const expected = shape(decode(pcapFile([...whole.opening, ...whole.data])));

  test('the synthetic exchange decodes as built', () => {
    assert.deepEqual(
      records(decode(pcapFile([...whole.opening, ...whole.data]))).map((r) => r.type),
      ['BEGIN_REQUEST', 'PARAMS', 'PARAMS', 'PARAMS', 'STDIN', 'STDIN', 'STDOUT', 'STDOUT', 'END_REQUEST'],
    );
    assert.deepEqual(param(expected as FcgiEvent[], 'SCRIPT_FILENAME'), ['/scripts/index.php']);
    const stdin = records(decode(pcapFile([...whole.opening, ...whole.data]))).find((r) => r.type === 'STDIN')!;
    assert.deepEqual([stdin.body!.bytes, stdin.body!.truncated, stdin.body!.text.length], [3000, true, 1024]);
  });

  test('any cutting of the TCP streams into segments, and of the capture into chunks, gives the same records', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 20 }),
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 20 }),
        fc.array(fc.nat(), { maxLength: 10 }),
        (cutsPhp, cutsWeb, chunkCuts) => {
          const p = packets(toPhp, toWeb, cutsPhp, cutsWeb);
          const file = pcapFile([...p.opening, ...p.data]);
          const decoder = new FastcgiDecoder(9000);
          const ends = [...new Set(chunkCuts.map((c) => c % file.length))].sort((a, b) => a - b);
          const events = [0, ...ends].flatMap((s, i) => decoder.push(file.subarray(s, ends[i] ?? file.length)));
          assert.deepEqual(shape(events), expected);
        },
      ),
      { numRuns: 300 },
    );
  });

  test('segments arriving out of order, or twice, give the same records', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 12 }), fc.infiniteStream(fc.nat()), (cuts, randoms) => {
        const p = packets(toPhp, toWeb, cuts, cuts);
        const shuffled = [...p.data, ...p.data.slice(0, 2)]
          .map((d) => ({ d, k: randoms.next().value as number }))
          .sort((a, b) => a.k - b.k);
        const events = decode(pcapFile([...p.opening, ...shuffled.map((s) => s.d)]));
        const types = (list: FcgiEvent[]) => records(list).map((r) => `${r.dir} ${r.type} ${r.length}`);
        // Each direction keeps its order; the two directions may interleave differently.
        for (const dir of ['to-php', 'to-web']) {
          assert.deepEqual(
            types(events).filter((t) => t.startsWith(dir)),
            types(expected as FcgiEvent[]).filter((t) => t.startsWith(dir)),
          );
        }
      }),
      { numRuns: 200 },
    );
  });

  test('multiplexed requests on one kept-alive connection keep their own state', () => {
    const a = exchange(1, '/scripts/a.php', 'aaa');
    const b = exchange(2, '/scripts/b.php', 'bbb');
    // Record by record, interleaved: a's BEGIN, b's BEGIN, a's PARAMS…
    const interleave = (x: Buffer, y: Buffer) => {
      const cut = (buf: Buffer) => {
        const list: Buffer[] = [];
        for (let at = 0; at < buf.length; ) {
          const len = 8 + buf.readUInt16BE(at + 4) + buf[at + 6]!;
          list.push(buf.subarray(at, at + len));
          at += len;
        }
        return list;
      };
      const xs = cut(x);
      const ys = cut(y);
      return Buffer.concat(xs.flatMap((r, i) => [r, ys[i]!]));
    };
    const p = packets(interleave(a.toPhp, b.toPhp), interleave(a.toWeb, b.toWeb), [0.3, 0.6], [0.5]);
    const events = decode(pcapFile([...p.opening, ...p.data]));
    assert.deepEqual(
      events.filter((e): e is FcgiRequestEnd => e.t === 'request-end').map((e) => [e.requestId, e.scriptFilename]),
      [
        [1, '/scripts/a.php'],
        [2, '/scripts/b.php'],
      ],
    );
  });

  test('garbage never throws: any bytes, any packets, any payload to port 9000', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), (bytes) => {
        decode(Buffer.from(bytes));
        decode(Buffer.concat([pcapHeader(), Buffer.from(bytes)]));
      }),
      { numRuns: 500 },
    );
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 20 }), fc.nat(), (payloads, seq) => {
        const decoder = new FastcgiDecoder(9000);
        const events = payloads.flatMap((p, i) =>
          decoder.push(
            Buffer.concat([
              i === 0 ? pcapHeader() : Buffer.alloc(0),
              pcapPacket({ at: i, src: WEB, dst: PHP, srcPort: 40000, dstPort: 9000, seq: seq + i * 7, payload: Buffer.from(p) }),
            ]),
          ),
        );
        for (const e of events) assert.ok(['connect', 'record', 'lost', 'request-end'].includes(e.t));
      }),
      { numRuns: 300 },
    );
  });

  test('a gap that never fills is given up past the bound, and the connection is skipped, not buffered', () => {
    const decoder = new FastcgiDecoder(9000);
    const p = packets(toPhp, toWeb, [], []);
    decoder.push(pcapFile(p.opening));
    const chunk = Buffer.alloc(60_000, 1);
    const events: FcgiEvent[] = [];
    for (let i = 1; i <= 10; i++) {
      events.push(
        ...decoder.push(
          pcapPacket({ at: i, src: WEB, dst: PHP, srcPort: 40000, dstPort: 9000, seq: 0xfffffff1 + 100 + i * 60_000, payload: chunk }),
        ),
      );
    }
    assert.deepEqual(
      events.map((e) => e.t),
      ['lost'],
    );
    assert.ok(LIMITS.outOfOrderBytes < 10 * 60_000);
  });

  test('a learner’s garbage on port 9000 costs one `lost`, and the next connection decodes again', () => {
    const garbage: Packet[] = [
      { at: 1, src: WEB, dst: PHP, srcPort: 41000, dstPort: 9000, seq: 5, flags: { syn: true } },
      { at: 2, src: WEB, dst: PHP, srcPort: 41000, dstPort: 9000, seq: 6, payload: Buffer.from('GET / HTTP/1.1\r\n\r\n') },
    ];
    const events = decode(pcapFile([...garbage, ...whole.opening, ...whole.data]));
    assert.deepEqual(
      events.slice(0, 3).map((e) => e.t),
      ['connect', 'lost', 'connect'],
    );
    assert.equal(events.filter((e) => e.t === 'request-end').length, 1);
  });
});
