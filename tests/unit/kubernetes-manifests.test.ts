// The Kubernetes provider's manifests (server/sandbox/kubernetes/manifests.ts) as data: every lab
// definition's pods, Service, NetworkPolicy and ConfigMap are valid against the Kubernetes OpenAPI
// schemas (kubernetes-models) with no unknown field, as hardened as the Docker audit, named so that
// hosts find each other, and fenced: the policy lets the lab's hosts reach each other and the cluster
// DNS, and nothing else (API server, metadata address, another lab, the outside).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadLabs } from '../../sandbox/labs/index.ts';
import { loadConfig } from '../../server/config.ts';
import { assembleLabs, LABEL, naming } from '../../server/sandbox/kubernetes/labels.ts';
import { type LabManifestInput, labManifests, MAX_PREPARE_BYTES, PREPARE_DIR } from '../../server/sandbox/kubernetes/manifests.ts';
import { loadKubernetesSettings } from '../../server/sandbox/kubernetes/settings.ts';
import { assertValidManifest, policyAllows, type Wire, wireForm } from '../helpers/kubernetes-schema.ts';

const config = loadConfig({});
const settings = loadKubernetesSettings({});
const labs = loadLabs();
const identity = (labId: string, definitionId: string) => ({
  labId,
  owner: 'learner:42',
  definitionId,
  createdAt: new Date('2026-01-01T10:00:00Z'),
  expiresAt: new Date('2026-01-01T12:00:00Z'),
});
const inputFor = (labId: string, lab = labs[0]!): LabManifestInput => ({
  naming: naming(false),
  settings,
  limits: config.host,
  identity: identity(labId, lab.id),
  hosts: lab.hosts,
  image: (logical) => `registry.example/${logical}:1`,
});
const scriptsFor = (lab = labs[0]!) => Object.fromEntries(lab.hosts.map((h) => [h.name, `echo prepare ${h.name}\n`]));

test('every lab definition gives manifests valid against the Kubernetes schemas, with no unknown field', () => {
  assert.ok(labs.length >= 2);
  for (const lab of labs) {
    const m = labManifests(inputFor('0123456789abcdef01234567', lab), scriptsFor(lab));
    const all = [m.configMap, m.networkPolicy, m.service, ...m.pods];
    assert.equal(m.pods.length, lab.hosts.length);
    for (const manifest of all) assertValidManifest(wireForm(manifest));
  }
});

test('the schema check fails on a wrong value and on an unknown field (it can fail)', () => {
  const [pod] = labManifests(inputFor('0123456789abcdef01234567'), scriptsFor()).pods;
  const wire = wireForm(pod!) as Wire;
  const badValue = structuredClone(wire);
  badValue.spec.containers[0].resources.limits.memory = 'lots';
  assert.throws(() => assertValidManifest(badValue), /memory/);
  const badType = structuredClone(wire);
  badType.spec.containers[0].securityContext.allowPrivilegeEscalation = 'false';
  assert.throws(() => assertValidManifest(badType), /allowPrivilegeEscalation/);
  const unknown = structuredClone(wire);
  unknown.spec.containers[0].securityContext.noNewPrivileges = true;
  assert.throws(() => assertValidManifest(unknown), /fields the Kubernetes API does not know/);
});

