// The soak: for an hour (a few minutes with quick), learners keep arriving, start a lab, type a little,
// and leave in every way a browser can (closing the tab, losing the network, the laptop going to sleep,
// never opening a terminal, resetting first), some coming back; the backend is killed (SIGKILL) and
// started again halfway. Then nobody comes any more: the idle timeout and the reaper must leave zero
// labs, networks, volumes and terminal shells behind. The figure that matters is orphans = 0.
//
// For bench/run.ts: `soak(opts)` returns { settings, figures, details, notes } like every scenario;
// `scenario` wraps it. Run alone: node bench/soak.ts [--quick]
import { setTimeout as sleep } from 'node:timers/promises';
import { loadLabs } from '../sandbox/labs/index.ts';
import type { ScenarioOutput } from './lib/result.ts';
import { BENCH_SCOPE_PREFIX } from './lib/server.ts';
import { securityEnv, startBackend, type Backend } from '../tests/helpers/backend.ts';
import { pollUntil, removeScope, scopeObjects, terminalSessions } from '../tests/helpers/engine.ts';
import { Learner, type Terminal } from '../tests/helpers/learner.ts';

export interface SoakOptions {
  /** how long learners keep arriving (default 1 hour; quick: 3 minutes) */
  durationMs?: number;
  quick?: boolean;
  /** learners active at once */
  concurrency?: number;
  log?: (message: string) => void;
}

const IDLE_MINUTES = 1;
const GRACE_SECONDS = 10;
const MAX_LABS = 12;

type Leave = 'close' | 'vanish' | 'freeze' | 'no-terminal' | 'reset-then-close' | 'come-back';
const LEAVES: Leave[] = ['close', 'vanish', 'freeze', 'no-terminal', 'reset-then-close', 'come-back'];

const pick = <T>(xs: readonly T[]): T => xs[Math.floor(Math.random() * xs.length)]!;

