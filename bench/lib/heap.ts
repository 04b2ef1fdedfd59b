// What a heap holds, by kind of object, from a V8 heap snapshot (the .heapsnapshot JSON): two snapshots
// taken after a full collection, compared, tell a leak (a kind that keeps growing) from a heap that
// only had not been collected yet.
import { readFileSync } from 'node:fs';

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

export interface HeapKind {
  kind: string;
  count: number;
  bytes: number;
}

/** Objects by constructor name (other nodes by their V8 type), with their count and self size. */
export function heapKinds(path: string): Map<string, HeapKind> {
  const snap = JSON.parse(readFileSync(path, 'utf8')) as Snapshot;
  const fields = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0];
  const width = fields.length;
  const at = { type: fields.indexOf('type'), name: fields.indexOf('name'), size: fields.indexOf('self_size') };
  const kinds = new Map<string, HeapKind>();
  for (let i = 0; i < snap.nodes.length; i += width) {
    const type = types[snap.nodes[i + at.type]!]!;
    const kind = type === 'object' || type === 'closure' ? snap.strings[snap.nodes[i + at.name]!]! : `(${type})`;
    const k = kinds.get(kind) ?? { kind, count: 0, bytes: 0 };
    k.count++;
    k.bytes += snap.nodes[i + at.size]!;
    kinds.set(kind, k);
  }
  return kinds;
}

/** The kinds that grew most in bytes from `before` to `after`. */
export function heapGrowth(before: Map<string, HeapKind>, after: Map<string, HeapKind>, top = 12) {
  const total = (m: Map<string, HeapKind>) => [...m.values()].reduce((s, k) => s + k.bytes, 0);
  const rows = [...after.values()].map((a) => {
    const b = before.get(a.kind) ?? { count: 0, bytes: 0 };
    return { kind: a.kind, countBefore: b.count, countAfter: a.count, bytesGrowth: a.bytes - b.bytes };
  });
  rows.sort((x, y) => y.bytesGrowth - x.bytesGrowth);
  return { heapBeforeMiB: total(before) / 2 ** 20, heapAfterMiB: total(after) / 2 ** 20, top: rows.slice(0, top) };
}

/** Resident memory by mapping (/proc/PID/smaps): the file, or [heap], [stack], or "anonymous". */
function residentByMapping(path: string): Map<string, number> {
  const out = new Map<string, number>();
  let current = 'anonymous';
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const header = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (header) current = header[1] || 'anonymous';
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss) out.set(current, (out.get(current) ?? 0) + Number(rss[1]));
  }
  return out;
}

/** Where resident memory grew between two smaps dumps, largest first (KiB). */
export function residentGrowth(before: string, after: string) {
  const b = residentByMapping(before);
  return [...residentByMapping(after)]
    .map(([mapping, kib]) => ({ mapping, kibGrowth: kib - (b.get(mapping) ?? 0) }))
    .sort((x, y) => y.kibGrowth - x.kibGrowth);
}
