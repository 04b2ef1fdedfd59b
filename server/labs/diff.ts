// Line differences for « Voir la solution » and the guard of « Appliquer »: the edits that turn one text
// into another (Myers' algorithm, bounded), the hunks a person reads, and whether one set of edits lies
// inside another (the learner's changes inside the step's own).

/** Lines `from[fromStart, fromEnd)` replaced by `to[toStart, toEnd)` (an empty range is an insertion or a deletion). */
export interface Edit {
  fromStart: number;
  fromEnd: number;
  toStart: number;
  toEnd: number;
}

export interface DiffLine {
  /** ' ' in both, '-' only in the first text, '+' only in the second */
  op: ' ' | '-' | '+';
  text: string;
}

export interface Hunk {
  /** 1-based first line of the hunk in each text */
  fromLine: number;
  toLine: number;
  lines: DiffLine[];
}

/** Beyond this many differing lines, the middle is one replaced block (the diff stays cheap). */
const MAX_DISTANCE = 400;

export function lines(text: string): string[] {
  if (text === '') return [];
  const all = text.split('\n');
  if (all.at(-1) === '') all.pop();
  return all;
}

/** The edits from `a` to `b`, in order, none adjacent to another. */
export function edits(a: readonly string[], b: readonly string[]): Edit[] {
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA--;
    endB--;
  }
  const pairs = commonPairs(a.slice(start, endA), b.slice(start, endB));
  const result: Edit[] = [];
  let i = 0;
  let j = 0;
  for (const [x, y] of [...pairs, [endA - start, endB - start] as const]) {
    if (x > i || y > j) result.push({ fromStart: start + i, fromEnd: start + x, toStart: start + j, toEnd: start + y });
    i = x + 1;
    j = y + 1;
  }
  return result;
}

/** Indexes (i, j) of a longest run of equal lines, in order (Myers, O((N+M)·D)); none beyond MAX_DISTANCE. */
function commonPairs(a: readonly string[], b: readonly string[]): (readonly [number, number])[] {
  const n = a.length;
  const m = b.length;
  if (n === 0 || m === 0) return [];
  const max = Math.min(n + m, MAX_DISTANCE);
  const offset = max + 1;
  let v = new Int32Array(2 * max + 3);
  const trace: Int32Array[] = [];
  for (let d = 0; d <= max; d++) {
    trace.push(v.slice());
    const next = v.slice();
    for (let k = -d; k <= d; k += 2) {
      let x = k === -d || (k !== d && v[offset + k - 1]! < v[offset + k + 1]!) ? v[offset + k + 1]! : v[offset + k - 1]! + 1;
      let y = x - k;
      while (x < n && y < m && a[x] === b[y]) {
        x++;
        y++;
      }
      next[offset + k] = x;
      if (x >= n && y >= m) return backtrack(trace, d, offset, a, b);
    }
    v = next;
  }
  return []; // too different: one replaced block
}

function backtrack(
  trace: Int32Array[],
  depth: number,
  offset: number,
  a: readonly string[],
  b: readonly string[],
): (readonly [number, number])[] {
  const pairs: (readonly [number, number])[] = [];
  let x = a.length;
  let y = b.length;
  for (let d = depth; d >= 0; d--) {
    const v = trace[d]!;
    const k = x - y;
    const prevK = d === 0 ? 0 : k === -d || (k !== d && v[offset + k - 1]! < v[offset + k + 1]!) ? k + 1 : k - 1;
    const prevX = d === 0 ? 0 : v[offset + prevK]!;
    const prevY = prevX - prevK;
    while (x > prevX && y > prevY) {
      x--;
      y--;
      pairs.push([x, y]);
    }
    x = prevX;
    y = prevY;
  }
  return pairs.reverse();
}

/** The hunks from `a` to `b` with `context` lines around each change, as `diff -u` groups them. */
export function hunks(a: readonly string[], b: readonly string[], context = 3): Hunk[] {
  const all = edits(a, b);
  const groups: Edit[][] = [];
  for (const e of all) {
    const group = groups.at(-1);
    if (group && e.fromStart - group.at(-1)!.fromEnd <= 2 * context) group.push(e);
    else groups.push([e]);
  }
  return groups.map((group) => {
    const first = group[0]!;
    const last = group.at(-1)!;
    const fromStart = Math.max(0, first.fromStart - context);
    const toStart = first.toStart - (first.fromStart - fromStart);
    const fromEnd = Math.min(a.length, last.fromEnd + context);
    const out: DiffLine[] = [];
    let i = fromStart;
    for (const e of group) {
      for (; i < e.fromStart; i++) out.push({ op: ' ', text: a[i]! });
      for (let x = e.fromStart; x < e.fromEnd; x++) out.push({ op: '-', text: a[x]! });
      for (let y = e.toStart; y < e.toEnd; y++) out.push({ op: '+', text: b[y]! });
      i = e.fromEnd;
    }
    for (; i < fromEnd; i++) out.push({ op: ' ', text: a[i]! });
    return { fromLine: fromStart + 1, toLine: toStart + 1, lines: out };
  });
}

/**
 * The edits of `inner` that are not inside one edit of `outer` (both from the same text): a replaced range
 * must lie within a range `outer` replaces; an insertion, within or at the edge of one.
 */
export function outside(inner: readonly Edit[], outer: readonly Edit[]): Edit[] {
  return inner.filter(
    (e) =>
      !outer.some((o) => o.fromStart <= e.fromStart && e.fromEnd <= o.fromEnd && (e.fromStart < e.fromEnd || o.fromStart <= e.fromStart)),
  );
}
