// The warm pool against real labs: labs prepared ahead without an owner, claimed by a learner (the claim
// recorded in the engine, so a restarted backend knows whose lab it is), refilled in the background,
// counted in the global cap (and given up for a learner of another kind), and reaped like other labs:
// when expired, never as idle nor as duplicates.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { parseLab, type Lab } from '../../sandbox/labs/schema.ts';
import { loadConfig } from '../../server/config.ts';
import { NoRoomError } from '../../server/labs/errors.ts';
import { LabManager, type LabLimits } from '../../server/labs/manager.ts';
import { DockerProvider } from '../../server/sandbox/docker/provider.ts';
import { LabClaimedError, newLabId, type LabSpec, type SandboxProvider } from '../../server/sandbox/provider.ts';
import { pollUntil } from '../helpers/engine.ts';
import { outputMatching, within } from '../helpers/wait.ts';

const kind = (id: string): Lab =>
  parseLab(`test:${id}`, {
    id,
    title: id,
    chapter: 'test',
    hosts: [{ name: 'box', boot: ['echo start > /root/state'] }],
    preview: { host: 'box', port: 80 },
  });

const ONE = kind('test-pool-one');
const TWO = kind('test-pool-two');
const defs = new Map([ONE, TWO].map((d) => [d.id, d]));
const definitions = (id: string) => defs.get(id);
// A scope of its own: the reapers here (with a clock moved forward) see only this file's labs.
const run = newLabId().slice(0, 8);
const config = loadConfig({ ...process.env, ATELIER_TEST: '1', ATELIER_LAB_SCOPE: `pool-test-${run}` });
const learner = (name: string) => `${name}-${run}`;

let clock = Date.now();
const now = () => clock;
const providers: DockerProvider[] = [];
const managers: LabManager[] = [];

function manager(pool: Record<string, number>, limits: Partial<LabLimits> = {}): LabManager {
  const provider = new DockerProvider({ config, log: () => {} });
  providers.push(provider);
  const m = new LabManager({
    provider,
    definitions,
    limits: { maxLabs: 1000, idleMs: 30 * 60_000, maxLifetimeMs: 2 * 3_600_000, reapIntervalMs: 0, orphanGraceMs: 120_000, ...limits },
    pool,
    now,
    log: () => {},
  });
  managers.push(m);
  return m;
}

const engine = () => providers[0]!;
const pooledLabs = async (definitionId?: string) => (await engine().listLabs(definitionId ? { definitionId } : {})).filter((l) => l.pooled);

