// Scenario 5, density: learners arrive in steps, each starts one nginx-remote lab and opens one terminal,
// then stays idle but for one keystroke per second. At each step: memory per lab (whole machine, and
// the containers' own cgroups), echo p50/p99 over the step's hold, CPU idle, the engine's answer time,
// file descriptors. The ramp stops at the first failure, when memory or echo cross their thresholds, or
// at the time budget; everything is removed at the end (the server's scope, bench/lib/cleanup.ts).
import { readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import type Docker from 'dockerode';
import { closeEngine, connectEngine } from '../../server/sandbox/docker/engine.ts';
import { Learner, type Terminal } from '../lib/client.ts';
import { scopeLabs } from '../lib/labs.ts';
import type { Scenario } from '../lib/result.ts';
import { startBenchServer } from '../lib/server.ts';
import { percentile, sleep, summarize } from '../lib/stats.ts';

const LAB = 'nginx-remote';
const MiB = 2 ** 20;

const meminfo = (field: string) =>
  Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync('/proc/meminfo', 'utf8'))?.[1] ?? 0) * 1024;

function cpuTimes(): { idle: number; total: number } {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.split(/\s+/).slice(1).map(Number);
  return { idle: (fields[3] ?? 0) + (fields[4] ?? 0), total: fields.reduce((a, b) => a + b, 0) };
}

function pidsOf(name: string): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => {
      try {
        return readFileSync(`/proc/${d}/comm`, 'utf8').trim() === name;
      } catch {
        return false;
      }
    })
    .map(Number);
}
const rssOf = (pid: number) => {
  try {
    return Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) * 1024;
  } catch {
    return 0;
  }
};
const fdsOf = (pid: number) => {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return 0;
  }
};

/** Memory the containers' cgroups account (cgroups v1 or v2), summed. */
function containerMemory(ids: string[]): number {
  let sum = 0;
  for (const id of ids) {
    for (const file of [
      `/sys/fs/cgroup/memory/docker/${id}/memory.usage_in_bytes`,
      `/sys/fs/cgroup/system.slice/docker-${id}.scope/memory.current`,
    ]) {
      try {
        sum += Number(readFileSync(file, 'utf8'));
        break;
      } catch {
        // the other cgroup layout
      }
    }
  }
  return sum;
}

interface Learning {
  learner: Learner;
  term: Terminal;
  labId: string;
  latencies: number[];
  pending: number;
  nextAt: number;
  keys: number;
}

interface Step {
  labs: number;
  createSeconds: number;
  createMs: ReturnType<typeof summarize> | null;
  echo: { n: number; p50: number; p99: number; max: number; missed: number };
  memAvailableBytes: number;
  memoryPerLabMiB: number;
  containerCgroupPerLabMiB: number;
  shimRssPerLabMiB: number;
  serverRssMiB: number;
  dockerdRssMiB: number;
  cpuIdlePercent: number;
  loadAverage: number[];
  engineListMs: number;
  serverFds: number;
  dockerdFds: number;
}

