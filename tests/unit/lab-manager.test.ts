// The lab manager as a unit, on the in-memory fake provider (tests/helpers/fake-provider.ts) and a fake
// clock: concurrent requests sharing one creation, one lab per learner and kind, the cap and the warm
// pool, reset, find and list, a start's progress, and the reaper's rules as the manager applies them.
// The same behaviour against Docker is in tests/integration/{manager,pool}.test.ts. Each test names
// what it would catch.
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, test } from 'node:test';
import { parseLab, type Lab } from '../../sandbox/labs/schema.ts';
import { NoRoomError, UnknownLabKindError } from '../../server/labs/errors.ts';
import { LabManager, type LabLimits } from '../../server/labs/manager.ts';
import type { LabInfo, LabSpec } from '../../server/sandbox/provider.ts';
import { FakeEngine, FakeProvider } from '../helpers/fake-provider.ts';
import { within } from '../helpers/wait.ts';

const kind = (id: string, hosts = ['box']): Lab =>
  parseLab(`test:${id}`, {
    id,
    title: id,
    chapter: 'test',
    hosts: hosts.map((name) => ({ name, workdir: '/tmp', env: { LAB_KIND: id } })),
    preview: { host: hosts[0]!, port: 80 },
  });
const A = kind('kind-a');
const B = kind('kind-b', ['web', 'php']);
const defs = new Map([A, B].map((d) => [d.id, d]));

const MIN = 60_000;
const LIMITS: LabLimits = { maxLabs: 100, idleMs: 30 * MIN, maxLifetimeMs: 120 * MIN, reapIntervalMs: 0, orphanGraceMs: 2 * MIN };

let cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});

/** A manager on a fresh fake engine, with a clock the test moves (starting at the real time: the fake dates creations by it). */
function setup(limits: Partial<LabLimits> = {}, pool: Record<string, number> = {}) {
  const engine = new FakeEngine();
  const clock = { now: Date.now() };
  const logged: string[] = [];
  const m = new LabManager({
    provider: new FakeProvider({ engine }),
    definitions: (id) => defs.get(id),
    limits: { ...LIMITS, ...limits },
    pool,
    now: () => clock.now,
    log: (line) => logged.push(line),
  });
  cleanups.push(async () => {
    await m.stop();
    engine.shutdown();
  });
  return { engine, clock, m, logged, labs: () => new FakeProvider({ engine }).listLabs() };
}

/** Holds every creation at its start until released; `waiting` resolves once `n` are held. */
function hold(engine: FakeEngine) {
  const held: { spec: LabSpec; release: () => void }[] = [];
  const arrivals: (() => void)[] = [];
  engine.beforeCreate = (spec) =>
    new Promise<void>((release) => {
      held.push({ spec, release });
      for (const a of arrivals.splice(0)) a();
    });
  const waiting = async (n: number) => {
    while (held.length < n) await within(new Promise<void>((ok) => arrivals.push(ok)), 5000, `${n} creations held (${held.length})`);
  };
  return {
    held,
    waiting,
    releaseAll: () => {
      engine.beforeCreate = undefined;
      for (const h of held) h.release();
    },
  };
}

