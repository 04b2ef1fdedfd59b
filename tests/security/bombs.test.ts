// Bombs in one lab while a neighbour types in another: fork bomb, memory hog, disk fill, CPU spin and a
// flood of output, each typed in the hostile learner's terminal as a learner would, and seen to go off
// before "during" is measured. Figures: the neighbour's keystroke echo (p50/p99) before and during each
// bomb, the server's RSS, the hostile lab's reset after each bomb, the machine's free disk; the server is
// the same process from start to end.
import assert from 'node:assert/strict';
import { statfs } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import { auditLab } from '../helpers/audit.ts';
import { securityEnv, startBackend, type Backend } from '../helpers/backend.ts';
import { containerName, docker, labContainers, pollUntil, processCount, removeScope } from '../helpers/engine.ts';
import { Learner, percentile, type Terminal } from '../helpers/learner.ts';
import { ensureSiteBuilt } from '../helpers/site-build.ts';

const LAB = 'nginx-local';
const env = securityEnv('bombs');
const scope = env.ATELIER_LAB_SCOPE!;
/** keystrokes per measurement; 15 ms apart, like fast typing */
const SAMPLES = 150;
const MiB = 1024 * 1024;

let server: Backend;
let neighbour: Terminal;
let hostile: Learner;
let hostileTerm: Terminal;
let hostileLabId = '';
const figures: string[] = [];

async function echo(): Promise<{ p50: number; p99: number; max: number }> {
  const s = await neighbour.echoSamples(SAMPLES, 15);
  return { p50: percentile(s, 50), p99: percentile(s, 99), max: Math.max(...s) };
}

/** Samples the server's RSS until stopped; returns the peak. */
function watchRss(): () => number {
  let peak = server.rssBytes();
  const timer = setInterval(() => (peak = Math.max(peak, server.rssBytes())), 100);
  timer.unref(); // a test that fails before reading the peak must not keep the process alive
  return () => (clearInterval(timer), peak);
}

const machineFree = async () => {
  const s = await statfs('/var/lib/docker').catch(() => statfs('/'));
  return s.bavail * s.bsize;
};

before(async () => {
  await ensureSiteBuilt();
  server = await startBackend(env);
  const calm = new Learner(server.url);
  hostile = new Learner(server.url);
  const [, h] = await Promise.all([calm.startLab(LAB), hostile.startLab(LAB)]);
  hostileLabId = h.labId;
  neighbour = await calm.terminal(LAB, 'web');
  hostileTerm = await hostile.terminal(LAB, 'web');
  await echo(); // warm-up: the first keystrokes pay for lazy paths
  figures.push(`server RSS with two labs attached: ${(server.rssBytes() / MiB).toFixed(0)} MiB`);
});

after(async () => {
  for (const f of figures) console.log(`# figure: ${f}`);
  neighbour?.close();
  hostileTerm?.close();
  await server?.stop();
  await removeScope(scope);
});

// A bound that holds on a loaded two-core CI machine: the strict goal (+20 %) is reported, not asserted,
// since a millisecond of scheduler noise is already +30 % of a 3 ms echo.
const ECHO_BOUND = (p99: number) => Math.max(3 * p99, p99 + 100);
const RSS_BOUND = 600 * MiB;

interface Bomb {
  name: string;
  command: string;
  /**
   * Whether the bomb has gone off, seen from the engine or in the hostile terminal's output since byte
   * `typed` (polled until it has, 60 s at most: the neighbour is measured "during" only then).
   */
  armed: (typed: number) => Promise<boolean>;
  /** what the hostile lab shows once the bomb has gone off (checked from the engine) */
  check?: () => Promise<string | null>;
}

const hostileContainer = () => containerName(hostileLabId, 'web');
/** The engine's figures for the hostile host (never an exec: a bomb may leave no room for one). */
const hostileStats = () => docker.getContainer(hostileContainer()).stats({ stream: false });
/** The hostile terminal printed `text` since byte `typed`. */
const printed = (typed: number, text: string) => hostileTerm.since(typed).includes(text);

const BOMBS: Bomb[] = [
  {
    name: 'fork bomb',
    command: 'b(){ b|b& }; b',
    // The pids cgroup is (nearly) full.
    armed: async () => {
      const { pids_stats: pids } = await hostileStats();
      return (pids?.current ?? 0) >= 0.9 * (pids?.limit ?? Infinity);
    },
    // The pids cgroup holds it: the container never has more than its limit.
    check: async () => {
      const n = await processCount(hostileContainer()).catch(() => -1);
      return n > 256 + 5 ? `${n} processes in the hostile lab` : null;
    },
  },
  {
    name: 'memory hog',
    command: 'for i in 1 2 3; do (while :; do head -c 1500m /dev/zero | tail >/dev/null; done) & done',
    // Half the memory limit taken (the hogs are killed at the limit and start again).
    armed: async () => {
      const { memory_stats: memory } = await hostileStats();
      return (memory?.usage ?? 0) >= 0.5 * (memory?.limit ?? Infinity);
    },
  },
  {
    name: 'disk fill',
    command:
      'for d in /tmp /var /root /etc /run /sys/fs/cgroup /usr /; do dd if=/dev/zero of=$d/fill bs=1M status=none; done; while :; do dd if=/dev/zero of=/tmp/fill2 bs=1M status=none; sleep 0.2; done',
    // A directory written until it was full (dd says so; the next ones fill the memory limit too).
    armed: async (typed) => printed(typed, 'No space left on device'),
  },
  {
    name: 'CPU spin',
    command: 'for i in 1 2 3 4 5 6 7 8; do (while :; do :; done) & done',
    // The host uses 80 % of its CPU limit at least, over the engine's last second of figures.
    armed: async () => {
      const [{ cpu_stats: now, precpu_stats: before }, info] = await Promise.all([
        hostileStats(),
        docker.getContainer(hostileContainer()).inspect(),
      ]);
      const used = (now.cpu_usage.total_usage - before.cpu_usage.total_usage) / (now.system_cpu_usage - before.system_cpu_usage);
      const cpus = info.HostConfig.NanoCpus ? info.HostConfig.NanoCpus / 1e9 : now.online_cpus;
      return used * now.online_cpus >= 0.8 * cpus;
    },
  },
  // A MiB relayed: the flood is under way (at the output rate past its burst, the neighbour having just typed).
  { name: 'output flood', command: 'cat /dev/urandom | base64', armed: async (typed) => hostileTerm.received - typed >= MiB },
];