export const scenario: Scenario = {
  name: 'density',
  title: 'Density: idle learners (one nginx-remote lab, one terminal, one keystroke per second each), ramped up',
  async run({ quick, log }) {
    const steps = quick ? [5, 10] : [25, 50, 100, 150, 200, 250, 300, 350];
    const holdMs = quick ? 8_000 : 20_000;
    const budgetMs = quick ? 4 * 60_000 : 20 * 60_000;
    const concurrency = 4;
    const memFloor = Math.max(2 * 2 ** 30, os.totalmem() * 0.1);
    const started = Date.now();
    const docker = connectEngine();
    const engineListMs = async (scope: string) => {
      const t = performance.now();
      await docker.listContainers({ all: true, filters: { label: [`atelier.scope=${scope}`] } } as Docker.ContainerListOptions);
      return performance.now() - t;
    };

    const available0 = meminfo('MemAvailable');
    const shims0 = pidsOf('containerd-shim')
      .concat(pidsOf('containerd-shim-runc-v2'))
      .reduce((s, p) => s + rssOf(p), 0);
    const server = await startBenchServer('density', { ATELIER_LAB_POOL: '', ATELIER_MAX_LABS: '2000', ATELIER_LAB_IDLE_MINUTES: '120' });
    const labs = scopeLabs(server.scope);
    const learners: Learning[] = [];
    const results: Step[] = [];
    let stopReason = 'every step done';
    let serverLog = '';
    let stopped = false;

    // Each learner types one key per second, each at its own phase of the second.
    const typing = setInterval(() => {
      const now = performance.now();
      for (const l of learners) {
        if (l.pending || now < l.nextAt) continue;
        l.nextAt += 1000;
        l.pending = now;
        l.term.send(l.keys++ % 2 === 0 ? 'x' : '\x7f');
      }
    }, 5);
    const missed = { count: 0 };
    const timeout = setInterval(() => {
      const now = performance.now();
      for (const l of learners) {
        if (l.pending && now - l.pending > 5000) {
          l.pending = 0;
          missed.count++;
        }
      }
    }, 500);

    const arrive = async (): Promise<{ ok: true; ms: number } | { ok: false; why: string }> => {
      const learner = new Learner(server.url);
      const t = performance.now();
      try {
        const res = await learner.post(LAB);
        if (res.status !== 200 || !('labId' in res.body))
          return { ok: false, why: `POST answered ${res.status} ${JSON.stringify(res.body)}` };
        const term = learner.terminal(LAB, 'web', { keepText: false });
        await term.firstOutput(60_000);
        const ms = performance.now() - t;
        const l: Learning = {
          learner,
          term,
          labId: res.body.labId,
          latencies: [],
          pending: 0,
          nextAt: performance.now() + Math.random() * 1000,
          keys: 0,
        };
        term.onData = (_chunk, at) => {
          if (!l.pending) return;
          l.latencies.push(at - l.pending);
          l.pending = 0;
        };
        learners.push(l);
        return { ok: true, ms };
      } catch (err) {
        return { ok: false, why: (err as Error).message };
      }
    };

    try {
      for (const target of steps) {
        if (stopped) break;
        log(`ramp to ${target} labs`);
        const t0 = performance.now();
        const createMs: number[] = [];
        while (learners.length < target && !stopped) {
          const batch = Math.min(concurrency, target - learners.length);
          const outcomes = await Promise.all(Array.from({ length: batch }, () => arrive()));
          for (const o of outcomes) {
            if (o.ok) createMs.push(o.ms);
            else if (!stopped) {
              stopped = true;
              stopReason = `a learner could not start at ${learners.length} labs: ${o.why}`;
            }
          }
          if (meminfo('MemAvailable') < memFloor) {
            stopped = true;
            stopReason = `memory: MemAvailable under ${(memFloor / 2 ** 30).toFixed(1)} GiB at ${learners.length} labs`;
          }
          if (Date.now() - started > budgetMs) {
            stopped = true;
            stopReason = `time budget (${budgetMs / 60_000} min) spent at ${learners.length} labs`;
          }
        }
        const createSeconds = (performance.now() - t0) / 1000;
        // Hold: everyone types; only this window's echoes count.
        for (const l of learners) l.latencies = [];
        missed.count = 0;
        const cpu0 = cpuTimes();
        await sleep(holdMs);
        const cpu1 = cpuTimes();
        const echoes = learners.flatMap((l) => l.latencies);
        const containers = await docker.listContainers({
          all: true,
          filters: { label: [`atelier.scope=${server.scope}`] },
        } as Docker.ContainerListOptions);
        const ids = containers.map((c) => c.Id);
        const notRunning = containers.filter((c) => c.State !== 'running').length;
        const n = learners.length;
        const shims = pidsOf('containerd-shim')
          .concat(pidsOf('containerd-shim-runc-v2'))
          .reduce((s, p) => s + rssOf(p), 0);
        const dockerd = pidsOf('dockerd')[0];
        const step: Step = {
          labs: n,
          createSeconds,
          createMs: createMs.length ? summarize(createMs) : null,
          echo: {
            n: echoes.length,
            p50: percentile(echoes, 50),
            p99: percentile(echoes, 99),
            max: Math.max(...echoes),
            missed: missed.count,
          },
          memAvailableBytes: meminfo('MemAvailable'),
          memoryPerLabMiB: (available0 - meminfo('MemAvailable')) / n / MiB,
          containerCgroupPerLabMiB: containerMemory(ids) / n / MiB,
          shimRssPerLabMiB: (shims - shims0) / n / MiB,
          serverRssMiB: server.rss().rss / MiB,
          dockerdRssMiB: dockerd ? rssOf(dockerd) / MiB : 0,
          cpuIdlePercent: (100 * (cpu1.idle - cpu0.idle)) / (cpu1.total - cpu0.total),
          loadAverage: os.loadavg().map((x) => Math.round(x * 100) / 100),
          engineListMs: await engineListMs(server.scope),
          serverFds: fdsOf(server.pid),
          dockerdFds: dockerd ? fdsOf(dockerd) : 0,
        };
        results.push(step);
        log(
          `${n} labs: echo p50 ${step.echo.p50.toFixed(1)} ms p99 ${step.echo.p99.toFixed(1)} ms (${step.echo.missed} missed), ${step.memoryPerLabMiB.toFixed(1)} MiB/lab, CPU idle ${step.cpuIdlePercent.toFixed(0)}%, engine list ${step.engineListMs.toFixed(0)} ms, created in ${createSeconds.toFixed(0)} s`,
        );
        if (!stopped && notRunning > 0) {
          stopped = true;
          stopReason = `${notRunning} lab containers stopped behind the benchmark's back at ${n} labs (the engine restarted, or out of memory): figures of this step are not the system's`;
        }
        if (!stopped && step.echo.p99 > 1000) {
          stopped = true;
          stopReason = `echo p99 ${step.echo.p99.toFixed(0)} ms at ${n} labs (over 1 s: the machine is saturated)`;
        }
        if (!stopped && Date.now() - started > budgetMs) {
          stopped = true;
          stopReason = `time budget (${budgetMs / 60_000} min) spent at ${n} labs`;
        }
      }
    } finally {
      clearInterval(typing);
      clearInterval(timeout);
      await Promise.all(learners.map((l) => l.term.close().catch(() => {})));
      serverLog = server.output();
      await server.stop();
      log('removing every lab');
      await labs.destroyAll();
      await labs.close();
      closeEngine(docker);
    }

    const good = results.filter((s) => s.echo.p99 <= 50 && s.echo.missed === 0);
    const best = good.at(-1);
    const last = results.at(-1);
    return {
      settings: {
        lab: LAB,
        steps,
        holdMs,
        concurrency,
        keystrokesPerSecondPerLearner: 1,
        memoryFloorBytes: memFloor,
        budgetMinutes: budgetMs / 60_000,
        maxLabs: 2000,
        stopReason,
      },
      figures: [
        {
          name: 'labs reached with echo p99 <= 50 ms',
          value: best?.labs ?? 0,
          unit: 'labs',
          target: { on: 'value', op: '>=', limit: 300 },
        },
        { name: 'labs reached in all (ramp stopped: see notes)', value: last?.labs ?? 0, unit: 'labs' },
        {
          name: `echo p99 at ${last?.labs ?? 0} labs`,
          value: last?.echo.p99 ?? null,
          unit: 'ms',
          target: { on: 'value', op: '<=', limit: 50 },
        },
        {
          name: `memory per idle lab at ${last?.labs ?? 0} labs (whole machine)`,
          value: last?.memoryPerLabMiB ?? null,
          unit: 'MiB',
          target: { on: 'value', op: '<=', limit: 60 },
        },
        {
          name: `memory per idle lab at ${last?.labs ?? 0} labs (containers' cgroups only)`,
          value: last?.containerCgroupPerLabMiB ?? null,
          unit: 'MiB',
        },
      ],
      details: {
        steps: results,
        memAvailableAtStart: available0,
        serverLogTail: serverLog
          .split('\n')
          .filter((l) => /error|fail|timeout|no answer/i.test(l))
          .slice(-20),
      },
      notes: [`Ramp stopped: ${stopReason}.`],
    };
  },
};
