// The preview: an HTTP proxy on its own origin (another port or host name), so HTML and JavaScript
// written by a learner can neither read the course site's cookies nor call its API as the site.
// /p/{labId}/path → the lab's preview host and port. Status codes and bodies pass through untouched:
// the chapter's 502 and 503 must be seen as they are.
import { request, type IncomingMessage, type ServerResponse } from 'node:http';
import { COOKIE_NAME } from '../http/identity.ts';
import type { LabAccess } from '../terminal/ports.ts';

const ROUTE = /^\/p\/([A-Za-z0-9_-]{8,64})(\/.*)?$/;
/**
 * Every preview document is sandboxed as in the lab panel's iframe, also when opened in a tab of its own:
 * its origin is opaque, so its scripts cannot write cookies, which the site would receive (cookies ignore
 * ports, so the preview's host is the site's host for them).
 */
const SANDBOX = 'sandbox allow-scripts allow-forms allow-popups';
const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer'];

export interface PreviewResult {
  path: string;
  status: number;
  statusText: string;
  at: number;
}

/**
 * The iframe's parent (the site) cannot read a cross-origin response's status, yet the student must
 * see Nginx's 502 even when the body is a friendly error page: the last status per lab is kept here
 * (display only: losing it on restart loses nothing) and served by the lab API.
 */
export class PreviewStatuses {
  readonly #last = new Map<string, PreviewResult>();
  record(labId: string, result: PreviewResult): void {
    this.#last.delete(labId);
    this.#last.set(labId, result);
    if (this.#last.size > 10_000) this.#last.delete(this.#last.keys().next().value!);
  }
  get(labId: string): PreviewResult | undefined {
    return this.#last.get(labId);
  }
}

export function previewProxy(labs: LabAccess, opts: { timeoutMs: number; statuses?: PreviewStatuses }) {
  return async (req: IncomingMessage, res: ServerResponse) => {
    const url = req.url ?? '/';
    const m = ROUTE.exec(url);
    const fail = (status: number, text: string) => {
      if (res.headersSent) return res.destroy();
      res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' }).end(text);
    };
    if (!m) return fail(404, 'Aperçu : adresse inconnue.');
    const labId = m[1]!;
    if (!m[2]) return res.writeHead(308, { Location: `/p/${labId}/` }).end();
    let target: { host: string; port: number } | null;
    try {
      target = await labs.previewTarget(labId);
    } catch {
      return fail(503, "Aperçu : le moteur de conteneurs ne répond pas.");
    }
    if (!target) return fail(404, "Aperçu : ce lab n'existe pas (ou plus).");
    labs.touch(labId);

    const headers = { ...req.headers };
    for (const h of HOP_BY_HOP) delete headers[h];
    headers.host = 'localhost';
    headers.cookie = stripSiteCookie(req.headers.cookie);
    if (!headers.cookie) delete headers.cookie;
    const upstream = request(
      { host: target.host, port: target.port, method: req.method, path: m[2], headers, timeout: opts.timeoutMs },
      (up) => {
        const out: Record<string, string | string[]> = {};
        for (const [k, v] of Object.entries(up.headers)) if (v !== undefined && !HOP_BY_HOP.includes(k)) out[k] = v;
        // The lab must not set the site's cookie either (a learner would hand theirs to whoever opens the page).
        const cookies = (up.headers['set-cookie'] ?? []).filter((c) => !touchesSiteCookie(c));
        if (cookies.length > 0) out['set-cookie'] = cookies;
        else delete out['set-cookie'];
        const csp = up.headers['content-security-policy'];
        out['content-security-policy'] = csp ? [String(csp), SANDBOX] : SANDBOX;
        // A redirect to an absolute path stays inside this lab's prefix.
        const loc = up.headers.location;
        if (typeof loc === 'string' && loc.startsWith('/') && !loc.startsWith('//')) out.location = `/p/${labId}${loc}`;
        res.writeHead(up.statusCode ?? 502, up.statusMessage, out);
        if (req.headers['sec-fetch-dest'] !== 'image' && req.headers['sec-fetch-dest'] !== 'script' && req.headers['sec-fetch-dest'] !== 'style') {
          opts.statuses?.record(labId, { path: m[2]!, status: up.statusCode ?? 0, statusText: up.statusMessage ?? '', at: Date.now() });
        }
        up.pipe(res);
      },
    );
    upstream.on('timeout', () => upstream.destroy(new Error('timeout')));
    upstream.on('error', () => {
      opts.statuses?.record(labId, { path: m[2]!, status: 0, statusText: 'pas de réponse du serveur web du lab', at: Date.now() });
      fail(502, "Aperçu : le serveur web du lab ne répond pas (port fermé ou service arrêté).");
    });
    req.pipe(upstream);
  };
}

function stripSiteCookie(cookie: string | undefined): string {
  if (!cookie) return '';
  return cookie
    .split(';')
    .map((c) => c.trim())
    .filter((c) => c && !c.startsWith(`${COOKIE_NAME}=`))
    .join('; ');
}

/** A Set-Cookie whose name (or, for a nameless cookie, value) is the site's cookie, in any case. */
function touchesSiteCookie(setCookie: string): boolean {
  const pair = setCookie.split(';')[0] ?? '';
  return pair.toLowerCase().includes(COOKIE_NAME.toLowerCase());
}
