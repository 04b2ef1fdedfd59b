// The lab manager against real labs: one lab per kind per learner, the global cap, reset, the reaper
// (expired, idle, orphaned) and a restarted backend finding its labs from the engine's labels.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import Docker from 'dockerode';
import { parseLab, type Lab } from '../../sandbox/labs/schema.ts';
import { loadConfig } from '../../server/config.ts';
import { NoRoomError, UnknownLabKindError } from '../../server/labs/errors.ts';
import { LabManager, type LabLimits } from '../../server/labs/manager.ts';
import { DockerProvider } from '../../server/sandbox/docker/provider.ts';
import { newLabId } from '../../server/sandbox/provider.ts';

const kind = (id: string, hosts = ['box']): Lab =>
  parseLab(`test:${id}`, {
    id,
    title: id,
    chapter: 'test',
    hosts: hosts.map((name) => ({ name, boot: ['echo start > /root/state'] })),
    preview: { host: hosts[0]!, port: 80 },
  });

const ONE = kind('test-one');
const TWO = kind('test-two', ['a', 'b']);
const defs = new Map([ONE, TWO].map((d) => [d.id, d]));
const definitions = (id: string) => defs.get(id);
// A scope of its own: the reaper here (with a clock moved forward) sees only this file's labs.
const run = newLabId().slice(0, 8);
const config = loadConfig({ ...process.env, ATELIER_TEST: '1', ATELIER_LAB_SCOPE: `manager-test-${run}` });
const docker = new Docker();
const learner = (name: string) => `${name}-${run}`;

let clock = Date.now();
const now = () => clock;
const providers: DockerProvider[] = [];
const managers: LabManager[] = [];

function manager(limits: Partial<LabLimits> = {}): LabManager {
  const provider = new DockerProvider({ config, log: () => {} });
  providers.push(provider);
  const m = new LabManager({
    provider,
    definitions,
    limits: { maxLabs: 1000, idleMs: 30 * 60_000, maxLifetimeMs: 2 * 3_600_000, reapIntervalMs: 0, orphanGraceMs: 120_000, ...limits },
    now,
    log: () => {},
  });
  managers.push(m);
  return m;
}

async function labCount(): Promise<number> {
  return (await providers[0]!.listLabs()).length;
}

let labs: LabManager;
before(async () => {
  labs = manager();
  await providers[0]!.init();
});

after(async () => {
  await Promise.all(managers.map((m) => m.stop()));
  // Only what this file created (its scope).
  for (const lab of await providers[0]!.listLabs()) await providers[0]!.destroyLab(lab.labId).catch(() => {});
  for (const p of providers) await p.close();
});

describe('one lab of each kind per learner', () => {
  test('a second request returns the existing lab, also when both come at once', async () => {
    const [a, b] = await Promise.all([labs.ensure(learner('ann'), 'test-one'), labs.ensure(learner('ann'), 'test-one')]);
    assert.equal(a.labId, b.labId);
    assert.equal(a.state, 'ready');
    const again = await labs.ensure(learner('ann'), 'test-one');
    assert.equal(again.labId, a.labId);
    assert.equal((await labs.list(learner('ann'))).length, 1);
    assert.equal((await labs.find(learner('ann'), 'test-one'))?.labId, a.labId);
  });

  test('another kind or another learner gets another lab', async () => {
    const one = await labs.ensure(learner('ann'), 'test-one');
    const two = await labs.ensure(learner('ann'), 'test-two');
    const bob = await labs.ensure(learner('bob'), 'test-one');
    assert.equal(new Set([one.labId, two.labId, bob.labId]).size, 3);
    assert.deepEqual(
      two.hosts.map((h) => h.name),
      ['a', 'b'],
    );
    assert.equal(await labs.get(one.labId, learner('bob')), undefined, "bob does not see ann's lab");
    assert.equal((await labs.get(one.labId, learner('ann')))?.labId, one.labId);
  });

  test('an unknown kind is a clear error', async () => {
    assert.throws(() => labs.ensure(learner('ann'), 'no-such-lab'), UnknownLabKindError);
  });
});

describe('global cap', () => {
  test('beyond it the answer is "no room right now", and a place freed is a place again', async () => {
    const capped = manager({ maxLabs: (await labCount()) + 1 });
    const first = await capped.ensure(learner('cap-1'), 'test-one');
    await assert.rejects(
      capped.ensure(learner('cap-2'), 'test-one'),
      (err: Error) => err instanceof NoRoomError && /no room right now/.test(err.message),
    );
    assert.equal(await capped.find(learner('cap-2'), 'test-one'), undefined);
    // The learner who has a lab still gets it at the cap.
    assert.equal((await capped.ensure(learner('cap-1'), 'test-one')).labId, first.labId);
    await capped.destroy(learner('cap-1'), 'test-one');
    const second = await capped.ensure(learner('cap-2'), 'test-one');
    assert.equal(second.state, 'ready');
    await capped.destroy(learner('cap-2'), 'test-one');
  });
});

