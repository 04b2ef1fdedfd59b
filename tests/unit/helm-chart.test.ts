// The Helm chart (deploy/helm/atelier) rendered without helm (tests/helpers/helm-render.ts) under several
// sets of values, every object validated against the Kubernetes schemas like the provider's builders,
// and checked against the code it deploys: the server's own parsers take its environment, the probes
// hit the health endpoint, the Ingress carries the preview's host names, the RBAC rules are exactly the
// provider's calls, the network policies let through what they must and nothing else. What this does
// not prove: helm's own rendering, and anything a real cluster does (none runs here).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadLabs } from '../../sandbox/labs/index.ts';
import { loadConfig } from '../../server/config.ts';
import { HEALTH_PATH } from '../../server/http/health.ts';
import { webSettings } from '../../server/http/settings.ts';
import { previewSpace } from '../../server/preview/location.ts';
import { loadKubernetesSettings } from '../../server/sandbox/kubernetes/settings.ts';
import { renderChart, TemplateError } from '../helpers/helm-render.ts';
import { providerPermissions } from '../helpers/kubernetes-calls.ts';
import { assertValidManifest, policyAllows, type Wire } from '../helpers/kubernetes-schema.ts';

const CHART = fileURLToPath(new URL('../../deploy/helm/atelier', import.meta.url));
const SECRET = 'k'.repeat(40);
const base = { secret: { value: SECRET } };
const render = (values: Record<string, unknown> = {}, release = { name: 'atelier', namespace: 'atelier' }) =>
  renderChart(CHART, { ...base, ...values }, release).objects as Wire[];
const one = (objects: Wire[], kind: string, name?: string) => {
  const found = objects.filter((o) => o.kind === kind && (!name || o.metadata.name === name));
  assert.equal(found.length, 1, `${kind} ${name ?? ''}: ${found.length} rendered`);
  return found[0]!;
};

const VARIANTS: Record<string, Record<string, unknown>> = {
  defaults: {},
  'three backends on PostgreSQL': { replicaCount: 3, progress: { databaseUrl: 'postgres://atelier:pw@db.atelier.svc/atelier' } },
  'existing secret and claim': { secret: { existingSecret: 'mine' }, progress: { existingClaim: 'atelier-data' } },
  'no TLS, no ingress annotations': {
    ingress: { tls: { siteSecretName: '', previewSecretName: '' }, annotations: {} },
    secureCookies: false,
  },
  'no ingress, no namespace, no policies': {
    ingress: { enabled: false },
    labs: { createNamespace: false },
    networkPolicy: { enabled: false },
  },
  'restricted egress, gVisor, more environment': {
    networkPolicy: { apiServerCIDRs: ['10.0.0.1/32', '10.0.0.2/32'], postgresCIDR: '10.1.2.0/24' },
    labs: { runtimeClass: 'gvisor' },
    env: { ATELIER_LAB_POOL: '*:1', ATELIER_LAB_IDLE_MINUTES: 20 },
  },
};

describe('rendered objects are valid Kubernetes objects', () => {
  for (const [name, values] of Object.entries(VARIANTS)) {
    test(name, () => {
      const objects = render(values);
      assert.ok(objects.length >= 5);
      for (const o of objects) assertValidManifest(o);
      assert.ok(!objects.some((o) => /^Cluster/.test(o.kind)), 'nothing cluster-wide');
    });
  }
});

test('what cannot work is refused with what to set', () => {
  assert.throws(
    () => renderChart(CHART, {}),
    (e: unknown) => e instanceof TemplateError && /secret\.value .* is required/.test(e.message),
  );
  assert.throws(() => render({ replicaCount: 2 }), /replicaCount > 1 needs progress\.databaseUrl/);
});

/** The backend container's environment, secrets resolved from the rendered Secret. */
function backendEnv(objects: Wire[]): Record<string, string> {
  const deployment = one(objects, 'Deployment');
  const secret = objects.find((o) => o.kind === 'Secret');
  const env: Record<string, string> = {};
  for (const e of deployment.spec.template.spec.containers[0].env) {
    if (e.value !== undefined) env[e.name] = e.value;
    else if (e.valueFrom.secretKeyRef) {
      const v = secret?.stringData?.[e.valueFrom.secretKeyRef.key];
      if (v !== undefined) env[e.name] = v;
      else assert.ok(e.valueFrom.secretKeyRef.optional, `${e.name} refers to a key the Secret lacks`);
    } else if (e.valueFrom.fieldRef) env[e.name] = `${deployment.metadata.name}-5d9c7b8f4d-x7k2q`; // a pod's name
  }
  return env;
}

