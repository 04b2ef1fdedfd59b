// What the Kubernetes provider needs beyond the labs' common limits (server/config.ts), from the
// environment, validated once (a bad value names its variable).
import { z } from 'zod';

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** "a=b,c=d" → { a: 'b', c: 'd' } (a matchLabels selector) */
const selector = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((text, ctx) => {
      const out: Record<string, string> = {};
      for (const item of text
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)) {
        const m = /^([A-Za-z0-9./_-]{1,253})=([A-Za-z0-9._-]{0,63})$/.exec(item);
        if (!m) {
          ctx.addIssue({ code: 'custom', message: `"${item}" is not key=value` });
          return z.NEVER;
        }
        out[m[1]!] = m[2]!;
      }
      if (Object.keys(out).length === 0) {
        ctx.addIssue({ code: 'custom', message: 'needs at least one key=value' });
        return z.NEVER;
      }
      return out;
    });

const Schema = z.object({
  /** the namespace of labs (the backend's RBAC is limited to it) */
  ATELIER_K8S_NAMESPACE: z.string().regex(DNS_LABEL).default('atelier-labs'),
  /** where the backend runs, and its pods' labels: the only peers allowed into a lab besides its own hosts */
  ATELIER_K8S_BACKEND_NAMESPACE: z.string().regex(DNS_LABEL).default('atelier'),
  ATELIER_K8S_BACKEND_SELECTOR: selector('app.kubernetes.io/name=atelier'),
  /** the cluster DNS, the only other peer a lab may reach (port 53) */
  ATELIER_K8S_DNS_NAMESPACE: z.string().regex(DNS_LABEL).default('kube-system'),
  ATELIER_K8S_DNS_SELECTOR: selector('k8s-app=kube-dns'),
  ATELIER_K8S_CLUSTER_DOMAIN: z
    .string()
    .regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/)
    .default('cluster.local'),
  /** the lab image in a registry the cluster pulls from (the tag sandbox/image builds, pushed there) */
  ATELIER_K8S_IMAGE: z.string().min(1).optional(),
  ATELIER_K8S_IMAGE_PULL_POLICY: z.enum(['IfNotPresent', 'Always', 'Never']).default('IfNotPresent'),
  /** e.g. gvisor or kata: a stronger boundary than the shared kernel (none by default) */
  ATELIER_K8S_RUNTIME_CLASS: z.string().regex(DNS_LABEL).optional(),
  /** what the scheduler reserves per host (the limits are the labs' common ones) */
  ATELIER_K8S_REQUEST_MEMORY_MB: z.coerce.number().int().min(1).max(65536).default(32),
  ATELIER_K8S_REQUEST_MILLICPU: z.coerce.number().int().min(1).max(64000).default(10),
});

export interface KubernetesSettings {
  namespace: string;
  backend: { namespace: string; selector: Record<string, string> };
  dns: { namespace: string; selector: Record<string, string> };
  clusterDomain: string;
  image: string | undefined;
  imagePullPolicy: 'IfNotPresent' | 'Always' | 'Never';
  runtimeClass: string | undefined;
  requests: { memoryMb: number; milliCpu: number };
}

export function loadKubernetesSettings(env: NodeJS.ProcessEnv = process.env): KubernetesSettings {
  const defined = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = Schema.safeParse(defined);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  - ${i.path.join('.')}: ${i.message}`);
    throw new Error(`Invalid Kubernetes configuration in the environment:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  return {
    namespace: e.ATELIER_K8S_NAMESPACE,
    backend: { namespace: e.ATELIER_K8S_BACKEND_NAMESPACE, selector: e.ATELIER_K8S_BACKEND_SELECTOR },
    dns: { namespace: e.ATELIER_K8S_DNS_NAMESPACE, selector: e.ATELIER_K8S_DNS_SELECTOR },
    clusterDomain: e.ATELIER_K8S_CLUSTER_DOMAIN,
    image: e.ATELIER_K8S_IMAGE,
    imagePullPolicy: e.ATELIER_K8S_IMAGE_PULL_POLICY,
    runtimeClass: e.ATELIER_K8S_RUNTIME_CLASS,
    requests: { memoryMb: e.ATELIER_K8S_REQUEST_MEMORY_MB, milliCpu: e.ATELIER_K8S_REQUEST_MILLICPU },
  };
}