export async function soak(opts: SoakOptions = {}): Promise<ScenarioOutput> {
  const log = opts.log ?? ((m: string) => console.log(`[soak] ${m}`));
  const durationMs = opts.durationMs ?? (opts.quick ? 3 * 60_000 : 60 * 60_000);
  const concurrency = opts.concurrency ?? 4;
  const env = securityEnv('soak', {
    ATELIER_LAB_SCOPE: `${BENCH_SCOPE_PREFIX}soak-${process.pid}`, // bench/lib/cleanup.ts removes what a crash leaves
    ATELIER_LAB_IDLE_MINUTES: String(IDLE_MINUTES),
    ATELIER_LAB_MAX_LIFETIME_MINUTES: '10',
    ATELIER_REAPER_INTERVAL_SECONDS: '10',
    ATELIER_GRACE_SECONDS: String(GRACE_SECONDS),
    ATELIER_MAX_LABS: String(MAX_LABS),
    ATELIER_LAB_CREATES_PER_MINUTE: '1000',
    ATELIER_LAB_CREATES_PER_MINUTE_PER_ADDRESS: '0',
    ATELIER_CONNECTS_PER_MINUTE_PER_ADDRESS: '0',
  });
  const scope = env.ATELIER_LAB_SCOPE!;
  const kinds = loadLabs().map((l) => l.id);
  const counts = { learners: 0, labs: 0, noRoom: 0, errors: 0, restarts: 0, ...Object.fromEntries(LEAVES.map((l) => [l, 0])) } as Record<
    string,
    number
  >;
  const errors: string[] = [];
  const samples: { at: number; labs: number; containers: number; rssMiB: number }[] = [];
  let server: Backend = await startBackend(env);
  const rss0 = server.rssBytes();
  // After a full GC: what a leak leaves, unlike a heap not yet collected. The server restarted halfway
  // starts its own count: its start figure is taken again then.
  let gcStart = await server.rssAfterGc();
  let peakRss = rss0;
  let peakLabs = 0;
  const started = Date.now();
  const until = started + durationMs;
  let restartAt = started + durationMs / 2;
  const frozen: Terminal[] = [];

  const sampler = setInterval(() => {
    void scopeObjects(scope).then(
      ({ containers }) => {
        const labs = new Set(containers.map((c) => c.Labels['atelier.lab-id'])).size;
        peakLabs = Math.max(peakLabs, labs);
        peakRss = Math.max(peakRss, server.rssBytes());
        samples.push({
          at: Math.round((Date.now() - started) / 1000),
          labs,
          containers: containers.length,
          rssMiB: Math.round(server.rssBytes() / 2 ** 20),
        });
      },
      () => {},
    );
  }, 30_000);

  /** One learner's visit, from arrival to leaving for good. */
  async function visit(): Promise<void> {
    counts.learners!++;
    const site = server.url;
    const learner = new Learner(site);
    const kind = pick(kinds);
    const leave = pick(LEAVES);
    const started = await learner.request('POST', `/api/labs/${kind}`);
    if (started.status === 503) {
      counts.noRoom!++;
      await sleep(5000 + Math.random() * 5000); // as a student would, before trying again
      return;
    }
    if (started.status !== 200) throw new Error(`POST ${kind}: ${started.status} ${JSON.stringify(started.body)}`);
    counts.labs!++;
    counts[leave]!++;
    if (leave === 'no-terminal') return;
    const host = pick((started.body as { hosts: string[] }).hosts);
    let t = await learner.terminal(kind, host);
    await t.run('echo hello; ls / | head -3; curl -s -o /dev/null -w "%{http_code}\\n" localhost', 30_000);
    await sleep(1000 + Math.random() * 5000);
    if (leave === 'reset-then-close') {
      t.close();
      await learner.resetLab(kind);
      t = await learner.terminal(kind, host);
      await t.run('echo again');
    }
    if (leave === 'come-back') {
      t.vanish();
      await sleep(Math.random() * GRACE_SECONDS * 1000);
      t = await learner.terminal(kind, host, { prompt: false });
      await t.until(() => Boolean(t.helloMessage), 10_000, 'hello');
    }
    if (leave === 'vanish' || leave === 'come-back') t.vanish();
    else if (leave === 'freeze') {
      t.freeze();
      frozen.push(t);
    } else t.close();
  }

  const workers = Array.from({ length: concurrency }, async (_, w) => {
    await sleep(w * 2000);
    while (Date.now() < until) {
      try {
        await visit();
      } catch (err) {
        counts.errors!++;
        if (errors.length < 20) errors.push((err as Error).message.slice(0, 300));
      }
      await sleep(Math.random() * 3000);
    }
  });

  // Halfway, the backend dies without warning and comes back on the same ports.
  const restarter = (async () => {
    while (Date.now() < Math.min(restartAt, until)) await sleep(1000);
    if (restartAt === Infinity || Date.now() >= until) return;
    log('SIGKILL to the backend, then a restart');
    const { port, previewPort } = server;
    await server.kill('SIGKILL');
    server = await startBackend({ ...env, PORT: String(port), ATELIER_PREVIEW_PORT: String(previewPort) });
    gcStart = await server.rssAfterGc();
    counts.restarts!++;
    restartAt = Infinity;
  })();

  const progress = setInterval(() => log(`${Math.round((Date.now() - started) / 1000)} s: ${JSON.stringify(counts)}`), 60_000);
  await Promise.all([...workers, restarter]);
  clearInterval(progress);
  log(`no more learners after ${Math.round((Date.now() - started) / 1000)} s: ${JSON.stringify(counts)}`);

  // Nobody comes any more. Idle labs go after IDLE_MINUTES (frozen clients are dropped by the heartbeat
  // first, then their shells after the grace period); the reaper runs every 10 s.
  const drainStart = Date.now();
  const drained = await pollUntil(
    () => scopeObjects(scope),
    (o) => o.containers.length + o.networks.length + o.volumes.length === 0,
    (IDLE_MINUTES * 60 + 240) * 1000,
    5000,
  );
  const drainSeconds = Math.round((Date.now() - drainStart) / 1000);
  clearInterval(sampler);
  const shells = (await Promise.all(drained.containers.filter((c) => c.State === 'running').map((c) => terminalSessions(c.Id)))).reduce(
    (a, b) => a + Math.max(0, b),
    0,
  );
  const alive = server.alive();
  const rssEnd = server.rssBytes();
  const gcEnd = alive ? await server.rssAfterGc() : 0;
  for (const t of frozen) t.ws.terminate();
  await server.stop();
  await removeScope(scope);

  const orphans = drained.containers.length + drained.networks.length + drained.volumes.length;
  log(
    `drained in ${drainSeconds} s; orphans: ${drained.containers.length} containers, ${drained.networks.length} networks, ${drained.volumes.length} volumes`,
  );
  return {
    settings: {
      durationMinutes: durationMs / 60_000,
      concurrency,
      idleMinutes: IDLE_MINUTES,
      graceSeconds: GRACE_SECONDS,
      maxLabs: MAX_LABS,
      leaves: LEAVES,
    },
    figures: [
      {
        name: 'orphans after the reaper (containers + networks + volumes)',
        value: orphans,
        unit: 'objects',
        target: { on: 'value', op: '==', limit: 0 },
      },
      { name: 'terminal shells left in labs', value: shells, unit: 'shells', target: { on: 'value', op: '==', limit: 0 } },
      { name: 'labs created and abandoned', value: counts.labs!, unit: 'labs' },
      { name: 'learners turned away (no room)', value: counts.noRoom!, unit: 'learners', note: `global cap ${MAX_LABS}` },
      { name: 'peak labs at once', value: peakLabs, unit: 'labs' },
      { name: 'errors seen by learners', value: counts.errors!, unit: 'visits', target: { on: 'value', op: '==', limit: 0 } },
      {
        name: 'server RSS at start / peak / end',
        value: Math.round(rssEnd / 2 ** 20),
        unit: 'MiB',
        note: `${Math.round(rss0 / 2 ** 20)} / ${Math.round(peakRss / 2 ** 20)} / ${Math.round(rssEnd / 2 ** 20)}`,
      },
      {
        name: 'server RSS after a full GC: growth from start to end',
        value: Math.round((gcEnd - gcStart) / 2 ** 20),
        unit: 'MiB',
        note: `${Math.round(gcStart / 2 ** 20)} → ${Math.round(gcEnd / 2 ** 20)} MiB (the process restarted halfway is measured from its own start)`,
        target: { on: 'value', op: '<=', limit: 32 },
      },
      { name: 'time for the reaper to clear everything', value: drainSeconds, unit: 's', note: `idle timeout ${IDLE_MINUTES} min` },
    ],
    details: { counts, samples, errors, serverAliveAtEnd: alive },
    notes: counts.restarts ? ['the backend was killed (SIGKILL) and restarted halfway'] : [],
  };
}

export const scenario = {
  name: 'soak',
  title: 'Soak: labs created and abandoned for an hour leave no orphans',
  run: ({ quick, log }: { quick: boolean; log: (m: string) => void }) => soak({ quick, log }),
};

if (import.meta.main) {
  const result = await soak({ quick: process.argv.includes('--quick') });
  console.log(JSON.stringify({ figures: result.figures, errors: result.details?.errors }, null, 2));
  process.exit(result.figures.some((f) => f.target && f.value !== f.target.limit) ? 1 : 0);
}
