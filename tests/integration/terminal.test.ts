// The terminal path end to end, with the real server, a real WebSocket client and real labs: attach,
// echo, resize, flow control under `yes`, reattach to the same shell, and who may attach.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import WebSocket from 'ws';
import {
  encode,
  LOW_WATER_BYTES,
  parseServerMessage,
  PROTOCOL_VERSION,
  TERMINAL_PATH,
  type ServerMessage,
} from '../../protocol/terminal.ts';
import { COOKIE, signedCookie } from '../helpers/learner.ts';
import { destroyScope, newScope } from '../helpers/scope.ts';
import { startServer, type RunningServer } from '../helpers/server.ts';

let server: RunningServer;
const LAB = 'nginx-remote';
const scope = newScope('terminal');
/** The server's cookie key: a learner with an identity and no lab (GETs issue no identity). */
const SECRET = randomBytes(32).toString('hex');

before(async () => {
  server = await startServer({ ATELIER_TEST: '1', ATELIER_LAB_SCOPE: scope, ATELIER_SECRET: SECRET, ATELIER_GRACE_SECONDS: '30' });
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

  // biome-ignore lint/suspicious/noExplicitAny: JSON answers of several shapes, read field by field in the tests
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
  /** called on every frame and on the close: the conditions waited for are checked again */
  readonly #waiters = new Set<() => void>();
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
      this.#wake();
    });
    this.closed = new Promise((ok) =>
      ws.on('close', (code) => {
        ok(code);
        this.#wake();
      }),
    );
  }

  #wake() {
    for (const w of [...this.#waiters]) w();
  }

  /** Waits until `test` holds, checked again on every frame; throws after `ms` with `what` and the screen. */
  until(test: () => boolean, ms: number, what: string): Promise<void> {
    if (test()) return Promise.resolve();
    return new Promise((ok, fail) => {
      const timer = setTimeout(() => {
        this.#waiters.delete(check);
        fail(
          new Error(`timed out waiting for ${what} — screen tail:\n${this.screen.slice(-800)}\nmessages: ${JSON.stringify(this.messages)}`),
        );
      }, ms);
      const check = () => {
        if (!test()) return;
        clearTimeout(timer);
        this.#waiters.delete(check);
        ok();
      };
      this.#waiters.add(check);
    });
  }

  /** Waits until no output byte has arrived for `quietMs`; throws when the output is not quiet within `ms`. */
  quiet(quietMs: number, ms: number): Promise<void> {
    return new Promise((ok, fail) => {
      let bytes = this.received;
      let timer = setTimeout(() => (stop(), ok()), quietMs);
      const deadline = setTimeout(
        () => (stop(), fail(new Error(`output not quiet for ${quietMs} ms within ${ms} ms (${this.received} bytes)`))),
        ms,
      );
      const check = () => {
        if (this.received === bytes) return;
        bytes = this.received;
        clearTimeout(timer);
        timer = setTimeout(() => (stop(), ok()), quietMs);
      };
      const stop = () => {
        clearTimeout(timer);
        clearTimeout(deadline);
        this.#waiters.delete(check);
      };
      this.#waiters.add(check);
    });
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
    await this.until(() => re.test(this.screen), ms, String(re));
    return re.exec(this.screen)![0];
  }

  /** A ping and its pong: every frame sent before it has been handled by the server. */
  async roundTrip(id: number, ms = 10_000): Promise<void> {
    this.ws.send(encode({ t: 'ping', id }));
    await this.until(() => this.messages.some((m) => m.t === 'pong' && m.id === id), ms, `pong ${id}`);
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
    // The shell says when its terminal changes size (SIGWINCH), and what stty reads then.
    t.type(`trap 'echo "winch $(stty size)"' WINCH; echo trap-$((1+1))\r`);
    await t.waitFor(/trap-2/);
    t.ws.send(encode({ t: 'resize', cols: 132, rows: 43 }));
    await t.waitFor(/winch 43 132\r\n/);
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
    // Nothing more flows while unacknowledged: not one byte for a whole second, which `yes` fills in an instant.
    await t.quiet(1000, 30_000);
    const unacked = t.received - t.acked;
    // The server pauses the exec stream past HIGH_WATER (512 KiB), or sooner under the output rate (another
    // terminal typed in lately), and resumes it only below LOW_WATER: held there, the flow is flow control's.
    assert.ok(unacked > LOW_WATER_BYTES, `\`yes\` ran until flow control held it (${unacked} bytes unacknowledged)`);
    assert.ok(unacked < 1024 * 1024, `unacknowledged bytes stay bounded (${unacked})`);
    const growth = rssKiB(server.pid) - before;
    assert.ok(growth < 64 * 1024, `server RSS growth ${growth} KiB`);
    const after1 = t.received;
    t.autoAck = true;
    t.ack(); // the browser catches up: output resumes
    await t.until(() => t.received - after1 > 64 * 1024, 10_000, 'output resumes once acknowledged');
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
    await t.roundTrip(1);
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
    bob.cookie = `${COOKIE}=${signedCookie(SECRET)}`;
    assert.equal((await bob.api('GET', `/api/labs/${LAB}`)).status, 204);
    const t = await bob.terminal('web');
    // The server answers the hello with an error and closes: nothing can arrive after the close.
    await t.until(() => t.ws.readyState === WebSocket.CLOSED, 20_000, 'the close');
    const err = t.messages.find((m) => m.t === 'error');
    assert.equal(err?.t === 'error' && err.code, 'unknown-lab');
    assert.equal(t.received, 0, 'no byte of anybody’s shell');
  });

  test('a wrong Origin or a missing cookie is refused before any WebSocket exists', async () => {
    await assert.rejects(alice.terminal('web', { origin: 'http://evil.example' }), /upgrade refused: 403/);
    await assert.rejects(alice.terminal('web', { origin: server.previewUrl }), /upgrade refused: 403/);
    const anonymous = new Learner(server.url);
    await assert.rejects(anonymous.terminal('web'), /upgrade refused: 401/);
  });

  test('the preview shows the lab’s web server, status codes as they are', async () => {
    const info = (await alice.api('GET', `/api/labs/${LAB}`)).body as { labId: string; previewUrl: string };
    const preview = new URL(info.previewUrl);
    assert.equal(preview.host, `${info.labId}.localhost:${new URL(server.previewUrl).port}`, 'the lab is the root of an origin of its own');
    assert.equal(preview.pathname, '/');
    const res = await fetch(`${info.previewUrl}index.php`);
    assert.equal(res.status, 502, 'the start state of nginx-remote: fastcgi_pass 127.0.0.1:9000 → 502');
    assert.equal(res.headers.get('set-cookie'), null);
  });
});
