// Where a lab's preview lives. Each lab is the root of an origin of its own, `{labId}.{preview domain}`,
// so a learner's page that links to `/icons/x.png` or redirects to `/login` works as on a real server,
// and two labs never share an origin. Browsers resolve every `*.localhost` name to loopback (RFC 6761),
// so development needs no DNS; in production the preview domain needs a wildcard DNS record and
// certificate (docs/operations.md). A site reached at an IP address or at a name without
// ATELIER_PREVIEW_ORIGIN has no domain to put labs under: its labs share one origin, under /p/{labId}/,
// and root-relative links there miss the lab (the server warns at start).
//
// A lab whose web server has several name-based virtual hosts (its definition's preview.sites) gives each
// one an origin too: site 0 at `{labId}`, site n at `{labId}-{n}` (one label, so one wildcard certificate
// still covers them all). Site A and site B are then different origins, as they are on the Web: their
// cookies, storage and root-relative links stay apart, and the proxy knows the Host to send from the name.
import type { IncomingMessage } from 'node:http';

export interface PreviewSpace {
  /** the URL of a lab's preview root; `site`: which of its virtual hosts (0, the first, by default) */
  urlOf(labId: string, site?: number): string;
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
  return { urlOf: (labId, site) => `${shared}/p/${label(labId, site)}/`, frameSource: shared };
}

function labsUnder(protocol: string, domain: string, port: string): PreviewSpace {
  const suffix = `${domain}${port ? `:${port}` : ''}`;
  return { urlOf: (labId, site) => `${protocol}//${label(labId, site)}.${suffix}/`, frameSource: `${protocol}//*.${suffix}` };
}

/** The name of a lab's site in its preview address: `{labId}` for the first, `{labId}-{n}` for the others. */
function label(labId: string, site = 0): string {
  return site === 0 ? labId : `${labId}-${site}`;
}

function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h.endsWith('.localhost') || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h);
}

export interface PreviewRoute {
  labId: string;
  /** which of the lab's virtual hosts (preview.sites), 0 for the first or only one */
  site: number;
  /** the path asked of the lab's web server, or null for a bare /p/{labId} (redirected to its root) */
  path: string | null;
  /** prepended to a redirect's absolute path so that it stays in the lab: '' on a lab's own origin */
  prefix: string;
}

// The shape of a lab id (lowercase letters and digits, a valid host label); whether such a lab exists
// is for LabAccess.previewTarget to say.
const LAB_LABEL = /^([a-z0-9]{8,40})(?:-([1-7]))?$/;
const SHARED_ROUTE = /^\/p\/(([a-z0-9]{8,40})(?:-([1-7]))?)(\/.*)?$/;

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
    const m = LAB_LABEL.exec(host.slice(0, -domain.length - 1));
    return m && url.startsWith('/') ? { labId: m[1]!, site: Number(m[2] ?? 0), path: url, prefix: '' } : null;
  }
  const m = SHARED_ROUTE.exec(url);
  if (!m) return null;
  return { labId: m[2]!, site: Number(m[3] ?? 0), path: m[4] ?? null, prefix: `/p/${m[1]!}` };
}
