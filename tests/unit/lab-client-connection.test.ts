// The panel's TerminalConnection (site/islands/lab/connection.ts) against the real terminal gateway
// (server/backend.ts), over real WebSockets, with real shells: local bash under node-pty stands in for
// a lab host, so this runs without Docker. Checks the browser half of the wire: attach, echo, acks
// that keep a flood flowing with bounded pending output, reattach to the same shell after a drop and
// after a silent peer, take-over by a second tab, shell exit.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { Socket } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { HIGH_WATER_BYTES, MAX_FRAME_BYTES, TERMINAL_PATH } from '../../protocol/terminal.ts';
import { createBackend, type Backend } from '../../server/backend.ts';
import { openProgressStore } from '../../server/progress/open.ts';
import { webSettings } from '../../server/http/settings.ts';
import { type LabAccess, type LabView, NoLabError, type Shell } from '../../server/terminal/ports.ts';
import { TerminalConnection, type ConnectionState, type OutputSink } from '../../site/islands/lab/connection.ts';

const pty = createRequire(import.meta.url)('node-pty') as typeof import('node-pty');
const home = mkdtempSync(join(tmpdir(), 'atelier-lab-client-'));

/** Lab hosts as local bash shells: the gateway only sees the LabAccess port. */
function localLabs(): LabAccess {
  const labs = new Map<string, LabView>();
  return {
    async find(learner, name) {
      return labs.get(`${learner}/${name}`) ?? null;
    },
    async ensure(learner, name) {
      const key = `${learner}/${name}`;
      const lab = labs.get(key) ?? {
        name,
        labId: `lab-${labs.size + 1}-0123456789`,
        title: name,
        hosts: ['web', 'php'],
        previewSites: 1,
        state: 'ready',
        expiresAt: Date.now() + 3_600_000,
      };
      labs.set(key, lab);
      return lab;
    },
    async check() {
      throw new NoLabError('no checks in local shells');
    },
    async solution() {
      throw new NoLabError('no solutions in local shells');
    },
    async applySolution() {
      throw new NoLabError('no solutions in local shells');
    },
    async previewScripts() {
      return null;
    },
    async reset(learner, name) {
      labs.delete(`${learner}/${name}`);
      return this.ensure(learner, name);
    },
    async openShell(_labId, host, size) {
      const p = pty.spawn('bash', ['--norc', '--noprofile'], {
        cols: size.cols,
        rows: size.rows,
        cwd: home,
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, TERM: 'xterm-256color', PS1: `${host}$ `, LANG: 'C.UTF-8' },
      });
      const output = new Readable({ read() {} });
      // Pausing the stream must stop reading the PTY (ports.ts): then the shell's writes block.
      const pause = output.pause.bind(output);
      const resume = output.resume.bind(output);
      output.pause = () => (p.pause(), pause());
      output.resume = () => (p.resume(), resume());
      p.onData((d) => output.push(Buffer.from(d, 'utf8')));
      const exited = new Promise((ok) => p.onExit(ok));
      void exited.then(() => output.push(null));
      const shell: Shell = {
        output,
        write: (data) => (p.write(data.toString('utf8')), true),
        drained: async () => {},
        resize: async (c, r) => p.resize(c, r),
        close: async () => {
          try {
            p.kill();
          } catch {
            // already gone
          }
        },
        exited,
      };
      return shell;
    },
    touch() {},
    async previewTarget() {
      return null;
    },
  };
}

const KEEP = 256 * 1024;

