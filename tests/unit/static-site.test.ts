// The production static server (server/http/static-site.ts) on the built site: pages answer 200, a
// missing path answers 404 with the site's own 404 page (never a "soft 404": crawlers and Lighthouse read
// /robots.txt, which the site does not have, as a robots file when it answers 200).
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { staticSite } from '../../server/http/static-site.ts';

const dist = resolve(import.meta.dirname, '..', '..', 'dist');
let server: Server;
let origin = '';

before(async () => {
  if (!existsSync(resolve(dist, 'index.html'))) throw new Error('no built site: run `npm run build` first');
  const site = staticSite(dist);
  server = createServer((req, res) => site(req, res));
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  origin = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
after(() => new Promise<void>((ok) => server.close(() => ok())));

test('a page answers 200 and a directory without its slash is redirected', async () => {
  assert.equal((await fetch(`${origin}/`)).status, 200);
  const r = await fetch(`${origin}/05-fastcgi`, { redirect: 'manual' });
  assert.equal(r.status, 301);
  assert.equal(r.headers.get('location'), '/05-fastcgi/');
});

test("a missing path answers 404 with the site's 404 page", async () => {
  for (const path of ['/robots.txt', '/no-such-page/', '/_astro/missing.js']) {
    const r = await fetch(`${origin}${path}`);
    assert.equal(r.status, 404, path);
    assert.match(r.headers.get('content-type') ?? '', /text\/html/);
    assert.match(await r.text(), /<html[^>]*lang="fr"/);
  }
  const head = await fetch(`${origin}/robots.txt`, { method: 'HEAD' });
  assert.equal(head.status, 404);
});
