// The reaper's decisions as a unit (labsToReap is pure): expired, idle, orphans, duplicates, and what
// it never touches. The manager's side (a terminal keeps a lab alive) is in lab-manager.test.ts.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { labsToReap, type ReapInput } from '../../server/labs/reaper.ts';
import type { LabInfo } from '../../server/sandbox/provider.ts';

const NOW = 1_800_000_000_000;
const MIN = 60_000;

function lab(labId: string, over: Partial<LabInfo> = {}): LabInfo {
  return {
    labId,
    owner: 'alice',
    definitionId: `kind-${labId}`,
    createdAt: new Date(NOW - 10 * MIN),
    expiresAt: new Date(NOW + 60 * MIN),
    state: 'ready',
    hosts: [{ name: 'web', state: 'running' }],
    ...over,
  };
}

const reap = (labs: LabInfo[], over: Partial<ReapInput> = {}) =>
  labsToReap({ labs, now: NOW, busy: new Set(), idle: () => false, orphanGraceMs: 2 * MIN, ...over });

describe('the reaper', () => {
  test('an active lab within its lifetime is kept', () => {
    // Catches: a reaper that removes labs in use.
    assert.deepEqual(reap([lab('a'), lab('b', { state: 'stopped' })]), []);
  });

  test('expired at its expiry, not a millisecond before', () => {
    // Catches: an off-by-one either way, or expiry ignored for stopped labs.
    assert.deepEqual(reap([lab('a', { expiresAt: new Date(NOW + 1) })]), []);
    assert.deepEqual(reap([lab('a', { expiresAt: new Date(NOW) }), lab('b', { state: 'stopped', expiresAt: new Date(NOW - 1) })]), [
      { labId: 'a', reason: 'expired' },
      { labId: 'b', reason: 'expired' },
    ]);
  });

  test('idle as the activity says, per lab', () => {
    // Catches: idle asked of the wrong lab, or ignored.
    assert.deepEqual(reap([lab('a'), lab('b')], { idle: (id) => id === 'b' }), [{ labId: 'b', reason: 'idle' }]);
  });

  test('a partial lab is an orphan only once older than the grace period', () => {
    const partial = (id: string, age: number) => lab(id, { state: 'partial', createdAt: new Date(NOW - age) });
    // Catches: a lab removed while its creation is still running on another backend (no grace),
    // or half-created labs kept for ever.
    assert.deepEqual(reap([partial('young', 2 * MIN - 1), partial('old', 2 * MIN)]), [{ labId: 'old', reason: 'orphan' }]);
  });

  test('a lab busy in this process is never touched, whatever its state', () => {
    const labs = [lab('a', { expiresAt: new Date(NOW - 1) }), lab('b', { state: 'partial', createdAt: new Date(0) }), lab('c')];
    // Catches: a creation or reset under way removed under the manager's feet.
    assert.deepEqual(reap(labs, { busy: new Set(['a', 'b', 'c']), idle: () => true }), []);
  });

  test('pool labs are never idle nor duplicates, but do expire', () => {
    const pooled = (id: string, over: Partial<LabInfo> = {}) => lab(id, { owner: '', definitionId: 'k', pooled: true, ...over });
    // Catches: the warm pool emptied by the idle rule (nobody uses them yet) or as one owner's duplicates.
    assert.deepEqual(reap([pooled('p1'), pooled('p2')], { idle: () => true }), []);
    assert.deepEqual(reap([pooled('p1', { expiresAt: new Date(NOW) })]), [{ labId: 'p1', reason: 'expired' }]);
  });

  test('two labs of one kind for one learner: the older goes, whatever the listing order', () => {
    const older = lab('older', { definitionId: 'k', createdAt: new Date(NOW - 5 * MIN) });
    const newer = lab('newer', { definitionId: 'k', createdAt: new Date(NOW - MIN) });
    const other = lab('other', { definitionId: 'k', owner: 'bob', createdAt: new Date(NOW - 9 * MIN) });
    // Catches: the newest lab (the one the learner's terminals use) removed, or another learner's counted.
    assert.deepEqual(reap([older, newer, other]), [{ labId: 'older', reason: 'duplicate' }]);
    assert.deepEqual(reap([newer, other, older]), [{ labId: 'older', reason: 'duplicate' }]);
  });
});
