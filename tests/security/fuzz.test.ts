// Fuzzed terminal frames (fast-check): control messages valid, half-valid and garbage, raw bytes into a
// real shell, frames at and over the size limit, invalid UTF-8, deep JSON. 100,000 frames in CI
// (ATELIER_FUZZ_FRAMES=1000000 for the benchmark), over a few connections. Properties: the server never
// crashes and keeps answering, nothing reaches another learner's lab, and no exec session is left behind.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import { MAX_FRAME_BYTES } from '../../protocol/terminal.ts';
import { securityEnv, startBackend, type Backend } from '../helpers/backend.ts';
import { containerName, pollUntil, removeScope, runningExecs, terminalSessions } from '../helpers/engine.ts';
import { Learner, Terminal } from '../helpers/learner.ts';
import { ensureSiteBuilt } from '../helpers/site-build.ts';

const LAB = 'nginx-local';
const FRAMES = Number(process.env.ATELIER_FUZZ_FRAMES ?? 100_000);
const PER_RUN = 100;
const env = securityEnv('fuzz', {
  ATELIER_GRACE_SECONDS: '1',
  ATELIER_CONNECTS_PER_MINUTE: '100000',
  ATELIER_CONNECTIONS_PER_LEARNER: '64',
});
const scope = env.ATELIER_LAB_SCOPE!;

let server: Backend;
let fuzzer: Learner;
let fuzzLabId = '';
let victim: Terminal;
let victimLabId = '';

before(async () => {
  await ensureSiteBuilt();
  server = await startBackend(env);
  fuzzer = new Learner(server.url);
  const other = new Learner(server.url);
  const [mine, theirs] = await Promise.all([fuzzer.startLab(LAB), other.startLab(LAB)]);
  fuzzLabId = mine.labId;
  victimLabId = theirs.labId;
  victim = await other.terminal(LAB, 'web');
});

after(async () => {
  victim?.close();
  await server?.stop();
  await removeScope(scope);
});

// ——— what a client may send ———

const number = fc.oneof(
  fc.integer({ min: -2, max: 1002 }),
  fc.integer(),
  fc.double(),
  fc.constantFrom(0, -0, 2 ** 31, 2 ** 31 + 1, 2 ** 53, Number.MAX_VALUE, 1e-300),
);
const field = fc.oneof(
  number,
  fc.string({ maxLength: 40 }),
  fc.boolean(),
  fc.constant(null),
  fc.array(number, { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 5 }), number, { maxKeys: 3 }),
);
const message = fc.record(
  {
    t: fc.oneof(
      fc.constantFrom('hello', 'resize', 'ack', 'pause', 'resume', 'ping'),
      fc.constantFrom('HELLO', '__proto__', 'constructor', 'toString', ''),
      fc.string({ maxLength: 12 }),
    ),
    v: fc.oneof(fc.constant(1), field),
    lab: fc.oneof(fc.constantFrom(LAB, 'nginx-remote', 'apache-local', 'x', '../etc', 'nginx-local\u0000'), field),
    host: fc.oneof(fc.constantFrom('web', 'php', 'Web', 'web '), field),
    cols: fc.oneof(fc.integer({ min: 1, max: 1000 }), field),
    rows: fc.oneof(fc.integer({ min: 1, max: 500 }), field),
    bytes: fc.oneof(fc.nat(), field),
    id: fc.oneof(fc.nat(), field),
    __proto__: field,
  },
  { requiredKeys: ['t'] },
);

type Frame = { kind: 'text'; data: string } | { kind: 'binary'; data: Uint8Array } | { kind: 'raw-text'; data: Uint8Array };

const frame: fc.Arbitrary<Frame> = fc.oneof(
  { weight: 40, arbitrary: message.map((m) => ({ kind: 'text' as const, data: JSON.stringify(m) })) },
  { weight: 10, arbitrary: fc.json({ maxDepth: 3 }).map((data) => ({ kind: 'text' as const, data })) },
  { weight: 10, arbitrary: fc.string({ unit: 'grapheme', maxLength: 64 }).map((data) => ({ kind: 'text' as const, data })) },
  {
    weight: 3,
    arbitrary: fc
      .constantFrom(
        '{"t":"hello"',
        '{"t":"ping","id":1}{"t":"ping","id":2}',
        '{"__proto__":{"t":"ping","id":1}}',
        'null',
        '[]',
        '"hello"',
        '{"t":"ack","bytes":-1}',
        '{"t":"resize","cols":1e3,"rows":5e2}',
      )
      .map((data) => ({ kind: 'text' as const, data })),
  },
  {
    weight: 1,
    arbitrary: fc.integer({ min: 1, max: 20_000 }).map((n) => ({ kind: 'text' as const, data: '['.repeat(n) + ']'.repeat(n) })),
  },
  { weight: 30, arbitrary: fc.uint8Array({ maxLength: 128 }).map((data) => ({ kind: 'binary' as const, data })) },
);