test('each pod is as tight as the Docker audit: capabilities, privileges, seccomp, read-only root, sized memory volumes, no token', () => {
  for (const lab of labs) {
    for (const pod of labManifests(inputFor('0123456789abcdef01234567', lab), scriptsFor(lab)).pods.map((p) => wireForm(p) as Wire)) {
      const host = lab.hosts.find((h) => h.name === pod.metadata.labels[LABEL.host])!;
      const spec = pod.spec;
      assert.equal(spec.automountServiceAccountToken, false);
      assert.equal(spec.enableServiceLinks, false);
      assert.equal(spec.hostNetwork, false);
      assert.equal(spec.hostPID, false);
      assert.equal(spec.hostIPC, false);
      assert.equal(spec.restartPolicy, 'Never');
      assert.deepEqual(spec.securityContext.seccompProfile, { type: 'RuntimeDefault' });
      assert.equal(spec.containers.length, 1);
      assert.equal(spec.initContainers, undefined);
      const c = spec.containers[0];
      assert.equal(c.securityContext.privileged, false);
      assert.equal(c.securityContext.allowPrivilegeEscalation, false);
      assert.equal(c.securityContext.readOnlyRootFilesystem, true);
      assert.deepEqual(c.securityContext.seccompProfile, { type: 'RuntimeDefault' });
      assert.deepEqual(c.securityContext.capabilities.drop, ['ALL']);
      assert.deepEqual(c.securityContext.capabilities.add ?? [], host.capabilities);
      assert.equal(c.resources.limits.memory, '256Mi');
      assert.equal(c.resources.limits.cpu, '500m');
      assert.equal(c.resources.requests.memory, '32Mi');
      // No host path, no other volume kind: every volume is a sized in-memory emptyDir or the preparation.
      for (const v of spec.volumes) {
        if (v.name === 'prepare') assert.deepEqual(Object.keys(v).sort(), ['configMap', 'name']);
        else {
          assert.deepEqual(Object.keys(v).sort(), ['emptyDir', 'name'], v.name);
          assert.equal(v.emptyDir.medium, 'Memory');
          assert.match(v.emptyDir.sizeLimit, /^\d+Mi$/);
        }
      }
      const mounts = Object.fromEntries(c.volumeMounts.map((m: Wire) => [m.mountPath, m]));
      for (const [path, mb] of Object.entries(config.host.writable)) {
        const volume = spec.volumes.find((v: Wire) => v.name === mounts[path]?.name);
        assert.equal(volume?.emptyDir.sizeLimit, `${mb}Mi`, path);
      }
      assert.equal(mounts[PREPARE_DIR].readOnly, true);
      assert.equal(mounts['/dev/shm'] !== undefined, true);
      assert.deepEqual(c.env[0], { name: 'LANG', value: 'C.UTF-8' });
      assert.equal(c.workingDir, host.workdir);
    }
  }
});

test('hosts find each other by name: hostname, the lab Service as subdomain, and its domain searched', () => {
  const lab = labs.find((l) => l.hosts.length >= 2)!;
  const m = labManifests(inputFor('0123456789abcdef01234567', lab), scriptsFor(lab));
  const service = wireForm(m.service) as Wire;
  assert.equal(service.spec.clusterIP, 'None');
  assert.equal(service.spec.publishNotReadyAddresses, true);
  assert.deepEqual(service.spec.selector, { [LABEL.labId]: '0123456789abcdef01234567' });
  for (const pod of m.pods.map((p) => wireForm(p) as Wire)) {
    assert.equal(pod.spec.subdomain, service.metadata.name);
    assert.equal(pod.spec.hostname, pod.metadata.labels[LABEL.host]);
    assert.deepEqual(pod.spec.dnsConfig.searches, [`${service.metadata.name}.atelier-labs.svc.cluster.local`]);
    // The Service selects every pod of the lab.
    for (const [k, v] of Object.entries(service.spec.selector)) assert.equal(pod.metadata.labels[k], v);
  }
});

test('the NetworkPolicy lets the lab reach itself and DNS, and nothing else', () => {
  const lab = labs.find((l) => l.hosts.length >= 2)!;
  const mine = labManifests(inputFor('0123456789abcdef01234567', lab), scriptsFor(lab));
  const other = labManifests(inputFor('fedcba9876543210fedcba98', lab), scriptsFor(lab));
  const policy = wireForm(mine.networkPolicy) as Wire;
  const ns = settings.namespace;
  const podPeer = (p: Wire) => ({ namespace: ns, labels: p.metadata.labels });
  const [web, php] = mine.pods.map((p) => wireForm(p) as Wire);
  const stranger = wireForm(other.pods[0]!) as Wire;
  // It selects exactly this lab's pods.
  for (const p of [web, php])
    for (const [k, v] of Object.entries(policy.spec.podSelector.matchLabels)) assert.equal(p.metadata.labels[k], v);
  assert.notEqual(stranger.metadata.labels[LABEL.labId], policy.spec.podSelector.matchLabels[LABEL.labId]);
  assert.deepEqual(policy.spec.policyTypes, ['Ingress', 'Egress']);

  const egress = (to: Parameters<typeof policyAllows>[3]) => policyAllows(policy, 'egress', ns, to);
  const ingress = (from: Parameters<typeof policyAllows>[3]) => policyAllows(policy, 'ingress', ns, from);
  assert.ok(egress({ pod: podPeer(php), port: 9000 }), 'web → php');
  assert.ok(egress({ pod: { namespace: 'kube-system', labels: { 'k8s-app': 'kube-dns' } }, port: 53, protocol: 'UDP' }), 'DNS');
  assert.ok(ingress({ pod: { namespace: 'atelier', labels: { 'app.kubernetes.io/name': 'atelier' } }, port: 80 }), 'backend → lab');
  assert.ok(ingress({ pod: podPeer(php), port: 80 }), 'php → web');

  assert.ok(!egress({ pod: podPeer(stranger), port: 80 }), 'another lab');
  assert.ok(!ingress({ pod: podPeer(stranger), port: 80 }), 'from another lab');
  assert.ok(!egress({ ip: '169.254.169.254', port: 80 }), 'the metadata address');
  assert.ok(!egress({ ip: '10.96.0.1', port: 443 }), 'the API server (Service address)');
  assert.ok(!egress({ ip: '172.18.0.2', port: 6443 }), 'the API server (node address)');
  assert.ok(!egress({ ip: '1.1.1.1', port: 443 }), 'the outside');
  assert.ok(!egress({ pod: { namespace: 'kube-system', labels: { 'k8s-app': 'kube-dns' } }, port: 8080 }), 'DNS pods on another port');
  assert.ok(!egress({ pod: { namespace: 'atelier', labels: { 'app.kubernetes.io/name': 'atelier' } }, port: 4321 }), 'the backend itself');
  assert.ok(!egress({ pod: { namespace: 'kube-system', labels: { component: 'kube-apiserver' } }, port: 6443 }), 'the API server pod');
  assert.ok(
    !ingress({ pod: { namespace: ns, labels: { 'app.kubernetes.io/name': 'atelier' } }, port: 80 }),
    'backend labels in the labs namespace',
  );
  assert.equal(JSON.stringify(policy).includes('ipBlock'), false);
});

