// The terminal path end to end, with the real server, a real WebSocket client and real labs: attach,
// echo, resize, flow control under `yes`, reattach to the same shell, and who may attach.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import WebSocket from 'ws';
import { encode, parseServerMessage, PROTOCOL_VERSION, TERMINAL_PATH, type ServerMessage } from '../../protocol/terminal.ts';
import { destroyScope, newScope } from '../helpers/scope.ts';
import { startServer, type RunningServer } from '../helpers/server.ts';

let server: RunningServer;
const LAB = 'nginx-remote';
const scope = newScope('terminal');

before(async () => {
  server = await startServer({ ATELIER_TEST: '1', ATELIER_LAB_SCOPE: scope, ATELIER_GRACE_SECONDS: '30' });
});
after(async () => {
  await server?.stop();
  await destroyScope(scope);
});

class Learner {
  cookie = '';
  readonly origin: string;
  constructor(origin: string) {
    this.origin = origin;
  }

  async api(method: 'GET' | 'POST', path: string): Promise<{ status: number; body: any }> {
    const res = await fetch(this.origin + path, {
      method,
      headers: { Origin: this.origin, 'Content-Type': 'application/json', ...(this.cookie ? { Cookie: this.cookie } : {}) },
      body: method === 'POST' ? '{}' : undefined,
    });
    const set = res.headers.get('set-cookie');
    if (set) this.cookie = set.split(';')[0]!;
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  }

  async lab(name: string) {
    const r = await this.api('POST', `/api/labs/${name}`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body as { labId: string; hosts: string[] };
  }

  terminal(host: string, opts: { origin?: string; cols?: number; rows?: number } = {}) {
    return Terminal.open(this.origin.replace('http', 'ws') + TERMINAL_PATH, {
      origin: opts.origin ?? this.origin,
      cookie: this.cookie,
      hello: { t: 'hello', v: PROTOCOL_VERSION, lab: LAB, host, cols: opts.cols ?? 80, rows: opts.rows ?? 24 },
    });
  }
}

class Terminal {
  screen = '';
  messages: ServerMessage[] = [];
  received = 0;
  acked = 0;
  autoAck = true;
  closed: Promise<number>;
  readonly ws: WebSocket;
  private constructor(ws: WebSocket) {
    this.ws = ws;
    ws.on('message', (data: Buffer, binary: boolean) => {
      if (binary) {
        this.received += data.length;
        this.screen = (this.screen + data.toString('utf8')).slice(-200_000);
        if (this.autoAck && this.received - this.acked >= 32 * 1024) this.ack();
      } else {
        const m = parseServerMessage(data.toString('utf8'));
        if (m) this.messages.push(m);
      }
    });
    this.closed = new Promise((ok) => ws.on('close', (code) => ok(code)));
  }

  ack() {
    this.ws.send(encode({ t: 'ack', bytes: this.received - this.acked }));
    this.acked = this.received;
  }

  static open(url: string, o: { origin: string; cookie: string; hello: object }): Promise<Terminal> {
    return new Promise((ok, fail) => {
      const ws = new WebSocket(url, { headers: { Origin: o.origin, Cookie: o.cookie } });
      const t = new Terminal(ws);
      ws.once('open', () => {
        ws.send(JSON.stringify(o.hello));
        ok(t);
      });
      ws.once('unexpected-response', (_req, res) => fail(new Error(`upgrade refused: ${res.statusCode}`)));
      ws.once('error', fail);
    });
  }

  type(text: string) {
    this.ws.send(Buffer.from(text), { binary: true });
  }

  async waitFor(re: RegExp, ms = 20_000): Promise<string> {
    const end = Date.now() + ms;
    while (Date.now() < end) {
      const m = re.exec(this.screen);
      if (m) return m[0];
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`timed out waiting for ${re} — screen tail:\n${this.screen.slice(-800)}\nmessages: ${JSON.stringify(this.messages)}`);
  }

  hello() {
    return this.messages.find((m) => m.t === 'hello') as Extract<ServerMessage, { t: 'hello' }> | undefined;
  }

