// The composition root picks the provider from ATELIER_PROVIDER: Docker by default, Kubernetes from its
// settings and a kubeconfig, built without contacting the cluster (a local listener stands for it and
// counts connections), and a clear error when no cluster is configured.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createProvider } from '../../server/compose.ts';
import { ConfigError, loadConfig } from '../../server/config.ts';
import { DockerProvider } from '../../server/sandbox/docker/provider.ts';
import { KubernetesProvider } from '../../server/sandbox/kubernetes/provider.ts';

const quiet = () => {};
let dir: string;
let cluster: Server;
let connections = 0;
let kubeconfig: string;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'atelier-compose-'));
  cluster = createServer((socket) => {
    connections++;
    socket.destroy();
  });
  await new Promise<void>((ok) => cluster.listen(0, '127.0.0.1', ok));
  const port = (cluster.address() as { port: number }).port;
  kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(
    kubeconfig,
    `apiVersion: v1
kind: Config
clusters: [{ name: here, cluster: { server: "https://127.0.0.1:${port}", insecure-skip-tls-verify: true } }]
users: [{ name: me, user: { token: not-a-secret } }]
contexts: [{ name: here, context: { cluster: here, user: me } }]
current-context: here
`,
  );
});
after(() => {
  cluster.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('provider selection (server/compose.ts)', () => {
  test('Docker is the default', () => {
    const config = loadConfig({});
    assert.equal(config.provider, 'docker');
    assert.ok(createProvider(config, quiet, {}) instanceof DockerProvider);
  });

  test('kubernetes builds a KubernetesProvider from its settings without contacting the cluster', async () => {
    const env = { ATELIER_PROVIDER: 'kubernetes', KUBECONFIG: kubeconfig, ATELIER_K8S_NAMESPACE: 'labs-here' };
    const provider = createProvider(loadConfig(env), quiet, env);
    assert.ok(provider instanceof KubernetesProvider);
    assert.equal(provider.name, 'kubernetes');
    await new Promise((r) => setImmediate(r));
    assert.equal(connections, 0, 'building the provider contacted the cluster');
    // The kubeconfig's address is the one it would use: its health check reaches the listener.
    const health = await provider.healthy();
    assert.equal(health.ok, false);
    assert.ok(connections > 0, 'the health check did not reach the kubeconfig’s server');
    await provider.close();
  });

  test('kubernetes without any kubeconfig nor service account says what to set', () => {
    const env = { ATELIER_PROVIDER: 'kubernetes', HOME: dir };
    assert.throws(() => createProvider(loadConfig(env), quiet, env), /no cluster configured\. Set KUBECONFIG/);
  });

  test('an unreadable kubeconfig is named', () => {
    const env = { ATELIER_PROVIDER: 'kubernetes', KUBECONFIG: join(dir, 'missing') };
    assert.throws(() => createProvider(loadConfig(env), quiet, env), /the kubeconfig .*missing cannot be read/);
  });

  test('a bad Kubernetes setting names its variable', () => {
    const env = { ATELIER_PROVIDER: 'kubernetes', KUBECONFIG: kubeconfig, ATELIER_K8S_NAMESPACE: 'Not_A_Label' };
    assert.throws(() => createProvider(loadConfig(env), quiet, env), /ATELIER_K8S_NAMESPACE/);
  });

  test('an unknown provider stops the configuration with its name and the choices', () => {
    assert.throws(
      () => loadConfig({ ATELIER_PROVIDER: 'podman' }),
      (err: unknown) => err instanceof ConfigError && /ATELIER_PROVIDER/.test(err.message) && /docker.*kubernetes/.test(err.message),
    );
  });
});
