// Audit of one lab's containers, from what the engine reports (inspect) and what the kernel shows inside
// (/proc/1/status, cgroup limits, mounts). Returns every failure in words; an empty list means the host
// is held in as docs/security.md says. Used by tests/security/audit.test.ts and after bombs and resets.
import type Docker from 'dockerode';
import { getLab } from '../../sandbox/labs/index.ts';
import { runs } from '../../sandbox/labs/common.ts';
import { docker, execIn, labContainers } from './engine.ts';

/** Every capability a lab host may keep: the union of what the image's services and the shell need (common.ts). */
export const ALLOWED_CAPABILITIES = new Set(runs('apache2', 'nginx', 'php-fpm').capabilities);

const CAP_NAMES = [
  'CHOWN',
  'DAC_OVERRIDE',
  'DAC_READ_SEARCH',
  'FOWNER',
  'FSETID',
  'KILL',
  'SETGID',
  'SETUID',
  'SETPCAP',
  'LINUX_IMMUTABLE',
  'NET_BIND_SERVICE',
  'NET_BROADCAST',
  'NET_ADMIN',
  'NET_RAW',
  'IPC_LOCK',
  'IPC_OWNER',
  'SYS_MODULE',
  'SYS_RAWIO',
  'SYS_CHROOT',
  'SYS_PTRACE',
  'SYS_PACCT',
  'SYS_ADMIN',
  'SYS_BOOT',
  'SYS_NICE',
  'SYS_RESOURCE',
  'SYS_TIME',
  'SYS_TTY_CONFIG',
  'MKNOD',
  'LEASE',
  'AUDIT_WRITE',
  'AUDIT_CONTROL',
  'SETFCAP',
  'MAC_OVERRIDE',
  'MAC_ADMIN',
  'SYSLOG',
  'WAKE_ALARM',
  'BLOCK_SUSPEND',
  'AUDIT_READ',
  'PERFMON',
  'BPF',
  'CHECKPOINT_RESTORE',
];

/** "00000000000000eb" → ['CHOWN', 'DAC_OVERRIDE', ...] */
export function capabilityNames(hex: string): string[] {
  const bits = BigInt(`0x${hex}`);
  return CAP_NAMES.filter((_, i) => (bits >> BigInt(i)) & 1n).sort();
}

const strip = (c: string) => c.replace(/^CAP_/, '');

export interface HostAudit {
  container: string;
  host: string;
  failures: string[];
}

// What the kernel says inside: credentials of PID 1, cgroup limits, writable mounts, sockets, and a few
// things root must not be able to do.
const INSIDE = `
grep -E '^(CapEff|CapBnd|CapPrm|CapAmb|NoNewPrivs|Seccomp):' /proc/1/status
echo "mem $(cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max)"
echo "pids $(cat /sys/fs/cgroup/pids/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids.max)"
echo "cpu $(cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us 2>/dev/null || cat /sys/fs/cgroup/cpu.max)"
awk '{print "mount", $2, $3, $4}' /proc/mounts
for s in /var/run/docker.sock /run/docker.sock /run/containerd/containerd.sock /var/run/containerd/containerd.sock /run/podman/podman.sock; do
  [ -e "$s" ] && echo "engine-socket $s"
done
find / \\( -path /proc -o -path /sys \\) -prune -o -type s -print 2>/dev/null | sed 's/^/socket /'
mount -t tmpfs none /mnt 2>/dev/null && echo "can mount"
mknod /tmp/audit-dev b 8 0 2>/dev/null && echo "can mknod"
ip link add audit0 type dummy 2>/dev/null && echo "can add links"
unshare -U true 2>/dev/null && echo "can unshare user namespace"
echo end
`;

const PSEUDO_FS = new Set(['proc', 'sysfs', 'cgroup', 'cgroup2', 'devpts', 'mqueue']);

