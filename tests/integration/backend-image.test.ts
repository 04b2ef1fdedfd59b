// The backend's container image (deploy/image, built here from Debian packages by mmdebstrap, no Docker
// Hub), run on this Docker engine through the host's socket: it serves the site and the API, and a
// learner gets a lab, its preview and a terminal through it. Bound to loopback; its labs carry their own
// scope and are removed at the end. The Kubernetes side of the image (the chart) runs on no cluster here.
import assert from 'node:assert/strict';
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { statSync } from 'node:fs';
import { createServer } from 'node:net';
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { after, before, test } from 'node:test';
import { removeScope } from '../helpers/engine.ts';
import '../helpers/loopback-names.ts'; // the lab's preview is at {labId}.localhost, as a browser resolves it
import { Learner } from '../helpers/learner.ts';
import { newScope } from '../helpers/scope.ts';
import { outputMatching } from '../helpers/wait.ts';

const run = promisify(execFile);
const root = resolve(import.meta.dirname, '..', '..');
const scope = newScope('image');
const name = `atelier-test-backend-${scope}`;
let tag: string;
let container: ChildProcess;
let site: string;
let previewPort: number;

function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => ok(port));
    });
    s.on('error', fail);
  });
}

const inImage = async (entrypoint: string, ...args: string[]) =>
  (await run('docker', ['run', '--rm', '--network', 'none', '--entrypoint', entrypoint, tag, ...args])).stdout.trim();

before(async () => {
  const built = await run('bash', ['deploy/image/build.sh'], { cwd: root, maxBuffer: 16 * 1024 * 1024, timeout: 900_000 });
  tag = built.stdout.trim().split('\n').at(-1)!;
  assert.match(tag, /^atelier-backend:[0-9a-f]{12}$/);
  const socket = /^unix:\/\/(.+)$/.exec(process.env.DOCKER_HOST ?? '')?.[1] ?? '/var/run/docker.sock';
  const port = await freePort();
  previewPort = await freePort();
  site = `http://127.0.0.1:${port}`;
  // Host networking: with the Docker engine the backend dials its labs' addresses on their bridges.
  container = spawn(
    'docker',
    [
      'run',
      '--rm',
      '--name',
      name,
      '--network',
      'host',
      '-v',
      `${socket}:/var/run/docker.sock`,
      '--group-add',
      String(statSync(socket).gid),
      '-e',
      'HOST=127.0.0.1',
      '-e',
      `PORT=${port}`,
      '-e',
      `ATELIER_PREVIEW_PORT=${previewPort}`,
      '-e',
      'ATELIER_TEST=1',
      '-e',
      `ATELIER_LAB_SCOPE=${scope}`,
      '-e',
      `ATELIER_SECRET=${randomBytes(32).toString('hex')}`,
      tag,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  container.stderr!.pipe(process.stderr);
  await outputMatching(container.stdout!, /listening on http:\/\/127\.0\.0\.1:\d+/, 60_000);
});

after(async () => {
  await run('docker', ['stop', '-t', '5', name]).catch(() => {});
  await removeScope(scope);
});

test('the image: Node >= 22.12 from node_modules, a numeric non-root user, no build tools', async (t) => {
  const [major, minor] = (await inImage('/app/bin/node', '-p', 'process.versions.node')).split('.').map(Number);
  assert.ok(major! > 22 || (major === 22 && minor! >= 12), `Node ${major}.${minor}`);
  const { stdout } = await run('docker', ['image', 'inspect', '-f', '{{.Config.User}} {{.Size}}', tag]);
  const [user, size] = stdout.trim().split(' ');
  assert.equal(user, '10001:10001');
  const packages = (await inImage('/bin/ls', '/app/node_modules')).split('\n');
  for (const needed of ['dockerode', 'ws', 'zod', 'pg', 'sirv', 'cookie']) assert.ok(packages.includes(needed), `${needed} is missing`);
  for (const tool of ['astro', 'typescript', 'playwright-core', 'node-pty', '@biomejs'])
    assert.ok(!packages.includes(tool), `${tool} is in the image`);
  t.diagnostic(`${tag}: ${Math.round(Number(size) / 1e6)} MB`);
});

test('it serves the health endpoint, the built site and the lab API', async () => {
  const health = await fetch(`${site}/api/health`);
  assert.equal(health.status, 200);
  assert.deepEqual(await health.json(), { status: 'ok' });
  const page = await fetch(`${site}/`);
  assert.equal(page.status, 200);
  const html = await page.text();
  assert.match(html, /<title>[^<]+<\/title>/);
  const asset = /(?:href|src)="(\/_astro\/[^"]+)"/.exec(html)?.[1];
  assert.ok(asset, 'the page links no built asset');
  assert.equal((await fetch(site + asset)).status, 200);
  assert.equal((await fetch(`${site}/api/labs/nginx-remote`)).status, 204);
});

test('a learner gets a lab, its preview and a terminal through the containerized backend', async () => {
  const learner = new Learner(site);
  const lab = await learner.startLab('nginx-remote');
  assert.equal(lab.state, 'ready');
  const preview = new URL(lab.previewUrl);
  assert.equal(preview.port, String(previewPort));
  const page = await fetch(lab.previewUrl);
  assert.equal(page.status, 200, await page.clone().text());
  const term = await learner.terminal('nginx-remote', 'web');
  try {
    const r = await term.run('hostname');
    assert.equal(r.exitCode, 0);
    assert.match(r.output, /\bweb\b/);
  } finally {
    term.close();
  }
});
