// Abuse limits: per learner (lab creations, connections at once, connections per minute), per network
// address (a new learner is only a dropped cookie away), and the global cap, which answers "no room
// right now" (503) at once instead of slowing everyone down. Small limits are set for the test.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { addressKey } from '../../server/http/address.ts';
import { securityEnv, startBackend, type Backend } from '../helpers/backend.ts';
import { removeScope, scopeObjects } from '../helpers/engine.ts';
import { Learner, percentile, signedCookie, Terminal, tryUpgrade } from '../helpers/learner.ts';
import { ensureSiteBuilt } from '../helpers/site-build.ts';

const LAB = 'nginx-local';
const figures: string[] = [];
const servers: Backend[] = [];

async function server(name: string, extra: Record<string, string>): Promise<{ backend: Backend; scope: string }> {
  const env = securityEnv(name, extra);
  const backend = await startBackend(env);
  servers.push(backend);
  return { backend, scope: env.ATELIER_LAB_SCOPE! };
}

before(() => ensureSiteBuilt());
after(async () => {
  for (const f of figures) console.log(`# figure: limits: ${f}`);
  for (const s of servers) {
    await s.stop();
    await removeScope(s.env.ATELIER_LAB_SCOPE!);
  }
});

describe('per learner, and the global cap', () => {
  let site: Backend;
  let scope = '';
  let first: Learner;
  let firstTerm: Terminal;
  before(async () => {
    ({ backend: site, scope } = await server('limits', {
      ATELIER_LAB_CREATES_PER_MINUTE: '3',
      ATELIER_CONNECTS_PER_MINUTE: '6',
      ATELIER_CONNECTIONS_PER_LEARNER: '3',
      ATELIER_MAX_LABS: '2',
    }));
    first = new Learner(site.url);
  });
  after(() => firstTerm?.close());

  test('lab creations: 3 a minute per learner, then 429 with a French message', async () => {
    const answers = [];
    for (let i = 0; i < 6; i++) answers.push(await first.request('POST', `/api/labs/${LAB}`));
    const statuses = answers.map((a) => a.status);
    assert.deepEqual(statuses, [200, 200, 200, 429, 429, 429]);
    assert.equal(answers[3]!.body?.error, 'rate-limited');
    assert.match(String(answers[3]!.body?.message), /attendez/);
    assert.equal((await scopeObjects(scope)).containers.length, 1, 'one lab, created once');
    figures.push(`lab creations per learner: 6 attempts, ${statuses.filter((s) => s === 429).length} refused (limit 3/min)`);
  });

  test('connections: 3 at once per learner, 6 a minute, then 429', async () => {
    firstTerm = await first.terminal(LAB, 'web');
    const open: number[] = [firstTerm ? 101 : 0];
    const held: Promise<number>[] = [];
    // Two more held open (3 at once), the fourth refused.
    const extra = [new Terminal(site.url, first.cookieHeader), new Terminal(site.url, first.cookieHeader)];
    for (const t of extra)
      held.push(
        t.opened.then(
          () => 101,
          () => 429,
        ),
      );
    open.push(...(await Promise.all(held)));
    const fourth = await tryUpgrade(site.url, { origin: site.url, cookie: first.cookieHeader });
    assert.deepEqual(open, [101, 101, 101]);
    assert.equal(fourth, 429, 'a fourth connection at once');
    for (const t of extra) t.close();
    await Promise.all(extra.map((t) => t.closed));
    // 4 of the minute's 6 spent (3 accepted, and the refused one counts too): two more, then none.
    const more = [];
    for (let i = 0; i < 3; i++) more.push(await tryUpgrade(site.url, { origin: site.url, cookie: first.cookieHeader }));
    assert.deepEqual(more, [101, 101, 429], 'at most 6 connections a minute');
    figures.push(`connections per learner: 3 at once (the 4th refused), 6 a minute (the 7th refused)`);
  });

  test('the global cap: past ATELIER_MAX_LABS=2, « no room right now » (503) at once; labs already running are unaffected', async () => {
    const second = new Learner(site.url);
    assert.equal((await second.startLab(LAB)).state, 'ready');
    const third = new Learner(site.url);
    const t0 = Date.now();
    const refused = await third.request('POST', `/api/labs/${LAB}`);
    const refusedMs = Date.now() - t0;
    assert.equal(refused.status, 503);
    assert.equal(refused.body?.error, 'no-room');
    assert.match(String(refused.body?.message), /plus de place/);
    assert.equal(
      new Set((await scopeObjects(scope)).containers.map((c) => c.Labels['atelier.lab-id'])).size,
      2,
      'no third lab in the engine',
    );
    // The labs in use keep answering as before.
    const echo = await firstTerm.echoSamples(40, 10);
    assert.equal((await firstTerm.run('echo still-fine')).output.trim(), 'still-fine');
    figures.push(
      `global cap 2: third learner answered 503 no-room in ${refusedMs} ms; a running lab's echo p50 ${percentile(echo, 50).toFixed(1)} ms meanwhile`,
    );
  });
});

