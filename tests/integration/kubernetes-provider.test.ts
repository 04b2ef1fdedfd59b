// The Kubernetes provider against a real cluster: runs only when KUBECONFIG names one that answers (and
// its namespace of labs exists), skipped with the reason otherwise. No cluster can run on the development
// machine or in CI here, so this has never run: see docs/providers.md. Once the provider contract suite
// (tests/integration/provider-contract.test.ts) has landed, a Kubernetes subject there replaces this.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { parseLab } from '../../sandbox/labs/schema.ts';
import { loadConfig } from '../../server/config.ts';
import { KubernetesProvider } from '../../server/sandbox/kubernetes/provider.ts';
import { loadKubernetesSettings } from '../../server/sandbox/kubernetes/settings.ts';
import { newLabId } from '../../server/sandbox/provider.ts';

async function reason(): Promise<string | undefined> {
  const file = process.env.KUBECONFIG;
  if (!file) return 'KUBECONFIG is not set (no Kubernetes cluster can run on this machine)';
  if (!existsSync(file)) return `KUBECONFIG=${file} does not exist`;
  const probe = new KubernetesProvider({ config: loadConfig({ ATELIER_TEST: '1' }), settings: loadKubernetesSettings() });
  const health = await probe.healthy();
  await probe.close();
  return health.ok ? undefined : `the cluster of KUBECONFIG does not answer: ${health.engine}`;
}

const skip = await reason();
if (skip) console.log(`# kubernetes-provider: skipped, ${skip}`);

const lab = parseLab('test:k8s', {
  id: 'k8s-lab',
  title: 'k8s',
  chapter: 'test',
  hosts: [
    { name: 'web', boot: ['true'], capabilities: ['CHOWN', 'DAC_OVERRIDE', 'SETUID', 'SETGID', 'NET_BIND_SERVICE', 'KILL'] },
    { name: 'db', boot: ['getent hosts web'] },
  ],
  preview: { host: 'web', port: 80 },
});

let provider: KubernetesProvider;
const created: string[] = [];
before(async () => {
  if (skip) return;
  provider = new KubernetesProvider({
    config: loadConfig({ ATELIER_TEST: '1', ATELIER_LAB_SCOPE: `k8s-${process.pid}` }),
    settings: loadKubernetesSettings(),
  });
  await provider.init();
});
after(async () => {
  if (skip) return;
  for (const id of created) await provider.destroyLab(id).catch(() => {});
  await provider.close();
});

test('a lab is created, found by owner, runs commands and a terminal, and is removed', { skip }, async () => {
  const labId = newLabId();
  created.push(labId);
  const info = await provider.createLab({ labId, owner: 'learner:k8s', definition: lab, expiresAt: new Date(Date.now() + 3_600_000) });
  assert.equal(info.state, 'ready');
  assert.deepEqual(
    (await provider.listLabs({ owner: 'learner:k8s' })).map((l) => l.labId),
    [labId],
  );
  const r = await provider.exec(labId, 'db', 'getent hosts web >/dev/null && echo found; exit 3');
  assert.equal(r.exitCode, 3);
  assert.equal(r.stdout.trim(), 'found');
  const shell = await provider.openTerminal(labId, 'web', { cols: 100, rows: 30 });
  let seen = '';
  shell.output.on('data', (b: Buffer) => (seen += b.toString()));
  shell.write('stty size\r');
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no "30 100" in ${JSON.stringify(seen)}`)), 15_000);
    const i = setInterval(() => seen.includes('30 100') && (clearTimeout(t), clearInterval(i), resolve()), 50);
  });
  await shell.close();
  // Another lab's pod cannot be reached from this one (the NetworkPolicy), checked where curl exists.
  await provider.destroyLab(labId);
});
