// Scenario 1, lab start (cold): a learner clicks « Lancer » on nginx-remote (two hosts) with no lab
// prepared ahead: POST /api/labs/nginx-remote, then the panel's WebSocket hello for each host, until the
// first prompt byte. Baseline, in the same run and alternating with it: the same lab made by the Docker
// CLI (bench/baseline/cli-lab.sh: network create, run, cp, exec), then `docker exec -it … bash -l` until
// its first byte. Plus a profile of the provider's creation (every Engine API call timed).
import { getLab } from '../../sandbox/labs/index.ts';
import { loadConfig } from '../../server/config.ts';
import { connectEngine, closeEngine } from '../../server/sandbox/docker/engine.ts';
import { DockerProvider } from '../../server/sandbox/docker/provider.ts';
import { newLabId } from '../../server/sandbox/provider.ts';
import { cliLab, dockerExecShell } from '../lib/cli.ts';
import { Learner } from '../lib/client.ts';
import { creationPhases, summarize as summarizeCalls, traceEngine } from '../lib/engine-trace.ts';
import { scopeLabs } from '../lib/labs.ts';
import type { Scenario } from '../lib/result.ts';
import { startBenchServer, benchScope } from '../lib/server.ts';
import { sleep, summarize } from '../lib/stats.ts';

const LAB = 'nginx-remote';

/** One cold start through the real server: ms from the POST to the first prompt byte of each host. */
async function productRun(url: string) {
  const learner = new Learner(url);
  await learner.get(LAB);
  const t0 = performance.now();
  const res = await learner.post(LAB);
  const posted = performance.now();
  if (res.status !== 200 || !('labId' in res.body)) throw new Error(`POST ${LAB}: ${res.status} ${JSON.stringify(res.body)}`);
  const terminals = res.body.hosts.map((host) => learner.terminal(LAB, host));
  await Promise.all(terminals.map((t) => t.firstOutput()));
  const web = terminals[res.body.hosts.indexOf('web')]!;
  const result = {
    labId: res.body.labId,
    postMs: posted - t0,
    clickToPromptMs: web.firstByteAt - t0,
    allPromptsMs: Math.max(...terminals.map((t) => t.firstByteAt)) - t0,
    helloToPromptMs: web.firstByteAt - web.helloSentAt,
  };
  await Promise.all(terminals.map((t) => t.close()));
  return result;
}

async function baselineRun() {
  const lab = await cliLab(LAB);
  try {
    const shell = dockerExecShell(lab.container('web'));
    await shell.firstByte;
    const execMs = shell.firstByteAt - shell.startedAt;
    await shell.kill();
    return { readyMs: lab.readyMs, execToPromptMs: execMs, clickToPromptMs: lab.readyMs + execMs, phases: lab.phases };
  } finally {
    lab.remove();
  }
}

/** The provider in this process with every Engine API call timed: where a creation spends its time. */
async function profile(rootfs: 'readonly' | 'writable', runs: number) {
  const scope = benchScope(`profile-${rootfs}`);
  const config = loadConfig({ ...process.env, ATELIER_TEST: '1', ATELIER_LAB_SCOPE: scope, ATELIER_LAB_ROOTFS: rootfs });
  const docker = connectEngine();
  const trace = traceEngine(docker);
  const provider = new DockerProvider({ config, docker, log: () => {} });
  const samples = [];
  try {
    await provider.init();
    // A first creation warms the engine and the page cache: not part of the figures.
    const warm = newLabId();
    await provider.createLab({ labId: warm, owner: 'bench', definition: getLab(LAB)!, expiresAt: new Date(Date.now() + 600_000) });
    await provider.destroyLab(warm);
    for (let i = 0; i < runs; i++) {
      const labId = newLabId();
      trace.reset();
      const t = performance.now();
      await provider.createLab({ labId, owner: 'bench', definition: getLab(LAB)!, expiresAt: new Date(Date.now() + 600_000) });
      const totalMs = performance.now() - t;
      samples.push({ totalMs: Math.round(totalMs), phases: creationPhases(trace.calls), calls: summarizeCalls(trace.calls) });
      const d = performance.now();
      await provider.destroyLab(labId);
      samples[samples.length - 1]!.calls.push({
        call: '(destroyLab, whole)',
        count: 1,
        totalMs: performance.now() - d,
        maxMs: performance.now() - d,
      });
    }
  } finally {
    for (const lab of await provider.listLabs().catch(() => [])) await provider.destroyLab(lab.labId).catch(() => {});
    await provider.close();
    closeEngine(docker);
  }
  return samples;
}

