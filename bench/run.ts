// `npm run bench`: every scenario of issue 5, or the ones named, one after the other; each writes
// bench/results/<scenario>.json; then BENCHMARKS.md is rendered from every stored result.
//   node bench/run.ts [--quick] [scenario ...]     (--list: the scenarios; `soak` runs only when named)
// Never part of `npm test`. Traffic goes only to loopback and the project's own containers. Whatever
// happens, the labs and containers benchmarks created are removed (bench/lib/cleanup.ts).
import { cleanupBenchObjects } from './lib/cleanup.ts';
import { machine } from './lib/machine.ts';
import { writeResult, type Scenario, type ScenarioResult } from './lib/result.ts';
import { ORDER, writeBenchmarksMd } from './render.ts';

const SCENARIOS: Record<string, () => Promise<Scenario>> = {
  'lab-start-cold': async () => (await import('./scenarios/lab-start-cold.ts')).scenario,
  'lab-start-warm': async () => (await import('./scenarios/lab-start-warm.ts')).scenario,
  'keystroke-echo': async () => (await import('./scenarios/keystroke-echo.ts')).scenario,
  'output-flood': async () => (await import('./scenarios/output-flood.ts')).scenario,
  density: async () => (await import('./scenarios/density.ts')).scenario,
  pages: async () => (await import('./scenarios/pages.ts')).scenario,
  fuzz: async () => (await import('./scenarios/fuzz.ts')).scenario,
  // Not in the default run (an hour; 3 minutes with --quick): node bench/run.ts soak
  soak: async () => (await import('./soak.ts')).scenario,
};

const args = process.argv.slice(2);
const quick = args.includes('--quick');
if (args.includes('--list')) {
  console.log([...ORDER, 'soak (only when named)'].join('\n'));
  process.exit(0);
}
const unknown = args.filter((a) => a.startsWith('-') && a !== '--quick');
const names = args.filter((a) => !a.startsWith('-'));
const bad = names.filter((n) => !SCENARIOS[n]);
if (unknown.length > 0 || bad.length > 0) {
  console.error(`unknown ${[...unknown, ...bad].join(', ')}; usage: node bench/run.ts [--quick] [${Object.keys(SCENARIOS).join('|')} ...]`);
  process.exit(2);
}
const chosen = names.length > 0 ? names : ORDER;

let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    console.error(`\n${signal}: removing the benchmark's labs…`);
    void cleanupBenchObjects().finally(() => process.exit(130));
  });
}

await cleanupBenchObjects();
let failed = 0;
for (const name of chosen) {
  const scenario = await SCENARIOS[name]!();
  const started = Date.now();
  const log = (m: string) => console.log(`[${name}] ${m}`);
  log(`${scenario.title}${quick ? ' (quick)' : ''}`);
  const result: ScenarioResult = {
    scenario: name,
    title: scenario.title,
    date: new Date().toISOString(),
    quick,
    durationSeconds: 0,
    machine: await machine(),
    settings: {},
    figures: [],
  };
  try {
    Object.assign(result, await scenario.run({ quick, log }));
  } catch (err) {
    failed++;
    result.error = (err as Error).stack ?? String(err);
    console.error(`[${name}] FAILED: ${result.error}`);
  } finally {
    const left = await cleanupBenchObjects().catch((e: Error) => ({ error: e.message }));
    if ('containers' in left && left.containers + left.networks + left.volumes > 0) log(`removed what was left: ${JSON.stringify(left)}`);
  }
  result.durationSeconds = (Date.now() - started) / 1000;
  log(`written ${writeResult(result)} (${Math.round(result.durationSeconds)} s)`);
  for (const f of result.figures) log(`  ${f.name}: ${f.value} ${f.unit}${f.baseline !== undefined ? ` (baseline ${f.baseline})` : ''}`);
}
console.log(`written ${writeBenchmarksMd()}`);
process.exit(failed > 0 ? 1 : 0);
