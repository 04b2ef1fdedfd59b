// No way out of a lab: from a learner's own terminal, no connection to anything listening on the machine
// (the backend's ports, the engine API ports, a test listener on 0.0.0.0, on every address the machine
// owns), none to another learner's lab, no route but the lab's own bridge, and the firewall rules that
// make it so. Traffic goes only to this machine's own addresses and to labs: never to outside addresses.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import dgram from 'node:dgram';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import { promisify } from 'node:util';
import { after, before, test } from 'node:test';
import { securityEnv, startBackend, type Backend } from '../helpers/backend.ts';
import { containerName, docker, pollUntil, removeScope } from '../helpers/engine.ts';
import { Learner, type Terminal } from '../helpers/learner.ts';
import { ensureSiteBuilt } from '../helpers/site-build.ts';
import { within } from '../helpers/wait.ts';

const run = promisify(execFile);
const LAB = 'nginx-local';
const env = securityEnv('escape', { HOST: '0.0.0.0' }); // the backend on every address, as a careless deployment would
const scope = env.ATELIER_LAB_SCOPE!;

let server: Backend;
let mine: Terminal;
let otherLabIp = '';
let gateway = '';
const listeners: net.Server[] = [];
const accepted: string[] = [];
let udp: dgram.Socket;
const udpReceived: string[] = [];
let listenPort = 0;
const enginePorts: number[] = [];

/** A TCP listener on 0.0.0.0 that records who connects. Null when the port is taken (then something else listens there). */
function listen(port: number): Promise<net.Server | null> {
  return new Promise((resolve) => {
    const s = net.createServer((c) => {
      accepted.push(`${c.remoteAddress} → :${(s.address() as net.AddressInfo).port}`);
      c.destroy();
    });
    s.once('error', () => resolve(null));
    s.listen(port, '0.0.0.0', () => resolve(s));
  });
}

/** The machine's own IPv4 addresses (every interface but loopback): allowed targets, they are this machine. */
function machineAddresses(): { name: string; address: string }[] {
  return Object.entries(os.networkInterfaces()).flatMap(([name, list]) =>
    (list ?? []).filter((a) => a.family === 'IPv4' && !a.internal).map((a) => ({ name, address: a.address })),
  );
}

before(async () => {
  await ensureSiteBuilt();
  server = await startBackend(env);
  const me = new Learner(server.url);
  const other = new Learner(server.url);
  const [, theirs] = await Promise.all([me.startLab(LAB), other.startLab(LAB)]);
  mine = await me.terminal(LAB, 'web');
  const info = await docker.getContainer(containerName(theirs.labId, 'web')).inspect();
  otherLabIp = Object.values(info.NetworkSettings.Networks)[0]?.IPAddress ?? '';
  gateway = /default via (\S+)/.exec((await mine.run('ip -4 route')).output)?.[1] ?? '';

  const main = await listen(0);
  assert.ok(main, 'a test listener on 0.0.0.0');
  listeners.push(main);
  listenPort = (main.address() as net.AddressInfo).port;
  // The engine API's TCP ports: ours if free (the engine may listen there itself; either way a target).
  for (const port of [2375, 2376]) {
    const s = await listen(port);
    if (s) listeners.push(s);
    enginePorts.push(port);
  }
  udp = dgram.createSocket('udp4');
  udp.on('message', (m, r) => udpReceived.push(`${r.address}: ${m}`));
  await new Promise<void>((r) => udp.bind(0, '0.0.0.0', r));
});

after(async () => {
  mine?.close();
  for (const s of listeners) s.close();
  udp?.close();
  await server?.stop();
  await removeScope(scope);
});

test('routes: only the lab bridge; the default route points at this machine’s own address on that bridge; no IPv6', async () => {
  const v4 = (await mine.run('ip -4 route')).output.trim().split('\n');
  const v6 = (await mine.run('ip -6 route 2>/dev/null; cat /proc/sys/net/ipv6/conf/all/disable_ipv6')).output.trim();
  // Docker 20.10 gives containers of internal networks a default route via the bridge address: it leads
  // to the machine, whose firewall drops it (tests below), never to a router.
  assert.ok(net.isIPv4(gateway), `a gateway in:\n${v4.join('\n')}`);
  const owner = machineAddresses().find((a) => a.address === gateway);
  assert.ok(owner?.name.startsWith('atl-'), `the gateway ${gateway} is this machine's address on a lab bridge (${owner?.name})`);
  for (const line of v4) assert.match(line, /\bdev eth0\b/, `route through the lab's own interface: ${line}`);
  assert.equal(v6, '1', 'IPv6 off: no routes, no link-local path');
});

test('no connection to anything listening on the machine: backend, preview, engine API ports, a listener on 0.0.0.0', async (t) => {
  const addresses = [...new Set([gateway, ...machineAddresses().map((a) => a.address)])];
  const ports = [listenPort, server.port, server.previewPort, ...enginePorts];
  const probes = addresses.flatMap((a) => ports.map((p) => `${a}:${p}`));
  // In parallel, 3 s each: a dropped SYN waits for the timeout, a refused one answers at once.
  const script = `${probes.map((p) => `(timeout 3 bash -c '</dev/tcp/${p.replace(':', '/')}' 2>/dev/null && echo "OPEN ${p}" || echo "CLOSED ${p}") &`).join(' ')} wait`;
  const out = (await mine.run(script, 60_000)).output;
  const open = out.split('\n').filter((l) => l.startsWith('OPEN'));
  const closed = out.split('\n').filter((l) => l.startsWith('CLOSED'));
  t.diagnostic(
    `figure: ${probes.length} connection attempts from a lab to the machine's own addresses (${addresses.length} addresses × ${ports.length} ports), ${open.length} connected`,
  );
  assert.deepEqual(open, []);
  assert.equal(closed.length, probes.length, out);
  assert.deepEqual(accepted, [], 'the listeners saw no connection from the lab');

  // The probe is real: the same listener answers the machine itself on its outside address.
  const self = machineAddresses().find((a) => !a.name.startsWith('atl-') && a.name !== 'docker0')?.address ?? '127.0.0.1';
  const seen = once(listeners[0]!, 'connection'); // after the listener's own handler, which records it
  await new Promise<void>((ok, fail) =>
    net
      .connect(listenPort, self)
      .once('connect', function (this: net.Socket) {
        this.destroy();
        ok();
      })
      .once('error', fail),
  );
  await within(seen, 10_000, 'the connection, at the listener');
  assert.equal(accepted.length, 1, 'the listener accepts connections from the machine');
  accepted.length = 0;
});

