// Settings of the web side (ports, origins, secrets, per-learner limits), from the environment.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { IncomingMessage } from 'node:http';
import { normalizeOrigin, requestOrigin } from './origin.ts';
import { previewSpace, type PreviewSpace } from '../preview/location.ts';

const int = (def: number) => z.coerce.number().int().min(0).default(def);

const Env = z.object({
  PORT: int(4321),
  HOST: z.string().default('127.0.0.1'),
  ATELIER_PREVIEW_PORT: int(4322),
  /** origins the site is reached at, comma-separated (default: http://localhost:PORT and http://127.0.0.1:PORT) */
  ATELIER_SITE_ORIGINS: z.string().optional(),
  /**
   * origin of the preview, e.g. https://preview.example.org: each lab is served at https://{labId}.preview.example.org
   * (default: http://{labId}.localhost:{preview port} for a site on loopback, else /p/{labId}/ on the site's host name)
   */
  ATELIER_PREVIEW_ORIGIN: z.string().optional(),
  /** HMAC key of the learner cookie; default: a random key kept in ATELIER_SECRET_FILE */
  ATELIER_SECRET: z.string().min(32, 'ATELIER_SECRET must be at least 32 characters').optional(),
  ATELIER_SECRET_FILE: z.string().default('.atelier/secret'),
  /** the progress database (SQLite file; relative to the project) */
  ATELIER_PROGRESS_DB: z.string().default('.atelier/progress.sqlite'),
  /** a PostgreSQL database shared by several backends, e.g. postgres://atelier@db/atelier (replaces the SQLite file) */
  ATELIER_PROGRESS_DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'a postgres:// URL')
    .optional(),
  /** « Vérifier » per learner per minute (each runs commands in their lab) */
  ATELIER_CHECKS_PER_MINUTE: z.coerce.number().int().min(1).max(10_000).default(30),
  ATELIER_SECURE_COOKIE: z.enum(['0', '1']).default('0'),
  /** how long a shell waits for its learner to come back after a disconnect */
  ATELIER_GRACE_SECONDS: int(120),
  ATELIER_CONNECTIONS_PER_LEARNER: int(16),
  /** a terminal's output rate (KiB/s) past a 256 KiB burst, 0 = none: a flood costs CPU outside the lab's limits */
  ATELIER_TERMINAL_OUTPUT_KIB_PER_SECOND: int(1024),
  /** a lab's preview: bytes relayed per second both ways (KiB/s) past a burst of 4 s, and requests at once */
  ATELIER_PREVIEW_KIB_PER_SECOND: int(4096),
  ATELIER_PREVIEW_REQUESTS_PER_LAB: int(16),
  ATELIER_CONNECTS_PER_MINUTE: int(60),
  ATELIER_LAB_CREATES_PER_MINUTE: int(10),
  /**
   * Per network address (a new learner is just a dropped cookie): lab creations and terminal connections
   * per minute, 0 = no limit. Sized for a class behind one NAT address.
   */
  ATELIER_LAB_CREATES_PER_MINUTE_PER_ADDRESS: int(60),
  ATELIER_CONNECTS_PER_MINUTE_PER_ADDRESS: int(600),
  /** header holding the client's address, set by a reverse proxy in front (e.g. x-real-ip); default: the socket's address */
  ATELIER_ADDRESS_HEADER: z
    .string()
    .regex(/^[A-Za-z0-9-]+$/, 'a header name like x-real-ip')
    .optional(),
});

export interface WebSettings {
  port: number;
  host: string;
  previewPort: number;
  siteOrigins: Set<string>;
  previewOrigin: string | null;
  secret: Buffer;
  /** the SQLite file of learners' progress */
  progressDatabase: string;
  /** PostgreSQL instead, when several backends share the progress */
  progressDatabaseUrl: string | null;
  checksPerMinute: number;
  secureCookie: boolean;
  graceMs: number;
  connectionsPerLearner: number;
  terminalOutputBytesPerSecond: number;
  previewBytesPerSecond: number;
  previewRequestsPerLab: number;
  connectsPerMinute: number;
  labCreatesPerMinute: number;
  labCreatesPerMinutePerAddress: number;
  connectsPerMinutePerAddress: number;
  addressHeader: string | null;
}

/** With PORT=0 (tests), the default origins and the preview port are known only once listening. */
export function bindPorts(settings: WebSettings, env: NodeJS.ProcessEnv, sitePort: number, previewPort: number): void {
  settings.previewPort = previewPort;
  if (env.ATELIER_SITE_ORIGINS) return;
  settings.siteOrigins.clear();
  for (const o of [`http://localhost:${sitePort}`, `http://127.0.0.1:${sitePort}`]) settings.siteOrigins.add(o);
}

