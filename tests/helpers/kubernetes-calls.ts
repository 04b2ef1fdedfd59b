// What the Kubernetes provider asks of the API server, read from its source (server/sandbox/kubernetes/):
// each client-node call as the RBAC permission it needs (API group, resource, verb). A call of a shape
// this does not know fails the reading, so a new kind of call cannot slip past the chart's RBAC check.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Permission {
  group: string;
  resource: string;
  verb: string;
}

const DIR = new URL('../../server/sandbox/kubernetes/', import.meta.url);

/** client-node's typed method verbs → RBAC verbs */
const VERBS: Record<string, string> = {
  create: 'create',
  read: 'get',
  list: 'list',
  patch: 'patch',
  replace: 'update',
  delete: 'delete',
  deleteCollection: 'deletecollection',
};
/** kinds → resource and API group */
const KINDS: Record<string, { resource: string; group: string }> = {
  Pod: { resource: 'pods', group: '' },
  Service: { resource: 'services', group: '' },
  ConfigMap: { resource: 'configmaps', group: '' },
  Secret: { resource: 'secrets', group: '' },
  NetworkPolicy: { resource: 'networkpolicies', group: 'networking.k8s.io' },
};

export function providerPermissions(): Permission[] {
  const found = new Map<string, Permission>();
  const add = (group: string, resource: string, verb: string) => found.set(`${group}/${resource}/${verb}`, { group, resource, verb });
  for (const file of readdirSync(DIR).filter((f) => f.endsWith('.ts'))) {
    const text = readFileSync(join(DIR.pathname, file), 'utf8');
    for (const m of text.matchAll(/\.(\w+)Namespaced(\w+?)(Status)?\(/g)) {
      const verb = VERBS[m[1]!];
      const kind = KINDS[m[2]!];
      if (!verb || !kind || m[3]) throw new Error(`${file}: ${m[0]} is a call this reading does not know`);
      add(kind.group, kind.resource, verb);
    }
    // Informers: a list, then a watch, of the path they name.
    const informers = [...text.matchAll(/makeInformer<\w+>\(\s*\w+,\s*`\/api\/v1\/namespaces\/\$\{\w+\}\/(\w+)`/g)];
    if (informers.length !== [...text.matchAll(/makeInformer</g)].length)
      throw new Error(`${file}: an informer on a path this reading does not know`);
    for (const m of informers) {
      add('', m[1]!, 'list');
      add('', m[1]!, 'watch');
    }
    if (/\bnew Log\(/.test(text)) add('', 'pods/log', 'get');
    // The exec WebSocket (exec.ts): Kubernetes >= 1.30 authorizes its upgrade as "create".
    if (/\/pods\/\$\{[^}]+\}\/exec\?/.test(text)) add('', 'pods/exec', 'create');
    for (const m of text.matchAll(/\/pods\/\$\{[^}]+\}\/(\w+)\?/g)) {
      if (m[1] !== 'exec') throw new Error(`${file}: a request to pods/${m[1]} this reading does not know`);
    }
    if (/\bnew (Exec|Attach|PortForward|Cp|Metrics|Watch)\(/.test(text))
      throw new Error(`${file}: a client-node helper this reading does not know`);
  }
  return [...found.values()].sort((a, b) => `${a.group}/${a.resource}/${a.verb}`.localeCompare(`${b.group}/${b.resource}/${b.verb}`));
}