  close() {
    this.ws.close();
    return this.closed;
  }
}

function rssKiB(pid: number): number {
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
}

let alice: Learner;
let bob: Learner;

describe('terminals over WebSocket, on real labs', () => {
  test('a learner starts a lab and types in a real shell on its web host', async () => {
    alice = new Learner(server.url);
    assert.equal((await alice.api('GET', `/api/labs/${LAB}`)).status, 204, 'no lab before starting one');
    const lab = await alice.lab(LAB);
    assert.deepEqual(lab.hosts.sort(), ['php', 'web']);
    const t = await alice.terminal('web');
    await t.waitFor(/root@web/);
    t.type('echo ATELIER-$((40+2))\r');
    await t.waitFor(/ATELIER-42/);
    assert.equal(t.hello()?.resumed, false);
    await t.close();
  });

  test('resize: stty size follows the terminal', async () => {
    const t = await alice.terminal('php', { cols: 100, rows: 30 });
    await t.waitFor(/root@php/);
    t.type('stty size\r');
    await t.waitFor(/\b30 100\r\n/);
    t.ws.send(encode({ t: 'resize', cols: 132, rows: 43 }));
    await new Promise((r) => setTimeout(r, 200));
    t.type('stty size\r');
    await t.waitFor(/\b43 132\r\n/);
    await t.close();
  });

  test('reattach: a new connection finds the same shell and its recent screen', async () => {
    const t1 = await alice.terminal('web');
    await t1.waitFor(/root@web/);
    t1.type('MEMO=souvenir-$((6*7)); echo set-$MEMO\r');
    await t1.waitFor(/set-souvenir-42/);
    t1.ws.terminate(); // like a laptop going to sleep: no close frame
    const t2 = await alice.terminal('web');
    await t2.waitFor(/set-souvenir-42/); // replayed screen
    assert.equal(t2.hello()?.resumed, true);
    t2.type('echo again-$MEMO\r');
    await t2.waitFor(/again-souvenir-42/); // same shell: the variable is still set
    await t2.close();
  });

  test('flow control: `yes` to a client that stops acknowledging stays bounded, and Ctrl-C works', async () => {
    const t = await alice.terminal('web');
    await t.waitFor(/root@web/);
    const before = rssKiB(server.pid);
    t.autoAck = false; // a browser that stopped rendering
    t.type('yes\r');
    await new Promise((r) => setTimeout(r, 3000));
    const unacked = t.received - t.acked;
    // The server pauses the exec stream at HIGH_WATER (512 KiB) + one in-flight frame batch.
    assert.ok(unacked < 1024 * 1024, `unacknowledged bytes stay bounded (${unacked})`);
    const after1 = t.received;
    await new Promise((r) => setTimeout(r, 1000));
    assert.ok(t.received - after1 < 64 * 1024, `nothing more flows while unacknowledged (${t.received - after1} bytes)`);
    const growth = rssKiB(server.pid) - before;
    assert.ok(growth < 64 * 1024, `server RSS growth ${growth} KiB`);
    t.autoAck = true;
    t.ack(); // the browser catches up: output resumes
    await new Promise((r) => setTimeout(r, 500));
    assert.ok(t.received - after1 > 64 * 1024, 'output resumes once acknowledged');
    t.type('\x03');
    t.type('echo stopped-$((1+1))\r');
    await t.waitFor(/stopped-2/);
    await t.close();
  });

  test('malformed and oversized frames get an error or a close, never a crash', async () => {
    const t = await alice.terminal('web');
    await t.waitFor(/root@web/);
    t.ws.send('{"t":"resize","cols":-3}');
    t.ws.send('not json at all');
    await new Promise((r) => setTimeout(r, 300));
    const errors = t.messages.filter((m) => m.t === 'error');
    assert.equal(errors.length, 2, JSON.stringify(t.messages));
    t.type('echo still-$((2+3))\r');
    await t.waitFor(/still-5/);
    t.ws.send(Buffer.alloc(70 * 1024), { binary: true });
    assert.equal(await t.closed, 1009, 'a frame over the limit closes with 1009 (message too big)');
    assert.equal((await alice.api('GET', `/api/labs/${LAB}`)).status, 200, 'the server still answers');
  });

  test('a second learner cannot see or attach to the first learner’s lab', async () => {
    bob = new Learner(server.url);
    assert.equal((await bob.api('GET', `/api/labs/${LAB}`)).status, 204);
    const t = await bob.terminal('web');
    await new Promise((r) => setTimeout(r, 500));
    const err = t.messages.find((m) => m.t === 'error');
    assert.equal(err?.t === 'error' && err.code, 'unknown-lab');
    assert.equal(t.received, 0, 'no byte of anybody’s shell');
    await t.closed;
  });

  test('a wrong Origin or a missing cookie is refused before any WebSocket exists', async () => {
    await assert.rejects(alice.terminal('web', { origin: 'http://evil.example' }), /upgrade refused: 403/);
    await assert.rejects(alice.terminal('web', { origin: server.previewUrl }), /upgrade refused: 403/);
    const anonymous = new Learner(server.url);
    await assert.rejects(anonymous.terminal('web'), /upgrade refused: 401/);
  });

  test('the preview shows the lab’s web server, status codes as they are', async () => {
    const info = (await alice.api('GET', `/api/labs/${LAB}`)).body as { previewUrl: string };
    assert.ok(info.previewUrl.startsWith(server.previewUrl), `${info.previewUrl} is on the preview origin`);
    const res = await fetch(info.previewUrl + 'index.php');
    assert.equal(res.status, 502, 'the start state of nginx-remote: fastcgi_pass 127.0.0.1:9000 → 502');
    assert.equal(res.headers.get('set-cookie'), null);
  });
});