/** Resolves once `done()` holds, checked between event-loop turns; fails after 5 s naming `what`. */
async function until(done: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within 5000 ms`);
    await new Promise(setImmediate);
  }
}

const tick = async (n = 5) => {
  for (let i = 0; i < n; i++) await new Promise(setImmediate);
};

describe('ensure', () => {
  test('concurrent requests of one learner for one kind share a single creation', async () => {
    const { engine, m } = setup();
    const gate = hold(engine);
    const first = m.ensure('ann', A.id);
    const second = m.ensure('ann', A.id);
    await gate.waiting(1);
    await tick();
    // Catches: a double click creating two labs (one would be reaped as a duplicate, its shells lost).
    assert.equal(gate.held.length, 1);
    gate.releaseAll();
    const [a, b] = await Promise.all([first, second]);
    assert.equal(a.labId, b.labId);
    assert.equal(engine.count('createLab'), 1);
  });

  test('one lab per learner and kind: asked again, the same lab; another kind or learner, another lab', async () => {
    const { engine, m, labs } = setup();
    const ann = await m.ensure('ann', A.id);
    // Catches: a second creation when the learner's lab exists (e.g. after the pending entry is gone).
    assert.equal((await m.ensure('ann', A.id)).labId, ann.labId);
    assert.equal(engine.count('createLab'), 1);
    const annB = await m.ensure('ann', B.id);
    const bob = await m.ensure('bob', A.id);
    // Catches: labs keyed by learner alone or by kind alone.
    assert.equal(new Set([ann.labId, annB.labId, bob.labId]).size, 3);
    assert.deepEqual((await labs()).map((l) => `${l.owner}/${l.definitionId}`).sort(), ['ann/kind-a', 'ann/kind-b', 'bob/kind-a']);
  });

  test('an expired lab is replaced; a stopped one is recreated in place', async () => {
    const { engine, clock, m } = setup();
    const first = await m.ensure('ann', A.id);
    // Catches: a learner given a lab that the next reap removes under their feet.
    clock.now += LIMITS.maxLifetimeMs;
    const second = await m.ensure('ann', A.id);
    assert.notEqual(second.labId, first.labId);
    assert.equal(await m.get(first.labId), undefined, 'the expired lab is gone');
    // Catches: a stopped lab (engine restart, PID 1 killed) handed out as it is, with dead hosts.
    engine.stopHost(second.labId, 'box');
    const third = await m.ensure('ann', A.id);
    assert.equal(third.labId, second.labId);
    assert.equal(third.state, 'ready');
    assert.equal(engine.count('resetLab'), 1);
  });

  test('an unknown kind is a clear error that costs no engine call', async () => {
    const { engine, m } = setup();
    // Catches: any string a learner sends reaching the engine as a lab kind.
    assert.throws(() => m.ensure('ann', 'toString'), UnknownLabKindError);
    await assert.rejects(m.find('ann', 'nope'), UnknownLabKindError);
    assert.equal(engine.count('listLabs'), 0);
  });
});

describe('the global cap', () => {
  test('beyond it, « no room »; a place freed is a place again', async () => {
    const { m } = setup({ maxLabs: 2 });
    await m.ensure('ann', A.id);
    await m.ensure('bob', A.id);
    // Catches: the cap not enforced, or enforced after the creation.
    await assert.rejects(m.ensure('carl', A.id), NoRoomError);
    await m.destroy('bob', A.id);
    assert.equal((await m.ensure('carl', A.id)).owner, 'carl');
  });

  test('two learners racing for the last place: exactly one gets it, the other is told there is no room', async () => {
    const { m, labs } = setup({ maxLabs: 1 });
    const results = await Promise.allSettled([m.ensure('ann', A.id), m.ensure('bob', A.id)]);
    // Catches: both counted before either reserved its place (two labs under a cap of one), and each
    // counting the other's reservation (both turned away with a place free).
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
    for (const r of results) if (r.status === 'rejected') assert.ok(r.reason instanceof NoRoomError);
    assert.equal((await labs()).length, 1);
  });

  test('at the cap, an idle lab is reaped to make room', async () => {
    const { clock, m } = setup({ maxLabs: 1 });
    const ann = await m.ensure('ann', A.id);
    clock.now += LIMITS.idleMs;
    // Catches: a learner turned away while a forgotten lab holds the place.
    assert.equal((await m.ensure('bob', A.id)).owner, 'bob');
    assert.equal(await m.get(ann.labId), undefined);
  });
});

describe('the warm pool and the cap', () => {
  test('the pool never takes the last place', async () => {
    const { engine, m, labs } = setup({ maxLabs: 2 }, { [A.id]: 2 });
    await m.start();
    // Once a lab is ready, the pool asks for the next one at once (the engine answers the fake in
    // microtasks): stop() then waits for that creation, if the pool was wrongly given one.
    await until(() => m.poolCounts()[A.id] === 1, 'a pool lab');
    await m.stop();
    // Catches: a pool that fills the machine, so the first learner of another kind is turned away.
    assert.deepEqual(m.poolCounts(), { [A.id]: 1 });
    assert.equal((await labs()).length, 1);
    assert.equal(engine.count('createLab'), 1);
  });

  test('a learner of that kind claims a pool lab instead of waiting for a creation', async () => {
    const { engine, clock, m } = setup({}, { [A.id]: 1 });
    await m.start();
    await m.stop();
    const [pooled] = await new FakeProvider({ engine }).listLabs({ definitionId: A.id });
    assert.equal(pooled?.pooled, true);
    const lab = await m.ensure('ann', A.id);
    // Catches: the pool filled but never used, or a claim that leaves the lab without its owner or expiry.
    assert.equal(lab.labId, pooled!.labId);
    assert.equal(lab.owner, 'ann');
    assert.equal(lab.pooled, undefined);
    assert.equal(lab.expiresAt.getTime(), clock.now + LIMITS.maxLifetimeMs);
    assert.equal(engine.count('createLab'), 1);
  });

  test('at the cap, a learner of another kind takes the place of a pool lab', async () => {
    const { m, labs, logged } = setup({ maxLabs: 2 }, { [A.id]: 1 });
    await m.start();
    await m.stop();
    await m.ensure('ann', B.id);
    // Catches: labs prepared for nobody in particular keeping a learner out.
    const bob = await m.ensure('bob', B.id);
    assert.equal(bob.owner, 'bob');
    assert.deepEqual((await labs()).map((l) => l.owner).sort(), ['ann', 'bob']);
    assert.match(logged.join('\n'), /room for a learner/);
  });
});

describe('reset', () => {
  test('recreates every host, keeping the lab id, its learner, creation time and expiry', async () => {
    const { engine, clock, m } = setup();
    const before = await m.ensure('ann', B.id);
    const dirs = () => [...(engine.labs.get(before.labId)?.hosts.values() ?? [])].map((h) => h.dir);
    const oldDirs = dirs();
    clock.now += 5 * MIN;
    const after = await m.reset('ann', B.id);
    // Catches: a reset that changes the lab's identity (the preview URL) or extends its life.
    for (const field of ['labId', 'owner', 'definitionId'] as const) assert.equal(after[field], before[field]);
    assert.equal(after.expiresAt.getTime(), before.expiresAt.getTime());
    assert.equal(after.createdAt.getTime(), before.createdAt.getTime());
    // Catches: a reset that leaves the hosts as they were.
    assert.equal(engine.count('resetLab'), 1);
    for (const d of dirs()) assert.ok(!oldDirs.includes(d));
  });

  test('while a reset prepares the new hosts, the lab is found starting, not ready', async () => {
    // A kind whose boot waits at a gate the test opens: the hosts run, their services are not ready.
    const dir = mkdtempSync(join(tmpdir(), 'atelier-gate-'));
    const gate = join(dir, 'gate');
    execFileSync('mkfifo', [gate]);
    const gated = parseLab('test:gated', {
      id: 'gated',
      title: 'gated',
      chapter: 'test',
      hosts: [{ name: 'box', workdir: '/tmp', boot: [`read -r _ < ${gate}`] }],
      preview: { host: 'box', port: 80 },
    });
    defs.set(gated.id, gated);
    cleanups.push(async () => {
      defs.delete(gated.id);
      rmSync(dir, { recursive: true, force: true });
    });
    const open = () => new Promise((ok) => execFile('sh', ['-c', `echo go > ${gate}`], ok));
    const { m, labs } = setup();
    const [lab] = await Promise.all([m.ensure('ann', gated.id), open()]);
    const resetting = m.reset('ann', gated.id);
    // The engine shows the new hosts running while their boot waits at the gate.
    await within(
      (async () => {
        while ((await labs()).find((l) => l.labId === lab.labId)?.state !== 'ready') await new Promise((r) => setImmediate(r));
      })(),
      5000,
      'the new hosts running mid-reset',
    );
    // Catches: the engine's view taken for ready mid-reset: the panel attached and the preview asked a
    // web server not started yet (seen in CI as a 502 that never went away).
    assert.equal((await m.find('ann', gated.id))?.labId, lab.labId);
    assert.equal((await m.find('ann', gated.id))?.state, 'partial');
    await open();
    await resetting;
    assert.equal((await m.find('ann', gated.id))?.state, 'ready');
  });

  test('a learner without a lab (or with an expired one) gets a new one', async () => {
    const { engine, clock, m } = setup();
    // Catches: « Réinitialiser » failing with no lab instead of starting one.
    const fresh = await m.reset('ann', A.id);
    assert.equal(fresh.state, 'ready');
    clock.now += LIMITS.maxLifetimeMs;
    const replaced = await m.reset('ann', A.id);
    assert.notEqual(replaced.labId, fresh.labId);
    assert.equal(engine.count('resetLab'), 0);
  });
});

describe('find, list and get', () => {
  test('a lab waiting its turn is found as partial, with its future id; list shows only usable labs', async () => {
    const { engine, m } = setup();
    assert.equal(await m.find('ann', A.id), undefined);
    const gate = hold(engine);
    const pending = m.ensure('ann', A.id);
    await gate.waiting(1);
    const starting = (await m.find('ann', A.id)) as LabInfo;
    // Catches: the learner's next question (a reload) seeing no lab and starting another.
    assert.equal(starting.state, 'partial');
    assert.deepEqual(starting.hosts, [{ name: 'box', state: 'missing' }]);
    assert.equal(starting.labId, gate.held[0]!.spec.labId);
    // Catches: half-made labs listed as usable.
    assert.deepEqual(await m.list('ann'), []);
    gate.releaseAll();
    const lab = await pending;
    assert.equal(lab.labId, starting.labId);
    assert.equal((await m.find('ann', A.id))?.state, 'ready');
    assert.deepEqual(
      (await m.list('ann')).map((l) => l.labId),
      [lab.labId],
    );
  });

  test('a half-removed lab left by a crash is not anyone’s lab; another learner’s lab is not theirs', async () => {
    const { engine, m } = setup();
    const lab = await m.ensure('ann', B.id);
    // Catches: get() by id handing a lab to anyone who knows its id.
    assert.equal((await m.get(lab.labId, 'ann'))?.labId, lab.labId);
    assert.equal(await m.get(lab.labId, 'bob'), undefined);
    assert.deepEqual(await m.list('bob'), []);
    engine.removeHost(lab.labId, 'php');
    // Catches: a partial lab (not being made here) offered to the learner, whose terminals would fail.
    assert.equal(await m.find('ann', B.id), undefined);
    assert.deepEqual(await m.list('ann'), []);
  });
});

describe('a start’s progress', () => {
  test('its place in the queue as the line moves, then each step of the provider, then nothing', async () => {
    const { engine, m } = setup({ createConcurrency: 1 });
    const gate = hold(engine);
    const seen: (string | undefined)[] = [];
    const runs = [m.ensure('ann', A.id), m.ensure('bob', A.id), m.ensure('carl', A.id)];
    await gate.waiting(1);
    await tick();
    // Catches: a waiting learner told nothing, or the wrong place.
    assert.deepEqual(m.startProgress('bob', A.id), { phase: 'queued', ahead: 0 });
    assert.deepEqual(m.startProgress('carl', A.id), { phase: 'queued', ahead: 1 });
    // The provider's steps, as the learner would read them at each one.
    engine.beforeCreate = async (spec) => {
      const told = spec.progress;
      spec.progress = (phase) => {
        told?.(phase);
        seen.push(m.startProgress(spec.owner, A.id)?.phase);
      };
    };
    gate.held[0]!.release();
    await Promise.all(runs);
    // Catches: the provider's progress not reaching the start record (the badge stuck on « en attente »).
    assert.deepEqual(seen, ['network', 'containers', 'services', 'network', 'containers', 'services']);
    // Catches: a finished start still reported (the panel would poll for ever).
    for (const who of ['ann', 'bob', 'carl']) assert.equal(m.startProgress(who, A.id), undefined);
  });
});

describe('the reaper, as the manager applies it', () => {
  test('an idle lab goes after idleMs, never while a terminal is attached', async () => {
    const { clock, m } = setup();
    const lab = await m.ensure('ann', A.id);
    clock.now += LIMITS.idleMs - 1;
    assert.deepEqual(await m.reap(), []);
    const shell = await m.openTerminal(lab.labId, 'box', { cols: 80, rows: 24 });
    clock.now += LIMITS.idleMs;
    // Catches: a learner reading a long page with the terminal open losing their lab.
    assert.deepEqual(await m.reap(), []);
    await shell.close();
    await tick();
    // Catches: closing the terminal counted as long ago (the lab removed at once).
    assert.deepEqual(await m.reap(), []);
    clock.now += LIMITS.idleMs;
    assert.deepEqual(await m.reap(), [{ labId: lab.labId, reason: 'idle' }]);
    assert.equal(await m.get(lab.labId), undefined);
  });

  test('activity (exec, touch) postpones idleness', async () => {
    const { clock, m } = setup();
    const lab = await m.ensure('ann', A.id);
    clock.now += LIMITS.idleMs - 1;
    m.touch(lab.labId);
    clock.now += LIMITS.idleMs - 1;
    assert.equal((await m.exec(lab.labId, 'box', 'echo $LAB_KIND')).stdout, 'kind-a\n');
    clock.now += LIMITS.idleMs - 1;
    // Catches: a preview view or a check not counted as the learner being there.
    assert.deepEqual(await m.reap(), []);
  });

  test('expired labs go even with a terminal attached; orphans after their grace period', async () => {
    const { engine, clock, m } = setup();
    const ann = await m.ensure('ann', A.id);
    const bob = await m.ensure('bob', B.id);
    await m.openTerminal(ann.labId, 'box', { cols: 80, rows: 24 });
    engine.removeHost(bob.labId, 'php');
    clock.now += LIMITS.orphanGraceMs! - 1000;
    // Catches: a half-made lab removed while its creation may still be running elsewhere.
    assert.deepEqual(await m.reap(), []);
    clock.now += LIMITS.maxLifetimeMs;
    // Catches: the hard expiry (the bound on everything) waived by an open terminal.
    const reaped = await m.reap();
    assert.deepEqual(reaped.map((d) => `${d.labId === ann.labId ? 'ann' : 'bob'}:${d.reason}`).sort(), ['ann:expired', 'bob:orphan']);
    assert.deepEqual(await new FakeProvider({ engine }).listLabs(), []);
  });

  test('a lab being created here is never reaped, even past every bound', async () => {
    const { engine, clock, m } = setup();
    const lab = await m.ensure('ann', A.id);
    engine.stopHost(lab.labId, 'box');
    const gate = hold(engine);
    const again = m.ensure('ann', A.id); // recreated in place: busy until its creation ends
    await gate.waiting(1);
    clock.now += 10 * LIMITS.maxLifetimeMs;
    // Catches: the reaper removing a lab under a reset (the learner's start would fail half-way).
    assert.deepEqual(await m.reap(), []);
    gate.releaseAll();
    assert.equal((await again).labId, lab.labId);
  });
});
