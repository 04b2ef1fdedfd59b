// Faults, each ending in a clear state for the student within seconds, with no lab or exec session left
// behind: a lab container killed behind the server's back, the backend killed (SIGKILL) and started
// again (labs found from their labels, the same cookie reattaches), a client vanishing without a close
// frame, and one going silent. The engine restart has its own file (restart-engine.test.ts), run last.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { securityEnv, startBackend, type Backend } from '../helpers/backend.ts';
import { containerName, docker, labContainers, pollUntil, removeScope, scopeObjects, terminalSessions } from '../helpers/engine.ts';
import { Learner, Terminal } from '../helpers/learner.ts';
import { ensureSiteBuilt } from '../helpers/site-build.ts';

const LAB = 'nginx-local';
const GRACE_S = 2;
const env = securityEnv('faults', { ATELIER_GRACE_SECONDS: String(GRACE_S) });
const scope = env.ATELIER_LAB_SCOPE!;

let server: Backend;
const learners: Learner[] = [];
const figures: string[] = [];
/** the silent client's scenario runs alongside the others (the server needs up to two heartbeats) */
let silent: Promise<{ detachedMs: number; sessions: number }>;

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const sessionsIn = (labId: string) => terminalSessions(containerName(labId, 'web'));

async function learnerWithLab(): Promise<{ learner: Learner; labId: string }> {
  const learner = new Learner(server.url);
  const { labId } = await learner.startLab(LAB);
  learners.push(learner);
  return { learner, labId };
}

before(async () => {
  await ensureSiteBuilt();
  server = await startBackend(env);
  // The silent client: attached, then it stops reading and answering (a laptop lid closed, a cable
  // pulled): no FIN, no close frame. The server's heartbeat must notice, then the grace period ends the shell.
  const { learner, labId } = await learnerWithLab();
  const t = await learner.terminal(LAB, 'web');
  const frozenAt = Date.now();
  t.freeze();
  silent = pollUntil(
    () => sessionsIn(labId),
    (n) => n === 0,
    60_000,
    500,
  ).then((sessions) => ({ detachedMs: Date.now() - frozenAt, sessions }));
  silent.catch(() => {});
});

after(async () => {
  for (const f of figures) console.log(`# figure: faults: ${f}`);
  await server?.stop();
  await removeScope(scope);
});

test('a lab container killed behind the server’s back: the terminal says so, the lab shows as expired, « Relancer » gives a fresh lab', async () => {
  const { learner, labId } = await learnerWithLab();
  const t = await learner.terminal(LAB, 'web');
  const t0 = Date.now();
  await docker.getContainer(containerName(labId, 'web')).kill();
  const closed = await Promise.race([t.closed, new Promise<null>((r) => setTimeout(() => r(null), 15_000))]);
  const toldMs = Date.now() - t0;
  assert.ok(closed, 'the terminal ends');
  assert.ok(
    t.control.some((m) => m.t === 'status' && m.state === 'exited'),
    `told the shell ended: ${JSON.stringify(t.control)}`,
  );

  const info = await learner.getLab(LAB);
  assert.equal(info?.state, 'expired', 'the API says the lab is over, not "starting" forever');
  const again = new Terminal(server.url, learner.cookieHeader);
  await again.opened;
  again.hello(LAB, 'web');
  await again.closed;
  assert.deepEqual(again.control.find((m) => m.t === 'error')?.code, 'expired', 'a reconnecting terminal is told the same');

  const t1 = Date.now();
  const fresh = await learner.startLab(LAB);
  const freshMs = Date.now() - t1;
  assert.equal(fresh.state, 'ready');
  const term = await learner.terminal(LAB, 'web');
  assert.equal((await term.run('echo fresh')).output.trim(), 'fresh');
  const containers = await labContainers(fresh.labId);
  assert.equal(containers.length, 1, 'the dead container was replaced, not kept beside the new one');
  assert.equal(await sessionsIn(fresh.labId), 1);
  term.close();
  figures.push(`container killed: terminal told in ${seconds(toldMs)}, API says expired, fresh lab in ${seconds(freshMs)}`);
});