describe('per network address', () => {
  test('address keys: IPv4-mapped IPv6 is IPv4, IPv6 counts by /64', () => {
    assert.equal(addressKey('::ffff:10.1.2.3'), '10.1.2.3');
    assert.equal(addressKey('2001:db8:1:2:aaaa::1'), addressKey('2001:db8:1:2:ffff::9'));
    assert.notEqual(addressKey('2001:db8:1:2::1'), addressKey('2001:db8:1:3::1'));
  });

  test('new learners from one address: 3 lab creations a minute, then 429 (and a spoofed X-Real-IP changes nothing)', async () => {
    const { backend, scope } = await server('peraddr', {
      ATELIER_LAB_CREATES_PER_MINUTE_PER_ADDRESS: '3',
      ATELIER_CONNECTS_PER_MINUTE_PER_ADDRESS: '4',
    });
    const statuses: number[] = [];
    // Three fresh learners (no cookie) spend the address's creations on a lab that does not exist…
    for (let i = 0; i < 3; i++) statuses.push((await new Learner(backend.url).request('POST', '/api/labs/no-such-lab')).status);
    // …and a fourth, claiming another address, gets nothing.
    const r = await fetch(`${backend.url}/api/labs/${LAB}`, {
      method: 'POST',
      headers: { Origin: backend.url, 'Content-Type': 'application/json', 'X-Real-IP': '203.0.113.7', 'X-Forwarded-For': '203.0.113.7' },
      body: '{}',
    });
    statuses.push(r.status);
    assert.deepEqual(statuses, [404, 404, 404, 429]);
    assert.match(String(((await r.json()) as { message: string }).message), /réseau/);
    assert.equal(
      (await scopeObjects(scope)).containers.filter((c) => c.Labels['atelier.lab-id'] && !c.Labels['atelier.lab-id'].startsWith('snapshot'))
        .length,
      0,
      'no lab created',
    );

    // Connections: 4 a minute from the address, whoever the learners are.
    const upgrades: number[] = [];
    for (let i = 0; i < 5; i++) {
      const l = new Learner(backend.url, signedCookie(backend.env.ATELIER_SECRET!)); // a valid identity of its own
      upgrades.push(await tryUpgrade(backend.url, { origin: backend.url, cookie: l.cookieHeader }));
    }
    assert.deepEqual(upgrades, [101, 101, 101, 101, 429]);
    figures.push(
      `per address: 4 creations by fresh learners, 1 refused (limit 3/min); 5 connections by fresh learners, 1 refused (limit 4/min)`,
    );
  });

  test('behind a reverse proxy (ATELIER_ADDRESS_HEADER=x-real-ip): counted by the address the proxy gives', async () => {
    const { backend } = await server('proxyaddr', { ATELIER_LAB_CREATES_PER_MINUTE_PER_ADDRESS: '2', ATELIER_ADDRESS_HEADER: 'x-real-ip' });
    const post = async (ip: string) =>
      (
        await fetch(`${backend.url}/api/labs/no-such-lab`, {
          method: 'POST',
          headers: { Origin: backend.url, 'Content-Type': 'application/json', 'X-Real-IP': ip },
          body: '{}',
        })
      ).status;
    const one = [await post('198.51.100.1'), await post('198.51.100.1'), await post('198.51.100.1')];
    const others = [
      await post('198.51.100.2'),
      await post('2001:db8:5:6::1'),
      await post('2001:db8:5:6::2'),
      await post('2001:db8:5:6::3'),
    ];
    assert.deepEqual(one, [404, 404, 429]);
    assert.deepEqual(others, [404, 404, 404, 429], 'another address has its own budget; one IPv6 /64 is one address');
  });
});
