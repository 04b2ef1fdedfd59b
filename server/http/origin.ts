// Exact Origin check for WebSocket upgrades and state-changing requests. A preview served on another
// port of the same host is same-site, so SameSite cookies ride along from learner-written pages:
// only the exact scheme://host:port of the site is accepted.
import type { IncomingMessage } from 'node:http';

export function normalizeOrigin(origin: string): string {
  const u = new URL(origin);
  return `${u.protocol}//${u.host}`; // URL drops default ports, so http://a:80 equals http://a
}

export function originAllowed(req: IncomingMessage, allowed: ReadonlySet<string>): boolean {
  const origin = req.headers.origin;
  if (typeof origin !== 'string' || origin === 'null') return false;
  try {
    return allowed.has(normalizeOrigin(origin));
  } catch {
    return false;
  }
}

/** The origin the request itself was addressed to (Host header), for a same-origin check when no list is configured. */
export function requestOrigin(req: IncomingMessage, secure: boolean): string | null {
  const host = req.headers.host;
  if (!host) return null;
  try {
    return normalizeOrigin(`${secure ? 'https' : 'http'}://${host}`);
  } catch {
    return null;
  }
}
