// A lab's virtual hosts through the real preview proxy and a real lab (php-pools, chapter 06): the lab API
// gives one preview URL per site, each its own origin ({labId}, {labId}-1); the proxy sends each site's
// Host, so Nginx answers site A at the first and site B at the second, and root-relative paths stay on
// their site. A site the lab does not have is the proxy's 404, never another site.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { securityEnv, startBackend, type Backend } from '../helpers/backend.ts';
import { removeScope } from '../helpers/engine.ts';
import { Learner } from '../helpers/learner.ts';
import '../helpers/loopback-names.ts'; // previews are at {labId}.localhost and {labId}-1.localhost, as a browser resolves them

let server: Backend;
const env = securityEnv('preview-sites');

before(async () => {
  server = await startBackend(env);
});
after(async () => {
  await server?.stop();
  await removeScope(env.ATELIER_LAB_SCOPE!);
});

test('each site of php-pools at its own origin, asked with its own Host', { timeout: 180_000 }, async () => {
  const learner = new Learner(server.url);
  const info = (await learner.startLab('php-pools')) as unknown as { labId: string; previewUrl: string; previewUrls: string[] };
  assert.equal(info.previewUrls.length, 2);
  assert.equal(info.previewUrls[0], info.previewUrl);
  const [a, b] = info.previewUrls.map((u) => new URL(u));
  assert.equal(a!.hostname, `${info.labId}.localhost`);
  assert.equal(b!.hostname, `${info.labId}-1.localhost`);

  const siteA = await fetch(a!);
  assert.equal(siteA.status, 200);
  assert.match(await siteA.text(), /<h1>site-a\.test<\/h1>/);
  const siteB = await fetch(b!);
  assert.equal(siteB.status, 200);
  assert.match(await siteB.text(), /<h1>site-b\.test<\/h1>/);
  // A root-relative path of site B is site B's: its voisin.php aims at site A (and, at the start, reads it).
  const voisin = await (await fetch(new URL('/voisin.php', b))).text();
  assert.match(voisin, /Cible : \/var\/www\/site-a\/config\.php/);

  const missing = await fetch(`http://${info.labId}-2.localhost:${a!.port}/`);
  assert.equal(missing.status, 404);
  assert.match(await missing.text(), /ce lab n’a pas ce site/);
});

test('a lab that names no sites: one URL, Host localhost as before, no second site', { timeout: 180_000 }, async () => {
  const learner = new Learner(server.url);
  const info = (await learner.startLab('nginx-local')) as unknown as { labId: string; previewUrls: string[] };
  assert.equal(info.previewUrls.length, 1);
  const page = await fetch(new URL('/index.php', info.previewUrls[0]));
  assert.equal(page.status, 200);
  const other = await fetch(`http://${info.labId}-1.localhost:${new URL(info.previewUrls[0]!).port}/`);
  assert.equal(other.status, 404);
});