test('no ICMP or UDP to the machine either', async () => {
  const udpPort = (udp.address() as net.AddressInfo).port;
  const out = (
    await mine.run(
      `ping -c 1 -W 2 ${gateway} >/dev/null 2>&1 && echo PING-OK || echo PING-NONE; for i in 1 2 3; do echo leak > /dev/udp/${gateway}/${udpPort}; done; sleep 1; echo sent`,
      30_000,
    )
  ).output;
  assert.match(out, /PING-NONE/);
  assert.match(out, /sent/);
  // A datagram from the machine itself, a second after the lab's: the socket delivers in order, so once
  // it is here, any of the lab's that got through would be here too.
  const probe = dgram.createSocket('udp4');
  await new Promise<void>((ok, fail) => probe.send('probe', udpPort, '127.0.0.1', (err) => (err ? fail(err) : ok())));
  probe.close();
  await pollUntil(
    async () => udpReceived.some((m) => m.endsWith(': probe')),
    (arrived) => arrived,
    10_000,
    20,
  );
  assert.deepEqual(udpReceived, ['127.0.0.1: probe'], 'only the machine’s own datagram arrived');
});

test('no connection to another learner’s lab, which does answer the machine', async () => {
  assert.ok(net.isIPv4(otherLabIp));
  const out = (
    await mine.run(
      `timeout 3 bash -c '</dev/tcp/${otherLabIp}/80' 2>/dev/null && echo OPEN || echo CLOSED; timeout 3 bash -c '</dev/tcp/web/80' && echo OWN-OPEN`,
      30_000,
    )
  ).output;
  assert.match(out, /^CLOSED$/m, 'the other lab is out of reach');
  assert.match(out, /^OWN-OPEN$/m, 'the probe works: the lab reaches its own web server');
  const status = await new Promise<number>((ok, fail) =>
    http.get({ host: otherLabIp, port: 80, path: '/', timeout: 5000 }, (r) => (r.resume(), ok(r.statusCode ?? 0))).on('error', fail),
  );
  assert.ok(status > 0, 'the other lab answers the machine (preview path)');
});

test('no engine inside: no socket, no DOCKER_HOST, no engine client', async () => {
  const out = (
    await mine.run(
      'ls -l /var/run/docker.sock /run/docker.sock /run/containerd/containerd.sock 2>&1; env | grep -c DOCKER_HOST; command -v docker dockerd ctr runc || echo no-client',
    )
  ).output;
  assert.match(out, /No such file or directory[\s\S]*No such file or directory[\s\S]*No such file or directory/);
  assert.match(out, /^0$/m);
  assert.match(out, /no-client/);
});

test('the firewall rules are in place (iptables -S), for IPv4 and IPv6', async (t) => {
  if (process.getuid?.() !== 0) return t.skip('not root: iptables cannot be read');
  for (const tool of ['iptables', 'ip6tables']) {
    const rules = (await run(tool, ['-w', '5', '-S'])).stdout;
    assert.match(rules, /^-A INPUT -i atl\+ -j ATELIER-INPUT$/m, `${tool}: INPUT from lab bridges goes to ATELIER-INPUT`);
    const input = rules.split('\n').filter((l) => l.startsWith('-A ATELIER-INPUT '));
    assert.deepEqual(
      input,
      ['-A ATELIER-INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT', '-A ATELIER-INPUT -j DROP'],
      `${tool}: only replies to the machine's own connections come in`,
    );
    assert.match(rules, /^-A ATELIER-FORWARD -i atl\+ ! -o atl\+ -j DROP$/m, `${tool}: nothing forwarded out of a lab bridge`);
    assert.match(rules, /^-A (DOCKER-USER|FORWARD) -i atl\+ -j ATELIER-FORWARD$/m);
    if (tool === 'iptables') {
      // The jump to DOCKER-USER comes first in FORWARD, before Docker's own accepts.
      const forward = rules.split('\n').filter((l) => l.startsWith('-A FORWARD '));
      assert.equal(forward[0], '-A FORWARD -j DOCKER-USER');
    }
  }
});

test('the embedded DNS has no path out through the machine: its upstream resolvers are not on loopback', async () => {
  // dockerd answers lab names itself and forwards other names to the machine's resolvers. A loopback
  // resolver would be queried from the machine's own network namespace (CVE-2024-29018, Docker < 23.0.11),
  // a way out of an internal network. Checked without sending any query.
  const inLab = (await mine.run('cat /etc/resolv.conf')).output;
  assert.match(inLab, /^nameserver 127\.0\.0\.11$/m);
  const upstream = [...readFileSync('/etc/resolv.conf', 'utf8').matchAll(/^nameserver\s+(\S+)/gm)].map((m) => m[1]!);
  for (const ns of upstream) assert.ok(!/^(127\.|::1$)/.test(ns), `the machine's resolver ${ns} is on loopback`);
});
