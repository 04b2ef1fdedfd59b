// The Docker provider against the real engine: create, list, exec, terminals, services, preview,
// destroy, clean-up after partial failures, hardening and network isolation. A hand-made definition
// (Nginx + PHP-FPM over TCP, like the chapter's) keeps this file independent of sandbox/labs.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Docker from 'dockerode';
import { parseLab, type Lab } from '../../sandbox/labs/schema.ts';
import { ConfigError, loadConfig } from '../../server/config.ts';
import { DockerProvider } from '../../server/sandbox/docker/provider.ts';
import { pollUntil } from '../helpers/engine.ts';
import { httpGet, type GetTarget } from '../helpers/http-get.ts';
import { outputMatching, within } from '../helpers/wait.ts';
import { firewallInPlace } from '../../server/sandbox/docker/firewall.ts';
import { hostExec, previewOf, service } from '../helpers/lab-ops.ts';
import { ServiceNotFoundError } from '../../server/labs/errors.ts';
import { EngineError, HostNotFoundError, LabCreateError, newLabId, type LabInfo } from '../../server/sandbox/provider.ts';

const INDEX_PHP = `<!Doctype html>
<html>
    <head>
        <title>PHP-FPM</title>
        <meta charset="utf-8">
    </head>
    <body>
        <h1>PHP-FPM</h1>
        <h2><?= PHP_VERSION ?></h2>
    </body>
</html>
`;

const NGINX_SITE = `server {
    listen 80 default_server;
    root /scripts;
    index index.php;
    location ~ \\.php$ {
        fastcgi_pass   php:9000;
        fastcgi_index  index.php;
        fastcgi_param  SCRIPT_FILENAME  /scripts$fastcgi_script_name;
        include        fastcgi_params;
    }
}
`;

const PHP_FPM = {
  start: 'service php8.2-fpm start',
  stop: 'service php8.2-fpm stop',
  status: 'service php8.2-fpm status',
};