/** Frames that close their connection (1009 too large, 1007 invalid UTF-8), or one at the limit that does not. */
const closer: fc.Arbitrary<Frame> = fc.oneof(
  fc
    .constantFrom(MAX_FRAME_BYTES - 1, MAX_FRAME_BYTES, MAX_FRAME_BYTES + 1)
    .map((n) => ({ kind: 'binary' as const, data: new Uint8Array(n).fill(0x20) })),
  fc.uint8Array({ minLength: 1, maxLength: 16 }).map((b) => ({ kind: 'raw-text' as const, data: Uint8Array.from([0xff, 0xfe, ...b]) })),
);

/** One run: a batch of frames, sometimes ended by a closer (so most frames reach an open connection). */
const batch = fc
  .tuple(
    fc.array(frame, { minLength: PER_RUN - 1, maxLength: PER_RUN - 1 }),
    fc.oneof({ weight: 7, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: closer }),
  )
  .map(([frames, last]) => (last ? [...frames, last] : [...frames, { kind: 'text' as const, data: '{"t":"resume"}' }]));

// ——— connections ———

interface Slot {
  attach: boolean;
  term: Terminal | null;
}
const stats = { frames: 0, connections: 0, closedByServer: 0, pongs: 0, foreignHello: 0 };
/** close code → connections the server closed with it */
const closeCodes = new Map<number, number>();

async function connect(slot: Slot): Promise<Terminal> {
  if (slot.term?.isOpen) return slot.term;
  if (slot.term) {
    stats.closedByServer++;
    const { code } = await slot.term.closed;
    closeCodes.set(code, (closeCodes.get(code) ?? 0) + 1);
  }
  stats.connections++;
  // The resumed shell may sit in the middle of fuzzed input: the hello is enough, no prompt to wait for.
  const t = slot.attach
    ? await fuzzer.terminal(LAB, 'web', { cols: 120, rows: 40, prompt: false })
    : new Terminal(server.url, fuzzer.cookieHeader);
  await t.opened;
  slot.term = t;
  return t;
}

function send(t: Terminal, f: Frame): void {
  if (!t.isOpen) return;
  if (f.kind === 'binary') t.ws.send(f.data, { binary: true });
  else if (f.kind === 'raw-text') t.ws.send(Buffer.from(f.data), { binary: false });
  else t.ws.send(f.data, { binary: false });
  stats.frames++;
}

/** A ping through the same connection: every frame before it has been handled. */
async function roundTrip(t: Terminal, id: number): Promise<void> {
  if (!t.isOpen) return;
  t.send({ t: 'ping', id });
  await t.until(() => t.control.some((m) => m.t === 'pong' && m.id === id) || !t.isOpen, 30_000, `pong ${id}`);
  if (t.isOpen) stats.pongs++;
}