test('the server’s own parsers accept the backend’s environment, and it names the chart’s objects', () => {
  const objects = render(VARIANTS['three backends on PostgreSQL']);
  const env = backendEnv(objects);
  const config = loadConfig(env);
  assert.equal(config.provider, 'kubernetes');
  assert.equal(config.labs.maxLabs, 55);
  const web = webSettings(env, '/app');
  assert.equal(web.progressDatabaseUrl, 'postgres://atelier:pw@db.atelier.svc/atelier');
  assert.equal(web.secret.toString(), SECRET);
  assert.ok(web.secureCookie);
  assert.deepEqual([...web.siteOrigins], ['https://atelier.example.org']);
  const k8s = loadKubernetesSettings(env);
  const deployment = one(objects, 'Deployment');
  assert.equal(k8s.namespace, one(objects, 'Role').metadata.namespace, 'the labs are where the Role is');
  assert.equal(k8s.backend.namespace, deployment.metadata.namespace);
  const podLabels = deployment.spec.template.metadata.labels;
  for (const [k, v] of Object.entries(k8s.backend.selector))
    assert.equal(podLabels[k], v, `the labs' policies let in pods labelled ${k}=${v}`);
  assert.deepEqual(k8s.dns.selector, { 'k8s-app': 'kube-dns' });
  assert.equal(deployment.spec.replicas, 3);
});

test('a long release name still gives pod names that fit ATELIER_BACKEND_ID', () => {
  const objects = render({}, { name: 'atelier-for-the-whole-university-of-somewhere', namespace: 'web' });
  const name: string = one(objects, 'Deployment').metadata.name;
  // a Deployment's pod is named {name}-{10-character template hash}-{5 characters}
  const pod = `${name}-5d9c7b8f4d-x7k2q`;
  assert.ok(pod.length <= 40, pod);
  assert.doesNotThrow(() => loadConfig({ ATELIER_BACKEND_ID: pod }));
});

test('the probes ask the health endpoint on the site port', () => {
  const container = one(render(), 'Deployment').spec.template.spec.containers[0];
  for (const probe of ['startupProbe', 'readinessProbe', 'livenessProbe']) {
    assert.equal(container[probe].httpGet.path, HEALTH_PATH, probe);
    assert.equal(container[probe].httpGet.port, 'http', probe);
  }
  assert.equal(container.ports.find((p: Wire) => p.name === 'http').containerPort, 8080);
});

test('the Ingress sends the site to the site port and every lab’s preview host to the preview port', () => {
  const objects = render();
  const ingress = one(objects, 'Ingress');
  const service = one(objects, 'Service');
  const portOf = (host: string) => {
    const rule = ingress.spec.rules.find(
      (r: Wire) =>
        r.host === host || (r.host.startsWith('*.') && host.endsWith(r.host.slice(1)) && !host.slice(0, -r.host.length + 1).includes('.')),
    );
    const named = rule?.http.paths[0].backend.service.port.name;
    return service.spec.ports.find((p: Wire) => p.name === named)?.targetPort;
  };
  assert.equal(portOf('atelier.example.org'), 'http');
  const space = previewSpace('https://atelier-preview.example.net', 'atelier.example.org', 8081);
  for (const site of [0, 1]) {
    const url = new URL(space.urlOf('0123456789abcdef01234567', site));
    assert.equal(portOf(url.hostname), 'preview', url.href);
  }
  assert.equal(portOf('a.b.atelier-preview.example.net'), undefined, 'a wildcard covers one label only');
  const tlsHosts = ingress.spec.tls.flatMap((t: Wire) => t.hosts);
  assert.deepEqual(tlsHosts, ['atelier.example.org', '*.atelier-preview.example.net']);
  assert.equal(ingress.metadata.annotations['nginx.ingress.kubernetes.io/upstream-hash-by'], '$cookie_atelier_learner');
});

test('the Role grants exactly what the Kubernetes provider calls, in the namespace of labs, to the backend', () => {
  const objects = render();
  const role = one(objects, 'Role');
  const granted = role.rules
    .flatMap((r: Wire) =>
      r.apiGroups.flatMap((g: string) => r.resources.flatMap((res: string) => r.verbs.map((v: string) => `${g}/${res}/${v}`))),
    )
    .sort();
  const used = providerPermissions()
    .map((p) => `${p.group}/${p.resource}/${p.verb}`)
    .sort();
  assert.deepEqual(granted, used);
  const binding = one(objects, 'RoleBinding');
  assert.equal(binding.metadata.namespace, role.metadata.namespace);
  assert.deepEqual(binding.roleRef, { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: role.metadata.name });
  const deployment = one(objects, 'Deployment');
  assert.deepEqual(binding.subjects, [
    { kind: 'ServiceAccount', name: deployment.spec.template.spec.serviceAccountName, namespace: 'atelier' },
  ]);
  assert.equal(one(objects, 'ServiceAccount').metadata.name, deployment.spec.template.spec.serviceAccountName);
});

