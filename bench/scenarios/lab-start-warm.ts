// Scenario 2, lab start (warm) and reattach. The server keeps a pool of prepared nginx-remote labs
// (ATELIER_LAB_POOL): a learner's POST claims one, then the panel's WebSocket hello gets a shell; the
// figure is hello → first prompt byte (and click → prompt). Reattach: the page reloads, a new
// WebSocket says hello for the same terminal: hello → the server's `ready` (the screen replayed).
// Baseline: `docker exec -it <the lab's web container> bash -l` through node-pty, to its first byte.
import { dockerExecShell } from '../lib/cli.ts';
import { Learner } from '../lib/client.ts';
import { scopeLabs } from '../lib/labs.ts';
import type { Scenario } from '../lib/result.ts';
import { startBenchServer, type BenchServer } from '../lib/server.ts';
import { sleep, summarize } from '../lib/stats.ts';

const LAB = 'nginx-remote';
const POOL = 2;

/** Waits until the server's pool holds POOL ready labs (created, shells open), as the server itself says. */
async function poolFull(server: BenchServer, timeoutMs: number): Promise<number> {
  const started = performance.now();
  for (;;) {
    const ready = (await server.metrics())?.pool[LAB] ?? 0;
    if (ready >= POOL) return performance.now() - started;
    if (performance.now() - started > timeoutMs) throw new Error(`the pool holds ${ready} of ${POOL} labs after ${timeoutMs} ms`);
    await sleep(200);
  }
}

export const scenario: Scenario = {
  name: 'lab-start-warm',
  title: 'Lab start, warm (a pool of prepared nginx-remote labs) and reattach',
  async run({ quick, log }) {
    const runs = quick ? 5 : 20;
    const server = await startBenchServer('warm', { ATELIER_LAB_POOL: `${LAB}:${POOL}` });
    const labs = scopeLabs(server.scope);
    let interrupted: string | undefined;
    const samples: {
      helloToPromptMs: number;
      helloReplyMs: number;
      clickToPromptMs: number;
      postMs: number;
      reattachReadyMs: number;
      reattachFirstByteMs: number;
      execBaselineMs: number;
      poolRefillMs: number;
    }[] = [];
    try {
      const firstFill = await poolFull(server, 120_000);
      log(`pool of ${POOL} ready ${Math.round(firstFill)} ms after the server started listening`);
      for (let i = 0; i < runs && !interrupted; i++)
        try {
          const poolRefillMs = await poolFull(server, 120_000);
          const learner = new Learner(server.url);
          await learner.get(LAB);
          const t0 = performance.now();
          const res = await learner.post(LAB);
          const posted = performance.now();
          if (res.status !== 200 || !('labId' in res.body)) throw new Error(`POST ${LAB}: ${res.status} ${JSON.stringify(res.body)}`);
          const labId = res.body.labId;
          const terminals = res.body.hosts.map((host) => learner.terminal(LAB, host));
          await Promise.all(terminals.map((t) => t.firstOutput()));
          const web = terminals[res.body.hosts.indexOf('web')]!;
          const helloToPromptMs = web.firstByteAt - web.helloSentAt;
          const helloReplyMs = web.helloAt - web.helloSentAt;
          const clickToPromptMs = web.firstByteAt - t0;

          // Reattach: the page reloads (the old connection goes, a new one says hello for the same shell).
          await web.close();
          const again = learner.terminal(LAB, 'web');
          await again.ready();
          await again.firstOutput().catch(() => {});
          if (!again.hello?.resumed) throw new Error('reattach did not resume the same shell');
          const reattachReadyMs = again.readyAt - again.helloSentAt;
          const reattachFirstByteMs = again.firstByteAt ? again.firstByteAt - again.helloSentAt : Number.NaN;
          await Promise.all([again.close(), ...terminals.map((t) => t.close())]);

          const shell = dockerExecShell(labs.container(labId, 'web'));
          await shell.firstByte;
          const execBaselineMs = shell.firstByteAt - shell.startedAt;
          await shell.kill();

          await labs.provider.destroyLab(labId);
          samples.push({
            helloToPromptMs,
            helloReplyMs,
            clickToPromptMs,
            postMs: posted - t0,
            reattachReadyMs,
            reattachFirstByteMs,
            execBaselineMs,
            poolRefillMs,
          });
          log(
            `run ${i + 1}/${runs}: hello→prompt ${helloToPromptMs.toFixed(0)} ms (hello answered ${helloReplyMs.toFixed(0)}), click→prompt ${clickToPromptMs.toFixed(0)} ms, reattach ${reattachReadyMs.toFixed(0)} ms, docker exec ${execBaselineMs.toFixed(0)} ms`,
          );
        } catch (err) {
          // What was measured before (an engine restarted by someone else, …) still counts, with a note.
          if (samples.length === 0) throw err;
          interrupted = `interrupted after ${samples.length} of ${runs} runs: ${(err as Error).message}`;
          log(interrupted);
        }
    } finally {
      // The server first: a pool would refill behind the removal.
      await server.stop();
      await labs.destroyAll();
      await labs.close();
    }
    const hello = summarize(samples.map((s) => s.helloToPromptMs));
    const click = summarize(samples.map((s) => s.clickToPromptMs));
    const reattach = summarize(samples.map((s) => s.reattachReadyMs));
    const exec = summarize(samples.map((s) => s.execBaselineMs));
    return {
      settings: { lab: LAB, pool: POOL, runs, runsDone: samples.length, waitForFullPoolBeforeEachRun: true },
      figures: [
        { name: 'hello to first prompt (pool lab), p50', value: hello.p50, unit: 'ms', baseline: exec.p50 },
        {
          name: 'hello to first prompt (pool lab), p95',
          value: hello.p95,
          unit: 'ms',
          baseline: exec.p95,
          target: { on: 'value', op: '<=', limit: 150 },
        },
        { name: 'click to first prompt (pool lab), p50', value: click.p50, unit: 'ms', baseline: exec.p50 },
        { name: 'click to first prompt (pool lab), p95', value: click.p95, unit: 'ms', baseline: exec.p95 },
        { name: 'reattach: hello to ready, p50', value: reattach.p50, unit: 'ms', baseline: exec.p50 },
        {
          name: 'reattach: hello to ready, p95',
          value: reattach.p95,
          unit: 'ms',
          baseline: exec.p95,
          target: { on: 'value', op: '<=', limit: 100 },
        },
      ],
      details: {
        helloToPrompt: hello,
        clickToPrompt: click,
        post: summarize(samples.map((s) => s.postMs)),
        helloAnswered: summarize(samples.map((s) => s.helloReplyMs)),
        reattachReady: reattach,
        reattachFirstByte: summarize(samples.map((s) => s.reattachFirstByteMs).filter((x) => !Number.isNaN(x))),
        dockerExecFirstByte: exec,
        poolRefillWait: summarize(samples.map((s) => s.poolRefillMs)),
        samples,
      },
      notes: [
        ...(interrupted ? [interrupted] : []),
        "Baseline of every row: `docker exec -it <container> bash -l` to its first byte (the bare tools' way to get a shell in a running lab).",
      ],
    };
  },
};
