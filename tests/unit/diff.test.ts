// The line diff behind « Voir la solution » and the guard of « Appliquer » (server/labs/diff.ts): edits
// that rebuild the second text, hunks as `diff -u` groups them, and which edits lie outside others.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { edits, hunks, lines, outside, type Edit } from '../../server/labs/diff.ts';

/** Applies edits to `a`, taking new lines from `b`: must give `b` back. */
function replay(a: string[], b: string[], list: Edit[]): string[] {
  const out: string[] = [];
  let i = 0;
  for (const e of list) {
    out.push(...a.slice(i, e.fromStart), ...b.slice(e.toStart, e.toEnd));
    i = e.fromEnd;
  }
  return [...out, ...a.slice(i)];
}

test('edits rebuild the second text, and are few', () => {
  const a = lines('server {\n  listen 80;\n  fastcgi_pass 127.0.0.1:9000;\n  index index.php;\n}\n');
  const b = lines('server {\n  listen 80;\n  #fastcgi_pass 127.0.0.1:9000;\n  fastcgi_pass php:9000;\n  index index.php;\n}\n');
  const list = edits(a, b);
  assert.deepEqual(list, [{ fromStart: 2, fromEnd: 3, toStart: 2, toEnd: 4 }]);
  assert.deepEqual(replay(a, b, list), b);
  assert.deepEqual(edits(a, a), []);
});

test('random texts: edits always rebuild the target, and equal texts give none', () => {
  let seed = 7;
  const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
  for (let round = 0; round < 300; round++) {
    const a = Array.from({ length: rand(30) }, () => `l${rand(6)}`);
    const b = Array.from({ length: rand(30) }, () => `l${rand(6)}`);
    assert.deepEqual(replay(a, b, edits(a, b)), b, `${a} → ${b}`);
  }
});

test('very different texts stay cheap: one replaced block', () => {
  const a = Array.from({ length: 5000 }, (_, i) => `a${i}`);
  const b = Array.from({ length: 5000 }, (_, i) => `b${i}`);
  const started = performance.now();
  const list = edits(a, b);
  assert.ok(performance.now() - started < 2000);
  assert.deepEqual(replay(a, b, list), b);
});

test('hunks: context around each change, near changes grouped, 1-based line numbers', () => {
  const a = Array.from({ length: 20 }, (_, i) => `line ${i + 1}`);
  const b = a.map((l, i) => (i === 4 ? 'changed 5' : i === 6 ? 'changed 7' : l));
  b.splice(17, 1);
  const h = hunks(a, b, 2);
  assert.equal(h.length, 2);
  assert.equal(h[0]!.fromLine, 3);
  assert.deepEqual(
    h[0]!.lines.map((l) => `${l.op}${l.text}`),
    [' line 3', ' line 4', '-line 5', '+changed 5', ' line 6', '-line 7', '+changed 7', ' line 8', ' line 9'],
  );
  assert.deepEqual(
    h[1]!.lines.map((l) => `${l.op}${l.text}`),
    [' line 16', ' line 17', '-line 18', ' line 19', ' line 20'],
  );
  assert.equal(h[1]!.toLine, 16);
});

test('outside: the learner’s edits inside the step’s are allowed, others are named', () => {
  const before = ['a', 'b', 'c', 'd', 'e'];
  const step = edits(before, ['a', 'B1', 'B2', 'c', 'd', 'e']); // replaces line 2
  assert.deepEqual(outside(edits(before, ['a', 'x', 'c', 'd', 'e']), step), []); // their own try at line 2
  assert.deepEqual(outside(edits(before, ['a', 'b', 'new', 'c', 'd', 'e']), step), []); // an insertion at its edge
  const elsewhere = outside(edits(before, ['a', 'b', 'c', 'd', 'E']), step); // line 5: another step's work
  assert.deepEqual(elsewhere, [{ fromStart: 4, fromEnd: 5, toStart: 4, toEnd: 5 }]);
  assert.equal(outside(edits(before, ['a', 'x', 'y', 'z', 'e']), step).length, 1); // spills over lines 3–4
});
