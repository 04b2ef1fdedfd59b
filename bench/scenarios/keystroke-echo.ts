// Scenario 3, keystroke echo: single keystrokes, one at a time, through the whole path (WebSocket
// client, server, exec stream, bash's readline in the container, back), from sending a key to the first
// byte of its echo. Keys alternate between a letter and Backspace so the line never grows; the next key
// goes once the echo is complete (output quiet for a moment), so no echo is counted for the wrong key.
// Baseline: the same shell reached by `docker exec -it` through node-pty in this process, same keys.
import { dockerExecShell } from '../lib/cli.ts';
import { Learner } from '../lib/client.ts';
import { scopeLabs } from '../lib/labs.ts';
import type { Scenario } from '../lib/result.ts';
import { startBenchServer } from '../lib/server.ts';
import { sleep, summarize } from '../lib/stats.ts';

const LAB = 'nginx-remote';
const QUIET_MS = 3;

interface KeyTarget {
  send(key: string): void;
  /** resolves at the first output byte after now, with its time */
  nextOutput(): Promise<number>;
  /** resolves once no output came for quietMs */
  quiet(quietMs: number): Promise<void>;
}

function target(send: (key: string) => void, onData: (listener: (at: number) => void) => void): KeyTarget {
  let last = performance.now();
  let waiting: ((at: number) => void) | null = null;
  onData((at) => {
    last = at;
    const w = waiting;
    waiting = null;
    w?.(at);
  });
  return {
    send,
    nextOutput: () => new Promise((ok) => (waiting = ok)),
    async quiet(quietMs) {
      while (performance.now() - last < quietMs) await sleep(1);
    },
  };
}

async function typeKeys(t: KeyTarget, count: number): Promise<number[]> {
  const latencies: number[] = [];
  for (let i = 0; i < count; i++) {
    await t.quiet(QUIET_MS);
    const echo = t.nextOutput();
    const sent = performance.now();
    t.send(i % 2 === 0 ? 'x' : '\x7f');
    const timeout = sleep(5000).then(() => Number.NaN);
    const at = await Promise.race([echo, timeout]);
    if (Number.isNaN(at)) throw new Error(`no echo for keystroke ${i + 1} within 5 s`);
    latencies.push(at - sent);
  }
  return latencies;
}

export const scenario: Scenario = {
  name: 'keystroke-echo',
  title: 'Keystroke echo (one key at a time, letter and Backspace alternating)',
  async run({ quick, log }) {
    const keys = quick ? 400 : 2000;
    const server = await startBenchServer('echo', { ATELIER_LAB_POOL: '' });
    const labs = scopeLabs(server.scope);
    try {
      const learner = new Learner(server.url);
      const res = await learner.post(LAB);
      if (res.status !== 200 || !('labId' in res.body)) throw new Error(`POST ${LAB}: ${res.status} ${JSON.stringify(res.body)}`);
      const labId = res.body.labId;

      const term = learner.terminal(LAB, 'web');
      await term.firstOutput();
      await sleep(500);
      const cpu0 = server.cpuSeconds();
      const ws = target(
        (k) => term.send(k),
        (l) => (term.onData = (_chunk, at) => l(at)),
      );
      // Alternating halves, so that both paths see the same moments of a shared machine.
      const half = keys / 2;
      log(`${keys} keys through the server, ${keys} through docker exec -it, in halves`);
      const product = await typeKeys(ws, half);
      const cpuProduct = server.cpuSeconds() - cpu0;

      const shell = dockerExecShell(labs.container(labId, 'web'));
      await shell.firstByte;
      await sleep(500);
      const pty = target(
        (k) => shell.write(k),
        (l) => shell.onData((_d, at) => l(at)),
      );
      const baseline = await typeKeys(pty, half);
      const cpu1 = server.cpuSeconds();
      product.push(...(await typeKeys(ws, half)));
      const cpuProduct2 = server.cpuSeconds() - cpu1;
      baseline.push(...(await typeKeys(pty, half)));
      await shell.kill();
      await term.close();

      // Where the difference lies: the provider's own exec stream, in this process (no server, no WebSocket).
      const direct = await labs.provider.openTerminal(labId, 'web', { cols: 120, rows: 32 });
      const listeners: ((at: number) => void)[] = [];
      direct.output.on('data', () => {
        const at = performance.now();
        for (const l of listeners) l(at);
      });
      await sleep(800);
      const stream = await typeKeys(
        target(
          (k) => direct.write(k),
          (l) => listeners.push(l),
        ),
        half,
      );
      await direct.close();

      const p = summarize(product);
      const b = summarize(baseline);
      const d = summarize(stream);
      return {
        settings: { lab: LAB, host: 'web', keys, quietBetweenKeysMs: QUIET_MS, order: 'server, docker exec, server, docker exec' },
        figures: [
          { name: 'echo p50', value: p.p50, unit: 'ms', baseline: b.p50, target: { on: 'value', op: '<=', limit: 2 } },
          { name: 'echo p99', value: p.p99, unit: 'ms', baseline: b.p99, target: { on: 'value', op: '<=', limit: 10 } },
          {
            name: 'echo p50, ratio to docker exec -it',
            value: p.p50,
            unit: 'ms',
            baseline: b.p50,
            target: { on: 'ratio', op: '<=', limit: 1.2 },
          },
          { name: 'server CPU per keystroke', value: ((cpuProduct + cpuProduct2) * 1000) / keys, unit: 'ms' },
          { name: "echo p50 on the provider's exec stream alone (no server, no WebSocket)", value: d.p50, unit: 'ms', baseline: b.p50 },
        ],
        notes: [
          `The path through the server adds ${(p.p50 - d.p50).toFixed(2)} ms at p50 to the engine's own exec stream (${d.p50.toFixed(2)} ms, faster than \`docker exec -it\`'s ${b.p50.toFixed(2)} ms): the WebSocket hop from the client to the server and back, and a turn of each Node.js event loop (the server's and the client's).`,
        ],
        details: {
          server: p,
          dockerExec: b,
          execStream: d,
          samples: {
            server: product.map((x) => Math.round(x * 1000) / 1000),
            dockerExec: baseline.map((x) => Math.round(x * 1000) / 1000),
          },
        },
      };
    } finally {
      // The server first: a pool would refill behind the removal.
      await server.stop();
      await labs.destroyAll();
      await labs.close();
    }
  },
};
