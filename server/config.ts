// Configuration from the environment, validated once at start. Every limit of the labs lives here so an
// operator can tune it without touching code; a bad value stops the server with the variable's name.
import { z } from 'zod';

const int = (min: number, max: number, fallback: number) => z.coerce.number().int().min(min).max(max).default(fallback);
const bool = (fallback: boolean) =>
  z
    .enum(['1', '0', 'true', 'false', 'yes', 'no', ''])
    .default(fallback ? '1' : '0')
    .transform((v) => v === '1' || v === 'true' || v === 'yes');

/** "/etc:32,/var:96" → { '/etc': 32, '/var': 96 } (MiB) */
const sizedPaths = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((text, ctx) => {
      const out: Record<string, number> = {};
      for (const item of text
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)) {
        const m = /^(\/[A-Za-z0-9._/-]*):(\d+)$/.exec(item);
        if (!m || m[1]!.split('/').includes('..')) {
          ctx.addIssue({ code: 'custom', message: `"${item}" is not /absolute/path:MiB` });
          return z.NEVER;
        }
        out[m[1]!] = Number(m[2]);
      }
      return out;
    });

/** "nginx-remote:2,apache-remote:1" → { 'nginx-remote': 2, 'apache-remote': 1 }; "*" stands for every definition */
const poolSizes = z
  .string()
  .default('')
  .transform((text, ctx) => {
    const out: Record<string, number> = {};
    for (const item of text
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)) {
      const m = /^(\*|[a-z][a-z0-9-]{0,30}):(\d{1,3})$/.exec(item);
      if (!m) {
        ctx.addIssue({ code: 'custom', message: `"${item}" is not lab-id:count (or *:count)` });
        return z.NEVER;
      }
      out[m[1]!] = Number(m[2]);
    }
    return out;
  });

const cidr = z
  .string()
  .regex(/^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/, 'an IPv4 network like 10.213.0.0/16')
  .refine(
    (s) =>
      s
        .split(/[./]/)
        .slice(0, 4)
        .every((n) => Number(n) <= 255),
    'octets must be 0-255',
  );

