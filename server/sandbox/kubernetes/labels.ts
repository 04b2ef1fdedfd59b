// Names, labels and annotations of a lab's Kubernetes objects, and a lab rebuilt from them. The objects are
// the source of truth: the lab's headless Service carries its identity (annotations, which may hold any
// text and be patched: owner, times, the idle clock), its pods carry their host and state. Labels only
// select; values that labels cannot hold (a learner id with a colon, times) are annotations, and the
// owner is selectable through a hash of it.
import { createHash } from 'node:crypto';
import type { HostState, LabInfo, LabState } from '../provider.ts';

export const LABEL = {
  labId: 'atelier/lab-id',
  /** the definition id, e.g. nginx-remote */
  lab: 'atelier/lab',
  /** sha256 of the owner, 40 hex (owners are free text; '' for a pool lab) */
  owner: 'atelier/owner-hash',
  /** on pods: the host name */
  host: 'atelier/host',
  test: 'atelier/test',
  scope: 'atelier/scope',
  pool: 'atelier/pool',
  managedBy: 'app.kubernetes.io/managed-by',
  component: 'app.kubernetes.io/component',
} as const;

export const ANNOTATION = {
  owner: 'atelier/owner',
  created: 'atelier/created',
  expires: 'atelier/expires',
  /** every host of the definition, comma-separated (a lab missing one is partial) */
  hosts: 'atelier/hosts',
  /** the idle clock: the last time a learner used the lab (ISO 8601) */
  lastActive: 'atelier/last-active',
} as const;

export interface Naming {
  /** "atelier-" or "atelier-test-" */
  prefix: string;
  test: boolean;
  scope: string | undefined;
}