test(`${FRAMES.toLocaleString('en')} fuzzed frames: the server stays up, answers, reaches no other lab and leaks no exec session`, {
  timeout: Math.max(600_000, FRAMES * 3),
}, async (t) => {
  // The "before" figure once the victim's terminal is quiet: its shell may still be drawing (a prompt
  // redrawn after the attach's resize), which would count as bytes received during the fuzz.
  await victim.quiet(500, 15_000);
  const victimBytes = victim.received;
  const victimExecs = await runningExecs(containerName(victimLabId, 'web'));
  const rssBefore = server.rssBytes();
  // The benchmark asks for heap snapshots to tell what grows. Writing one leaves the process larger, so
  // the first comes before the "before" figure.
  const heapDir = process.env.ATELIER_FUZZ_HEAP_DIR;
  if (heapDir) await server.heapSnapshot(join(heapDir, 'before.heapsnapshot'));
  const smaps = (name: string) => heapDir && writeFileSync(join(heapDir, name), readFileSync(`/proc/${server.pid}/smaps`));
  const memoryBefore = await server.memoryAfterGc();
  const gcBefore = memoryBefore.rss;
  smaps('before.smaps');
  let peakRss = rssBefore;
  const slots: Slot[] = [
    { attach: true, term: null },
    { attach: false, term: null },
    { attach: false, term: null },
  ];
  let run = 0;
  const started = Date.now();

  const result = await fc.check(
    fc.asyncProperty(batch, async (frames) => {
      const slot = slots[run++ % slots.length]!;
      const term = await connect(slot);
      for (const f of frames) send(term, f);
      await roundTrip(term, run);
      for (const m of term.control) if (m.t === 'hello' && m.labId !== fuzzLabId) stats.foreignHello++;
      term.control.length = 0;
      term.forget();
      peakRss = Math.max(peakRss, server.rssBytes());
      // The server answers someone else, at once.
      victim.send({ t: 'ping', id: run });
      await victim.until(() => victim.control.some((m) => m.t === 'pong' && m.id === run), 10_000, 'the victim’s pong');
      victim.control.length = 0;
      return server.alive() && stats.foreignHello === 0;
    }),
    { numRuns: Math.ceil(FRAMES / PER_RUN), seed: Number(process.env.ATELIER_FUZZ_SEED ?? 20_26), endOnFailure: true },
  );
  if (result.failed) {
    // The counterexample can be megabytes (deep JSON): its start is enough to replay it with the seed.
    const example = JSON.stringify(result.counterexample, (_k, v: unknown) => (v instanceof Uint8Array ? [...v] : v)).slice(0, 3000);
    throw new Error(
      `fuzz property failed (seed ${result.seed}, path ${result.counterexamplePath}): ${String(result.errorInstance)}\n${example}`,
    );
  }
  const seconds = (Date.now() - started) / 1000;

  for (const s of slots) s.term?.close();
  // Every shell opened by the fuzzer is hung up once its grace period (1 s here) is over.
  const left = await pollUntil(
    () => terminalSessions(containerName(fuzzLabId, 'web')),
    (n) => n === 0,
    20_000,
  );
  const victimSessions = await terminalSessions(containerName(victimLabId, 'web'));
  const victimExecsAfter = await runningExecs(containerName(victimLabId, 'web'));
  const fuzzExecsAfter = await runningExecs(containerName(fuzzLabId, 'web'));
  // What stays once everything is collected: a leak, unlike a heap not yet collected, survives a full GC.
  const memoryAfter = await server.memoryAfterGc();
  const gcAfter = memoryAfter.rss;
  smaps('after.smaps');
  if (heapDir) await server.heapSnapshot(join(heapDir, 'after.heapsnapshot'));
  const gcGrowthMiB = (gcAfter - gcBefore) / 2 ** 20;

  const figure =
    `${stats.frames} frames in ${seconds.toFixed(0)} s over ${stats.connections} connections ` +
    `(${stats.closedByServer} closed by the server as they should, by close code: ${JSON.stringify(Object.fromEntries(closeCodes))}), ` +
    `${stats.pongs} round trips; server RSS ${(rssBefore / 2 ** 20).toFixed(0)} → peak ${(peakRss / 2 ** 20).toFixed(0)} MiB, after a full GC ${(gcBefore / 2 ** 20).toFixed(0)} → ${(gcAfter / 2 ** 20).toFixed(0)} MiB; ` +
    `exec sessions left: ${left} shells, ${fuzzExecsAfter} engine execs; hellos for a foreign lab: ${stats.foreignHello}`;
  console.log(`# figure: fuzz: ${figure}`);
  // For the benchmark (bench/scenarios/fuzz.ts), which runs this file with a million frames.
  const crashed = !server.alive() || /Uncaught|unhandled|TypeError|RangeError/.test(server.output());
  console.log(
    `# fuzz-result ${JSON.stringify({ ...stats, seconds, rssBeforeMiB: rssBefore / 2 ** 20, rssPeakMiB: peakRss / 2 ** 20, rssGcBeforeMiB: gcBefore / 2 ** 20, rssGcAfterMiB: gcAfter / 2 ** 20, memoryBefore, memoryAfter, shellsLeft: left, engineExecsLeft: fuzzExecsAfter, crashed })}`,
  );
  t.diagnostic(figure);

  assert.ok(stats.frames >= FRAMES * 0.99, `sent ${stats.frames} frames`);
  assert.ok(server.alive(), 'the server never crashed');
  assert.ok(gcGrowthMiB <= 32, `server RSS after a full GC grew by ${gcGrowthMiB.toFixed(1)} MiB`);
  assert.doesNotMatch(server.output(), /Uncaught|unhandled|TypeError|RangeError/);
  assert.equal(stats.foreignHello, 0, 'no hello ever named another lab');
  assert.equal(left, 0, 'no exec session left in the fuzzed lab');
  assert.equal(victim.received, victimBytes, 'the other learner’s terminal received nothing');
  assert.equal(victimSessions, 1, 'the other learner’s lab holds only their own shell');
  assert.equal(victimExecs, 1, 'the engine runs one exec in the other learner’s lab: their shell');
  assert.equal(victimExecsAfter, 1, 'and still only that one');
  assert.equal(fuzzExecsAfter, 0, 'the engine runs no exec left by the fuzzer');
  assert.equal((await victim.run('echo still-here')).output.trim(), 'still-here');
});
