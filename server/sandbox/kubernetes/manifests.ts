// The manifests of a lab, as pure functions of the definition, the limits and the settings (as
// KubeSpawner's objects.py): one pod per host, one headless Service that gives the hosts their names, one
// NetworkPolicy that keeps the lab to itself, one ConfigMap with each host's preparation. Nothing here
// calls the API; tests/unit/kubernetes-manifests.test.ts checks them as data and against the schemas.
import type { V1ConfigMap, V1NetworkPolicy, V1Pod, V1Service, V1Volume, V1VolumeMount } from '@kubernetes/client-node';
import type { LabHost } from '../../../sandbox/labs/schema.ts';
import type { EngineSettings } from '../../config.ts';
import { writableDirs } from '../docker/rootfs.ts';
import { identityAnnotations, LABEL, type LabIdentity, labLabels, labName, type Naming, podName, prepareName } from './labels.ts';
import type { KubernetesSettings } from './settings.ts';

/** The container of every lab pod. */
export const CONTAINER = 'host';
/** Where each pod finds its preparation script (prepare.ts), from the lab's ConfigMap. */
export const PREPARE_DIR = '/usr/lib/atelier/prepare';
/** A ConfigMap holds at most 1 MiB; the preparations (seeded files inside) must fit with room to spare. */
export const MAX_PREPARE_BYTES = 900 * 1024;

export interface LabManifestInput {
  naming: Naming;
  settings: KubernetesSettings;
  limits: EngineSettings['host'];
  identity: LabIdentity;
  hosts: LabHost[];
  /** logical image → image reference */
  image: (logical: string) => string;
}

const mib = (bytes: number) => `${Math.ceil(bytes / 1024 / 1024)}Mi`;

/** A writable directory's volume name: `w-` and the path's characters that a name may hold. */
export const volumeName = (path: string, i: number) =>
  `w${i}-${path
    .replace(/[^a-z0-9]+/gi, '-')
    .replace(/^-|-$/g, '')
    .toLowerCase()
    .slice(0, 40)}`.replace(/-$/, '');

/** The headless Service: no address of its own; it publishes `{host}.{service}` for each pod, ready or not. */
export function labService(input: LabManifestInput): V1Service {
  const { naming: n, identity } = input;
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: labName(n, identity.labId),
      namespace: input.settings.namespace,
      labels: { ...labLabels(n, identity), [LABEL.component]: 'lab' },
      annotations: identityAnnotations(
        identity,
        input.hosts.map((h) => h.name),
      ),
    },
    spec: {
      clusterIP: 'None',
      selector: { [LABEL.labId]: identity.labId },
      // Hosts resolve each other while they prepare (a boot command may name another host).
      publishNotReadyAddresses: true,
    },
  };
}

/**
 * Each host's preparation script (prepare.ts), by host name. Mounted read-only in its pod; lab-init reads
 * it on standard input as with the Docker provider's attachment.
 */
export function labPrepareConfigMap(input: LabManifestInput, scripts: Record<string, string>): V1ConfigMap {
  const size = Object.values(scripts).reduce((sum, s) => sum + Buffer.byteLength(s), 0);
  if (size > MAX_PREPARE_BYTES) {
    throw new RangeError(`the lab's preparation is ${size} bytes, more than a ConfigMap holds (${MAX_PREPARE_BYTES}): fewer seeded files`);
  }
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: prepareName(input.naming, input.identity.labId),
      namespace: input.settings.namespace,
      labels: { ...labLabels(input.naming, input.identity), [LABEL.component]: 'lab-prepare' },
    },
    data: scripts,
    immutable: true,
  };
}

