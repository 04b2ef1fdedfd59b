// Several backends on one engine behind a real load balancer (issue 14): HAProxy from Debian, two
// backend processes sharing the cookie key, the labs (the engine's labels) and the progress (PostgreSQL,
// Debian's server, started here). Routing follows the learner cookie, so a reconnect lands on the same
// backend and finds its shell; restarting the other backend leaves that shell alone; killing the
// learner's backend brings their terminal back through the other one, on the same lab with a fresh
// shell, and nothing else is lost. Figures: reattach and failover times through the load balancer.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { securityEnv, startBackend, type Backend } from '../helpers/backend.ts';
import { removeScope } from '../helpers/engine.ts';
import { Learner, type Terminal } from '../helpers/learner.ts';
import { startPostgres, type TestPostgres } from '../helpers/postgres.ts';
import { within } from '../helpers/wait.ts';

const LAB = 'nginx-remote';
let db: TestPostgres;
let lbPort: number;
let lbUrl: string;
let haproxy: ChildProcess;
let dir: string;
const backends = new Map<string, Backend>();
let env: Record<string, string>;
const figures: string[] = [];

function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => ok(port));
    });
    s.on('error', fail);
  });
}

/** Resolves once something accepts connections on the port. */
async function listening(port: number, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    const ok = await new Promise<boolean>((done) => {
      const c = createConnection({ host: '127.0.0.1', port }, () => (c.destroy(), done(true)));
      c.on('error', () => done(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on ${port} after ${ms} ms`);
    await new Promise((r) => setImmediate(r));
  }
}

const start = (id: string, port: number) => startBackend({ ...env, ATELIER_BACKEND_ID: id, PORT: String(port) });

before(async () => {
  db = await startPostgres();
  lbPort = await freePort();
  lbUrl = `http://127.0.0.1:${lbPort}`;
  env = securityEnv('backends', {
    ATELIER_SITE_ORIGINS: lbUrl,
    ATELIER_PROGRESS_DATABASE_URL: await db.newDatabase(),
    ATELIER_LAB_CREATES_PER_MINUTE: '1000',
  });
  const ports = [await freePort(), await freePort()];
  for (const [i, port] of ports.entries()) backends.set(`b${i + 1}`, await start(`b${i + 1}`, port));
  dir = mkdtempSync(join(tmpdir(), 'atelier-lb-'));
  const config = join(dir, 'haproxy.cfg');
  // Hash of the learner cookie (consistent: a server that goes away moves only its own learners); a
  // learner without one yet goes round-robin. A refused connection is retried on another server at once,
  // before the health check (every 500 ms) marks the dead one down. WebSockets: the tunnel timeout.
  writeFileSync(
    config,
    `defaults
  mode http
  timeout connect 2s
  timeout client 60s
  timeout server 60s
  timeout tunnel 1h
  retries 2
  option redispatch 1
  retry-on conn-failure empty-response
frontend site
  bind 127.0.0.1:${lbPort}
  default_backend atelier
backend atelier
  balance hash req.cook(atelier_learner)
  hash-type consistent
  http-response set-header X-Served-By %s
${[...backends].map(([id, b]) => `  server ${id} 127.0.0.1:${b.port} check inter 500ms fall 1 rise 1`).join('\n')}
`,
  );
  haproxy = spawn('haproxy', ['-db', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  haproxy.stderr!.on('data', (d: Buffer) => (log += d));
  await within(
    Promise.race([listening(lbPort, 10_000), once(haproxy, 'exit').then(() => Promise.reject(new Error(`haproxy: ${log}`)))]),
    15_000,
    'haproxy',
  );
});

after(async () => {
  console.log(figures.map((f) => `# figure: ${f}`).join('\n'));
  haproxy?.kill('SIGTERM');
  for (const b of backends.values()) await b.stop();
  await db?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
  await removeScope(env.ATELIER_LAB_SCOPE!);
});

const learner = new Learner('');
let labId = '';
let term: Terminal;
let home = '';

/** A terminal through the load balancer, timed from the WebSocket's opening to the shell's prompt. */
async function attach(): Promise<{ t: Terminal; ms: number }> {
  const t0 = performance.now();
  const t = await learner.terminal(LAB, 'web');
  await t.attached();
  return { t, ms: performance.now() - t0 };
}

test('a learner through the load balancer: a lab, a passed check, a shell on one backend', async () => {
  (learner as { site: string }).site = lbUrl;
  labId = (await learner.startLab(LAB)).labId;
  const check = await learner.request('POST', `/api/labs/${LAB}/checks/local-502`);
  assert.equal(check.status, 200, JSON.stringify(check.body));
  assert.equal((check.body as { ok?: boolean }).ok, true, JSON.stringify(check.body));
  ({ t: term } = await attach());
  home = term.servedBy ?? '';
  assert.ok(backends.has(home), `served by ${home}`);
  assert.match((await term.run('echo "marque-$((6 * 7))"')).output, /marque-42/);
});

test('a reconnect lands on the same backend and finds its shell', async () => {
  term.close();
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    const { t, ms } = await attach();
    assert.equal(t.servedBy, home, 'the cookie keeps the learner on their backend');
    assert.equal(t.helloMessage?.resumed, true, 'the same shell');
    assert.equal(t.helloMessage?.labId, labId);
    times.push(ms);
    term = t;
    if (i < 4) term.close();
  }
  assert.match(term.raw, /marque-42/, 'its recent screen came back');
  times.sort((a, b) => a - b);
  figures.push(`reattach through HAProxy to the same shell: median ${times[2]!.toFixed(0)} ms, max ${times[4]!.toFixed(0)} ms (5 runs)`);
});

test('restarting the other backend leaves this learner’s shell alone (its sweep takes only its own shells)', async () => {
  const otherId = [...backends.keys()].find((id) => id !== home)!;
  const other = backends.get(otherId)!;
  await other.stop();
  backends.set(otherId, await start(otherId, other.port));
  // The restarted backend hung up its own stray shells before it listened; this one is not among them.
  assert.match((await term.run('echo "encore-$((1 + 1))"')).output, /encore-2/);
  assert.equal(term.isOpen, true);
});

test('the learner’s backend killed: the terminal comes back through the other, same lab, fresh shell; nothing lost', async () => {
  const survivor = [...backends.keys()].find((id) => id !== home)!;
  const t0 = performance.now();
  await backends.get(home)!.kill('SIGKILL');
  await term.closed;
  // As the panel does: reconnect at once (the client backs off only after failures).
  let back: Terminal | undefined;
  for (let attempt = 0; !back; attempt++) {
    try {
      back = (await attach()).t;
    } catch (err) {
      if (attempt >= 10) throw err;
    }
  }
  const failoverMs = performance.now() - t0;
  assert.equal(back.servedBy, survivor);
  assert.equal(back.helloMessage?.labId, labId, 'the same lab');
  assert.equal(back.helloMessage?.resumed, false, 'a fresh shell: the old one died with its backend');
  assert.match((await back.run('echo "reprise-$((2 + 3))"')).output, /reprise-5/);
  figures.push(`failover, SIGKILL of the learner's backend to a prompt through the other: ${failoverMs.toFixed(0)} ms`);
  // Identity, lab and progress, all through the survivor.
  const lab = await learner.getLab(LAB);
  assert.equal(lab?.labId, labId);
  const progress = await learner.request('GET', '/api/progress');
  assert.equal(progress.setCookie, null, 'the same identity, no new cookie');
  const passed = (progress.body as { passed: { lab: string; checkId: string }[] }).passed;
  assert.deepEqual(
    passed.map((p) => `${p.lab}/${p.checkId}`),
    [`${LAB}/local-502`],
  );
  back.close();
});