describe('reset', () => {
  test('brings every host back to the start state, keeping the lab id and its expiry', async () => {
    const lab = await labs.ensure(learner('ann'), 'test-two');
    await labs.exec(lab.labId, 'a', 'echo changed > /root/state; touch /root/extra');
    const reset = await labs.reset(learner('ann'), 'test-two');
    assert.equal(reset.labId, lab.labId);
    assert.equal(reset.expiresAt.getTime(), lab.expiresAt.getTime());
    const r = await labs.exec(lab.labId, 'a', 'cat /root/state; ls /root/extra 2>&1');
    assert.match(r.stdout, /^start\n/);
    assert.match(r.stdout, /No such file/);
  });

  test("a lab stopped behind the manager's back is recreated on the next request", async () => {
    const lab = await labs.ensure(learner('bob'), 'test-one');
    await docker.getContainer(`atelier-test-${lab.labId}-box`).kill();
    assert.equal((await labs.find(learner('bob'), 'test-one'))?.state, 'stopped');
    const again = await labs.ensure(learner('bob'), 'test-one');
    assert.equal(again.labId, lab.labId);
    assert.equal(again.state, 'ready');
    assert.equal((await labs.exec(lab.labId, 'box', 'cat /root/state')).stdout, 'start\n');
  });
});

describe('a restarted backend', () => {
  test('finds the labs again from the engine, and does not create new ones', async () => {
    const before = await labs.find(learner('ann'), 'test-one');
    assert.ok(before);
    const restarted = manager();
    assert.equal((await restarted.find(learner('ann'), 'test-one'))?.labId, before.labId);
    assert.equal((await restarted.ensure(learner('ann'), 'test-one')).labId, before.labId);
    // Activity is unknown after a restart: counted from now, so nothing is idle-reaped at once.
    const reaped = await restarted.reap();
    assert.ok(!reaped.some((d) => d.labId === before.labId));
  });
});

describe('reaper', () => {
  test('removes an expired lab', async () => {
    const m = manager({ maxLifetimeMs: 60_000 });
    const lab = await m.ensure(learner('old'), 'test-one');
    clock += 61_000;
    const reaped = await m.reap();
    assert.ok(reaped.some((d) => d.labId === lab.labId && d.reason === 'expired'));
    assert.equal(await m.get(lab.labId), undefined);
  });

  test('removes an idle lab, but not one with a terminal attached', async () => {
    const m = manager({ idleMs: 60_000 });
    const busy = await m.ensure(learner('busy'), 'test-one');
    const idle = await m.ensure(learner('idle'), 'test-one');
    const term = await m.openTerminal(busy.labId, 'box', { cols: 80, rows: 24 });
    clock += 61_000;
    const reaped = await m.reap();
    assert.ok(reaped.some((d) => d.labId === idle.labId && d.reason === 'idle'));
    assert.ok(!reaped.some((d) => d.labId === busy.labId));
    assert.ok(await m.get(busy.labId));
    await term.close();
    await term.exited;
    clock += 61_000;
    assert.ok((await m.reap()).some((d) => d.labId === busy.labId && d.reason === 'idle'));
  });

  test('removes orphans (a half-created lab, a network or volumes left alone) and nothing without atelier labels', async () => {
    const m = manager({ orphanGraceMs: 60_000 });
    // A half-created lab: one of its two hosts is missing.
    const half = await m.ensure(learner('half'), 'test-two');
    await docker.getContainer(`atelier-test-${half.labId}-b`).remove({ force: true, v: true });
    // A network left alone by a crash between steps.
    const lonelyId = newLabId();
    await docker.createNetwork({
      Name: `atelier-test-${lonelyId}`,
      Internal: true,
      Labels: {
        'atelier.lab-id': lonelyId,
        'atelier.owner': learner('ghost'),
        'atelier.lab': 'test-one',
        'atelier.created': new Date().toISOString(),
        'atelier.expires': new Date(Date.now() + 3_600_000).toISOString(),
        'atelier.hosts': 'box',
        'atelier.test': '1',
        'atelier.scope': `manager-test-${run}`,
      },
    });
    // Volumes left behind by an interrupted removal.
    const volumeLabId = newLabId();
    const volume = await docker.createVolume({
      Name: `atelier-test-${volumeLabId}-etc`,
      Labels: {
        'atelier.lab-id': volumeLabId,
        'atelier.created': new Date().toISOString(),
        'atelier.test': '1',
        'atelier.scope': `manager-test-${run}`,
      },
    });
    // Look-alikes without the labels: never touched.
    const strangerNet = await docker.createNetwork({ Name: `atelier-test-stranger-${run}`, Internal: true });
    const stranger = await docker.createContainer({
      name: `atelier-test-stranger-${run}`,
      Image: config.image ?? 'atelier-lab:latest',
      NetworkDisabled: true,
    });
    try {
      clock = Date.now(); // creation times are real ones
      const early = await m.reap();
      assert.ok(!early.some((d) => d.labId === half.labId || d.labId === lonelyId), 'not within the grace period');
      clock += 61_000;
      const reaped = await m.reap();
      assert.ok(reaped.some((d) => d.labId === half.labId && d.reason === 'orphan'));
      assert.ok(reaped.some((d) => d.labId === lonelyId && d.reason === 'orphan'));
      assert.ok(reaped.some((d) => d.labId === volumeLabId && d.reason === 'orphan'));
      await assert.rejects(docker.getVolume(volume.name).inspect(), /no such volume|404/i);
      const left = await docker.listContainers({ all: true, filters: { label: [`atelier.lab-id=${half.labId}`] } });
      assert.deepEqual(left, []);
      await assert.rejects(docker.getNetwork(`atelier-test-${lonelyId}`).inspect(), /no such network|404/i);
      assert.ok(await strangerNet.inspect());
      assert.ok(await stranger.inspect());
    } finally {
      await stranger.remove({ force: true });
      await strangerNet.remove();
    }
  });
});
