// The engine daemon restarted mid-session. Restarting dockerd stops every container on the machine, so
// this file is in no other test glob: it runs in a `node --test` invocation of its own, after all the
// others (scripts/test.sh, `npm run test:engine`), and skips itself when anything else runs on the engine
// (see othersOnEngine), whatever order or company it is run in. dockerd is stopped (SIGTERM, as a
// service manager would) and started again with its own command line and log file, or through systemd
// when systemd runs it; the after hook makes sure it answers again whatever happened. Lab containers
// have no restart policy, so they stay stopped: the student sees the lab end, is told it expired, and
// gets a fresh one. The backend is the same process throughout, and the host firewall is still there.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync, openSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { after, before, test } from 'node:test';
import { firewallInPlace } from '../../server/sandbox/docker/firewall.ts';
import { securityEnv, startBackend, type Backend } from '../helpers/backend.ts';
import { docker, pollUntil, removeScope, scopeObjects, terminalSessions, containerName } from '../helpers/engine.ts';
import { Learner } from '../helpers/learner.ts';
import { ensureSiteBuilt } from '../helpers/site-build.ts';

const run = promisify(execFile);
const LAB = 'nginx-local';
const env = securityEnv('engine');
const scope = env.ATELIER_LAB_SCOPE!;

interface Daemon {
  how: 'systemd' | 'process';
  pid: number;
  argv: string[];
  log: string | null;
}

/** How this machine's dockerd runs, or why the test must not restart it. */
function findDaemon(): Daemon | string {
  if (process.env.DOCKER_HOST && !process.env.DOCKER_HOST.startsWith('unix://')) return 'the engine is remote (DOCKER_HOST)';
  if (process.getuid?.() !== 0) return 'not root: cannot restart the engine';
  const pidFile = '/var/run/docker.pid';
  if (!existsSync(pidFile)) return 'no /var/run/docker.pid';
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  let argv: string[];
  try {
    argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  } catch {
    return `dockerd (pid ${pid}) is not running here`;
  }
  if (!/dockerd$/.test(argv[0] ?? '')) return `pid ${pid} is not dockerd: ${argv.join(' ')}`;
  const cgroup = readFileSync(`/proc/${pid}/cgroup`, 'utf8');
  if (existsSync('/run/systemd/system') && /docker\.service/.test(cgroup)) return { how: 'systemd', pid, argv, log: null };
  let log: string | null = null;
  try {
    const out = readlinkSync(`/proc/${pid}/fd/1`);
    if (out.startsWith('/') && existsSync(out)) log = out;
  } catch {}
  return { how: 'process', pid, argv, log };
}

/**
 * Restarting the engine stops every container on it. Test labs (atelier.test=1) are disposable, but not
 * while another test run or a benchmark uses them, and nothing else may be stopped: a production
 * backend's labs, someone's database. Returns why not, or null.
 */
async function othersOnEngine(): Promise<string | null> {
  const running = await docker.listContainers();
  const foreign = running.filter((c) => c.Labels['atelier.test'] !== '1');
  if (foreign.length > 0)
    return `containers that are not test labs run on this engine (${foreign
      .slice(0, 3)
      .map((c) => c.Names[0])
      .join(', ')}): not restarting it under them`;
  const mine = new Set([process.pid, server?.pid]);
  for (let pid = process.ppid; pid > 1; pid = Number(/^PPid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0))
    mine.add(pid);
  for (const entry of readdirSync('/proc').filter((e) => /^\d+$/.test(e))) {
    if (mine.has(Number(entry))) continue;
    let cmd = '';
    try {
      cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' ');
    } catch {
      continue;
    }
    if (/node\b.*(--test\b|bench\/(run|soak)\.ts|server\/main\.ts)/.test(cmd))
      return `another test run or benchmark uses this engine (pid ${entry}): not restarting it under them`;
  }
  return null;
}

const alive = (pid: number) => existsSync(`/proc/${pid}`);
const engineAnswers = () =>
  docker.ping().then(
    () => true,
    () => false,
  );

async function stopDaemon(d: Daemon): Promise<void> {
  if (d.how === 'systemd') {
    await run('systemctl', ['stop', 'docker']);
    return;
  }
  process.kill(d.pid, 'SIGTERM');
  assert.equal(
    await pollUntil(
      async () => alive(d.pid),
      (running) => !running,
      60_000,
      500,
    ),
    false,
    'dockerd stopped within 60 s',
  );
}

