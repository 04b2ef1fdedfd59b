// The FastCGI view's capture helper (issue 15) gives no one a new power: audited from the engine and from
// the kernel (no capability left once tcpdump runs, no listener, nothing shared but the php host's network),
// out of the learner's reach, showing a learner only their own lab's traffic, surviving garbage on port
// 9000, and gone with the lab. The socket's gate is the terminals'. Figure: helper checks passing / run.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import Docker from 'dockerode';
import WebSocket from 'ws';
import { FASTCGI_PATH, type FastcgiServerMessage } from '../../protocol/fastcgi.ts';
import { getLab } from '../../sandbox/labs/index.ts';
import { stepCommand } from '../../sandbox/labs/plan.ts';
import { capabilityNames } from '../helpers/audit.ts';
import { securityEnv, startBackend, type Backend } from '../helpers/backend.ts';
import { pollUntil, removeScope } from '../helpers/engine.ts';
import { Learner } from '../helpers/learner.ts';
import { ensureSiteBuilt } from '../helpers/site-build.ts';

const LAB = 'nginx-remote';
const env = securityEnv('capture');
const scope = env.ATELIER_LAB_SCOPE!;
const docker = new Docker();
let server: Backend;

before(async () => {
  await ensureSiteBuilt();
  server = await startBackend(env);
});
after(async () => {
  await server?.stop();
  await removeScope(scope);
});

async function container(labId: string, what: 'web' | 'php' | 'capture'): Promise<Docker.ContainerInspectInfo | undefined> {
  const label = what === 'capture' ? 'atelier.capture' : `atelier.host=${what}`;
  const list = await docker.listContainers({ all: true, filters: { label: [`atelier.lab-id=${labId}`, label] } });
  // A container being removed is listed, then gone: that is no container.
  return list[0]
    ? docker
        .getContainer(list[0].Id)
        .inspect()
        .catch(() => undefined)
    : undefined;
}

async function sh(labId: string, host: 'web' | 'php', command: string): Promise<string> {
  const c = docker.getContainer((await container(labId, host))!.Id);
  const exec = await c.exec({ Cmd: ['bash', '-c', command], AttachStdout: true, AttachStderr: true });
  const stream = await exec.start({});
  const chunks: Buffer[] = [];
  stream.on('data', (b: Buffer) => chunks.push(b));
  await new Promise((ok) => stream.on('end', ok));
  // Docker's frame headers (8 bytes per chunk) are dropped roughly: only the text is looked at.
  return Buffer.concat(chunks).toString('latin1');
}