/** The floor under any creation here: start of a plain container of the lab image (no network, no limits). */
async function engineFloor(runs: number) {
  const docker = connectEngine();
  const image = loadConfig().image ?? (await import('../../sandbox/image/tag.ts')).labImageTag();
  const starts: number[] = [];
  const creates: number[] = [];
  try {
    for (let i = 0; i < runs; i++) {
      let t = performance.now();
      const c = await docker.createContainer({
        Image: image,
        name: `atelier-test-cli-${process.pid}-floor${i}`,
        Labels: { 'atelier.test': '1' },
        HostConfig: { NetworkMode: 'none' },
      });
      creates.push(performance.now() - t);
      t = performance.now();
      await c.start();
      starts.push(performance.now() - t);
      await c.remove({ force: true });
    }
  } finally {
    closeEngine(docker);
  }
  return { createMs: summarize(creates), startMs: summarize(starts) };
}

export const scenario: Scenario = {
  name: 'lab-start-cold',
  title: 'Lab start, cold (nginx-remote, 2 hosts, no pool)',
  async run({ quick, log }) {
    const runs = quick ? 3 : 10;
    const server = await startBenchServer('cold', { ATELIER_LAB_POOL: '' });
    const labs = scopeLabs(server.scope);
    const product: Awaited<ReturnType<typeof productRun>>[] = [];
    const baseline: Awaited<ReturnType<typeof baselineRun>>[] = [];
    let interrupted: string | undefined;
    try {
      // One creation first, not counted: the server reads the image's directories once after start.
      const warm = await productRun(server.url);
      await labs.provider.destroyLab(warm.labId);
      for (let i = 0; i < runs && !interrupted; i++)
        try {
          // Alternating, so that both see the same noise of a shared machine.
          const p = await productRun(server.url);
          await labs.provider.destroyLab(p.labId);
          product.push(p);
          const b = await baselineRun();
          baseline.push(b);
          log(`run ${i + 1}/${runs}: server ${p.clickToPromptMs.toFixed(0)} ms, CLI ${b.clickToPromptMs.toFixed(0)} ms`);
          await sleep(500);
        } catch (err) {
          // What was measured before (an engine restarted by someone else, …) still counts, with a note.
          if (baseline.length === 0) throw err;
          interrupted = `interrupted after ${baseline.length} of ${runs} runs: ${(err as Error).message}`;
          log(interrupted);
        }
    } finally {
      // The server first: a pool would refill behind the removal.
      await server.stop();
      await labs.destroyAll();
      await labs.close();
    }
    log('profile of the provider (read-only root, writable layer) and the engine floor');
    const profileRuns = quick ? 1 : 3;
    const readonly = await profile('readonly', profileRuns);
    const writable = await profile('writable', profileRuns);
    const floor = await engineFloor(quick ? 3 : 5);

    const click = summarize(product.map((p) => p.clickToPromptMs));
    const cli = summarize(baseline.map((b) => b.clickToPromptMs));
    const phaseMedian = (samples: typeof readonly) => {
      const names = [...new Set(samples.flatMap((s) => s.phases.map((p) => p.phase)))];
      return Object.fromEntries(names.map((n) => [n, summarize(samples.map((s) => s.phases.find((p) => p.phase === n)?.ms ?? 0)).p50]));
    };
    return {
      notes: interrupted ? [interrupted] : [],
      settings: {
        lab: LAB,
        runs,
        runsDone: baseline.length,
        alternating: true,
        pool: 'none',
        rootfs: loadConfig().host.rootfs,
        profileRuns,
      },
      figures: [
        {
          name: 'click to first prompt, p50',
          value: click.p50,
          unit: 'ms',
          baseline: cli.p50,
          target: { on: 'value', op: '<=', limit: 800 },
        },
        {
          name: 'click to first prompt, p95',
          value: click.p95,
          unit: 'ms',
          baseline: cli.p95,
          target: { on: 'value', op: '<=', limit: 1200 },
        },
        {
          name: 'click to first prompt, p50 ratio to the CLI',
          value: click.p50,
          unit: 'ms',
          baseline: cli.p50,
          target: { on: 'ratio', op: '<=', limit: 1.0 },
        },
        {
          name: 'hello to first prompt (lab just created), p50',
          value: summarize(product.map((p) => p.helloToPromptMs)).p50,
          unit: 'ms',
          baseline: summarize(baseline.map((b) => b.execToPromptMs)).p50,
        },
        { name: 'provider createLab, read-only root, p50', value: summarize(readonly.map((s) => s.totalMs)).p50, unit: 'ms' },
        { name: 'provider createLab, writable layer, p50', value: summarize(writable.map((s) => s.totalMs)).p50, unit: 'ms' },
        { name: 'engine floor: start of a bare container, p50', value: floor.startMs.p50, unit: 'ms' },
      ],
      details: {
        product: {
          clickToPrompt: click,
          post: summarize(product.map((p) => p.postMs)),
          allPrompts: summarize(product.map((p) => p.allPromptsMs)),
          samples: product,
        },
        baseline: { clickToPrompt: cli, samples: baseline },
        profile: {
          readonly: { phaseMedians: phaseMedian(readonly), samples: readonly },
          writable: { phaseMedians: phaseMedian(writable), samples: writable },
        },
        engineFloor: floor,
      },
    };
  },
};
