// What of a lab's HTTP answer reaches the learner's browser. Every learner is root in their lab and can
// serve any bytes, and the preview may share a site with the course (`*.localhost` in development, the
// site's host name on another port when it has no preview domain; cookies and a few other browser states
// ignore ports and subdomains): so the status line and headers are rebuilt from an allow-list, never copied. What is not
// on the list (Set-Cookie, Clear-Site-Data, Strict-Transport-Security, Alt-Svc, NEL…) never reaches the
// browser, including headers no browser knows yet.
import { validateHeaderName, validateHeaderValue, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http';

/** Headers about the representation or the exchange itself: none of them lasts beyond the response. */
const PASSED = new Set([
  'accept-ranges',
  'allow',
  'content-disposition',
  'content-encoding',
  'content-language',
  'content-length',
  'content-range',
  'content-type',
  'date',
  'link',
  'location',
  'refresh',
  'retry-after',
  'server',
  'vary',
  'www-authenticate',
]);

/**
 * Every preview document is sandboxed as in the lab panel's iframe, also when opened in a tab of its own:
 * its origin is opaque, so its scripts can neither read nor write cookies, register a service worker, or
 * reach the site as a same-site page.
 */
export const SANDBOX = 'sandbox allow-scripts allow-forms allow-popups';

export interface StatusLine {
  status: number;
  /** the lab's reason phrase when it is plain printable ASCII, else the standard one */
  reason: string | undefined;
}

/** The lab's status line if a browser can be given it, else null (the proxy then answers 502). */
export function statusLine(code: number | undefined, reason: string | undefined): StatusLine | null {
  if (code === undefined || !Number.isInteger(code) || code < 200 || code > 599) return null;
  return { status: code, reason: reason !== undefined && /^[\x20-\x7e]{0,200}$/.test(reason) ? reason : undefined };
}

/**
 * The headers sent to the browser for a lab's answer. `labPrefix` is '' on a lab's own origin and
 * `/p/{labId}` on the shared one: a redirect to an absolute path stays inside the lab's preview.
 */
export function previewResponseHeaders(upstream: IncomingHttpHeaders, labPrefix: string): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(upstream)) {
    if (value === undefined || !(PASSED.has(name) || name.startsWith('x-'))) continue;
    const values = Array.isArray(value) ? value : [value];
    if (values.length === 0 || !values.every((v) => validHeader(name, v))) continue;
    out[name] = value;
  }
  const location = out.location;
  if (typeof location === 'string' && location.startsWith('/') && !location.startsWith('//') && !location.startsWith('/\\')) {
    out.location = `${labPrefix}${location}`;
  }
  const csp = upstream['content-security-policy'];
  // Two policies in one header (comma-separated): the browser enforces both, so the lab's own stays.
  out['content-security-policy'] = typeof csp === 'string' && validHeader('content-security-policy', csp) ? `${csp}, ${SANDBOX}` : SANDBOX;
  // A preview never shows an old answer: the learner changes the server and reloads (no validators
  // either, so the browser keeps nothing to revalidate).
  out['cache-control'] = 'no-store';
  return out;
}

function validHeader(name: string, value: string): boolean {
  try {
    validateHeaderName(name);
    validateHeaderValue(name, value);
    return value.length <= 8192;
  } catch {
    return false;
  }
}
