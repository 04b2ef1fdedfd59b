// Where the backend finds its cluster: KUBECONFIG (a workstation, CI), else ~/.kube/config, else the pod's
// service account (in the cluster). Unlike client-node's loadFromDefault, it never falls back to
// http://localhost:8080: no cluster found is an error that says what to set.
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';

export function loadKubeConfig(env: NodeJS.ProcessEnv = process.env): KubeConfig {
  const kc = new KubeConfig();
  const files = (env.KUBECONFIG ?? '').split(delimiter).filter(Boolean);
  const home = env.HOME ? join(env.HOME, '.kube', 'config') : undefined;
  if (files.length === 0 && home && existsSync(home)) files.push(home);
  if (files.length === 0) {
    if (!env.KUBERNETES_SERVICE_HOST) {
      throw new Error(
        'ATELIER_PROVIDER=kubernetes: no cluster configured. Set KUBECONFIG to a kubeconfig file, or run the backend in a pod (its service account is used).',
      );
    }
    kc.loadFromCluster();
    return kc;
  }
  try {
    kc.loadFromFile(files[0]!);
    for (const file of files.slice(1)) {
      const more = new KubeConfig();
      more.loadFromFile(file);
      kc.mergeConfig(more);
    }
  } catch (err) {
    throw new Error(`ATELIER_PROVIDER=kubernetes: the kubeconfig ${files.join(delimiter)} cannot be read: ${(err as Error).message}`);
  }
  if (!kc.getCurrentCluster())
    throw new Error(`ATELIER_PROVIDER=kubernetes: the kubeconfig ${files.join(delimiter)} has no current context`);
  return kc;
}
