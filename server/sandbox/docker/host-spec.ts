// The container of one lab host, hardened: what it may use (memory, processes, CPU, writable space),
// what it may do (capabilities, no new privileges, never privileged, no host mounts) and where it is
// (its lab's internal network, reachable by its host name).
import type Docker from 'dockerode';
import type { LabHost } from '../../../sandbox/labs/schema.ts';
import type { EngineSettings } from '../../config.ts';
import { LABEL } from './labels.ts';
import { tmpfsOptions, type WritableDir } from './rootfs.ts';

export interface HostSpecInput {
  host: LabHost;
  image: string;
  name: string;
  network: string;
  labels: Record<string, string>;
  limits: EngineSettings['host'];
  /** read-only root filesystem: these directories are writable (bounded tmpfs) */
  writable: WritableDir[] | undefined;
  /** writable layer quota, only when the storage driver supports it */
  storageQuota: boolean;
}

/** Docker's default read-only paths (daemon/oci defaults): a ReadonlyPaths list replaces them. */
const ENGINE_READONLY_PATHS = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

export function hostContainerSpec(input: HostSpecInput): Docker.ContainerCreateOptions {
  const { host, limits } = input;
  const labels = { ...input.labels, [LABEL.host]: host.name };
  const hostConfig: Docker.HostConfig = {
    NetworkMode: input.network,
    RestartPolicy: { Name: 'no' },
    // The image's PID 1 is tini; Docker's own init would be a second one.
    Init: false,
    Privileged: false,
    CapDrop: ['ALL'],
    CapAdd: host.capabilities,
    // The default seccomp profile stays on (no seccomp= entry here).
    SecurityOpt: ['no-new-privileges:true'],
    Memory: limits.memoryBytes,
    MemorySwap: limits.memoryBytes,
    PidsLimit: limits.pidsLimit,
    CpuShares: limits.cpuShares,
    ShmSize: limits.shmBytes,
    Ulimits: [
      { Name: 'nofile', Soft: limits.nofile, Hard: limits.nofile },
      { Name: 'nproc', Soft: limits.nproc, Hard: limits.nproc },
    ],
    // Under memory pressure on the machine, lab processes go first.
    OomScoreAdj: 500,
    // With cgroups v1 the engine mounts a writable tmpfs of no size at /sys/fs/cgroup: read-only like the
    // rest (the engine's own list, which this replaces, plus that path).
    ReadonlyPaths: [...ENGINE_READONLY_PATHS, '/sys/fs/cgroup'],
    // Lab networks are IPv4 only; no link-local IPv6 path to the machine either.
    Sysctls: { 'net.ipv6.conf.all.disable_ipv6': '1' },
    LogConfig: { Type: 'json-file', Config: { 'max-size': limits.logMaxSize, 'max-file': String(limits.logMaxFile) } },
    Tmpfs: Object.fromEntries(
      [...Object.entries(limits.tmpfs), ...(input.writable ?? []).map((d) => [d.path, d.sizeMb] as const)].map(([path, mb]) => [
        path,
        tmpfsOptions(mb, path),
      ]),
    ),
    Binds: [],
  };
  // The CPU cap comes once the host is prepared (cpuCap below): copying its files under a half-CPU cap
  // took 0.7 s instead of 0.2. No learner command runs before then, only the lab's own boot commands.
  if (input.storageQuota) hostConfig.StorageOpt = { size: `${Math.ceil(limits.diskBytes / 1024 / 1024)}M` };
  if (input.writable) hostConfig.ReadonlyRootfs = true;
  return {
    name: input.name,
    Image: input.image,
    // The image's entrypoint (tini) runs this: lab-init reads the host's preparation (prepare.ts) on its
    // standard input, which closes when the backend's one attachment ends, runs it, then waits.
    Cmd: ['/usr/local/sbin/lab-init', '--prepare'],
    OpenStdin: true,
    StdinOnce: true,
    Hostname: host.name,
    Labels: labels,
    Env: ['LANG=C.UTF-8', ...Object.entries(host.env).map(([k, v]) => `${k}=${v}`)],
    StopTimeout: 2,
    HostConfig: hostConfig,
    NetworkingConfig: { EndpointsConfig: { [input.network]: { Aliases: [host.name] } } },
  };
}

/** The host's CPU cap, applied by an update once its preparation is done (none when 0). */
export const cpuCap = (limits: EngineSettings['host']): { NanoCpus: number } | undefined =>
  limits.nanoCpus > 0 ? { NanoCpus: limits.nanoCpus } : undefined;

/** A Docker error that means "this storage driver cannot do per-container quotas". */
export function isStorageQuotaUnsupported(err: unknown): boolean {
  const message = (err as { json?: { message?: string }; message?: string })?.json?.message ?? (err as Error)?.message ?? '';
  return /storage-opt|storage opt|quota|pquota|xfs/i.test(message);
}