test('labels and annotations are the source of truth: the lab comes back from its objects, the idle clock included', () => {
  const lab = labs.find((l) => l.hosts.length >= 2)!;
  const m = labManifests(inputFor('0123456789abcdef01234567', lab), scriptsFor(lab));
  const service = wireForm(m.service) as Wire;
  assert.equal(service.metadata.annotations['atelier/last-active'], '2026-01-01T10:00:00.000Z');
  // Label values cannot hold "learner:42": the owner is an annotation, selectable through its hash.
  assert.equal(service.metadata.annotations['atelier/owner'], 'learner:42');
  assert.match(service.metadata.labels[LABEL.owner], /^[0-9a-f]{40}$/);
  const running = (p: Wire) => ({ ...p, status: { phase: 'Running', containerStatuses: [{ state: { running: {} } }] } });
  const [info] = assembleLabs(
    [service],
    m.pods.map((p) => running(wireForm(p))),
  );
  assert.deepEqual(info, {
    labId: '0123456789abcdef01234567',
    owner: 'learner:42',
    definitionId: lab.id,
    createdAt: new Date('2026-01-01T10:00:00Z'),
    expiresAt: new Date('2026-01-01T12:00:00Z'),
    state: 'ready',
    hosts: lab.hosts.map((h) => ({ name: h.name, state: 'running' })),
    pooled: false,
  });
  // One pod gone: partial; one pod exited: stopped; no Service: partial.
  const pods = m.pods.map((p) => running(wireForm(p)));
  assert.equal(assembleLabs([service], pods.slice(1))[0]!.state, 'partial');
  assert.equal(assembleLabs([service], [{ ...pods[0], status: { phase: 'Failed' } }, ...pods.slice(1)])[0]!.state, 'stopped');
  assert.equal(assembleLabs([], pods)[0]!.state, 'partial');
});

test('a preparation too large for a ConfigMap is refused before anything is created', () => {
  const big = { [labs[0]!.hosts[0]!.name]: 'x'.repeat(MAX_PREPARE_BYTES + 1) };
  assert.throws(() => labManifests(inputFor('0123456789abcdef01234567'), big), /more than a ConfigMap holds/);
});

test('settings: bad values name their variable', () => {
  assert.throws(() => loadKubernetesSettings({ ATELIER_K8S_NAMESPACE: 'Bad_Name' }), /ATELIER_K8S_NAMESPACE/);
  assert.throws(() => loadKubernetesSettings({ ATELIER_K8S_BACKEND_SELECTOR: 'nope' }), /ATELIER_K8S_BACKEND_SELECTOR/);
  assert.deepEqual(loadKubernetesSettings({ ATELIER_K8S_DNS_SELECTOR: 'k8s-app=coredns' }).dns.selector, { 'k8s-app': 'coredns' });
});