const LABEL_VALUE = /^(?:[A-Za-z0-9](?:[A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?)?$/;

export function naming(test: boolean, scope?: string): Naming {
  if (scope !== undefined && !LABEL_VALUE.test(scope)) throw new RangeError(`scope ${JSON.stringify(scope)} is not a label value`);
  return { prefix: test ? 'atelier-test-' : 'atelier-', test, scope };
}

/** The lab's headless Service (its pods' subdomain), NetworkPolicy and preparation ConfigMap share this name. */
export const labName = (n: Naming, labId: string) => `${n.prefix}${labId}`;
export const podName = (n: Naming, labId: string, host: string) => `${n.prefix}${labId}-${host}`;
export const prepareName = (n: Naming, labId: string) => `${n.prefix}${labId}-prepare`;

export const ownerHash = (owner: string) => (owner === '' ? '' : createHash('sha256').update(owner).digest('hex').slice(0, 40));

export interface LabIdentity {
  labId: string;
  owner: string;
  definitionId: string;
  createdAt: Date;
  expiresAt: Date;
  pooled?: boolean;
}

/** Labels every object of a lab carries (selection only). */
export function labLabels(n: Naming, lab: Pick<LabIdentity, 'labId' | 'definitionId' | 'owner' | 'pooled'>): Record<string, string> {
  const labels: Record<string, string> = {
    [LABEL.labId]: lab.labId,
    [LABEL.lab]: lab.definitionId,
    [LABEL.owner]: ownerHash(lab.owner),
    [LABEL.managedBy]: 'atelier',
  };
  if (lab.pooled) labels[LABEL.pool] = '1';
  if (n.test) labels[LABEL.test] = '1';
  if (n.scope) labels[LABEL.scope] = n.scope;
  return labels;
}

/** The lab's identity, on its Service. */
export function identityAnnotations(lab: LabIdentity, hosts: string[]): Record<string, string> {
  return {
    [ANNOTATION.owner]: lab.owner,
    [ANNOTATION.created]: lab.createdAt.toISOString(),
    [ANNOTATION.expires]: lab.expiresAt.toISOString(),
    [ANNOTATION.hosts]: hosts.join(','),
    [ANNOTATION.lastActive]: lab.createdAt.toISOString(),
  };
}

/**
 * The label selector of this backend's labs (plus the extra labels given). Test labs are `atelier/test=1`,
 * production ones have no such label, and a scope sees only itself.
 */
export function labSelector(n: Naming, extra: Record<string, string | undefined> = {}): string {
  const parts = [
    LABEL.labId as string,
    n.test ? `${LABEL.test}=1` : `!${LABEL.test}`,
    n.scope ? `${LABEL.scope}=${n.scope}` : `!${LABEL.scope}`,
  ];
  for (const [k, v] of Object.entries(extra)) if (v !== undefined) parts.push(`${k}=${v}`);
  return parts.join(',');
}

/** The same rule as labSelector, applied to an object already fetched (the watch's cache). */
export function mine(n: Naming, labels: Record<string, string> | undefined): boolean {
  if (!labels?.[LABEL.labId]) return false;
  if (labels[LABEL.scope] !== n.scope) return false;
  return n.test ? labels[LABEL.test] === '1' : labels[LABEL.test] === undefined;
}

/** What assembleLabs needs of a Service and of a Pod (as the API or the watch's cache gives them). */
export interface FoundObject {
  metadata?: { labels?: Record<string, string>; annotations?: Record<string, string>; deletionTimestamp?: Date | string };
}
export interface FoundPod extends FoundObject {
  status?: { phase?: string; containerStatuses?: { state?: { running?: object } }[] };
}

function date(text: string | undefined): Date {
  const d = new Date(text ?? '');
  return Number.isNaN(d.getTime()) ? new Date(0) : d;
}

function hostState(pod: FoundPod | undefined): HostState {
  if (!pod || pod.metadata?.deletionTimestamp) return 'missing';
  const running = pod.status?.phase === 'Running' && (pod.status.containerStatuses ?? []).some((c) => c.state?.running);
  return running ? 'running' : 'stopped';
}

/**
 * Labs from their Services and pods. A pod without its Service, or a Service missing a host's pod, is a
 * partial lab (being created or removed, or left by a crash): the reaper removes it after a grace period.
 * A pod still pending (being scheduled, image pulled) counts as stopped only once the lab is complete.
 */
export function assembleLabs(services: FoundObject[], pods: FoundPod[]): LabInfo[] {
  const byId = new Map<string, { service?: FoundObject; pods: FoundPod[] }>();
  const entry = (o: FoundObject) => {
    const id = o.metadata?.labels?.[LABEL.labId];
    if (!id) return undefined;
    let e = byId.get(id);
    if (!e) byId.set(id, (e = { pods: [] }));
    return e;
  };
  for (const s of services) {
    const e = entry(s);
    if (e && !s.metadata?.deletionTimestamp) e.service = s;
  }
  for (const p of pods) entry(p)?.pods.push(p);

  const labs: LabInfo[] = [];
  for (const [labId, { service, pods: found }] of byId) {
    const labels = service?.metadata?.labels ?? found[0]?.metadata?.labels ?? {};
    const notes = service?.metadata?.annotations ?? {};
    const declared = (notes[ANNOTATION.hosts] ?? '').split(',').filter(Boolean);
    const names = [...new Set([...declared, ...found.map((p) => p.metadata?.labels?.[LABEL.host] ?? '')])].filter(Boolean);
    const hosts = names.map((name) => ({ name, state: hostState(found.find((p) => p.metadata?.labels?.[LABEL.host] === name)) }));
    let state: LabState;
    if (!service || declared.length === 0 || hosts.some((h) => h.state === 'missing')) state = 'partial';
    else if (hosts.every((h) => h.state === 'running')) state = 'ready';
    else state = 'stopped';
    labs.push({
      labId,
      owner: notes[ANNOTATION.owner] ?? '',
      definitionId: labels[LABEL.lab] ?? '',
      createdAt: date(notes[ANNOTATION.created]),
      expiresAt: date(notes[ANNOTATION.expires]),
      state,
      hosts,
      pooled: labels[LABEL.pool] === '1',
    });
  }
  return labs.sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
}

/** The idle clock of a lab, from its Service (undefined when it was never recorded). */
export function lastActive(service: FoundObject): Date | undefined {
  const text = service.metadata?.annotations?.[ANNOTATION.lastActive];
  const d = new Date(text ?? '');
  return Number.isNaN(d.getTime()) ? undefined : d;
}