describe('bombs in one lab while a neighbour types', () => {
  const pid = () => server.pid;
  let firstPid = 0;
  before(() => {
    firstPid = pid();
  });

  for (const bomb of BOMBS) {
    test(`${bomb.name}: the neighbour keeps typing, the server holds, the hostile lab resets`, async (t) => {
      // "Before" is measured right before each bomb: the machine's own load drifts during a CI run.
      const baseline = await echo();
      const freeBefore = await machineFree();
      const rss = watchRss();
      const typed = hostileTerm.received;
      hostileTerm.write(`${bomb.command}\r`);
      const armedAt = Date.now();
      const armed = await pollUntil(
        () => bomb.armed(typed).catch(() => false),
        (yes) => yes,
        60_000,
        250,
      );
      assert.ok(armed, `the ${bomb.name} went off (seen within 60 s)`);
      const armedMs = Date.now() - armedAt;
      const relayed0 = hostileTerm.received;
      const t1 = Date.now();
      const during = await echo();
      const relayedRate = ((hostileTerm.received - relayed0) * 1000) / (Date.now() - t1);
      const problem = await bomb.check?.();
      const peakRss = rss();
      const freeAfter = await machineFree();

      // The hostile lab can be reset: fresh containers, a working shell.
      const before = new Set((await labContainers(hostileLabId)).map((c) => c.Id));
      const t0 = Date.now();
      const fresh = await hostile.resetLab(LAB);
      const resetMs = Date.now() - t0;
      assert.equal(fresh.state, 'ready');
      const after = await labContainers(hostileLabId);
      assert.ok(
        after.length > 0 && after.every((c) => !before.has(c.Id) && c.State === 'running'),
        'the reset made new running containers',
      );
      hostileTerm.close();
      hostileTerm = await hostile.terminal(LAB, 'web');
      assert.equal((await hostileTerm.run('echo ok')).output.trim(), 'ok');

      const ratio = during.p99 / baseline.p99;
      const line =
        `${bomb.name}: neighbour echo p50 ${during.p50.toFixed(1)} ms, p99 ${during.p99.toFixed(1)} ms ` +
        `(${ratio >= 1 ? '+' : ''}${((ratio - 1) * 100).toFixed(0)} % vs p99 ${baseline.p99.toFixed(1)} ms, p50 ${baseline.p50.toFixed(1)} ms before), max ${during.max.toFixed(1)} ms; ` +
        `server RSS peak ${(peakRss / MiB).toFixed(0)} MiB; machine disk ${((freeBefore - freeAfter) / MiB).toFixed(0)} MiB used; ` +
        `hostile output relayed at ${(relayedRate / MiB).toFixed(2)} MiB/s; went off in ${armedMs} ms; reset ${resetMs} ms`;
      figures.push(line);
      t.diagnostic(line);

      assert.equal(problem ?? null, null);
      assert.ok(
        during.p99 <= ECHO_BOUND(baseline.p99),
        `neighbour echo p99 ${during.p99.toFixed(1)} ms > bound ${ECHO_BOUND(baseline.p99).toFixed(1)} ms`,
      );
      assert.ok(peakRss < RSS_BOUND, `server RSS ${peakRss} bytes`);
      // A flood is relayed at the terminal output rate (1 MiB/s by default), its burst aside.
      assert.ok(relayedRate < 1.5 * MiB, `output relayed at ${relayedRate} bytes/s`);
      // Lab writes land in memory-bounded tmpfs, never on the machine's disk.
      assert.ok(freeBefore - freeAfter < 64 * MiB, `the machine's disk lost ${(freeBefore - freeAfter) / MiB} MiB`);
      assert.equal(pid(), firstPid, 'same server process');
      assert.ok(server.alive(), 'the server is running');
    });
  }

  test('after every bomb: the same server process answers, and the reset hostile lab still passes the audit', async () => {
    assert.equal(server.pid, firstPid);
    assert.ok(server.alive());
    const r = await fetch(`${server.url}/api/labs/${LAB}`, { headers: { Cookie: hostile.cookieHeader! } });
    assert.equal(r.status, 200);
    const audit = await auditLab(hostileLabId);
    assert.deepEqual(
      audit.flatMap((h) => h.failures),
      [],
    );
    assert.doesNotMatch(server.output(), /uncaught|unhandled/i);
  });
});