async function startDaemon(d: Daemon): Promise<void> {
  if (d.how === 'systemd') await run('systemctl', ['start', 'docker']);
  else {
    const out = d.log ? openSync(d.log, 'a') : 'ignore';
    spawn(d.argv[0]!, d.argv.slice(1), { detached: true, stdio: ['ignore', out, out] }).unref();
  }
  await pollUntil(engineAnswers, (answers) => answers, 60_000, 500);
}

const daemon = findDaemon();
let server: Backend | undefined;

before(async () => {
  if (typeof daemon === 'string') return;
  await ensureSiteBuilt();
  server = await startBackend(env);
});

after(async () => {
  // Whatever happened above, the engine answers again before anything else runs.
  if (typeof daemon !== 'string' && !(await engineAnswers())) {
    if (daemon.how === 'process' && !existsSync('/var/run/docker.pid')) await startDaemon(daemon);
    else if (daemon.how === 'systemd') await startDaemon(daemon);
    // A pid file: dockerd may still be on its way up (or down); started again if it does not answer.
    else if (!(await pollUntil(engineAnswers, (answers) => answers, 5_000, 500))) await startDaemon(daemon);
    assert.ok(await engineAnswers(), 'dockerd is back');
  }
  await server?.stop();
  await removeScope(scope).catch(() => {});
});

test('the engine restarted mid-session: a clear end for the student, a fresh lab after, the same backend, the firewall kept', {
  skip: typeof daemon === 'string' ? daemon : false,
  timeout: 300_000,
}, async (t) => {
  const d = daemon as Daemon;
  const srv = server!;
  const learner = new Learner(srv.url);
  const { labId } = await learner.startLab(LAB);
  const term = await learner.terminal(LAB, 'web');
  await term.run('echo typing');
  const pid = srv.pid;
  const busy = await othersOnEngine();
  if (busy) return t.skip(busy);

  const t0 = Date.now();
  await stopDaemon(d);
  const closed = await Promise.race([term.closed, sleep(20_000).then(() => null)]);
  const toldMs = Date.now() - t0;
  assert.ok(closed, 'the terminal ends when the engine goes');
  assert.ok(
    term.control.some((m) => m.t === 'status' && m.state === 'exited'),
    `the student is told the shell ended: ${JSON.stringify(term.control)}`,
  );

  // While the engine is away: a clear error, not a hang, and the backend stays up.
  const during = await learner.request('GET', `/api/labs/${LAB}`);
  assert.equal(during.status, 500);
  assert.equal(during.body?.error, 'engine');
  assert.ok(srv.alive());

  const t1 = Date.now();
  await startDaemon(d);
  const backMs = Date.now() - t1;
  assert.ok(await engineAnswers(), 'the engine answers again');

  const info = await pollUntil(
    () => learner.getLab(LAB).catch(() => null),
    (i) => i?.state === 'expired',
    30_000,
    500,
  );
  assert.equal(info?.state, 'expired', `the lab, stopped with the engine, shows as over: ${JSON.stringify(info)}`);
  const t2 = Date.now();
  const fresh = await learner.startLab(LAB);
  const freshMs = Date.now() - t2;
  assert.equal(fresh.state, 'ready');
  assert.equal(fresh.labId, labId, 'the same lab id, recreated');
  const again = await learner.terminal(LAB, 'web');
  assert.equal((await again.run('echo back')).output.trim(), 'back');

  assert.equal(srv.pid, pid, 'the same backend process');
  assert.ok(srv.alive());
  assert.doesNotMatch(srv.output(), /Uncaught|unhandled/i);
  assert.equal(await firewallInPlace(), true, 'the host firewall rules survived the engine restart (iptables)');
  const forward = (await run('iptables', ['-w', '5', '-S'])).stdout;
  assert.match(forward, /^-A (DOCKER-USER|FORWARD) -i atl\+ -j ATELIER-FORWARD$/m, 'and the forwarding rule');
  const { containers, networks } = await scopeObjects(scope);
  assert.equal(containers.length, 1, 'one container: nothing left from before the restart');
  assert.equal(networks.length, 1);
  assert.equal(await terminalSessions(containerName(labId, 'web')), 1);
  again.close();
  const figure = `engine restart: terminal told in ${(toldMs / 1000).toFixed(1)} s, engine back in ${(backMs / 1000).toFixed(1)} s, API said expired, fresh lab in ${(freshMs / 1000).toFixed(1)} s, same backend PID`;
  console.log(`# figure: ${figure}`);
  t.diagnostic(figure);
});
