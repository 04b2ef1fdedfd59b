// Fuzzed frames at benchmark scale (issue 6): the security test tests/security/fuzz.test.ts, run with a
// million frames (100,000 with --quick; CI runs 100,000), against the real server and a real lab. The
// test asserts the properties; this records its figures.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { heapGrowth, heapKinds, residentGrowth } from '../lib/heap.ts';
import type { Scenario } from '../lib/result.ts';

const root = resolve(import.meta.dirname, '..', '..');

interface FuzzResult {
  frames: number;
  connections: number;
  closedByServer: number;
  pongs: number;
  foreignHello: number;
  seconds: number;
  rssBeforeMiB: number;
  rssPeakMiB: number;
  rssGcBeforeMiB: number;
  rssGcAfterMiB: number;
  /** process.memoryUsage() after a full GC, at the start and at the end */
  memoryBefore: NodeJS.MemoryUsage;
  memoryAfter: NodeJS.MemoryUsage;
  shellsLeft: number;
  engineExecsLeft: number;
  crashed: boolean;
}

export const scenario: Scenario = {
  name: 'fuzz',
  title: 'Fuzzed terminal frames against the real server (fast-check)',
  async run({ quick, log }) {
    const frames = quick ? 100_000 : 1_000_000;
    const seed = Date.now() % 2 ** 31; // a new seed each run; the result keeps it to replay a failure
    log(`${frames.toLocaleString('en')} frames, seed ${seed}`);
    const heapDir = mkdtempSync(join(tmpdir(), 'atelier-fuzz-heap-'));
    const child = spawn(
      process.execPath,
      ['--test', '--test-reporter=tap', `--test-timeout=${frames * 3 + 600_000}`, 'tests/security/fuzz.test.ts'],
      {
        cwd: root,
        env: { ...process.env, ATELIER_FUZZ_FRAMES: String(frames), ATELIER_FUZZ_SEED: String(seed), ATELIER_FUZZ_HEAP_DIR: heapDir },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const code = await new Promise<number>((r) => child.on('close', (c) => r(c ?? 1)));
    const line = /# fuzz-result (\{.*\})/.exec(out)?.[1];
    if (!line) throw new Error(`the fuzz test printed no result (exit ${code}):\n${out.slice(-4000)}`);
    const r = JSON.parse(line) as FuzzResult;
    const passed = code === 0;
    // What grew between the two snapshots (after a full GC each): a leak shows as a kind that grows.
    const heap = heapGrowth(heapKinds(join(heapDir, 'before.heapsnapshot')), heapKinds(join(heapDir, 'after.heapsnapshot')));
    const mappings = residentGrowth(join(heapDir, 'before.smaps'), join(heapDir, 'after.smaps'));
    log(
      `resident memory grew most in: ${mappings
        .slice(0, 5)
        .map((m) => `${m.mapping} ${(m.kibGrowth / 1024).toFixed(1)} MiB`)
        .join(', ')}`,
    );
    rmSync(heapDir, { recursive: true, force: true });
    log(
      `heap after GC ${heap.heapBeforeMiB.toFixed(1)} → ${heap.heapAfterMiB.toFixed(1)} MiB; grew most: ${heap.top
        .slice(0, 5)
        .map((k) => `${k.kind} ${(k.bytesGrowth / 1024).toFixed(0)} KiB`)
        .join(', ')}`,
    );
    return {
      settings: { frames, seed, framesPerConnectionRun: 100 },
      figures: [
        { name: 'frames sent', value: r.frames, unit: 'frames', target: { on: 'value', op: '>=', limit: frames * 0.99 } },
        { name: 'frames per second', value: r.frames / r.seconds, unit: '/s' },
        { name: 'server crashes', value: r.crashed ? 1 : 0, unit: '', target: { on: 'value', op: '==', limit: 0 } },
        {
          name: 'hellos answered with another learner’s lab',
          value: r.foreignHello,
          unit: '',
          target: { on: 'value', op: '==', limit: 0 },
        },
        { name: 'shells left in the fuzzed lab', value: r.shellsLeft, unit: '', target: { on: 'value', op: '==', limit: 0 } },
        { name: 'engine execs left in the fuzzed lab', value: r.engineExecsLeft, unit: '', target: { on: 'value', op: '==', limit: 0 } },
        { name: 'server RSS growth (before → peak)', value: r.rssPeakMiB - r.rssBeforeMiB, unit: 'MiB' },
        {
          name: 'server RSS after a full GC, end against start',
          value: r.rssGcAfterMiB - r.rssGcBeforeMiB,
          unit: 'MiB',
          target: { on: 'value', op: '<=', limit: 32 },
        },
        { name: 'JavaScript heap after a full GC, end against start', value: heap.heapAfterMiB - heap.heapBeforeMiB, unit: 'MiB' },
        {
          name: 'memory outside the JavaScript heap (buffers) after a full GC, end against start',
          value: (r.memoryAfter.external - r.memoryBefore.external) / 2 ** 20,
          unit: 'MiB',
        },
        { name: 'every property of the test held', value: passed ? 1 : 0, unit: '', target: { on: 'value', op: '==', limit: 1 } },
      ],
      details: { result: r, heap, residentGrowth: mappings.slice(0, 10), testExitCode: code, tail: passed ? undefined : out.slice(-4000) },
      notes: [`${r.connections} connections, ${r.closedByServer} closed by the server as designed, ${r.pongs} round trips answered.`],
    };
  },
};
