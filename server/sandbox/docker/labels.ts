// Names and labels of a lab's engine objects. Labels are the source of truth: listLabs() rebuilds every
// lab from them, so nothing about a lab lives only in the backend's memory.
import { createHash } from 'node:crypto';
import type { HostState, LabInfo, LabState } from '../provider.ts';

export const LABEL = {
  owner: 'atelier.owner',
  /** the definition id, e.g. nginx-remote */
  lab: 'atelier.lab',
  /** the instance id (random) */
  labId: 'atelier.lab-id',
  created: 'atelier.created',
  expires: 'atelier.expires',
  /** on containers: the host name */
  host: 'atelier.host',
  /** on networks: every host of the definition, comma-separated (to tell a half-created lab) */
  hosts: 'atelier.hosts',
  /** "1" on everything created by tests */
  test: 'atelier.test',
  /** set when several backends (or test runs) share one engine: each sees only its own scope */
  scope: 'atelier.scope',
  /** "1" on the objects of a lab created ahead for the warm pool (their owner label is empty) */
  pool: 'atelier.pool',
  /** "1" on the marker volume that gives a pool lab its owner (labels of running containers are fixed) */
  claim: 'atelier.claim',
} as const;

export interface Naming {
  /** "atelier-" or "atelier-test-" */
  prefix: string;
  test: boolean;
  scope: string | undefined;
}

export function naming(test: boolean, scope?: string): Naming {
  return { prefix: test ? 'atelier-test-' : 'atelier-', test, scope };
}

export function containerName(n: Naming, labId: string, host: string): string {
  return `${n.prefix}${labId}-${host}`;
}

export function networkName(n: Naming, labId: string): string {
  return `${n.prefix}${labId}`;
}

/** The volume whose labels give a pool lab its owner, creation and expiry. */
export function claimName(n: Naming, labId: string): string {
  return `${n.prefix}${labId}-claim`;
}

/** Linux bridge name (15 bytes at most): "atl-" + 11 hex, so host firewall rules can match "atl+". */
export function bridgeName(labId: string): string {
  return `atl-${createHash('sha256').update(labId).digest('hex').slice(0, 11)}`;
}

export interface LabLabels {
  labId: string;
  owner: string;
  definitionId: string;
  createdAt: Date;
  expiresAt: Date;
  /** created ahead for the warm pool (owner '') */
  pooled?: boolean;
}

export function labLabels(n: Naming, lab: LabLabels): Record<string, string> {
  const labels: Record<string, string> = {
    [LABEL.owner]: lab.owner,
    [LABEL.lab]: lab.definitionId,
    [LABEL.labId]: lab.labId,
    [LABEL.created]: lab.createdAt.toISOString(),
    [LABEL.expires]: lab.expiresAt.toISOString(),
  };
  if (lab.pooled) labels[LABEL.pool] = '1';
  if (n.test) labels[LABEL.test] = '1';
  if (n.scope) labels[LABEL.scope] = n.scope;
  return labels;
}

/** Engine-side filter for list calls (label=...); the test/production split is finished by `mine`. */
export function labelFilter(n: Naming, extra: Record<string, string | undefined> = {}): { label: string[] } {
  const label: string[] = [LABEL.labId];
  if (n.test) label.push(`${LABEL.test}=1`);
  if (n.scope) label.push(`${LABEL.scope}=${n.scope}`);
  for (const [k, v] of Object.entries(extra)) if (v !== undefined) label.push(`${k}=${v}`);
  return { label };
}

/** Production never sees test labs, tests never see production labs, and a scope sees only itself. */
export function mine(n: Naming, labels: Record<string, string> | undefined): boolean {
  if (!labels?.[LABEL.labId]) return false;
  if (labels[LABEL.scope] !== n.scope) return false;
  return n.test ? labels[LABEL.test] === '1' : labels[LABEL.test] === undefined;
}

export interface FoundNetwork {
  labels: Record<string, string>;
}

export interface FoundContainer {
  labels: Record<string, string>;
  /** engine state: running, exited, created, ... */
  state: string;
}

function date(text: string | undefined): Date {
  const d = new Date(text ?? '');
  return Number.isNaN(d.getTime()) ? new Date(0) : d;
}

/**
 * Groups engine objects by lab id and tells each lab's state. `others` are objects that belong to a lab
 * without telling its state (volumes): alone, they make a partial lab, which the reaper removes. Among
 * them, a claim marker (label atelier.claim) gives a pool lab its owner, creation and expiry.
 */
export function assembleLabs(networks: FoundNetwork[], containers: FoundContainer[], others: FoundNetwork[] = []): LabInfo[] {
  interface Found {
    network?: FoundNetwork;
    containers: FoundContainer[];
    /** labels of any object of the lab, for its identity */
    labels: Record<string, string>;
    claim?: FoundNetwork;
  }
  const byId = new Map<string, Found>();
  const entry = (labels: Record<string, string>) => {
    const id = labels[LABEL.labId]!;
    let e = byId.get(id);
    if (!e) byId.set(id, (e = { containers: [], labels }));
    return e;
  };
  for (const n of networks) {
    const e = entry(n.labels);
    e.network = n;
    e.labels = n.labels;
  }
  for (const c of containers) entry(c.labels).containers.push(c);
  for (const o of others) {
    const e = entry(o.labels);
    if (o.labels[LABEL.claim] === '1') e.claim = o;
  }

  const labs: LabInfo[] = [];
  for (const [labId, { network, containers: found, labels, claim }] of byId) {
    const declared = (network?.labels[LABEL.hosts] ?? '').split(',').filter(Boolean);
    const names = [...new Set([...declared, ...found.map((c) => c.labels[LABEL.host] ?? '')])].filter(Boolean);
    const hosts = names.map((name) => {
      const c = found.find((x) => x.labels[LABEL.host] === name);
      const state: HostState = !c ? 'missing' : c.state === 'running' ? 'running' : 'stopped';
      return { name, state };
    });
    let state: LabState;
    if (!network || declared.length === 0 || hosts.some((h) => h.state === 'missing')) state = 'partial';
    else if (hosts.every((h) => h.state === 'running')) state = 'ready';
    else state = 'stopped';
    const identity = claim?.labels ?? labels;
    labs.push({
      labId,
      owner: identity[LABEL.owner] ?? '',
      definitionId: identity[LABEL.lab] ?? labels[LABEL.lab] ?? '',
      createdAt: date(identity[LABEL.created]),
      expiresAt: date(identity[LABEL.expires]),
      state,
      hosts,
      pooled: !claim && labels[LABEL.pool] === '1',
    });
  }
  return labs.sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
}