/** One lab host: a pod as tight as the Docker provider's container (docs/security.md). */
export function labPod(input: LabManifestInput, host: LabHost): V1Pod {
  const { naming: n, settings, limits, identity } = input;
  const readonly = limits.rootfs === 'readonly';
  const writable = readonly ? writableDirs(host, limits.writable, limits.seedDirMb) : [];
  const empty = [
    ...writable.map((d) => ({ path: d.path, sizeMb: d.sizeMb })),
    ...Object.entries(limits.tmpfs).map(([path, sizeMb]) => ({ path, sizeMb })),
  ];
  const volumes: V1Volume[] = [
    // Every writable byte is in memory, charged to the pod's memory limit, and bounded by its size.
    ...empty.map((d, i) => ({ name: volumeName(d.path, i), emptyDir: { medium: 'Memory', sizeLimit: `${d.sizeMb}Mi` } })),
    { name: 'shm', emptyDir: { medium: 'Memory', sizeLimit: mib(limits.shmBytes) } },
    {
      name: 'prepare',
      configMap: { name: prepareName(n, identity.labId), items: [{ key: host.name, path: 'script' }], defaultMode: 0o444 },
    },
  ];
  const mounts: V1VolumeMount[] = [
    ...empty.map((d, i) => ({ name: volumeName(d.path, i), mountPath: d.path })),
    { name: 'shm', mountPath: '/dev/shm' },
    { name: 'prepare', mountPath: PREPARE_DIR, readOnly: true },
  ];
  const cpu: Record<string, string> = limits.nanoCpus > 0 ? { cpu: `${Math.round(limits.nanoCpus / 1e6)}m` } : {};
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: podName(n, identity.labId, host.name),
      namespace: settings.namespace,
      labels: { ...labLabels(n, identity), [LABEL.host]: host.name, [LABEL.component]: 'lab-host' },
    },
    spec: {
      // `web` resolves as web.{service}.{namespace}.svc…, found through the search list below.
      hostname: host.name,
      subdomain: labName(n, identity.labId),
      dnsPolicy: 'ClusterFirst',
      dnsConfig: { searches: [`${labName(n, identity.labId)}.${settings.namespace}.svc.${settings.clusterDomain}`] },
      restartPolicy: 'Never',
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      hostNetwork: false,
      hostPID: false,
      hostIPC: false,
      shareProcessNamespace: false,
      terminationGracePeriodSeconds: 2,
      ...(settings.runtimeClass ? { runtimeClassName: settings.runtimeClass } : {}),
      securityContext: { seccompProfile: { type: 'RuntimeDefault' } },
      containers: [
        {
          name: CONTAINER,
          image: input.image(host.image),
          imagePullPolicy: settings.imagePullPolicy,
          // The image's entrypoint (tini) stays PID 1; lab-init runs the preparation, then waits.
          args: ['/bin/sh', '-c', `exec /usr/local/sbin/lab-init --prepare < ${PREPARE_DIR}/script`],
          workingDir: host.workdir,
          env: [{ name: 'LANG', value: 'C.UTF-8' }, ...Object.entries(host.env).map(([name, value]) => ({ name, value }))],
          resources: {
            requests: { memory: `${settings.requests.memoryMb}Mi`, cpu: `${settings.requests.milliCpu}m` },
            limits: { memory: mib(limits.memoryBytes), ...cpu, 'ephemeral-storage': mib(limits.diskBytes) },
          },
          securityContext: {
            privileged: false,
            allowPrivilegeEscalation: false,
            readOnlyRootFilesystem: readonly,
            capabilities: { drop: ['ALL'], ...(host.capabilities.length > 0 ? { add: [...host.capabilities] } : {}) },
            seccompProfile: { type: 'RuntimeDefault' },
            procMount: 'Default',
          },
          volumeMounts: mounts,
          stdin: false,
          tty: false,
          terminationMessagePolicy: 'FallbackToLogsOnError',
        },
      ],
      volumes,
    },
  };
}

/**
 * The lab's NetworkPolicy: its hosts reach each other and the cluster DNS (port 53), and are reached by
 * each other and the backend's pods; nothing else. No ipBlock at all, so neither the API server, nor the
 * metadata address 169.254.169.254, nor the nodes, nor another lab, nor the outside is allowed.
 */
export function labNetworkPolicy(input: LabManifestInput): V1NetworkPolicy {
  const { naming: n, settings, identity } = input;
  const sameLab = { podSelector: { matchLabels: { [LABEL.labId]: identity.labId } } };
  const inNamespace = (name: string) => ({ matchLabels: { 'kubernetes.io/metadata.name': name } });
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: {
      name: labName(n, identity.labId),
      namespace: settings.namespace,
      labels: { ...labLabels(n, identity), [LABEL.component]: 'lab' },
    },
    spec: {
      podSelector: { matchLabels: { [LABEL.labId]: identity.labId } },
      policyTypes: ['Ingress', 'Egress'],
      ingress: [
        { _from: [sameLab] },
        {
          _from: [{ namespaceSelector: inNamespace(settings.backend.namespace), podSelector: { matchLabels: settings.backend.selector } }],
        },
      ],
      egress: [
        { to: [sameLab] },
        {
          to: [{ namespaceSelector: inNamespace(settings.dns.namespace), podSelector: { matchLabels: settings.dns.selector } }],
          ports: [
            { protocol: 'UDP', port: 53 },
            { protocol: 'TCP', port: 53 },
          ],
        },
      ],
    },
  };
}

/** The lab's manifests in creation order: ConfigMap and policy before the pods, so no pod runs unfenced. */
export function labManifests(input: LabManifestInput, scripts: Record<string, string>) {
  return {
    configMap: labPrepareConfigMap(input, scripts),
    networkPolicy: labNetworkPolicy(input),
    service: labService(input),
    pods: input.hosts.map((h) => labPod(input, h)),
  };
}