/** Waits until the pool holds `n` ready labs of that kind (it fills in the background). */
async function poolHolds(m: LabManager, definitionId: string, n: number): Promise<void> {
  const deadline = Date.now() + 90_000;
  while ((m.poolCounts()[definitionId] ?? 0) !== n) {
    if (Date.now() > deadline) throw new Error(`pool of ${definitionId} holds ${m.poolCounts()[definitionId]} labs, not ${n}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function removeAll(): Promise<void> {
  for (const m of managers) await m.stop();
  for (const lab of await engine().listLabs())
    await engine()
      .destroyLab(lab.labId)
      .catch(() => {});
}

before(async () => {
  manager({});
  await engine().init();
});

after(async () => {
  await removeAll();
  for (const p of providers) await p.close();
});

describe('a warm pool', () => {
  let m: LabManager;
  before(async () => {
    m = manager({ 'test-pool-one': 2 });
    await m.start();
    await poolHolds(m, 'test-pool-one', 2);
  });

  test('fills to its size in the background with ready labs that belong to nobody', async () => {
    const waiting = await pooledLabs('test-pool-one');
    assert.equal(waiting.length, 2);
    for (const lab of waiting) {
      assert.equal(lab.owner, '');
      assert.equal(lab.state, 'ready');
      assert.equal((await m.exec(lab.labId, 'box', 'cat /root/state')).stdout, 'start\n', 'booted like any lab');
    }
    assert.equal(m.poolCounts()['test-pool-two'], undefined, 'a kind without a pool size gets no pool');
    assert.deepEqual(await m.list(learner('ann')), []);
  });

  test('a learner gets a pool lab, theirs from now on, and the pool fills up again', async () => {
    const waiting = new Set((await pooledLabs('test-pool-one')).map((l) => l.labId));
    clock += 60_000;
    const lab = await m.ensure(learner('ann'), 'test-pool-one');
    assert.ok(waiting.has(lab.labId), 'the lab came from the pool');
    assert.equal(lab.owner, learner('ann'));
    assert.equal(lab.pooled, false);
    assert.equal(lab.createdAt.getTime() >= Date.now() - 60_000, true);
    assert.equal(lab.expiresAt.getTime(), clock + 2 * 3_600_000, 'a whole lifetime from the claim');
    assert.equal((await m.find(learner('ann'), 'test-pool-one'))?.labId, lab.labId);
    assert.equal((await m.ensure(learner('ann'), 'test-pool-one')).labId, lab.labId, 'the same lab next time');
    assert.equal(await m.get(lab.labId, learner('bob')), undefined, "not bob's");
    assert.equal((await engine().getLab(lab.labId))?.owner, learner('ann'), 'the engine records the claim');
    await poolHolds(m, 'test-pool-one', 2);
    assert.equal((await pooledLabs('test-pool-one')).length, 2);
    assert.ok(!(await pooledLabs('test-pool-one')).some((l) => l.labId === lab.labId));
  });

  test("a pool lab's shells are opened ahead: the learner's first terminal is one of them", async () => {
    const lab = await m.ensure(learner('ivy'), 'test-pool-one');
    const listShells = () => terminalShells(m, lab.labId);
    const before = await listShells();
    assert.equal(before.length, 1, `one shell waits in the host: ${before.join(', ')}`);
    const first = await m.openTerminal(lab.labId, 'box', { cols: 100, rows: 30 });
    assert.equal(first.id, before[0]);
    const second = await m.openTerminal(lab.labId, 'box', { cols: 100, rows: 30 });
    assert.ok(!before.includes(second.id), 'later terminals are new shells');
    const out = outputMatching(first.output, /30 100/, 10_000);
    first.write('stty size\r');
    assert.match(await out, /30 100/, "the prepared shell has the size of the learner's terminal");
    await Promise.all([first.close(), second.close()]);
    await m.destroy(learner('ivy'), 'test-pool-one');
  });

  test('a pool lab cannot be claimed twice', async () => {
    const [lab] = await pooledLabs('test-pool-one');
    const provider = providers.at(-1)!;
    const claimed = await provider.claimLab(lab!.labId, learner('carl'), new Date(clock + 60_000));
    assert.equal(claimed.owner, learner('carl'));
    await assert.rejects(provider.claimLab(lab!.labId, learner('dora'), new Date(clock + 60_000)), LabClaimedError);
    assert.equal((await engine().getLab(lab!.labId))?.owner, learner('carl'));
    await m.destroy(learner('carl'), 'test-pool-one');
  });

  test('a reset keeps the learner of a claimed lab', async () => {
    const lab = await m.ensure(learner('ann'), 'test-pool-one');
    await m.exec(lab.labId, 'box', 'echo changed > /root/state');
    const reset = await m.reset(learner('ann'), 'test-pool-one');
    assert.equal(reset.labId, lab.labId);
    assert.equal(reset.owner, learner('ann'));
    assert.equal((await m.exec(lab.labId, 'box', 'cat /root/state')).stdout, 'start\n');
    assert.equal((await m.find(learner('ann'), 'test-pool-one'))?.labId, lab.labId);
  });

  test('a restarted backend knows whose labs they are, and keeps the pool it finds', async () => {
    await poolHolds(m, 'test-pool-one', 2);
    await m.stop();
    const waiting = (await pooledLabs('test-pool-one')).map((l) => l.labId).sort();
    const ann = await m.find(learner('ann'), 'test-pool-one');
    const restarted = manager({ 'test-pool-one': 2 });
    await restarted.start();
    assert.equal((await restarted.find(learner('ann'), 'test-pool-one'))?.labId, ann?.labId);
    assert.deepEqual(restarted.poolCounts(), { 'test-pool-one': 2 });
    assert.deepEqual((await pooledLabs('test-pool-one')).map((l) => l.labId).sort(), waiting, 'no new pool labs');
    m = restarted;
  });

  test('pool labs are never idle nor duplicates, but are reaped when expired, and replaced', async () => {
    const waiting = (await pooledLabs('test-pool-one')).map((l) => l.labId);
    clock += 31 * 60_000; // past the idle timeout
    const idle = await m.reap();
    assert.ok(!idle.some((d) => waiting.includes(d.labId)), JSON.stringify(idle));
    clock += 2 * 3_600_000; // past their lifetime (and ann's)
    const expired = await m.reap();
    for (const id of waiting)
      assert.ok(
        expired.some((d) => d.labId === id && d.reason === 'expired'),
        `${id} expired`,
      );
    await poolHolds(m, 'test-pool-one', 2);
    const fresh = (await pooledLabs('test-pool-one')).map((l) => l.labId);
    assert.equal(fresh.length, 2);
    assert.ok(fresh.every((id) => !waiting.includes(id)));
  });

  test('a kind no longer pooled: its pool labs are removed', async () => {
    await m.stop();
    const unpooled = manager({});
    await unpooled.start();
    assert.deepEqual(await pooledLabs('test-pool-one'), []);
    m = unpooled;
  });
});

describe('shells opened ahead for a lab a learner just created', () => {
  test('its first terminal of each host is the shell opened right after the creation, and a reset opens new ones', async () => {
    const m = manager({});
    const lab = await m.ensure(learner('nina'), 'test-pool-two');
    const shells = () => terminalShells(m, lab.labId);
    // The shell opens in the background after the answer: it shows up in the host.
    const ahead = await pollUntil(shells, (list) => list.length > 0, 30_000, 100);
    assert.equal(ahead.length, 1);
    const term = await m.openTerminal(lab.labId, 'box', { cols: 90, rows: 20 });
    assert.equal(term.id, ahead[0]);
    await term.close();
    await m.reset(learner('nina'), 'test-pool-two');
    const again = await pollUntil(shells, (list) => list.length > 0, 30_000, 100);
    assert.equal(again.length, 1);
    assert.notEqual(again[0], ahead[0]);
    const next = await m.openTerminal(lab.labId, 'box', { cols: 90, rows: 20 });
    assert.equal(next.id, again[0]);
    await next.close();
    await m.destroy(learner('nina'), 'test-pool-two');
  });
});

describe('a pool and the global cap', () => {
  test('pool labs count and never take the last place; at the cap a learner of another kind takes the place of a pool lab', async () => {
    await removeAll();
    const filling = manager({ 'test-pool-one': 3 }, { maxLabs: 3 });
    await filling.start();
    await poolHolds(filling, 'test-pool-one', 2);
    // Its fill went on to a third lab at once (the pool's size is 3). stop() resolves once the creations under
    // way have settled: that third one included, whether it found no room or (wrongly) took the last place.
    await filling.stop();
    assert.equal((await pooledLabs()).length, 2, 'the pool leaves the last place to a learner');
    const capped = manager({ 'test-pool-one': 3 }, { maxLabs: 3 });
    await capped.start();
    assert.deepEqual(capped.poolCounts(), { 'test-pool-one': 2 }, 'a pool started again finds the two labs');
    const two = await capped.ensure(learner('eve'), 'test-pool-two'); // the third place
    assert.equal(two.state, 'ready');
    // The pool cannot refill over the cap. A second learner of kind two: a pool lab gives way.
    const other = await capped.ensure(learner('fred'), 'test-pool-two');
    assert.equal(other.state, 'ready');
    assert.equal((await engine().listLabs()).length, 3);
    assert.equal((await pooledLabs()).length, 1);
    // A learner of kind one gets the last pool lab; then nothing is left to give.
    const one = await capped.ensure(learner('gail'), 'test-pool-one');
    assert.equal(one.owner, learner('gail'));
    await assert.rejects(capped.ensure(learner('hank'), 'test-pool-two'), NoRoomError);
    await capped.stop();
  });
});

describe('creations in a burst', () => {
  test('wait their turn (at most the concurrency at once), learners before the pool', async () => {
    await removeAll();
    const provider = new DockerProvider({ config, log: () => {} });
    providers.push(provider);
    // The real provider, watched: how many creations run at once, and in which order they start.
    let running = 0;
    let most = 0;
    const started: string[] = [];
    let firstStarted = () => {};
    const poolStarted = new Promise<void>((ok) => (firstStarted = ok));
    const watched = new Proxy(provider, {
      get(target, key) {
        if (key === 'createLab') {
          return async (spec: LabSpec) => {
            started.push(spec.pooled ? 'pool' : spec.owner);
            firstStarted();
            most = Math.max(most, ++running);
            try {
              return await target.createLab(spec);
            } finally {
              running--;
            }
          };
        }
        const value = Reflect.get(target, key) as unknown;
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    }) as SandboxProvider;
    const m = new LabManager({
      provider: watched,
      definitions,
      limits: { maxLabs: 1000, idleMs: 30 * 60_000, maxLifetimeMs: 2 * 3_600_000, reapIntervalMs: 0, createConcurrency: 1 },
      pool: { 'test-pool-one': 2 },
      now,
      log: () => {},
    });
    managers.push(m);
    await m.start();
    // The pool's first creation starts (after it counted the labs: the learners come once it has).
    await within(poolStarted, 30_000, "the pool's first creation");
    const learners = ['kim', 'lou', 'max'].map(learner);
    const labs = await Promise.all(learners.map((l) => m.ensure(l, 'test-pool-two')));
    assert.ok(labs.every((l, i) => l.state === 'ready' && l.owner === learners[i]));
    await poolHolds(m, 'test-pool-one', 2);
    assert.equal(most, 1, 'one creation at a time');
    assert.deepEqual(started.slice(0, 5).sort(), ['pool', 'pool', ...learners].sort());
    assert.equal(started[0], 'pool', 'the pool had started first');
    assert.equal(started.lastIndexOf('pool'), 4, `the second pool lab waited for the learners: ${started.join(', ')}`);
    await m.stop();
  });
});

/** Terminal shells running in a lab's host `box`: each carries its session id in ATELIER_TERMINAL. */
async function terminalShells(m: LabManager, labId: string): Promise<string[]> {
  const r = await m.exec(labId, 'box', "grep -zh '^ATELIER_TERMINAL=' /proc/[0-9]*/environ 2>/dev/null | tr '\\0' '\\n' | sort -u");
  return r.stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => l.replace('ATELIER_TERMINAL=', ''));
}