/** The learner's FastCGI socket: every message, and a way to wait for one. */
function watch(learner: Learner, lab: string, origin = learner.site) {
  const messages: FastcgiServerMessage[] = [];
  const ws = new WebSocket(learner.site.replace(/^http/, 'ws') + FASTCGI_PATH, {
    headers: { Origin: origin, ...(learner.cookieHeader ? { Cookie: learner.cookieHeader } : {}) },
  });
  ws.on('open', () => ws.send(JSON.stringify({ t: 'watch', v: 1, lab })));
  ws.on('message', (d) => messages.push(JSON.parse(String(d)) as FastcgiServerMessage));
  const until = async (ok: (m: FastcgiServerMessage[]) => boolean, what: string, ms = 30_000) => {
    const end = Date.now() + ms;
    while (!ok(messages)) {
      if (Date.now() > end) throw new Error(`${what}: got ${JSON.stringify(messages).slice(0, 600)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  return { ws, messages, until };
}

const records = (m: FastcgiServerMessage[], type: string) => m.filter((x) => x.t === 'record' && x.type === type);

test('the capture helper: audited, out of reach, only its own lab, garbage-proof, gone with the lab', async (t) => {
  const alice = new Learner(server.url);
  const bob = new Learner(server.url);
  await alice.getLab(LAB);
  await bob.getLab(LAB);
  const [a, b] = await Promise.all([alice.startLab(LAB), bob.startLab(LAB)]);
  for (const lab of [a, b]) for (const step of getLab(LAB)!.solution) await sh(lab.labId, step.host as 'web' | 'php', stepCommand(step));

  // The gate: another origin, no cookie.
  const refusedOrigin = watch(alice, LAB, 'http://evil.localhost:4321');
  const status = await new Promise<number>((ok) => refusedOrigin.ws.on('unexpected-response', (_q, r) => ok(r.statusCode ?? 0)));
  assert.equal(status, 403);
  const anonymous = watch(new Learner(server.url), LAB);
  assert.equal(await new Promise<number>((ok) => anonymous.ws.on('unexpected-response', (_q, r) => ok(r.statusCode ?? 0))), 401);

  const listenersBefore = await sh(a.labId, 'php', 'cat /proc/net/tcp | awk \'$4 == "0A"\' | wc -l');
  const view = watch(alice, LAB);
  await view.until((m) => m.some((x) => x.t === 'watching'), 'watching');
  const helper = (await container(a.labId, 'capture'))!;
  const php = (await container(a.labId, 'php'))!;

  // Audit, as configured and as the kernel enforces it.
  const checks: [boolean, string][] = [];
  const hc = helper.HostConfig;
  const check = (ok: boolean, what: string) => checks.push([ok, what]);
  check(hc.Privileged === false, 'not privileged');
  check(JSON.stringify(hc.CapDrop) === '["ALL"]', 'CapDrop ALL');
  check(JSON.stringify([...(hc.CapAdd ?? [])].sort()) === '["NET_RAW","SETGID","SETUID"]', `CapAdd ${hc.CapAdd}`);
  check((hc.SecurityOpt ?? []).includes('no-new-privileges:true'), 'no-new-privileges');
  check(hc.ReadonlyRootfs === true, 'read-only root');
  check((hc.Memory ?? 0) > 0 && hc.Memory! <= 64 * 1024 * 1024 && hc.MemorySwap === hc.Memory, `memory ${hc.Memory}`);
  check((hc.PidsLimit ?? 0) > 0 && hc.PidsLimit! <= 16, `pids ${hc.PidsLimit}`);
  check((hc.NanoCpus ?? 0) > 0, 'CPU cap');
  check(hc.NetworkMode === `container:${php.Id}` || hc.NetworkMode === `container:${php.Name.slice(1)}`, `network ${hc.NetworkMode}`);
  for (const [name, mode] of [
    ['pid', hc.PidMode],
    ['ipc', hc.IpcMode],
    ['userns', hc.UsernsMode],
  ] as const)
    check(!/^(host|container:)/.test(mode ?? ''), `${name} ${mode}`);
  check((hc.Binds ?? []).length === 0 && helper.Mounts.length === 0, 'no mounts');
  check(hc.LogConfig?.Type === 'none', 'the engine keeps no copy of the traffic');
  check(helper.Config.Labels['atelier.lab-id'] === a.labId && !helper.Config.Labels['atelier.host'], 'labels: the lab’s, no host');
  // tcpdump opens its socket as root, then switches to its own user: read its status once it has.
  const status1 = await pollUntil(
    async () => readFileSync(`/proc/${helper.State.Pid}/status`, 'utf8'),
    (text) => !/^Uid:\s*0\s/m.test(text),
    10_000,
    50,
  );
  const field = (name: string) => new RegExp(`^${name}:\\s*(\\S+)`, 'm').exec(status1)?.[1] ?? '';
  check(
    capabilityNames(field('CapEff')).length === 0 && capabilityNames(field('CapPrm')).length === 0,
    `tcpdump keeps capabilities ${field('CapEff')}`,
  );
  check(field('Uid') === '100', `tcpdump runs as uid ${field('Uid')}`);
  check(field('NoNewPrivs') === '1' && field('Seccomp') === '2', 'no new privileges, seccomp filter');
  // Out of reach: nothing new listens in php's network, and php's shell does not see tcpdump.
  check((await sh(a.labId, 'php', 'cat /proc/net/tcp | awk \'$4 == "0A"\' | wc -l')) === listenersBefore, 'no new listener');
  check(!(await sh(a.labId, 'php', 'ps -eo comm')).includes('tcpdump'), 'invisible from the php host');
  check(!(await sh(a.labId, 'web', 'getent hosts capture; getent hosts ' + helper.Name.slice(1))).trim(), 'no name on the lab network');
  const failed = checks.filter(([ok]) => !ok).map(([, what]) => what);
  t.diagnostic(`figure: capture helper checks ${checks.length}, passing ${checks.length - failed.length}`);
  assert.deepEqual(failed, []);

  // Only her own lab: Bob's requests never reach Alice's view; hers do.
  await sh(b.labId, 'web', 'for i in 1 2 3; do curl -s -o /dev/null "http://localhost/index.php?bob=$i"; done');
  await sh(a.labId, 'web', 'curl -s -o /dev/null "http://localhost/index.php?alice=1"');
  await view.until((m) => records(m, 'END_REQUEST').length >= 1, 'alice’s request');
  const queries = view.messages.flatMap((m) => (m.t === 'record' ? (m.params ?? []) : [])).filter((p) => p.name === 'QUERY_STRING');
  assert.deepEqual(
    queries.map((p) => p.value.text),
    ['alice=1'],
  );
  // Bob asking for the same kind gets his own lab's capture, never Alice's.
  const bobView = watch(bob, LAB);
  await bobView.until((m) => m.some((x) => x.t === 'watching'), 'bob watching');
  assert.notEqual((await container(b.labId, 'capture'))?.Id, undefined);
  assert.equal((await container(a.labId, 'capture'))?.Id, helper.Id, 'Alice’s helper untouched by Bob’s');

  // Garbage on port 9000 (what a learner can send from web): one `lost` per connection, the server lives,
  // and the next real request decodes.
  await sh(
    a.labId,
    'web',
    'head -c 200000 /dev/urandom | timeout 5 nc -q1 php 9000 >/dev/null; printf "GET / HTTP/1.0\\r\\n\\r\\n" | timeout 5 nc -q1 php 9000 >/dev/null; true',
  );
  await view.until((m) => m.filter((x) => x.t === 'lost').length >= 2, 'lost events');
  await sh(a.labId, 'web', 'curl -s -o /dev/null "http://localhost/index.php?alice=2"');
  await view.until((m) => records(m, 'END_REQUEST').length >= 2, 'decoding after garbage');
  assert.equal((await alice.request('GET', `/api/labs/${LAB}`)).status, 200, 'the backend still answers');

  // Gone with the lab: a reset recreates the hosts, and the helper goes with the old ones.
  const reset = await alice.resetLab(LAB);
  assert.equal(await container(a.labId, 'capture'), undefined);
  assert.equal(await container(reset.labId, 'capture'), undefined);
  view.ws.close();
  bobView.ws.close();
  // Closing the view removes the helper.
  const end = Date.now() + 15_000;
  while ((await container(b.labId, 'capture')) && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
  assert.equal(await container(b.labId, 'capture'), undefined, 'closing the view removes the helper');
});
