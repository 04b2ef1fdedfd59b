// The preview: an HTTP proxy on origins of its own (one per lab, location.ts), so HTML and JavaScript
// written by a learner can neither read the course site's cookies nor call its API as the site.
// {labId}.{domain}/path (or /p/{labId}/path) → the lab's preview host and port. Status codes and bodies pass through: the chapter's
// 502 and 503 must be seen as they are. Anything the lab answers is hostile input (the learner is root
// there): a bad answer fails that one request with a 502, never the process.
import { randomBytes } from 'node:crypto';
import { request, STATUS_CODES, type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from 'node:http';
import { Transform, type Duplex } from 'node:stream';
import { PREVIEW_REQUESTS_KEPT, type PreviewRequestTiming } from '../../protocol/preview.ts';
import { COOKIE_NAME } from '../http/identity.ts';
import type { LabAccess, PreviewTarget } from '../terminal/ports.ts';
import { LabBudgets } from './lab-budget.ts';
import { previewRoute } from './location.ts';
import { PREVIEW_ERRORS as E, PREVIEW_RESULTS as R } from './messages.ts';
import { previewResponseHeaders, statusLine } from './response-headers.ts';

const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer', 'content-length'];

export interface PreviewResult {
  path: string;
  status: number;
  statusText: string;
  at: number;
  /**
   * Increases with every result recorded (starting from the clock, so also across restarts): the panel
   * takes a result for the page it just loaded only if it is newer than the one it showed before.
   */
  seq: number;
  /** that page's navigation, then what it loaded, timed by this proxy (protocol/preview.ts) */
  requests: PreviewRequestTiming[];
}

/**
 * The iframe's parent (the site) cannot read a cross-origin response's status, yet the student must
 * see Nginx's 502 even when the body is a friendly error page: the last status per lab is kept here
 * (display only: losing it on restart loses nothing) and served by the lab API.
 */
export class PreviewStatuses {
  readonly #last = new Map<string, Omit<PreviewResult, 'requests'>>();
  /** per lab, the requests since its last navigation began (the timing bars of the page on screen) */
  readonly #requests = new Map<string, PreviewRequestTiming[]>();
  #seq = 0;
  record(labId: string, result: Omit<PreviewResult, 'seq' | 'requests'>): void {
    this.#seq = Math.max(this.#seq + 1, Date.now());
    this.#last.delete(labId);
    this.#last.set(labId, { ...result, seq: this.#seq });
    if (this.#last.size > 10_000) this.#last.delete(this.#last.keys().next().value!);
  }
  /**
   * A request sent to the lab: its timing, filled in by the proxy as the answer comes. A navigation starts
   * a new list; past PREVIEW_REQUESTS_KEPT, a page's further requests are not timed (memory stays bounded).
   */
  begin(labId: string, path: string, navigation: boolean): PreviewRequestTiming | null {
    const timing: PreviewRequestTiming = {
      id: randomBytes(8).toString('hex'),
      path,
      status: 0,
      navigation,
      firstByteMs: null,
      lastByteMs: null,
    };
    const list = navigation ? [] : this.#requests.get(labId);
    if (!list || list.length >= PREVIEW_REQUESTS_KEPT) return null;
    list.push(timing);
    this.#requests.delete(labId);
    this.#requests.set(labId, list);
    if (this.#requests.size > 10_000) this.#requests.delete(this.#requests.keys().next().value!);
    return timing;
  }
  get(labId: string): PreviewResult | undefined {
    const last = this.#last.get(labId);
    return last && { ...last, requests: (this.#requests.get(labId) ?? []).map((t) => ({ ...t })) };
  }
}

export interface PreviewOptions {
  /** labs are served at `{labId}.{domain}` (location.ts) */
  domain: string;
  /** idle time on the lab's connection before the request fails */
  timeoutMs: number;
  statuses?: PreviewStatuses;
  /** largest request body relayed to a lab (413 past it) */
  maxBodyBytes?: number;
  /** per lab: requests at once, and bytes per second both ways past a burst */
  concurrent?: number;
  bytesPerSecond?: number;
  burstBytes?: number;
}

export function previewProxy(labs: LabAccess, opts: PreviewOptions) {
  const maxBody = opts.maxBodyBytes ?? 8 * 1024 * 1024;
  const budgets = new LabBudgets({
    concurrent: opts.concurrent ?? 16,
    bytesPerSecond: opts.bytesPerSecond ?? 4 * 1024 * 1024,
    burstBytes: opts.burstBytes ?? 16 * 1024 * 1024,
  });
  return async (req: IncomingMessage, res: ServerResponse) => {
    const route = previewRoute(req, opts.domain);
    const fail = (status: number, text: string): void => {
      if (res.writableEnded) return;
      if (res.headersSent) {
        res.destroy();
        return;
      }
      // Headers of a lab answer that failed before its first byte are not this answer's.
      for (const name of res.getHeaderNames()) res.removeHeader(name);
      res.writeHead(status, STATUS_CODES[status], { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' }).end(text);
    };
    if (!route) return fail(404, E.unknownAddress);
    const { labId, path, prefix } = route;
    if (path === null) return void res.writeHead(308, { Location: `${prefix}/` }).end();
    const bodyLength = Number(req.headers['content-length'] ?? 0);
    if (!(bodyLength <= maxBody)) return fail(413, E.bodyTooLarge(maxBody));
    let target: PreviewTarget | null;
    try {
      target = await labs.previewTarget(labId);
    } catch {
      return fail(503, E.engineDown);
    }
    if (!target) return fail(404, E.noSuchLab);
    const host = siteHost(target.sites, route.site);
    if (host === undefined) return fail(404, E.noSuchSite);
    const slot = budgets.acquire(labId);
    if (!slot) return fail(429, E.tooManyRequests);
    res.once('close', () => slot.release());
    labs.touch(labId);

    const navigation = isNavigation(req);
    const record = (status: number, statusText: string) => {
      if (!navigation) return; // the page's own status is what the student sees, not what it loads or fetches
      opts.statuses?.record(labId, { path, status, statusText, at: Date.now() });
    };
    // Timed here, between this proxy and the lab: the browser's Resource Timing cannot see inside a
    // cross-origin frame, and would add the learner's own network to the lab's time (docs/architecture.md).
    const timing = opts.statuses?.begin(labId, path, navigation) ?? null;
    const sentAt = performance.now();
    const elapsed = () => Math.round((performance.now() - sentAt) * 10) / 10;
    const lab = target;
    const upstream = request({
      method: req.method,
      path,
      headers: requestHeaders(req, host, timing?.id),
      timeout: opts.timeoutMs,
      // One stream per request (no agent): what a lab sends after its answer can never be read as the next
      // one. The provider makes the stream, so a port-forward serves as well as a direct connection.
      createConnection: (_options, made: (err: Error | null, stream: Duplex) => void) => {
        connectWithin(lab, opts.timeoutMs).then(
          (stream) => made(null, stream),
          (err: Error) => made(err, undefined as never),
        );
        return undefined as never;
      },
    });
    upstream.on('timeout', () => upstream.destroy(new Error('timeout')));
    upstream.on('response', (up) => answer(up));
    upstream.on('error', () => {
      if (res.headersSent) return fail(0, ''); // mid-answer: cut the connection
      record(0, R.noAnswer);
      fail(502, E.noAnswer);
    });
    res.once('close', () => upstream.destroy());

    const answer = (up: IncomingMessage) => {
      if (timing) {
        timing.firstByteMs = elapsed();
        timing.status = up.statusCode ?? 0;
        up.once('end', () => (timing.lastByteMs = elapsed()));
      }
      const line = statusLine(up.statusCode, up.statusMessage);
      if (!line) {
        up.destroy();
        record(0, R.badStatus(String(up.statusCode)));
        return fail(502, E.badStatus(String(up.statusCode)));
      }
      // Set, not written: they leave with the first body byte (or the end), so a lab answer that breaks
      // before it (bytes after a 304, a bad first chunk, an early close) still gets this proxy's 502.
      try {
        res.statusCode = line.status;
        res.statusMessage = line.reason ?? STATUS_CODES[line.status] ?? '';
        for (const [name, value] of Object.entries(previewResponseHeaders(up.headers, prefix)))
          if (value !== undefined) res.setHeader(name, value);
      } catch {
        // Checked above; a header Node still refuses must fail this request only.
        up.destroy();
        return fail(502, E.badHeaders);
      }
      record(line.status, line.reason ?? '');
      // Not pipeline(): it would destroy the browser's response, which may still get the 502 below.
      const meter = slot.meter();
      const broken = () => {
        record(0, R.broken);
        fail(502, E.broken);
      };
      up.on('error', broken);
      meter.on('error', broken);
      up.pipe(meter).pipe(res);
    };

    // The body, bounded and metered; a chunked one stays chunked (requestHeaders). Not pipeline(): an
    // upstream that fails must not destroy the browser's request, which still gets this proxy's answer.
    const limit = bodyLimit(maxBody);
    limit.on('error', () => {
      fail(413, E.bodyTooLarge(maxBody));
      upstream.destroy();
    });
    req.on('error', () => upstream.destroy());
    req.pipe(limit).pipe(slot.meter()).pipe(upstream);
  };
}

/** The lab's stream, or an error once `ms` have passed (a stream that comes later is closed). */
function connectWithin(target: PreviewTarget, ms: number): Promise<Duplex> {
  return new Promise((resolve, reject) => {
    let late = false;
    const timer = setTimeout(() => {
      late = true;
      reject(new Error('no connection to the lab in time'));
    }, ms);
    target.connect().then(
      (stream) => {
        clearTimeout(timer);
        if (late) stream.destroy();
        else resolve(stream);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
}

/**
 * A page loaded in the panel's frame or a tab (a navigation), not an image, a script or a fetch() of
 * that page. Browsers send Fetch Metadata to secure and local origins only; elsewhere a request for HTML
 * is taken for a navigation.
 */
export function isNavigation(req: IncomingMessage): boolean {
  const mode = req.headers['sec-fetch-mode'];
  if (mode !== undefined) return mode === 'navigate';
  return (req.headers.accept ?? '').includes('text/html');
}

/** The Host header for a site of the lab: its virtual host's name, or localhost when it names none. */
function siteHost(sites: string[], site: number): string | undefined {
  if (sites.length === 0) return site === 0 ? 'localhost' : undefined;
  return sites[site];
}

/**
 * The browser's request headers for the lab, without hop-by-hop headers and the site's cookie. The body's
 * framing is set again from what Node parsed, so a lab never receives a body framed differently from what
 * this proxy read (request smuggling into the lab).
 */
function requestHeaders(req: IncomingMessage, host: string, requestId?: string): OutgoingHttpHeaders {
  const headers: OutgoingHttpHeaders = { ...req.headers };
  for (const h of HOP_BY_HOP) delete headers[h];
  // This proxy's id of the request, so the lab's php-fpm can log it (script-timing.ts); never the browser's.
  delete headers['x-atelier-request'];
  if (requestId) headers['x-atelier-request'] = requestId;
  headers.host = host;
  const cookie = stripSiteCookie(req.headers.cookie);
  if (cookie) headers.cookie = cookie;
  else delete headers.cookie;
  if (req.headers['transfer-encoding'] !== undefined) headers['transfer-encoding'] = 'chunked';
  else if (req.headers['content-length'] !== undefined) headers['content-length'] = req.headers['content-length'];
  return headers;
}

function bodyLimit(max: number): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      seen += chunk.length;
      done(seen > max ? new Error('request body too large') : null, chunk);
    },
  });
}

function stripSiteCookie(cookie: string | undefined): string {
  if (!cookie) return '';
  return cookie
    .split(';')
    .map((c) => c.trim())
    .filter((c) => c && !c.startsWith(`${COOKIE_NAME}=`))
    .join('; ');
}
