// Fuzzed frames at benchmark scale (issue 6): the security test tests/security/fuzz.test.ts, run with a
// million frames (100,000 with --quick; CI runs 100,000), against the real server and a real lab. The
// test asserts the properties; this records its figures.
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
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
    const child = spawn(
      process.execPath,
      ['--test', '--test-reporter=tap', `--test-timeout=${frames * 3 + 600_000}`, 'tests/security/fuzz.test.ts'],
      {
        cwd: root,
        env: { ...process.env, ATELIER_FUZZ_FRAMES: String(frames), ATELIER_FUZZ_SEED: String(seed) },
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
        { name: 'every property of the test held', value: passed ? 1 : 0, unit: '', target: { on: 'value', op: '==', limit: 1 } },
      ],
      details: { result: r, testExitCode: code, tail: passed ? undefined : out.slice(-4000) },
      notes: [`${r.connections} connections, ${r.closedByServer} closed by the server as designed, ${r.pongs} round trips answered.`],
    };
  },
};