test('the backend killed (SIGKILL) and started again: labs found from their labels, the same cookie reattaches, no shell left behind', async () => {
  const { learner, labId } = await learnerWithLab();
  const t = await learner.terminal(LAB, 'web');
  await t.run('echo before > /tmp/proof');
  const labsBefore = (await scopeObjects(scope)).containers.length;
  const oldPid = server.pid;

  await server.kill('SIGKILL');
  const closed = await Promise.race([t.closed, new Promise<null>((r) => setTimeout(() => r(null), 10_000))]);
  assert.ok(closed, 'the terminal connection drops with the backend');
  assert.equal(await sessionsIn(labId), 1, 'the dead backend’s shell is still in the container');

  const t0 = Date.now();
  server = await startBackend({ ...env, PORT: String(server.port), ATELIER_PREVIEW_PORT: String(server.previewPort) });
  const startMs = Date.now() - t0;
  assert.notEqual(server.pid, oldPid);
  const found = await learner.getLab(LAB);
  assert.equal(found?.labId, labId, 'the same lab, found again from the engine');
  assert.equal(found?.state, 'ready');
  const back = await learner.terminal(LAB, 'web');
  assert.equal(back.helloMessage?.resumed, false, 'a new shell (the old one died with its connection)');
  assert.equal((await back.run('cat /tmp/proof')).output.trim(), 'before', 'in the same lab, files intact');
  const sessions = await pollUntil(
    () => sessionsIn(labId),
    (n) => n === 1,
    10_000,
  );
  assert.equal(sessions, 1, 'the dead backend’s shell was hung up; only the new one runs');
  assert.equal((await scopeObjects(scope)).containers.length, labsBefore, 'no lab created or lost by the restart');
  back.close();
  figures.push(`backend SIGKILL: restarted in ${seconds(startMs)}, same lab found, stray shells left: ${sessions - 1}`);
});

test('a client that vanishes without a close frame: the shell waits out the grace period for it, then ends', async () => {
  const { learner, labId } = await learnerWithLab();
  const t = await learner.terminal(LAB, 'web');
  await t.run('echo mark-before-vanishing');
  t.vanish();
  await t.closed;
  // Within the grace period: the same shell, with its recent screen.
  const back = await learner.terminal(LAB, 'web', { prompt: false });
  assert.equal(back.helloMessage?.resumed, true);
  await back.until(() => back.screen.includes('mark-before-vanishing'), 5000, 'replay');
  back.vanish();
  const t0 = Date.now();
  const left = await pollUntil(
    () => sessionsIn(labId),
    (n) => n === 0,
    20_000,
  );
  const endedMs = Date.now() - t0;
  assert.equal(left, 0, 'the shell ended after the grace period');
  const fresh = await learner.terminal(LAB, 'web');
  assert.equal(fresh.helloMessage?.resumed, false, 'then a new shell');
  fresh.close();
  figures.push(
    `client vanished (TCP cut): reattached within grace, shell ended ${seconds(endedMs)} after the second cut (grace ${GRACE_S} s)`,
  );
});

test('a client that goes silent (no FIN, no pong): the heartbeat drops it, then the shell ends after the grace period', async () => {
  const r = await silent;
  assert.equal(r.sessions, 0);
  figures.push(`silent client: shell ended ${seconds(r.detachedMs)} after the client froze (heartbeat ${15} s, grace ${GRACE_S} s)`);
});

test('nothing leaked: one lab per learner, one network each, no terminal shell left', async () => {
  const { containers, networks } = await scopeObjects(scope);
  const labs = new Set(containers.map((c) => c.Labels['atelier.lab-id']));
  assert.equal(labs.size, learners.length, 'one lab per learner');
  assert.equal(containers.length, learners.length, 'one container per (one-host) lab');
  assert.equal(networks.length, learners.length, 'one network per lab');
  // Terminals closed by the tests above end once their grace period is over.
  for (const id of labs)
    assert.equal(
      await pollUntil(
        () => sessionsIn(id!),
        (n) => n === 0,
        15_000,
      ),
      0,
      `no shell left in ${id}`,
    );
  assert.ok(server.alive());
});
