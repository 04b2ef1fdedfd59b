// The lab HTTP API (docs/protocol.md § HTTP API), on the site's own origin: the learner cookie rides
// along with same-origin fetches. Every failure becomes a LabApiError carrying a French message, and
// every request has a time bound. A start is asked with `Prefer: respond-async`: the server answers
// within a second or two, with the lab ready or 'starting' and its progress, and the panel follows it.
import { parseStartProgress, type StartProgress } from '../../../protocol/lab-start.ts';
import { sentence, TEXT } from './strings.ts';

/** No answer within this long: the request failed (the server answers a start early, see above). */
const REQUEST_TIMEOUT_MS = 30_000;

export interface LabInfo {
  name: string;
  labId: string;
  title: string;
  hosts: string[];
  state: 'starting' | 'ready' | 'expired';
  /** absolute URL on the preview origin */
  previewUrl: string;
  /** one per site of the preview (its virtual hosts), the first being previewUrl */
  previewUrls?: string[];
  /** ms since the epoch */
  expiresAt: number;
  /** 'starting': how far its start has come, when the server knows */
  progress?: StartProgress;
}

export class LabApiError extends Error {
  /** HTTP status, 0 when the server could not be reached */
  readonly status: number;
  /** `error` field of the answer, e.g. rate-limited, no-room, network */
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

const STATES = new Set(['starting', 'ready', 'expired']);

/** Checks the shape of a lab info answer; throws a LabApiError naming what is wrong. */
export function parseLabInfo(body: unknown): LabInfo {
  const bad = (what: string) => new LabApiError(200, 'bad-answer', `réponse du serveur inattendue (${what})`);
  if (typeof body !== 'object' || body === null) throw bad('pas un objet');
  const b = body as Record<string, unknown>;
  for (const key of ['name', 'labId', 'title', 'previewUrl'] as const) if (typeof b[key] !== 'string') throw bad(key);
  if (!Array.isArray(b.hosts) || b.hosts.length === 0 || !b.hosts.every((h) => typeof h === 'string')) throw bad('hosts');
  if (typeof b.state !== 'string' || !STATES.has(b.state)) throw bad('state');
  if (typeof b.expiresAt !== 'number') throw bad('expiresAt');
  let preview: URL;
  try {
    preview = new URL(b.previewUrl as string);
  } catch {
    throw bad('previewUrl');
  }
  if (preview.protocol !== 'http:' && preview.protocol !== 'https:') throw bad('previewUrl');
  if (b.previewUrls !== undefined && !(Array.isArray(b.previewUrls) && b.previewUrls.every(isWebUrl))) throw bad('previewUrls');
  const info = { ...b } as unknown as LabInfo;
  const progress = parseStartProgress(b.progress);
  if (progress) info.progress = progress;
  else delete info.progress;
  return info;
}

function isWebUrl(value: unknown): boolean {
  try {
    return typeof value === 'string' && /^https?:$/.test(new URL(value).protocol);
  } catch {
    return false;
  }
}

async function call(method: 'GET' | 'POST', path: string): Promise<{ status: number; body: unknown }> {
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      credentials: 'same-origin',
      cache: 'no-store',
      headers:
        method === 'POST'
          ? { 'Content-Type': 'application/json', Accept: 'application/json', Prefer: 'respond-async' }
          : { Accept: 'application/json' },
      body: method === 'POST' ? '{}' : null,
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
  } catch {
    throw new LabApiError(0, 'network', TEXT.network);
  }
  let body: unknown = null;
  try {
    body = await response.json();
  } catch {
    // an HTML error page from a proxy in front of us: reported below with the status
  }
  return { status: response.status, body };
}

function failure(status: number, body: unknown): LabApiError {
  const b = (typeof body === 'object' && body !== null ? body : {}) as { error?: unknown; message?: unknown };
  const code = typeof b.error === 'string' ? b.error : 'http';
  const message = typeof b.message === 'string' && b.message ? sentence(b.message) : `${TEXT.startFailed} (HTTP ${status})`;
  return new LabApiError(status, code, message);
}

const path = (name: string) => `/api/labs/${encodeURIComponent(name)}`;

/** The learner's lab of this kind, or null when they have none. */
export async function getLab(name: string): Promise<LabInfo | null> {
  const { status, body } = await call('GET', path(name));
  if (status === 204 || (status === 200 && body === null)) return null; // "no lab" without an error status
  if (status === 200) return parseLabInfo(body);
  if (status === 404 && (body as { error?: unknown } | null)?.error === 'no-lab') return null;
  throw failure(status, body);
}

/** Creates the learner's lab of this kind, or returns the one they have (maybe still 'starting'). */
export async function createLab(name: string): Promise<LabInfo> {
  const { status, body } = await call('POST', path(name));
  if (status === 200 || status === 202) return parseLabInfo(body);
  throw failure(status, body);
}

/** A fresh lab in its start state (maybe still 'starting'). */
export async function resetLab(name: string): Promise<LabInfo> {
  const { status, body } = await call('POST', `${path(name)}/reset`);
  if (status === 200 || status === 202) return parseLabInfo(body);
  throw failure(status, body);
}