/** A terminal that renders slowly: `done` fires one chunk per macrotask, like a busy xterm. */
class SlowSink implements OutputSink {
  /** the last KEEP characters rendered */
  text = '';
  /** bytes rendered so far */
  total = 0;
  /** 'y' bytes rendered so far (the flood) */
  ys = 0;
  pending = 0;
  maxPending = 0;
  #queue: Array<() => void> = [];
  write(data: Uint8Array, done: () => void): void {
    this.pending += data.length;
    this.maxPending = Math.max(this.maxPending, this.pending);
    this.#queue.push(() => {
      this.text = (this.text + Buffer.from(data).toString('utf8')).slice(-KEEP);
      this.total += data.length;
      for (const b of data) if (b === 0x79) this.ys++;
      this.pending -= data.length;
      done();
    });
    if (this.#queue.length === 1) this.#drain();
  }
  #drain(): void {
    setTimeout(() => {
      this.#queue.shift()?.();
      if (this.#queue.length > 0) this.#drain();
    }, 0);
  }
}

let server: Server;
let backend: Backend;
let origin = '';
let cookie = '';
const sockets = new Set<Socket>();

before(async () => {
  server = createServer(async (req, res) => {
    if (!(await backend.handleRequest(req, res))) res.writeHead(404).end();
  });
  server.on('upgrade', (req, socket: Socket, head) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    if (!backend.handleUpgrade(req, socket, head)) socket.destroy();
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const port = (server.address() as { port: number }).port;
  origin = `http://127.0.0.1:${port}`;
  const settings = webSettings(
    { PORT: String(port), ATELIER_SECRET: 's'.repeat(40), ATELIER_SITE_ORIGINS: origin, ATELIER_GRACE_SECONDS: '60' },
    home,
  );
  backend = createBackend(localLabs(), settings, await openProgressStore(settings), () => {});
  // A learner, and their lab, through the real HTTP API.
  const res = await fetch(`${origin}/api/labs/nginx-remote`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Origin: origin },
    body: '{}',
  });
  assert.equal(res.status, 200, await res.clone().text());
  cookie = (res.headers.get('set-cookie') ?? '').split(';')[0]!;
  assert.match(cookie, /^atelier_learner=/);
});

after(async () => {
  await backend.close();
  for (const s of sockets) s.destroy();
  await new Promise<void>((ok) => server.close(() => ok()));
  rmSync(home, { recursive: true, force: true });
});

interface Client {
  conn: TerminalConnection;
  sink: SlowSink;
  states: ConnectionState[];
  hellos: Array<{ resumed: boolean }>;
  /** text rendered since `total` was `mark` */
  since(mark: number): string;
  /** resolves when the state history satisfies `ok` */
  until(ok: (c: Client) => boolean, what: string): Promise<void>;
}

function client(host = 'web', extra: Partial<ConstructorParameters<typeof TerminalConnection>[0]> = {}): Client {
  const sink = new SlowSink();
  const waiters = new Set<() => void>();
  const poke = () => {
    for (const w of waiters) w();
  };
  const c: Client = {
    sink,
    since: (mark) => sink.text.slice(-(sink.total - mark) || sink.text.length),
    states: [],
    hellos: [],
    conn: new TerminalConnection({
      url: `${origin.replace('http', 'ws')}${TERMINAL_PATH}`,
      lab: 'nginx-remote',
      host,
      size: () => ({ cols: 100, rows: 30 }),
      sink: {
        write: (data, done) => {
          sink.write(data, () => (done(), poke()));
        },
      },
      listener: {
        state: (s) => (c.states.push(s), poke()),
        hello: (h) => (c.hellos.push(h), poke()),
      },
      openSocket: (url) => new WebSocket(url, { headers: { Origin: origin, Cookie: cookie } } as unknown as string[]),
      ...extra,
    }),
    until: (ok, what) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`timed out waiting for ${what}; states ${c.states.join(' → ')}; screen:\n${sink.text.slice(-500)}`)),
          20_000,
        );
        const check = () => {
          if (!ok(c)) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve();
        };
        waiters.add(check);
        check();
      }),
  };
  return c;
}

const screenHas = (text: string) => (c: Client) => c.sink.text.includes(text);

