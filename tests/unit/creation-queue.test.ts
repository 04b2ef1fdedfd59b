// The creation queue as a unit: its bound, its order and what a failure leaves. Places told as the line
// moves are in lab-start-progress.test.ts. Each test names what it would catch.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CreationQueue, type Priority } from '../../server/labs/queue.ts';

/** Jobs that each run until released, recording the order they started in and how many ran at once. */
function bench() {
  const started: string[] = [];
  const release = new Map<string, (fail?: Error) => void>();
  let running = 0;
  let most = 0;
  const job = (name: string) => async () => {
    started.push(name);
    most = Math.max(most, ++running);
    try {
      await new Promise<void>((ok, no) => release.set(name, (fail) => (fail ? no(fail) : ok())));
    } finally {
      running--;
    }
    return name;
  };
  return { started, release: (name: string, fail?: Error) => release.get(name)!(fail), job, most: () => most };
}

const tick = () => new Promise(setImmediate);

describe('the creation queue', () => {
  test('never more than its limit at once, and every job runs', async () => {
    const q = new CreationQueue(3);
    const b = bench();
    const names = Array.from({ length: 10 }, (_, i) => `j${i}`);
    const runs = names.map((n, i) => q.run(i % 2 ? 'learner' : 'pool', b.job(n)));
    for (let done = 0; done < names.length; done++) {
      await tick();
      b.release(b.started[done]!);
    }
    // Catches: a place not given back (a stall) or given twice (more than the limit at once).
    assert.deepEqual((await Promise.all(runs)).sort(), [...names].sort());
    assert.equal(b.most(), 3);
    assert.deepEqual(q.load, { running: 0, waiting: 0 });
  });

  test('learners in arrival order, then the pool in arrival order', async () => {
    const q = new CreationQueue(1);
    const b = bench();
    const order: [string, Priority][] = [
      ['first', 'learner'],
      ['pool-1', 'pool'],
      ['ann', 'learner'],
      ['pool-2', 'pool'],
      ['bob', 'learner'],
    ];
    const runs = order.map(([n, p]) => q.run(p, b.job(n)));
    for (let i = 0; i < order.length; i++) {
      await tick();
      b.release(b.started[i]!);
    }
    await Promise.all(runs);
    // Catches: a LIFO line, or the pool served before a learner who arrived later.
    assert.deepEqual(b.started, ['first', 'ann', 'bob', 'pool-1', 'pool-2']);
  });

  test('a failing job gives its place to the next and its error to its caller alone', async () => {
    const q = new CreationQueue(1);
    const b = bench();
    const failing = q.run('learner', b.job('broken'));
    const next = q.run('learner', b.job('next'));
    await tick();
    b.release('broken', new Error('engine said no'));
    // Catches: a failure that keeps its place for ever (every later creation would wait).
    await assert.rejects(failing, /engine said no/);
    await tick();
    assert.deepEqual(b.started, ['broken', 'next']);
    b.release('next');
    assert.equal(await next, 'next');
    assert.deepEqual(q.load, { running: 0, waiting: 0 });
  });

  test('a limit that is not a positive integer is refused', () => {
    // Catches: a limit of 0 (nothing ever runs) or a fraction accepted from the environment.
    for (const bad of [0, -1, 1.5, Number.NaN]) assert.throws(() => new CreationQueue(bad), RangeError);
  });
});
