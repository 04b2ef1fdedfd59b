// The warm pool as a unit, with a creation function the test controls and node:test's fake timers for
// its delays: filling, one creation at a time per kind, no room, back-off, take, sync with the engine,
// stop. Each test names what it would catch.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, mock, test } from 'node:test';
import { WarmPool } from '../../server/labs/pool.ts';

/** A creation function whose calls wait until the test answers them (a lab id, null, or an error). */
function creations() {
  const calls: { definitionId: string; answer: (result: string | null | Error) => void }[] = [];
  let running = 0;
  let most = 0;
  let next = 0;
  const create = (definitionId: string) => {
    most = Math.max(most, ++running);
    return new Promise<string | null>((ok, no) =>
      calls.push({
        definitionId,
        answer: (r) => {
          running--;
          if (r instanceof Error) no(r);
          else ok(r);
        },
      }),
    );
  };
  return { calls, create, most: () => most, id: () => `lab${++next}` };
}

const tick = async (n = 3) => {
  for (let i = 0; i < n; i++) await new Promise(setImmediate);
};

describe('the warm pool', () => {
  beforeEach(() => mock.timers.enable({ apis: ['setTimeout'] }));
  afterEach(() => mock.timers.reset());

  test('fills each kind to its size, one creation at a time per kind', async () => {
    const c = creations();
    const pool = new WarmPool({ sizes: { a: 2, b: 1, off: 0 }, create: c.create, log: () => {} });
    pool.refill();
    await tick();
    // Catches: a kind of size 0 prepared anyway, or every lab of a kind started at once.
    assert.deepEqual(c.calls.map((x) => x.definitionId).sort(), ['a', 'b']);
    for (let i = 0; i < c.calls.length; i++) {
      c.calls[i]!.answer(c.id());
      await tick();
    }
    assert.equal(c.calls.length, 3);
    assert.equal(c.most(), 2, 'one per kind at a time');
    // Catches: counts that include kinds not pooled, or labs still being created.
    assert.deepEqual(pool.counts(), { a: 2, b: 1 });
    pool.refill();
    await tick();
    assert.equal(c.calls.length, 3, 'a full pool creates nothing');
    await pool.stop();
  });

  test('take gives the oldest ready lab once; takeOther never the kind asked for', async () => {
    const c = creations();
    const pool = new WarmPool({ sizes: { a: 2, b: 1 }, create: c.create, log: () => {} });
    pool.refill();
    for (let i = 0; i < 3; i++) {
      await tick();
      c.calls[i]!.answer(`${c.calls[i]!.definitionId}${i}`);
    }
    await tick();
    // Catches: one lab handed to two learners, or the newest taken first.
    assert.deepEqual([pool.take('a'), pool.take('a'), pool.take('a')], ['a0', 'a2', undefined]);
    // Catches: a learner's own kind given up to make room for them.
    assert.equal(pool.takeOther('b'), undefined);
    assert.ok(pool.takeOther('a')?.startsWith('b'));
    await pool.stop();
  });

  test('no room (null): it stops there, and the next refill tries again', async () => {
    const c = creations();
    const pool = new WarmPool({ sizes: { a: 2 }, create: c.create, log: () => {} });
    pool.refill();
    await tick();
    c.calls[0]!.answer(null);
    await tick();
    // Catches: a loop that asks again and again while there is no room.
    assert.equal(c.calls.length, 1);
    pool.refill();
    await tick();
    assert.equal(c.calls.length, 2);
    c.calls[1]!.answer(null);
    await pool.stop();
  });

  test('a failed creation backs off for retryMs, then tries again', async () => {
    const c = creations();
    const logged: string[] = [];
    const pool = new WarmPool({ sizes: { a: 1 }, create: c.create, retryMs: 30_000, log: (m) => logged.push(m) });
    pool.refill();
    await tick();
    c.calls[0]!.answer(new Error('image missing'));
    await tick();
    assert.match(logged.join('\n'), /could not prepare a a lab \(again in 30 s\): image missing/);
    // Catches: a broken kind retried at once and for ever (the engine hammered, the log flooded).
    pool.refill();
    mock.timers.tick(29_999);
    await tick();
    assert.equal(c.calls.length, 1);
    mock.timers.tick(1);
    await tick();
    assert.equal(c.calls.length, 2);
    c.calls[1]!.answer('lab-a');
    await tick();
    assert.deepEqual(pool.counts(), { a: 1 });
    await pool.stop();
  });

  test('a delayed refill waits its delay (the learner’s terminals open first)', async () => {
    const c = creations();
    const pool = new WarmPool({ sizes: { a: 1 }, create: c.create, log: () => {} });
    pool.refill(3000);
    pool.refill(3000); // a second claim meanwhile: still one refill
    mock.timers.tick(2999);
    await tick();
    // Catches: a refill competing with the claimed lab's first terminals for the CPU.
    assert.equal(c.calls.length, 0);
    mock.timers.tick(1);
    await tick();
    assert.equal(c.calls.length, 1);
    c.calls[0]!.answer(null);
    await pool.stop();
  });

  test('sync: the engine’s listing, labs beyond a size returned as surplus, later news kept', async () => {
    const c = creations();
    const pool = new WarmPool({ sizes: { a: 1, b: 1 }, create: c.create, log: () => {} });
    const since = pool.now();
    // Catches: pool labs found after a restart not used, or more kept than the size.
    const surplus = pool.sync(
      [
        { labId: 'a1', definitionId: 'a' },
        { labId: 'a2', definitionId: 'a' },
        { labId: 'x1', definitionId: 'gone' },
      ],
      since,
    );
    assert.deepEqual(surplus, ['a2', 'x1']);
    assert.deepEqual(pool.counts(), { a: 1, b: 0 });

    // A lab joins after a listing and another is taken after it: the stale listing changes neither.
    const listedAt = pool.now();
    pool.refill();
    await tick();
    c.calls.find((x) => x.definitionId === 'b')!.answer('b1');
    await tick();
    assert.equal(pool.take('a'), 'a1');
    // Catches: a claimed lab taken back into the pool (two learners on one lab), or a new one dropped.
    assert.deepEqual(pool.sync([{ labId: 'a1', definitionId: 'a' }], listedAt), []);
    assert.deepEqual(pool.counts(), { a: 0, b: 1 });
    assert.equal(pool.take('b'), 'b1');
    for (const x of c.calls.slice(1)) x.answer(null);
    await pool.stop();
  });

  test('forget removes a lab that was reaped; stop prevents any new creation', async () => {
    const c = creations();
    const pool = new WarmPool({ sizes: { a: 1 }, create: c.create, log: () => {} });
    pool.sync([{ labId: 'a1', definitionId: 'a' }], pool.now());
    pool.forget('a1');
    // Catches: a removed lab handed to a learner.
    assert.equal(pool.take('a'), undefined);
    pool.refill();
    await tick();
    const stopping = pool.stop();
    c.calls[0]!.answer('a2');
    // Catches: stop() returning while a creation still runs, or creations after stop.
    await stopping;
    pool.refill();
    mock.timers.tick(60_000);
    await tick();
    assert.equal(c.calls.length, 1);
  });
});