describe('TerminalConnection against the terminal gateway', () => {
  test('attaches, echoes keystrokes and says hello with the size it fitted', async () => {
    const c = client();
    c.conn.connect();
    await c.until((x) => x.conn.state === 'open', 'open');
    assert.deepEqual(c.states.slice(0, 2), ['connecting', 'open']);
    assert.equal(c.hellos[0]?.resumed, false);
    c.conn.input('stty size; echo $((6*7))\r');
    await c.until(screenHas('30 100'), 'stty size');
    await c.until(screenHas('42'), 'echo');
    c.conn.resize(120, 40);
    c.conn.input('stty size\r');
    await c.until(screenHas('40 120'), 'stty size after resize');
    c.conn.close();
    assert.equal(c.conn.state, 'closed');
  });

  test('a flood keeps flowing through acks, and the output waiting for the renderer stays bounded', async () => {
    const c = client('php');
    c.conn.connect();
    await c.until((x) => x.conn.state === 'open', 'open');
    const bytes = 3 * 1024 * 1024;
    c.conn.input(`head -c ${bytes} /dev/zero | tr '\\0' y; echo; echo FLOOD-$((1+1))-DONE\r`);
    await c.until(screenHas('FLOOD-2-DONE'), 'end of the flood');
    assert.ok(c.sink.ys >= bytes, `all ${bytes} bytes arrived (${c.sink.ys})`);
    // The server stops at HIGH_WATER unacknowledged bytes; one coalesced frame and the socket's own
    // buffer may be in flight on top.
    assert.ok(c.sink.maxPending <= HIGH_WATER_BYTES + 2 * MAX_FRAME_BYTES, `pending peaked at ${c.sink.maxPending}`);
    c.conn.close();
  });

  test('a dropped connection comes back to the same shell, with its screen replayed', async () => {
    const c = client('web', { random: () => 0 });
    c.conn.connect();
    await c.until((x) => x.conn.state === 'open', 'open');
    c.conn.input('MARK=reattach-$((40+2))\r');
    await c.until((x) => x.sink.text.includes('web$ MARK='), 'command echoed');
    const mark = c.sink.total;
    for (const s of sockets) s.destroy(); // Wi-Fi gone
    await c.until((x) => x.states.includes('waiting'), 'waiting');
    await c.until((x) => x.hellos.length === 2, 'second hello');
    assert.equal(c.hellos[1]?.resumed, true);
    await c.until((x) => x.since(mark).includes('MARK=reattach'), 'recent output replayed');
    c.conn.input('echo "got $MARK"\r');
    await c.until(screenHas('got reattach-42'), 'same shell variables');
    c.conn.close();
  });

  test('a peer that stops answering is detected by the heartbeat and left for a new connection', async () => {
    const c = client('web', { heartbeatMs: 150, random: () => 0 });
    c.conn.connect();
    await c.until((x) => x.conn.state === 'open', 'open');
    for (const s of sockets) s.pause(); // the server reads nothing more: no pong, no close
    await c.until((x) => x.states.includes('waiting'), 'heartbeat loss noticed');
    await c.until((x) => x.hellos.length === 2 && x.conn.state === 'open', 'reattached');
    assert.equal(c.hellos[1]?.resumed, true);
    c.conn.close();
  });

  test('a second tab takes the terminal over; the first one stops instead of fighting back', async () => {
    const first = client();
    first.conn.connect();
    await first.until((x) => x.conn.state === 'open', 'first open');
    const second = client();
    second.conn.connect();
    await second.until((x) => x.conn.state === 'open', 'second open');
    await first.until((x) => x.conn.state === 'replaced', 'first replaced');
    assert.equal(second.conn.state, 'open');
    assert.ok(!first.states.slice(first.states.indexOf('replaced')).includes('connecting'), 'no automatic reconnection');
    second.conn.close();
  });

  test('a shell that exits ends the connection as exited, and typing is refused', async () => {
    const c = client();
    c.conn.connect();
    await c.until((x) => x.conn.state === 'open', 'open');
    c.conn.input('exit\r');
    await c.until((x) => x.conn.state === 'exited', 'exited');
    assert.equal(c.conn.input('ls\r'), false);
    await assert.rejects(c.conn.settled(), /shell|exited/);
  });
});