async function auditHost(info: Docker.ContainerInspectInfo, allowed: string[] | undefined): Promise<string[]> {
  const f: string[] = [];
  const hc = info.HostConfig;
  const expect = (ok: boolean, what: string) => {
    if (!ok) f.push(what);
  };

  // Privileges and capabilities, as configured
  expect(hc.Privileged === false, 'privileged');
  expect(JSON.stringify(((hc.CapDrop ?? []) as string[]).map(strip)) === '["ALL"]', `CapDrop is ${JSON.stringify(hc.CapDrop)}, not [ALL]`);
  const added = ((hc.CapAdd ?? []) as string[]).map(strip).sort();
  expect(
    added.every((c) => ALLOWED_CAPABILITIES.has(c)),
    `capabilities outside the allowed list: ${added.join(' ')}`,
  );
  if (allowed)
    expect(
      JSON.stringify(added) === JSON.stringify([...allowed].sort()),
      `CapAdd ${added.join(' ')} ≠ the definition's ${allowed.join(' ')}`,
    );
  const secopt: string[] = hc.SecurityOpt ?? [];
  expect(secopt.includes('no-new-privileges:true') || secopt.includes('no-new-privileges'), 'no-new-privileges missing');
  expect(
    !secopt.some((o) => /seccomp[=:]unconfined|apparmor[=:]unconfined|label[=:]disable/.test(o)),
    `security option weakened: ${secopt.join(' ')}`,
  );

  // Host namespaces and devices
  expect(!/^(host|container:)/.test(hc.NetworkMode ?? ''), `network mode ${hc.NetworkMode}`);
  for (const [name, mode] of [
    ['pid', hc.PidMode],
    ['ipc', hc.IpcMode],
    ['uts', hc.UTSMode],
    ['userns', hc.UsernsMode],
  ] as const) {
    expect(!/^(host|container:)/.test(mode ?? ''), `${name} namespace mode ${mode}`);
  }
  expect((hc.Devices ?? []).length === 0, `devices: ${JSON.stringify(hc.Devices)}`);
  expect(((hc as { DeviceCgroupRules?: string[] }).DeviceCgroupRules ?? []).length === 0, 'device cgroup rules');

  // Resources
  expect((hc.Memory ?? 0) > 0, 'no memory limit');
  expect(hc.MemorySwap === hc.Memory, `swap ${hc.MemorySwap} ≠ memory ${hc.Memory} (swap allowed)`);
  expect((hc.PidsLimit ?? 0) > 0, 'no process limit');
  expect((hc.NanoCpus ?? 0) > 0 || (hc.CpuQuota ?? 0) > 0, 'no CPU cap');
  expect((hc.ShmSize ?? 0) > 0 && (hc.ShmSize ?? 0) <= (hc.Memory ?? 0), `/dev/shm ${hc.ShmSize}`);
  expect((hc.RestartPolicy?.Name ?? 'no') === 'no' || hc.RestartPolicy?.Name === '', `restart policy ${hc.RestartPolicy?.Name}`);
  expect(hc.LogConfig?.Type !== 'json-file' || Boolean(hc.LogConfig?.Config?.['max-size']), 'logs unbounded');

  // Writable space: read-only root; every writable place a size-bounded tmpfs
  expect(hc.ReadonlyRootfs === true, 'root filesystem writable');
  expect((hc.Binds ?? []).length === 0, `bind mounts: ${JSON.stringify(hc.Binds)}`);
  for (const m of info.Mounts) {
    expect(m.Type === 'volume' || m.Type === 'tmpfs', `mount ${m.Destination} is a ${m.Type} (${m.Source})`);
    expect(!/\.sock$|^\/(var\/)?run\//.test(m.Source ?? ''), `mount of ${m.Source}`);
    if (m.Type === 'volume' && m.Name) {
      const v = await docker.getVolume(m.Name).inspect();
      const opts = (v.Options ?? {}) as Record<string, string>;
      expect(
        v.Driver === 'local' && opts.type === 'tmpfs' && /(^|,)size=\d+/.test(opts.o ?? ''),
        `volume at ${m.Destination} is not a sized tmpfs: ${JSON.stringify(v.Options)}`,
      );
    }
  }
  for (const [path, opts] of Object.entries(hc.Tmpfs ?? {})) expect(/size=\d+/.test(opts), `tmpfs ${path} without size`);

  // Network: only internal networks, holding only this lab's containers
  const labId = info.Config.Labels['atelier.lab-id'] ?? '';
  for (const name of Object.keys(info.NetworkSettings.Networks)) {
    const n = await docker.getNetwork(name).inspect();
    expect(n.Internal === true, `network ${name} is not internal`);
    expect(
      (n.Options?.['com.docker.network.bridge.name'] ?? '').startsWith('atl-'),
      `network ${name} bridge is not atl-* (host firewall rules would not match)`,
    );
    const strangers = Object.values(n.Containers ?? {}).filter((c) => !(c as { Name: string }).Name.includes(labId));
    expect(strangers.length === 0, `network ${name} holds other labs' containers`);
  }

  // Inside, as the kernel sees it
  const r = await execIn(info.Name.replace(/^\//, ''), INSIDE);
  const out = r.stdout;
  const field = (name: string) => new RegExp(`^${name}:\\s*(\\S+)`, 'm').exec(out)?.[1] ?? '';
  expect(/^end$/m.test(out), `inside audit did not finish: ${r.stderr}`);
  const eff = capabilityNames(field('CapEff') || '0');
  const bnd = capabilityNames(field('CapBnd') || '0');
  expect(JSON.stringify(eff) === JSON.stringify(added), `effective capabilities ${eff.join(' ')} ≠ ${added.join(' ')}`);
  expect(JSON.stringify(bnd) === JSON.stringify(added), `bounding set ${bnd.join(' ')} ≠ ${added.join(' ')}`);
  expect(field('CapAmb') === '0000000000000000', 'ambient capabilities');
  expect(field('NoNewPrivs') === '1', `NoNewPrivs ${field('NoNewPrivs')}`);
  expect(field('Seccomp') === '2', `seccomp mode ${field('Seccomp')} (2 = filter)`);
  const mem = Number(/^mem (\d+)/m.exec(out)?.[1]);
  expect(mem === hc.Memory, `memory cgroup limit ${mem} ≠ ${hc.Memory}`);
  const pids = /^pids (\S+)/m.exec(out)?.[1];
  expect(pids === String(hc.PidsLimit), `pids.max ${pids} ≠ ${hc.PidsLimit}`);
  const quota = Number(/^cpu (-?\d+)/m.exec(out)?.[1]);
  expect(quota > 0, `cpu quota ${quota}`);
  // The last mount at a place is the one in effect (a read-only remount comes after the first).
  const mounts = new Map<string, [type: string, opts: string]>();
  for (const m of out.matchAll(/^mount (\S+) (\S+) (\S+)$/gm)) mounts.set(m[1]!, [m[2]!, m[3]!]);
  for (const [where, [type, opts]] of mounts) {
    const writable = opts.split(',').includes('rw');
    if (!writable || PSEUDO_FS.has(type)) continue;
    expect(type === 'tmpfs' && /(^|,)size=\d+/.test(opts), `writable ${type} at ${where} without a size (${opts})`);
  }
  for (const m of out.matchAll(/^engine-socket (\S+)$/gm)) f.push(`engine socket inside: ${m[1]}`);
  for (const m of out.matchAll(/^socket (\S+)$/gm)) expect(!/docker|containerd|podman/.test(m[1]!), `socket ${m[1]}`);
  for (const bad of ['can mount', 'can mknod', 'can add links', 'can unshare user namespace']) expect(!out.includes(bad), `root ${bad}`);
  return f;
}

/** Audits every host of a lab instance. */
export async function auditLab(labId: string): Promise<HostAudit[]> {
  const containers = await labContainers(labId);
  if (containers.length === 0) return [{ container: '-', host: '-', failures: [`lab ${labId} has no containers`] }];
  return Promise.all(
    containers.map(async (c) => {
      const info = await docker.getContainer(c.Id).inspect();
      const host = info.Config.Labels['atelier.host'] ?? '';
      const definition = getLab(info.Config.Labels['atelier.lab'] ?? '');
      const allowed = definition?.hosts.find((h) => h.name === host)?.capabilities;
      const failures = definition ? await auditHost(info, allowed) : [`unknown lab definition ${info.Config.Labels['atelier.lab']}`];
      return { container: info.Name.replace(/^\//, ''), host, failures };
    }),
  );
}