const EnvSchema = z.object({
  /** which engine runs the labs (server/compose.ts is the only place that reads it) */
  ATELIER_PROVIDER: z.enum(['docker', 'kubernetes']).default('docker'),
  DOCKER_HOST: z
    .string()
    .regex(/^(unix|tcp|ssh|npipe|http|https):\/\//, 'unix:///path, tcp://host:port or ssh://user@host')
    .optional(),
  /** set by scripts/test.sh: labs get the atelier-test- prefix and the atelier.test label */
  ATELIER_TEST: bool(false),
  /**
   * this backend's name among several sharing the same labs (behind a load balancer): at start it hangs up
   * only the stray shells of its own name (its previous run), never the live shells of the others
   */
  ATELIER_BACKEND_ID: z
    .string()
    .regex(/^[a-z0-9-]{1,40}$/, 'lowercase letters, digits and dashes')
    .default('main'),
  /** when several backends share one engine: each manages only the labs of its own scope */
  ATELIER_LAB_SCOPE: z
    .string()
    .regex(/^[a-z0-9][a-z0-9_.-]{0,62}$/, 'lowercase letters, digits, . _ -')
    .optional(),

  // Per host of a lab
  ATELIER_LAB_MEMORY_MB: int(32, 65536, 256),
  ATELIER_LAB_PIDS: int(16, 65536, 256),
  /** hard CPU cap per host, in CPUs (0.5 = half a core); 0 = no cap */
  ATELIER_LAB_CPUS: z.coerce.number().min(0).max(64).default(0.5),
  /** relative CPU weight under contention (Docker default 1024) */
  ATELIER_LAB_CPU_SHARES: int(2, 262144, 256),
  /** /dev/shm size */
  ATELIER_LAB_SHM_MB: int(1, 4096, 16),
  /** writable-layer quota when the storage driver supports it (overlay2 on xfs with pquota) */
  ATELIER_LAB_DISK_MB: int(16, 1048576, 512),
  /**
   * readonly: the image's root filesystem is read-only and the paths of ATELIER_LAB_WRITABLE are
   * size-bounded in-memory copies of it (works on any storage driver); writable: a plain writable
   * layer, bounded only where ATELIER_LAB_DISK_MB can be enforced.
   */
  ATELIER_LAB_ROOTFS: z.enum(['readonly', 'writable']).default('readonly'),
  /** read-only mode: directories kept writable, copied from the image into bounded tmpfs volumes (path:MiB) */
  ATELIER_LAB_WRITABLE: sizedPaths('/etc:32,/var:128,/run:16,/tmp:64,/root:16'),
  /** extra empty tmpfs mounts, both modes (path:MiB); not a path of ATELIER_LAB_WRITABLE in read-only mode */
  ATELIER_LAB_TMPFS: sizedPaths(''),
  /** size of a writable directory made for seeded files outside the paths above (read-only mode) */
  ATELIER_LAB_SEED_DIR_MB: int(1, 4096, 32),
  /** RLIMIT_NOFILE (soft = hard); Podman needs it explicit. At most the engine's own hard limit. */
  ATELIER_LAB_NOFILE: int(64, 1048576, 4096),
  /**
   * RLIMIT_NPROC. It counts processes per user id across the whole machine (not per container), so a
   * small value would let one lab starve another's www-data; the per-container bound is ATELIER_LAB_PIDS.
   */
  ATELIER_LAB_NPROC: int(64, 4194304, 65536),
  ATELIER_LAB_LOG_MAX_SIZE: z
    .string()
    .regex(/^\d+[kmg]$/, 'like 1m')
    .default('1m'),
  ATELIER_LAB_LOG_MAX_FILE: int(1, 100, 2),
  /** every lab network is a slice of this pool */
  ATELIER_LAB_SUBNET_POOL: cidr.default('10.213.0.0/16'),
  /** prefix length of one lab network (/28 = 14 addresses) */
  ATELIER_LAB_SUBNET_PREFIX: int(16, 29, 28),
  /** image tag for the logical image "atelier-lab" (default: the tag sandbox/image builds) */
  ATELIER_LAB_IMAGE: z.string().min(1).optional(),
  /**
   * auto: install the host firewall rules when possible and warn loudly otherwise; required: refuse to
   * start without them; off: never touch the firewall (the operator does it)
   */
  ATELIER_FIREWALL: z.enum(['auto', 'required', 'off']).default('auto'),

  // Engine calls
  /** bound of one engine API call */
  ATELIER_ENGINE_TIMEOUT_MS: int(100, 600000, 20000),
  /** bound of a whole lab creation (containers, files, boot commands) */
  ATELIER_LAB_CREATE_TIMEOUT_MS: int(1000, 1800000, 120000),
  /** default bound of one command run in a lab */
  ATELIER_EXEC_TIMEOUT_MS: int(100, 3600000, 30000),

  // Lifecycle
  /** global cap on labs; beyond it, "no room right now" */
  // density benchmark on 2 cores / 24 GiB: 150 labs with keystroke echo p99 16 ms, 200 at 51 ms
  ATELIER_MAX_LABS: int(1, 100000, 150),
  /** a lab with no terminal attached for this long is removed */
  ATELIER_LAB_IDLE_MINUTES: z.coerce.number().min(0.01).max(100000).default(30),
  /** a lab is removed this long after its creation, whatever happens */
  ATELIER_LAB_MAX_LIFETIME_MINUTES: z.coerce.number().min(0.01).max(100000).default(120),
  ATELIER_REAPER_INTERVAL_SECONDS: z.coerce.number().min(0.1).max(86400).default(60),
  /** lab creations and resets at once; the others wait their turn, learners before the warm pool */
  ATELIER_LAB_CREATE_CONCURRENCY: int(1, 64, 3),
  /**
   * warm pool: labs prepared ahead per definition ("nginx-remote:2,apache-remote:1", "*:1" for every
   * definition), refilled in the background; they count in ATELIER_MAX_LABS. None by default.
   */
  ATELIER_LAB_POOL: poolSizes,
});

/**
 * What a provider is built with: where the engine is, this backend's marks on labs, each host's limits,
 * and the bounds of engine calls. `dockerHost`, `network` and `firewall` are the Docker provider's own;
 * the Kubernetes provider adds its settings from server/sandbox/kubernetes/settings.ts.
 */
export interface EngineSettings {
  dockerHost: string | undefined;
  test: boolean;
  scope: string | undefined;
  /** ATELIER_BACKEND_ID: marks the shells this backend opens */
  backendId: string;
  host: {
    memoryBytes: number;
    pidsLimit: number;
    nanoCpus: number;
    cpuShares: number;
    shmBytes: number;
    diskBytes: number;
    rootfs: 'readonly' | 'writable';
    /** path → MiB */
    writable: Record<string, number>;
    tmpfs: Record<string, number>;
    seedDirMb: number;
    nofile: number;
    nproc: number;
    logMaxSize: string;
    logMaxFile: number;
  };
  network: { subnetPool: string; subnetPrefix: number };
  image: string | undefined;
  firewall: 'auto' | 'required' | 'off';
  timeouts: { engineMs: number; createMs: number; execMs: number };
}

/** What the lab manager is built with, whatever the engine: its limits (LabLimits) and the warm pool. */
export interface ManagerSettings {
  labs: {
    maxLabs: number;
    idleMs: number;
    maxLifetimeMs: number;
    reapIntervalMs: number;
    orphanGraceMs: number;
    createConcurrency: number;
  };
  /** definition id (or "*") → labs kept ready */
  pool: Record<string, number>;
}

export interface Config extends EngineSettings, ManagerSettings {
  provider: 'docker' | 'kubernetes';
}

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

const MiB = 1024 * 1024;

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // Empty strings mean "not set", as in most shells' `VAR= command`.
  const defined = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = EnvSchema.safeParse(defined);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  - ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`Invalid configuration in the environment:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  if (e.ATELIER_LAB_SUBNET_PREFIX < Number(e.ATELIER_LAB_SUBNET_POOL.split('/')[1])) {
    throw new ConfigError('Invalid configuration: ATELIER_LAB_SUBNET_PREFIX must be longer than the pool prefix');
  }
  return {
    provider: e.ATELIER_PROVIDER,
    dockerHost: e.DOCKER_HOST,
    test: e.ATELIER_TEST,
    scope: e.ATELIER_LAB_SCOPE,
    backendId: e.ATELIER_BACKEND_ID,
    host: {
      memoryBytes: e.ATELIER_LAB_MEMORY_MB * MiB,
      pidsLimit: e.ATELIER_LAB_PIDS,
      nanoCpus: Math.round(e.ATELIER_LAB_CPUS * 1e9),
      cpuShares: e.ATELIER_LAB_CPU_SHARES,
      shmBytes: e.ATELIER_LAB_SHM_MB * MiB,
      diskBytes: e.ATELIER_LAB_DISK_MB * MiB,
      rootfs: e.ATELIER_LAB_ROOTFS,
      writable: e.ATELIER_LAB_WRITABLE,
      tmpfs: e.ATELIER_LAB_TMPFS,
      seedDirMb: e.ATELIER_LAB_SEED_DIR_MB,
      nofile: e.ATELIER_LAB_NOFILE,
      nproc: e.ATELIER_LAB_NPROC,
      logMaxSize: e.ATELIER_LAB_LOG_MAX_SIZE,
      logMaxFile: e.ATELIER_LAB_LOG_MAX_FILE,
    },
    network: { subnetPool: e.ATELIER_LAB_SUBNET_POOL, subnetPrefix: e.ATELIER_LAB_SUBNET_PREFIX },
    image: e.ATELIER_LAB_IMAGE,
    firewall: e.ATELIER_FIREWALL,
    timeouts: { engineMs: e.ATELIER_ENGINE_TIMEOUT_MS, createMs: e.ATELIER_LAB_CREATE_TIMEOUT_MS, execMs: e.ATELIER_EXEC_TIMEOUT_MS },
    labs: {
      maxLabs: e.ATELIER_MAX_LABS,
      idleMs: e.ATELIER_LAB_IDLE_MINUTES * 60_000,
      maxLifetimeMs: e.ATELIER_LAB_MAX_LIFETIME_MINUTES * 60_000,
      reapIntervalMs: e.ATELIER_REAPER_INTERVAL_SECONDS * 1000,
      // A lab still partial after the longest possible creation was abandoned.
      orphanGraceMs: e.ATELIER_LAB_CREATE_TIMEOUT_MS + 60_000,
      createConcurrency: e.ATELIER_LAB_CREATE_CONCURRENCY,
    },
    pool: e.ATELIER_LAB_POOL,
  };
}