function definition(id: string, patch: { boot?: string[]; image?: string; files?: { path: string; source: string }[] } = {}): Lab {
  return parseLab(`test:${id}`, {
    id,
    title: 'Test lab',
    chapter: 'test',
    hosts: [
      {
        name: 'web',
        capabilities: ['CHOWN', 'DAC_OVERRIDE', 'SETUID', 'SETGID', 'NET_BIND_SERVICE', 'KILL'],
        files: [{ path: '/etc/nginx/sites-enabled/default', source: 'default.conf' }],
        boot: ['nginx'],
        services: { nginx: { start: 'nginx', stop: 'nginx -s stop', status: 'test -e /run/nginx.pid && kill -0 "$(cat /run/nginx.pid)"' } },
        workdir: '/etc/nginx',
        env: { LAB_ROLE: 'web' },
      },
      {
        name: 'php',
        image: patch.image ?? 'atelier-lab',
        capabilities: ['CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'SETUID', 'SETGID', 'KILL'],
        files: patch.files ?? [{ path: '/scripts/index.php', source: 'index.php' }],
        boot: patch.boot ?? ["sed -i 's|^listen = .*|listen = 9000|' /etc/php/8.2/fpm/pool.d/www.conf", PHP_FPM.start],
        services: { 'php-fpm': PHP_FPM },
      },
    ],
    preview: { host: 'web', port: 80, path: '/index.php' },
  });
}

const GOOD = definition('test-nginx');
const definitions = new Map<string, Lab>([[GOOD.id, GOOD]]);
const config = loadConfig({ ...process.env, ATELIER_TEST: '1' });
const docker = new Docker();
let filesRoot: string;
let provider: DockerProvider;

const get = (target: GetTarget, path: string) => httpGet(target, path, 10_000);

/** Everything the engine holds for a lab id (test labels only). */
async function leftovers(labId: string): Promise<string[]> {
  const filters = { label: [`atelier.lab-id=${labId}`] };
  const [containers, networks, volumes] = await Promise.all([
    docker.listContainers({ all: true, filters }),
    docker.listNetworks({ filters }),
    docker.listVolumes({ filters }),
  ]);
  return [
    ...containers.map((c) => `container ${c.Names[0]}`),
    ...networks.map((n) => `network ${n.Name}`),
    ...(volumes.Volumes ?? []).map((v) => `volume ${v.Name}`),
  ];
}

const created: string[] = [];
async function createLab(def: Lab, owner = 'learner-a'): Promise<LabInfo> {
  const labId = newLabId();
  created.push(labId);
  definitions.set(def.id, def);
  return provider.createLab({ labId, owner, definition: def, expiresAt: new Date(Date.now() + 3_600_000) });
}

before(async () => {
  filesRoot = await mkdtemp(join(os.tmpdir(), 'atelier-provider-test-'));
  await writeFile(join(filesRoot, 'index.php'), INDEX_PHP);
  await writeFile(join(filesRoot, 'default.conf'), NGINX_SITE);
  provider = new DockerProvider({ config, filesRoot, log: () => {} });
  await provider.init();
});

after(async () => {
  for (const id of created) await provider.destroyLab(id).catch(() => {});
  await provider.close();
  await rm(filesRoot, { recursive: true, force: true });
});

describe('a lab', () => {
  let lab: LabInfo;
  before(async () => {
    lab = await createLab(GOOD);
  });

  test('is created ready, with its hosts, and found again from the engine by owner', async () => {
    assert.equal(lab.state, 'ready');
    assert.deepEqual(lab.hosts, [
      { name: 'web', state: 'running' },
      { name: 'php', state: 'running' },
    ]);
    const mine = await provider.listLabs({ owner: 'learner-a' });
    assert.ok(mine.some((l) => l.labId === lab.labId && l.definitionId === 'test-nginx'));
    assert.equal((await provider.listLabs({ owner: 'somebody-else' })).length, 0);
    const found = await provider.getLab(lab.labId);
    assert.equal(found?.owner, 'learner-a');
    assert.equal(found?.expiresAt.getTime(), lab.expiresAt.getTime());
  });

  test('carries its identity as labels and a test name prefix', async () => {
    const info = await docker.getContainer(`atelier-test-${lab.labId}-web`).inspect();
    const labels = info.Config.Labels;
    assert.equal(labels['atelier.owner'], 'learner-a');
    assert.equal(labels['atelier.lab'], 'test-nginx');
    assert.equal(labels['atelier.lab-id'], lab.labId);
    assert.equal(labels['atelier.host'], 'web');
    assert.equal(labels['atelier.test'], '1');
    assert.ok(!Number.isNaN(Date.parse(labels['atelier.created']!)));
    assert.ok(!Number.isNaN(Date.parse(labels['atelier.expires']!)));
    assert.equal(info.Config.Hostname, 'web');
  });

  test('runs commands: output, exit code, environment, working directory, timeout', async () => {
    const r = await hostExec(provider, GOOD)(lab.labId, 'web', 'echo out; echo err >&2; echo "$LAB_ROLE $(pwd)"; exit 3');
    assert.equal(r.exitCode, 3);
    assert.equal(r.stdout, 'out\nweb /etc/nginx\n');
    assert.equal(r.stderr, 'err\n');
    assert.equal(r.timedOut, false);
    const slow = await provider.exec(lab.labId, 'php', 'sleep 30', { timeoutMs: 500 });
    assert.equal(slow.timedOut, true);
    assert.notEqual(slow.exitCode, 0);
    await assert.rejects(provider.exec(lab.labId, 'nope', 'true'), HostNotFoundError);
  });

  test('hosts reach each other by name', async () => {
    const r = await provider.exec(lab.labId, 'web', 'getent hosts php && timeout 3 bash -c "exec 3<>/dev/tcp/php/9000" && echo reached');
    assert.equal(r.exitCode, 0, r.stderr);
    assert.match(r.stdout, /reached/);
  });

  test('shows the page through the preview target, reachable from the backend', async () => {
    const target = previewOf(provider, GOOD, lab.labId);
    const version = (await provider.exec(lab.labId, 'php', "php -r 'echo PHP_VERSION;'")).stdout.trim();
    const page = await get(target, '/index.php');
    assert.equal(page.status, 200);
    assert.match(page.body, /<h1>PHP-FPM<\/h1>/);
    assert.ok(page.body.includes(version), `page shows PHP ${version}`);
  });

  test('stops and starts a service: Nginx answers 502 while PHP-FPM is stopped', async () => {
    const target = previewOf(provider, GOOD, lab.labId);
    const stopped = await service(provider, GOOD, lab.labId, 'php', 'php-fpm', 'stop');
    assert.equal(stopped.running, false);
    assert.equal((await service(provider, GOOD, lab.labId, 'php', 'php-fpm', 'status')).running, false);
    assert.equal((await get(target, '/index.php')).status, 502);
    const started = await service(provider, GOOD, lab.labId, 'php', 'php-fpm', 'start');
    assert.equal(started.running, true, started.output);
    assert.equal((await get(target, '/index.php')).status, 200);
    await assert.rejects(service(provider, GOOD, lab.labId, 'php', 'nope', 'status'), ServiceNotFoundError);
  });

  test('opens a terminal: bash -l as root at the workdir, xterm-256color, resize followed by stty size', async () => {
    // The manager passes the host's workdir (lab-hosts.ts); the provider knows no definition.
    const term = await provider.openTerminal(lab.labId, 'web', { cols: 101, rows: 31, workdir: '/etc/nginx' });
    /** Types a line; its output, once it matches `re`. */
    const typed = async (line: string, re: RegExp) => {
      const out = outputMatching(term.output, re, 10_000);
      term.write(line);
      assert.match(await out, re);
    };
    await typed('echo "[$(id -un) $(pwd) $TERM $LANG]"; stty size\n', /\[root \/etc\/nginx xterm-256color C\.UTF-8\]\r\n31 101\r\n/);
    await term.resize(132, 43);
    await typed('stty size\n', /\r43 132\r\n/);
    await typed('sleep 600 &\n', /\[1\] \d+/);
    await term.close();
    const { exitCode } = await term.exited;
    assert.notEqual(exitCode, null);
    // Closing hung up the shell and its jobs: nothing of that session is left.
    const ps = await provider.exec(lab.labId, 'web', 'ps -eo comm,args --no-headers');
    assert.doesNotMatch(ps.stdout, /sleep 600/);
    assert.doesNotMatch(ps.stdout, /^bash\s+bash -l/m);
    await term.close(); // idempotent
  });

  test('terminal output has backpressure: while it is not read, the shell cannot write', async () => {
    const term = await provider.openTerminal(lab.labId, 'web', { cols: 80, rows: 24 });
    const TOTAL = 30_000_000;
    let bytes = 0;
    const flowing = new Promise<void>((ok) =>
      term.output.on('data', (d: Buffer) => {
        bytes += d.length;
        if (bytes >= 100_000) ok();
      }),
    );
    term.write(`rm -f /tmp/flow-done; head -c ${TOTAL} /dev/zero | tr "\\0" x; echo; touch /tmp/flow-done\n`);
    await within(flowing, 30_000, 'the first 100 kB of output');
    term.output.pause();
    // The writer (tr, writing into the terminal) is seen stopped: asleep, and its count of bytes written (from
    // /proc) the same over three looks 250 ms apart, short of the total. Unhindered it writes megabytes in
    // that time, then exits (a look that finds no tr counts as not stopped).
    const looks: string[] = [];
    const look = async () => {
      const r = await provider.exec(
        lab.labId,
        'web',
        "p=$(pgrep -xn tr) && echo \"$(awk '/^wchar/ {print $2}' /proc/$p/io) $(awk '{print $3}' /proc/$p/stat)\"",
      );
      looks.push(r.exitCode === 0 ? r.stdout.trim() : 'gone');
      return looks.slice(-3);
    };
    const stopped = (l: string[]) => l.length === 3 && l.every((x) => x === l[0] && / S$/.test(x));
    const last = await pollUntil(look, (l) => stopped(l) || l.includes('gone'), 30_000, 250);
    assert.ok(stopped(last), `the writer is stopped while output is paused: ${looks.join(', ')}`);
    const written = Number(last[0]!.split(' ')[0]);
    assert.ok(written < TOTAL, `the writer stopped after ${written} of ${TOTAL} bytes`);
    assert.notEqual((await provider.exec(lab.labId, 'web', 'test -e /tmp/flow-done')).exitCode, 0, 'the writer has not finished');
    term.output.resume();
    const done = await pollUntil(
      () => provider.exec(lab.labId, 'web', 'test -e /tmp/flow-done'),
      (r) => r.exitCode === 0,
      30_000,
      100,
    );
    assert.equal(done.exitCode, 0, 'the writer finishes once output is read');
    assert.ok(bytes >= TOTAL);
    await term.close();
  });

  test('is hardened: capabilities, no new privileges, limits, read-only root, no host mounts, internal network', async () => {
    for (const host of ['web', 'php']) {
      const info = await docker.getContainer(`atelier-test-${lab.labId}-${host}`).inspect();
      const hc = info.HostConfig;
      assert.equal(hc.Privileged, false);
      assert.deepEqual(hc.CapDrop, ['ALL']);
      assert.ok(
        (hc.CapAdd ?? []).every((c: string) =>
          ['CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'SETUID', 'SETGID', 'NET_BIND_SERVICE', 'KILL'].includes(c),
        ),
      );
      assert.ok(hc.SecurityOpt?.includes('no-new-privileges:true'));
      assert.ok(!hc.SecurityOpt?.some((o: string) => /seccomp[=:]unconfined|apparmor[=:]unconfined/.test(o)));
      assert.equal(hc.Memory, config.host.memoryBytes);
      assert.equal(hc.MemorySwap, config.host.memoryBytes);
      assert.equal(hc.PidsLimit, config.host.pidsLimit);
      assert.equal(hc.NanoCpus, config.host.nanoCpus);
      assert.equal(hc.CpuShares, config.host.cpuShares);
      assert.equal(hc.ReadonlyRootfs, true);
      assert.equal(hc.RestartPolicy?.Name, 'no');
      assert.deepEqual(hc.Binds ?? [], []);
      // No mount from the machine; the writable directories are sized tmpfs.
      assert.deepEqual(info.Mounts, []);
      for (const dir of Object.keys(config.host.writable)) assert.match(hc.Tmpfs?.[dir] ?? '', /(^|,)size=\d+m(,|$)/, dir);
      assert.equal(hc.LogConfig?.Config?.['max-size'], config.host.logMaxSize);
      assert.deepEqual((hc.Ulimits ?? []).map((u) => u.Name).sort(), ['nofile', 'nproc']);
    }
    const net = await docker.getNetwork(`atelier-test-${lab.labId}`).inspect();
    assert.equal(net.Internal, true);
    assert.match(net.Options?.['com.docker.network.bridge.name'] ?? '', /^atl-[0-9a-f]{11}$/);
  });

  test('limits hold inside: process and memory limits, bounded writable space, read-only elsewhere', async () => {
    const r = await provider.exec(
      lab.labId,
      'php',
      'cat /sys/fs/cgroup/pids/pids.max /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/pids.max /sys/fs/cgroup/memory.max',
    );
    assert.deepEqual(r.stdout.trim().split('\n'), [String(config.host.pidsLimit), String(config.host.memoryBytes)]);
    const fill = await provider.exec(lab.labId, 'php', 'dd if=/dev/zero of=/tmp/fill bs=1M count=1000 2>&1; rm -f /tmp/fill');
    assert.match(fill.stdout, /No space left on device/);
    const root = await provider.exec(lab.labId, 'php', 'touch /usr/fill 2>&1');
    assert.match(root.stdout, /Read-only file system/);
    const nnp = await provider.exec(lab.labId, 'php', 'grep NoNewPrivs /proc/self/status');
    assert.match(nnp.stdout, /NoNewPrivs:\s+1/);
  });

  test('reaches neither the machine nor another lab', async () => {
    // A service listening on every address of the machine, as the backend or a database might.
    const connections: string[] = [];
    const server = net.createServer((s) => {
      connections.push(String(s.remoteAddress));
      s.destroy();
    });
    await new Promise<void>((r) => server.listen(0, '0.0.0.0', r));
    const port = (server.address() as net.AddressInfo).port;
    try {
      const gateway = (await provider.exec(lab.labId, 'web', "ip -4 route show default | awk '{print $3}'")).stdout.trim();
      assert.ok(net.isIPv4(gateway), `gateway ${gateway}`);
      const own = Object.values(os.networkInterfaces())
        .flat()
        .filter((a) => a && a.family === 'IPv4' && !a.internal)
        .map((a) => a!.address);
      const probes = [...new Set([gateway, ...own])].slice(0, 4);
      const script = probes.map((a) => `(timeout 2 bash -c 'exec 3<>/dev/tcp/${a}/${port}' && echo "CONNECTED ${a}") &`).join('\n');
      const r = await provider.exec(lab.labId, 'web', `${script}\nwait`);
      assert.doesNotMatch(r.stdout, /CONNECTED/, `the lab reached the machine on port ${port}`);
      assert.deepEqual(connections, []);
      // The same listener is reachable from the machine itself: the probe above is a real one.
      await new Promise<void>((resolve, reject) => {
        const s = net.connect(port, '127.0.0.1', () => (s.destroy(), resolve()));
        s.on('error', reject);
      });

      const other = await createLab(GOOD, 'learner-b');
      assert.equal((await get(previewOf(provider, GOOD, other.labId), '/index.php')).status, 200, 'the other lab answers the machine');
      const otherWeb = (await new Docker().getContainer(`atelier-test-${other.labId}-web`).inspect()).NetworkSettings.Networks[
        `atelier-test-${other.labId}`
      ]?.IPAddress;
      assert.ok(otherWeb && net.isIPv4(otherWeb));
      const across = await provider.exec(lab.labId, 'web', `timeout 2 bash -c 'exec 3<>/dev/tcp/${otherWeb}/80' && echo CONNECTED`);
      assert.doesNotMatch(across.stdout, /CONNECTED/, 'a lab reached another lab');
      await provider.destroyLab(other.labId);
      const v6 = await provider.exec(lab.labId, 'web', 'cat /proc/sys/net/ipv6/conf/all/disable_ipv6');
      assert.equal(v6.stdout.trim(), '1');
      if (process.getuid?.() === 0) assert.equal(await firewallInPlace(), true);
    } finally {
      server.close();
    }
  });

  test('is destroyed completely, and destroying again is no error', async () => {
    await provider.destroyLab(lab.labId);
    assert.deepEqual(await leftovers(lab.labId), []);
    assert.equal(await provider.getLab(lab.labId), undefined);
    await provider.destroyLab(lab.labId);
    await assert.rejects(provider.exec(lab.labId, 'web', 'true'));
  });
});

describe('a creation that fails leaves nothing behind', () => {
  const attempt = async (def: Lab, expected: RegExp) => {
    const labId = newLabId();
    created.push(labId);
    definitions.set(def.id, def);
    await assert.rejects(
      provider.createLab({ labId, owner: 'learner-a', definition: def, expiresAt: new Date(Date.now() + 60_000) }),
      (err: Error) => err instanceof LabCreateError && expected.test(err.message),
    );
    assert.deepEqual(await leftovers(labId), []);
  };

  test('a boot command fails', () =>
    attempt(
      definition('test-bad-boot', { boot: ['echo about to fail; exit 7'] }),
      /boot command of host php failed \(exit 7\)[\s\S]*about to fail/,
    ));

  test('an image does not exist', () =>
    attempt(definition('test-bad-image', { image: 'atelier-test-no-such-image:1' }), /image atelier-test-no-such-image:1 not found/));

  test('a seeded file is missing (before any engine call)', () =>
    attempt(definition('test-bad-file', { files: [{ path: '/scripts/index.php', source: 'missing.php' }] }), /cannot read seeded file/));
});

describe('the engine', () => {
  test('healthy() names the engine and reports no isolation warning here', async () => {
    const health = await provider.healthy();
    assert.equal(health.ok, true);
    assert.match(health.engine, /API \d+\.\d+/);
    if (process.getuid?.() === 0) assert.deepEqual(health.warnings, []);
  });

  test('an engine that does not answer: every call fails within its bound, with a clear error', async () => {
    // A socket that accepts connections and never answers, as a hung daemon would.
    const held = new Set<net.Socket>();
    const hung = net.createServer((s) => held.add(s));
    const socketPath = join(filesRoot, 'hung.sock');
    await new Promise<void>((r) => hung.listen(socketPath, r));
    const slow = new DockerProvider({
      config: { ...config, timeouts: { ...config.timeouts, engineMs: 300 } },
      filesRoot,
      docker: new Docker({ socketPath }),
      log: () => {},
    });
    try {
      const health = await slow.healthy();
      assert.equal(health.ok, false);
      assert.match(health.engine, /no answer from the engine within 300 ms/);
      await assert.rejects(slow.listLabs(), (err: Error) => err instanceof EngineError);
      await assert.rejects(
        slow.createLab({ labId: newLabId(), owner: 'learner-a', definition: GOOD, expiresAt: new Date(Date.now() + 60_000) }),
        (err: Error) => err instanceof LabCreateError && /no answer from the engine/.test(err.message),
      );
    } finally {
      await slow.close();
      for (const s of held) s.destroy();
      hung.close();
    }
  });

  test('bad configuration stops with the variable named', () => {
    assert.throws(
      () => loadConfig({ ATELIER_LAB_MEMORY_MB: 'lots' }),
      (err: Error) => err instanceof ConfigError && /ATELIER_LAB_MEMORY_MB/.test(err.message),
    );
    assert.throws(
      () => loadConfig({ DOCKER_HOST: 'localhost:2375' }),
      (err: Error) => err instanceof ConfigError && /DOCKER_HOST/.test(err.message),
    );
    assert.throws(
      () => loadConfig({ ATELIER_LAB_WRITABLE: '/etc:lots' }),
      (err: Error) => err instanceof ConfigError && /ATELIER_LAB_WRITABLE/.test(err.message),
    );
    assert.equal(loadConfig({}).host.memoryBytes, 256 * 1024 * 1024);
  });
});
