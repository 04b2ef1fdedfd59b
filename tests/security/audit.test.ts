// Audit of every lab the server creates: every kind of lab of the chapter, started through the real API as
// a learner would, then reset, each host checked from the engine's inspect and from inside (what the
// kernel enforces). Figure: hosts (and labs) audited / passing — must be all.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { loadLabs } from '../../sandbox/labs/index.ts';
import { auditLab, type HostAudit } from '../helpers/audit.ts';
import { securityEnv, startBackend, type Backend } from '../helpers/backend.ts';
import { removeScope, scopeObjects } from '../helpers/engine.ts';
import { Learner } from '../helpers/learner.ts';
import { ensureSiteBuilt } from '../helpers/site-build.ts';

const env = securityEnv('audit');
const scope = env.ATELIER_LAB_SCOPE!;
let server: Backend;

before(async () => {
  await ensureSiteBuilt();
  server = await startBackend(env);
});

after(async () => {
  await server?.stop();
  await removeScope(scope);
});

test('every lab the server creates (each kind, and after a reset) passes the audit', async (t) => {
  const kinds = loadLabs().map((l) => l.id);
  const learner = new Learner(server.url);
  await learner.getLab(kinds[0]!); // the cookie first, so that every creation belongs to one learner
  // All at once, as a learner clicking every « Lancer » of the chapter would.
  const t0 = Date.now();
  const labs = await Promise.all(kinds.map(async (kind) => ({ kind, labId: (await learner.startLab(kind)).labId })));
  t.diagnostic(`${labs.length} labs created in ${Date.now() - t0} ms`);
  // Every lab of the scope, as the engine lists them: nothing the server made escapes the audit.
  const { containers } = await scopeObjects(scope);
  const inEngine = new Set(containers.map((c) => c.Labels['atelier.lab-id']!));
  assert.deepEqual([...inEngine].sort(), labs.map((l) => l.labId).sort(), 'the engine holds exactly the labs the API returned');

  const results: { kind: string; hosts: HostAudit[] }[] = [];
  for (const lab of labs) results.push({ kind: lab.kind, hosts: await auditLab(lab.labId) });
  t.diagnostic(`audited in ${Date.now() - t0} ms`);
  // A reset recreates the hosts: the new containers are audited too.
  const reset = await learner.resetLab(kinds[0]!);
  results.push({ kind: `${kinds[0]} (reset)`, hosts: await auditLab(reset.labId) });
  const hosts = results.flatMap((r) => r.hosts);
  const passingHosts = hosts.filter((h) => h.failures.length === 0).length;
  const passingLabs = results.filter((r) => r.hosts.every((h) => h.failures.length === 0)).length;
  t.diagnostic(`figure: labs audited ${results.length}, passing ${passingLabs}; hosts audited ${hosts.length}, passing ${passingHosts}`);
  const failures = hosts.filter((h) => h.failures.length > 0).map((h) => `${h.container}:\n  - ${h.failures.join('\n  - ')}`);
  assert.deepEqual(failures, [], 'audit failures');
  assert.equal(results.length, kinds.length + 1);
  assert.ok(hosts.length >= kinds.length + 1);
});
