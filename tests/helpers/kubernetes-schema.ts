// Validation of Kubernetes manifests without a cluster: the wire form (client-node's own serializer, as
// it sends them) against the OpenAPI schemas that kubernetes-models ships (compiled validators, no
// download), plus a strictness check the schemas lack (they allow unknown fields; a server with strict
// field validation refuses them): a field the typed model does not know is dropped by a round trip.
import assert from 'node:assert/strict';
import { ObjectSerializer } from '@kubernetes/client-node/dist/gen/models/ObjectSerializer.js';
import { Deployment } from 'kubernetes-models/apps/v1';
import { Ingress, NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { Role, RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1';
import { ConfigMap, Namespace, Pod, Secret, Service, ServiceAccount } from 'kubernetes-models/v1';

const MODELS: Record<string, { type: string; model: new (data: never) => { validate(): void } }> = {
  'v1/Pod': { type: 'V1Pod', model: Pod as never },
  'v1/Service': { type: 'V1Service', model: Service as never },
  'v1/ConfigMap': { type: 'V1ConfigMap', model: ConfigMap as never },
  'v1/Namespace': { type: 'V1Namespace', model: Namespace as never },
  'v1/ServiceAccount': { type: 'V1ServiceAccount', model: ServiceAccount as never },
  'v1/Secret': { type: 'V1Secret', model: Secret as never },
  'networking.k8s.io/v1/NetworkPolicy': { type: 'V1NetworkPolicy', model: NetworkPolicy as never },
  'networking.k8s.io/v1/Ingress': { type: 'V1Ingress', model: Ingress as never },
  'apps/v1/Deployment': { type: 'V1Deployment', model: Deployment as never },
  'rbac.authorization.k8s.io/v1/Role': { type: 'V1Role', model: Role as never },
  'rbac.authorization.k8s.io/v1/RoleBinding': { type: 'V1RoleBinding', model: RoleBinding as never },
};

const modelOf = (o: { apiVersion?: string; kind?: string }) => {
  const m = MODELS[`${o.apiVersion}/${o.kind}`];
  assert.ok(m, `no schema here for ${o.apiVersion} ${o.kind}`);
  return m;
};

/** The JSON client-node sends for a typed object (its `_from` becomes `from`, dates become text...). */
export function wireForm<T extends { apiVersion?: string; kind?: string }>(typed: T): Record<string, unknown> {
  return JSON.parse(JSON.stringify(ObjectSerializer.serialize(typed, modelOf(typed).type, '')));
}

/** Throws with the schema's messages when the wire-form manifest is not valid, or has unknown fields. */
export function assertValidManifest(wire: Record<string, unknown>): void {
  const { type, model } = modelOf(wire);
  const name = `${wire.kind} ${(wire.metadata as { name?: string })?.name}`;
  try {
    new model(wire as never).validate();
  } catch (err) {
    assert.fail(`${name} does not match the Kubernetes schema: ${(err as Error).message}`);
  }
  const roundTrip = JSON.parse(JSON.stringify(ObjectSerializer.serialize(ObjectSerializer.deserialize(wire, type, ''), type, '')));
  assert.deepEqual(roundTrip, wire, `${name} has fields the Kubernetes API does not know`);
}

/** A manifest's JSON, read field by field in assertions (a wrong path fails the assertion). */
export type Wire = ReturnType<typeof JSON.parse>;

export interface Peer {
  namespace: string;
  labels: Record<string, string>;
}
export type Destination = { pod: Peer; port: number; protocol?: 'TCP' | 'UDP' } | { ip: string; port: number; protocol?: 'TCP' | 'UDP' };

interface Selector {
  matchLabels?: Record<string, string>;
  matchExpressions?: unknown[];
}
const matches = (sel: Selector | undefined, labels: Record<string, string>) => {
  assert.ok(!sel?.matchExpressions, 'matchExpressions are not evaluated here');
  return Object.entries(sel?.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
};

/**
 * Whether a NetworkPolicy (wire form) that selects a pod allows its traffic to `to` (egress) or from
 * it (ingress), as the API defines: rules OR, peers OR, ports OR; an ipBlock matches only addresses.
 * The subset of NetworkPolicy our manifests use; anything else fails the assertion above.
 */
export function policyAllows(policy: Wire, direction: 'egress' | 'ingress', policyNamespace: string, other: Destination): boolean {
  const rules: Wire[] = policy.spec[direction] ?? [];
  const key = direction === 'egress' ? 'to' : 'from';
  return rules.some((rule) => {
    const portOk =
      !rule.ports ||
      rule.ports.some((p: Wire) => (p.port === undefined || p.port === other.port) && (p.protocol ?? 'TCP') === (other.protocol ?? 'TCP'));
    if (!portOk) return false;
    const peers: Wire[] | undefined = rule[key];
    if (!peers || peers.length === 0) return true;
    return peers.some((peer) => {
      if (peer.ipBlock)
        return (
          'ip' in other &&
          cidrContains(peer.ipBlock.cidr, other.ip) &&
          !(peer.ipBlock.except ?? []).some((c: string) => cidrContains(c, other.ip))
        );
      if (!('pod' in other)) return false;
      const nsOk = peer.namespaceSelector
        ? matches(peer.namespaceSelector, { 'kubernetes.io/metadata.name': other.pod.namespace })
        : other.pod.namespace === policyNamespace;
      return nsOk && matches(peer.podSelector, other.pod.labels);
    });
  });
}

function cidrContains(cidr: string, ip: string): boolean {
  const [base, bits] = cidr.split('/');
  const n = (a: string) => a.split('.').reduce((acc, x) => acc * 256 + Number(x), 0);
  const size = 2 ** (32 - Number(bits));
  return Math.floor(n(ip) / size) === Math.floor(n(base!) / size);
}
