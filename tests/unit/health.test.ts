// GET /api/health through the real backend over HTTP: it answers without a cookie and without asking
// anything of the labs (a LabAccess that throws on any use stands for an engine that is slow or gone).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBackend, type Backend } from '../../server/backend.ts';
import { webSettings } from '../../server/http/settings.ts';
import { openProgressStore } from '../../server/progress/open.ts';
import type { LabAccess } from '../../server/terminal/ports.ts';

const untouchable = new Proxy({} as LabAccess, {
  get(_, key) {
    throw new Error(`the health endpoint used the labs (${String(key)})`);
  },
});

let home: string;
let server: Server;
let backend: Backend;
let origin: string;

before(async () => {
  home = mkdtempSync(join(tmpdir(), 'atelier-health-'));
  server = createServer((req, res) => {
    backend.handleRequest(req, res).then(
      (handled) => handled || res.writeHead(418).end(),
      (err: unknown) => res.writeHead(500).end(String(err)),
    );
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  origin = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const settings = webSettings(
    { ATELIER_SECRET: 's'.repeat(40), ATELIER_SITE_ORIGINS: origin, ATELIER_PROGRESS_DB: join(home, 'p.sqlite') },
    home,
  );
  backend = createBackend(untouchable, settings, await openProgressStore(settings), () => {});
});

after(async () => {
  await backend.close();
  await new Promise<void>((ok) => server.close(() => ok()));
  rmSync(home, { recursive: true, force: true });
});

test('GET /api/health answers ok, uncached, without identity nor labs', async () => {
  const res = await fetch(`${origin}/api/health`);
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { status: 'ok' });
  assert.equal(res.headers.get('cache-control'), 'no-store');
  assert.equal(res.headers.get('set-cookie'), null);
  assert.equal((await fetch(`${origin}/api/health?probe=1`)).status, 200);
});

test('HEAD answers, other methods are refused, other paths are not health', async () => {
  assert.equal((await fetch(`${origin}/api/health`, { method: 'HEAD' })).status, 200);
  const post = await fetch(`${origin}/api/health`, { method: 'POST' });
  assert.equal(post.status, 405);
  assert.equal(post.headers.get('allow'), 'GET, HEAD');
  assert.equal((await fetch(`${origin}/api/healthz`)).status, 404);
});
