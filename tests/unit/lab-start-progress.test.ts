// A lab start's progress on the server, as units: the creation queue tells each waiting creation its
// place as the line moves (learners before the pool), the record of starts under way, the failures of
// starts answered early (told once), and the progress field as the browser reads it.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseStartProgress } from '../../protocol/lab-start.ts';
import { BackgroundStarts } from '../../server/http/background-starts.ts';
import { CreationQueue } from '../../server/labs/queue.ts';
import { Starts } from '../../server/labs/starts.ts';

/** A creation that runs until finish() is called. */
function job() {
  let finish = () => {};
  const done = new Promise<void>((ok) => (finish = ok));
  let started = false;
  return {
    work: async () => {
      started = true;
      await done;
    },
    finish,
    started: () => started,
  };
}

const tick = () => new Promise(setImmediate);

describe('the creation queue', () => {
  test('tells each waiting creation its place, each time the line moves; learners go before the pool', async () => {
    const q = new CreationQueue(2);
    const places: Record<string, number[]> = { a: [], b: [], c: [], pool: [] };
    const jobs = { r1: job(), r2: job(), a: job(), b: job(), c: job(), pool: job() };
    const runs = [
      q.run('learner', jobs.r1.work),
      q.run('learner', jobs.r2.work),
      q.run('pool', jobs.pool.work, (n) => places.pool!.push(n)),
      q.run('learner', jobs.a.work, (n) => places.a!.push(n)),
      q.run('learner', jobs.b.work, (n) => places.b!.push(n)),
      q.run('learner', jobs.c.work, (n) => places.c!.push(n)),
    ];
    await tick();
    assert.deepEqual(q.load, { running: 2, waiting: 4 });
    assert.equal(places.a!.at(-1), 0, 'a learner arriving after the pool creation goes before it');
    assert.equal(places.c!.at(-1), 2);
    assert.equal(places.pool!.at(-1), 3);
    jobs.r1.finish();
    await tick();
    assert.ok(jobs.a.started());
    assert.deepEqual([places.b!.at(-1), places.c!.at(-1), places.pool!.at(-1)], [0, 1, 2]);
    for (const j of [jobs.r2, jobs.a, jobs.b, jobs.c, jobs.pool]) j.finish();
    await Promise.all(runs);
    assert.deepEqual(places.c, [2, 1, 0], 'c was told each place once, in order');
    assert.deepEqual(q.load, { running: 0, waiting: 0 });
  });

  test('a creation with room runs at once and is told no place', async () => {
    const q = new CreationQueue(1);
    const places: number[] = [];
    await q.run(
      'learner',
      async () => {},
      (n) => places.push(n),
    );
    assert.deepEqual(places, []);
  });
});

describe('starts under way', () => {
  test('a start is queued with its place, then at each step; it is forgotten once it ends', () => {
    let now = 1000;
    const starts = new Starts(() => now);
    const t = starts.begin('alice', 'nginx-remote', 'lab1');
    assert.deepEqual(starts.get('alice', 'nginx-remote'), { labId: 'lab1', since: 1000, phase: 'queued' });
    t.queued(4);
    assert.equal(starts.get('alice', 'nginx-remote')?.ahead, 4);
    now = 2000;
    t.phase('network');
    assert.deepEqual(
      starts.get('alice', 'nginx-remote'),
      { labId: 'lab1', since: 1000, phase: 'network' },
      'no place once out of the queue',
    );
    assert.equal(starts.get('bob', 'nginx-remote'), undefined, 'another learner’s');
    t.end();
    assert.equal(starts.get('alice', 'nginx-remote'), undefined);
  });

  test('a later start of the same lab replaces the record; the first one’s news and end leave it alone', () => {
    const starts = new Starts(() => 0);
    const first = starts.begin('alice', 'nginx-remote', 'lab1');
    const second = starts.begin('alice', 'nginx-remote', 'lab1');
    second.phase('services');
    first.phase('network');
    first.end();
    assert.equal(starts.get('alice', 'nginx-remote')?.phase, 'services');
    second.end();
    assert.equal(starts.get('alice', 'nginx-remote'), undefined);
  });
});

describe('starts answered early', () => {
  test('a failure is told once, to that learner for that lab, and kept a minute at most', async () => {
    let now = 0;
    const starts = new BackgroundStarts(() => now);
    const failure = new Error('no room');
    const failed = Promise.reject(failure);
    starts.watch('alice', 'nginx-remote', failed);
    await failed.catch(() => {});
    assert.equal(starts.takeFailure('bob', 'nginx-remote'), undefined);
    assert.equal(starts.takeFailure('alice', 'apache-remote'), undefined);
    assert.equal(starts.takeFailure('alice', 'nginx-remote'), failure);
    assert.equal(starts.takeFailure('alice', 'nginx-remote'), undefined, 'told once');

    const again = Promise.reject(failure);
    starts.watch('alice', 'nginx-remote', again);
    await again.catch(() => {});
    now = 61_000;
    assert.equal(starts.takeFailure('alice', 'nginx-remote'), undefined, 'too old');
  });

  test('a start that succeeds, or a new start, clears an earlier failure', async () => {
    const starts = new BackgroundStarts(() => 0);
    const failed = Promise.reject(new Error('engine'));
    starts.watch('alice', 'nginx-remote', failed);
    await failed.catch(() => {});
    const ok = Promise.resolve({});
    starts.watch('alice', 'nginx-remote', ok);
    await ok;
    assert.equal(starts.takeFailure('alice', 'nginx-remote'), undefined);
  });
});

describe('the progress field', () => {
  test('only known steps, and a place only in the queue', () => {
    assert.deepEqual(parseStartProgress({ phase: 'queued', ahead: 2 }), { phase: 'queued', ahead: 2 });
    assert.deepEqual(parseStartProgress({ phase: 'queued', ahead: -1 }), { phase: 'queued' });
    assert.deepEqual(parseStartProgress({ phase: 'queued', ahead: 1.5 }), { phase: 'queued' });
    assert.deepEqual(parseStartProgress({ phase: 'services', ahead: 2 }), { phase: 'services' });
    for (const bad of [null, 'network', {}, { phase: 'toString' }, { phase: 'ready' }, []])
      assert.equal(parseStartProgress(bad), undefined);
  });
});
