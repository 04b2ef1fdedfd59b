// Where a lab's preview lives. Each lab is the root of an origin of its own, `{labId}.{preview domain}`,
// so a learner's page that links to `/icons/x.png` or redirects to `/login` works as on a real server,
// and two labs never share an origin. Browsers resolve every `*.localhost` name to loopback (RFC 6761),
// so development needs no DNS; in production the preview domain needs a wildcard DNS record and
// certificate (docs/operations.md). A site reached at an IP address or at a name without
// ATELIER_PREVIEW_ORIGIN has no domain to put labs under: its labs share one origin, under /p/{labId}/,
// and root-relative links there miss the lab (the server warns at start).
import type { IncomingMessage } from 'node:http';

export interface PreviewSpace {
  /** the URL of a lab's preview root */
  urlOf(labId: string): string;
  /** what the site's Content-Security-Policy allows to be framed */
  frameSource: string;
}

/**
 * `configured`: ATELIER_PREVIEW_ORIGIN (labs go under its host name), or null; `siteHost`: the host name
 * the site was reached at; `previewPort`: the preview server's port when no origin is configured.
 */
export function previewSpace(configured: string | null, siteHost: string, previewPort: number): PreviewSpace {
  if (configured) {
    const u = new URL(configured);
    return labsUnder(u.protocol, u.hostname, u.port);
  }
  if (isLoopback(siteHost)) return labsUnder('http:', 'localhost', String(previewPort));
  const shared = `http://${siteHost}:${previewPort}`; // an IPv6 host name keeps its brackets (URL.hostname)
  return { urlOf: (labId) => `${shared}/p/${labId}/`, frameSource: shared };
}

function labsUnder(protocol: string, domain: string, port: string): PreviewSpace {
  const suffix = `${domain}${port ? `:${port}` : ''}`;
  return { urlOf: (labId) => `${protocol}//${labId}.${suffix}/`, frameSource: `${protocol}//*.${suffix}` };
}

function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h.endsWith('.localhost') || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h);
}

export interface PreviewRoute {
  labId: string;
  /** the path asked of the lab's web server, or null for a bare /p/{labId} (redirected to its root) */
  path: string | null;
  /** prepended to a redirect's absolute path so that it stays in the lab: '' on a lab's own origin */
  prefix: string;
}

// The shape of a lab id (lowercase letters and digits, a valid host label); whether such a lab exists
// is for LabAccess.previewTarget to say.
const LAB_ID = /^[a-z0-9]{8,40}$/;
const SHARED_ROUTE = /^\/p\/([a-z0-9]{8,40})(\/.*)?$/;

/** The domain labs are put under (`{labId}.{domain}`): ATELIER_PREVIEW_ORIGIN's host name, else localhost. */
export function labDomain(configured: string | null): string {
  return configured ? new URL(configured).hostname : 'localhost';
}

/**
 * The lab a preview request is for: the first label of its Host when the rest is `domain`
 * (`{labId}.{domain}`), else the /p/{labId}/ path of the shared origin. null when neither names a lab.
 */
export function previewRoute(req: IncomingMessage, domain: string): PreviewRoute | null {
  const url = req.url ?? '/';
  const host = (req.headers.host ?? '').toLowerCase().replace(/:\d+$/, '');
  if (host.endsWith(`.${domain}`)) {
    const labId = host.slice(0, -domain.length - 1);
    return LAB_ID.test(labId) && url.startsWith('/') ? { labId, path: url, prefix: '' } : null;
  }
  const m = SHARED_ROUTE.exec(url);
  if (!m) return null;
  return { labId: m[1]!, path: m[2] ?? null, prefix: `/p/${m[1]!}` };
}