export function webSettings(env: NodeJS.ProcessEnv = process.env, root = process.cwd()): WebSettings {
  const parsed = Env.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  - ${i.path.join('.')}: ${i.message}`);
    throw new Error(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  const origins = (e.ATELIER_SITE_ORIGINS ?? `http://localhost:${e.PORT},http://127.0.0.1:${e.PORT}`)
    .split(',')
    .map((o) => o.trim())
    .filter(Boolean)
    .map(normalizeOrigin);
  return {
    port: e.PORT,
    host: e.HOST,
    previewPort: e.ATELIER_PREVIEW_PORT,
    siteOrigins: new Set(origins),
    previewOrigin: e.ATELIER_PREVIEW_ORIGIN ? normalizeOrigin(e.ATELIER_PREVIEW_ORIGIN) : null,
    secret: e.ATELIER_SECRET ? Buffer.from(e.ATELIER_SECRET) : persistentSecret(resolve(root, e.ATELIER_SECRET_FILE)),
    progressDatabase: resolve(root, e.ATELIER_PROGRESS_DB),
    progressDatabaseUrl: e.ATELIER_PROGRESS_DATABASE_URL ?? null,
    checksPerMinute: e.ATELIER_CHECKS_PER_MINUTE,
    secureCookie: e.ATELIER_SECURE_COOKIE === '1',
    graceMs: e.ATELIER_GRACE_SECONDS * 1000,
    connectionsPerLearner: e.ATELIER_CONNECTIONS_PER_LEARNER,
    terminalOutputBytesPerSecond: e.ATELIER_TERMINAL_OUTPUT_KIB_PER_SECOND * 1024,
    previewBytesPerSecond: Math.max(1, e.ATELIER_PREVIEW_KIB_PER_SECOND) * 1024,
    previewRequestsPerLab: Math.max(1, e.ATELIER_PREVIEW_REQUESTS_PER_LAB),
    connectsPerMinute: e.ATELIER_CONNECTS_PER_MINUTE,
    labCreatesPerMinute: e.ATELIER_LAB_CREATES_PER_MINUTE,
    labCreatesPerMinutePerAddress: e.ATELIER_LAB_CREATES_PER_MINUTE_PER_ADDRESS,
    connectsPerMinutePerAddress: e.ATELIER_CONNECTS_PER_MINUTE_PER_ADDRESS,
    addressHeader: e.ATELIER_ADDRESS_HEADER ?? null,
  };
}

/**
 * The site origin a request came to, if it is one of the configured ones; else the first of them (a
 * forged Host header never chooses where the page points).
 */
export function siteOriginFor(settings: WebSettings, req: IncomingMessage): string {
  const asked = requestOrigin(req, settings.secureCookie);
  if (asked && settings.siteOrigins.has(asked)) return asked;
  return [...settings.siteOrigins][0] ?? 'http://localhost';
}

/** Where this request's labs are previewed (preview/location.ts). */
export function previewSpaceFor(settings: WebSettings, req: IncomingMessage): PreviewSpace {
  return previewSpace(settings.previewOrigin, new URL(siteOriginFor(settings, req)).hostname, settings.previewPort);
}

/**
 * Why the preview does not have a site of its own, or null when it does. Cookies, HSTS and site data
 * are shared by every port and subdomain of one site: in production the preview belongs on another
 * registrable domain (docs/operations.md). Approximated by the last two labels of the host name.
 */
export function previewSiteWarning(settings: WebSettings): string | null {
  const site = (origin: string) => new URL(origin).hostname.split('.').slice(-2).join('.');
  if (!settings.previewOrigin)
    return "the previews are on *.localhost or the site's host name: set ATELIER_PREVIEW_ORIGIN to a wildcard domain of another registrable domain in production";
  const shared = [...settings.siteOrigins].find((o) => site(o) === site(settings.previewOrigin!));
  return shared ? `the preview (${settings.previewOrigin}) shares a site with ${shared}: give it another registrable domain` : null;
}

/** A restart must not log every learner out (their labs live on in the engine): keep the key on disk. */
function persistentSecret(file: string): Buffer {
  if (existsSync(file)) return readFileSync(file);
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const secret = randomBytes(32);
  writeFileSync(file, secret, { mode: 0o600 });
  return secret;
}
