// The token bucket as a unit, on explicit times. Each test names what it would catch.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { RateLimiter } from '../../server/http/rate-limit.ts';

/** How many of `n` attempts at time `at` are allowed. */
const allowed = (l: RateLimiter, key: string, n: number, at: number) =>
  Array.from({ length: n }, () => l.take(key, at)).filter(Boolean).length;

describe('the rate limiter', () => {
  test('a burst at once, then refused until the bucket refills at its rate', () => {
    const l = new RateLimiter(5, 60); // one per second
    // Catches: a burst larger or smaller than configured.
    assert.equal(allowed(l, 'alice', 10, 0), 5);
    // Catches: refilling too early (a token before its second has passed).
    assert.equal(l.take('alice', 999), false);
    assert.equal(l.take('alice', 1000), true);
    // Catches: tokens refilled per call rather than per time elapsed.
    assert.equal(allowed(l, 'alice', 10, 3000), 2);
  });

  test('a long pause gives back the burst, never more', () => {
    const l = new RateLimiter(3, 60);
    allowed(l, 'alice', 3, 0);
    // Catches: a bucket that grows without bound while unused.
    assert.equal(allowed(l, 'alice', 10, 3_600_000), 3);
  });

  test('each key has its own bucket', () => {
    const l = new RateLimiter(2, 1);
    assert.equal(allowed(l, 'alice', 5, 0), 2);
    // Catches: one learner's use taking another's tokens.
    assert.equal(allowed(l, 'bob', 5, 0), 2);
  });

  test('a refused attempt costs nothing: the next token comes on time all the same', () => {
    const l = new RateLimiter(1, 60);
    l.take('alice', 0);
    for (let t = 100; t < 1000; t += 100) assert.equal(l.take('alice', t), false);
    // Catches: refusals that consume (a client hammering would never get through) or reset the clock.
    // (1 ms of slack: ten refills of 100 ms add up to a hair under one token in floating point.)
    assert.equal(l.take('alice', 1001), true);
  });

  test('pruning at 100 000 keys drops only full buckets: an exhausted key stays refused', () => {
    const l = new RateLimiter(2, 1);
    allowed(l, 'mallory', 2, 0);
    // Catches: a prune that forgets drained buckets, so cycling through many keys resets an attacker's.
    for (let i = 0; i < 100_001; i++) l.take(`k${i}`, 1);
    assert.equal(l.take('mallory', 2), false);
  });
});