test('the namespace of labs enforces Pod Security baseline, which every lab definition’s capabilities fit', () => {
  assert.equal(one(render(), 'Namespace').metadata.labels['pod-security.kubernetes.io/enforce'], 'baseline');
  // Kubernetes' baseline profile: the capabilities a pod may add
  const BASELINE = [
    'AUDIT_WRITE',
    'CHOWN',
    'DAC_OVERRIDE',
    'FOWNER',
    'FSETID',
    'KILL',
    'MKNOD',
    'NET_BIND_SERVICE',
    'SETFCAP',
    'SETGID',
    'SETPCAP',
    'SETUID',
    'SYS_CHROOT',
  ];
  for (const lab of loadLabs()) {
    for (const host of lab.hosts) {
      const beyond = host.capabilities.filter((c) => !BASELINE.includes(c));
      assert.deepEqual(beyond, [], `${lab.id}/${host.name} adds capabilities beyond baseline`);
    }
  }
});

describe('network policies', () => {
  const objects = render(VARIANTS['restricted egress, gVisor, more environment']);
  const controller = { namespace: 'ingress-nginx', labels: { 'app.kubernetes.io/name': 'ingress-nginx' } };
  const lab = { namespace: 'atelier-labs', labels: { 'atelier.lab-id': 'x' } };

  test('only the ingress controller reaches the backends', () => {
    const policy = one(objects, 'NetworkPolicy', 'atelier-ingress');
    assert.ok(policyAllows(policy, 'ingress', 'atelier', { pod: controller, port: 8080 }));
    assert.ok(policyAllows(policy, 'ingress', 'atelier', { pod: controller, port: 8081 }));
    assert.ok(!policyAllows(policy, 'ingress', 'atelier', { pod: controller, port: 9229 }));
    assert.ok(!policyAllows(policy, 'ingress', 'atelier', { pod: lab, port: 8080 }), 'a lab reaches a backend');
  });

  test('the backends reach the API server, their labs, DNS and PostgreSQL, nothing else', () => {
    const policy = one(objects, 'NetworkPolicy', 'atelier-egress');
    assert.ok(policyAllows(policy, 'egress', 'atelier', { ip: '10.0.0.2', port: 6443 }));
    assert.ok(policyAllows(policy, 'egress', 'atelier', { pod: lab, port: 80 }));
    assert.ok(
      policyAllows(policy, 'egress', 'atelier', {
        pod: { namespace: 'kube-system', labels: { 'k8s-app': 'kube-dns' } },
        port: 53,
        protocol: 'UDP',
      }),
    );
    assert.ok(policyAllows(policy, 'egress', 'atelier', { ip: '10.1.2.7', port: 5432 }));
    assert.ok(!policyAllows(policy, 'egress', 'atelier', { ip: '169.254.169.254', port: 80 }), 'the metadata address');
    assert.ok(!policyAllows(policy, 'egress', 'atelier', { ip: '10.0.0.2', port: 22 }));
    assert.ok(
      !policyAllows(policy, 'egress', 'atelier', {
        pod: { namespace: 'kube-system', labels: { 'k8s-app': 'other' } },
        port: 53,
        protocol: 'UDP',
      }),
    );
  });

  test('without the API server’s addresses the backends’ egress is left open, said in values.yaml', () => {
    assert.ok(!render().some((o) => o.kind === 'NetworkPolicy' && o.metadata.name === 'atelier-egress'));
  });

  test('the namespace of labs denies everything its labs’ own policies do not allow', () => {
    const deny = one(objects, 'NetworkPolicy', 'atelier-labs-default-deny');
    assert.equal(deny.metadata.namespace, 'atelier-labs');
    assert.deepEqual(deny.spec.podSelector, {});
    assert.deepEqual(deny.spec.policyTypes, ['Ingress', 'Egress']);
    assert.ok(!policyAllows(deny, 'egress', 'atelier-labs', { ip: '169.254.169.254', port: 80 }));
    assert.ok(!policyAllows(deny, 'ingress', 'atelier-labs', { pod: lab, port: 80 }));
  });
});
