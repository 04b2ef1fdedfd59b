// The HTTP API of the lab panel: GET/POST /api/labs/{name}, POST /api/labs/{name}/reset,
// POST /api/labs/{name}/checks/{id} (« Vérifier »), POST …/checks/{id}/solution (« Voir la solution de
// cette étape ») and …/checks/{id}/apply (« Appliquer »), GET /api/progress (the checks the learner passed).
// Every answer is JSON; errors carry a French message for the student.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ProgressStore } from '../progress/store.ts';
import {
  ApplyRefusedError,
  NoLabError,
  NoRoomError,
  SolutionUnavailableError,
  UnknownCheckError,
  UnknownLabError,
  type LabAccess,
  type LabView,
} from '../terminal/ports.ts';
import type { PreviewSpace } from '../preview/location.ts';
import type { PreviewStatuses } from '../preview/proxy.ts';
import { BackgroundStarts } from './background-starts.ts';
import { API_MESSAGES as M } from './messages.ts';
import type { Identity } from './identity.ts';
import { originAllowed } from './origin.ts';
import { RateLimiter } from './rate-limit.ts';

export interface ApiOptions {
  labs: LabAccess;
  identity: Identity;
  allowedOrigins: ReadonlySet<string>;
  createLimiter: RateLimiter;
  checkLimiter: RateLimiter;
  progress: ProgressStore;
  /** per-address limit of lab creations and resets (absent: none) */
  addressAllowed?: (req: IncomingMessage) => boolean;
  /** where this request's labs are previewed */
  previewSpace: (req: IncomingMessage) => PreviewSpace;
  previewStatuses: PreviewStatuses;
  log?: (msg: string) => void;
}

/** A start asked with `Prefer: respond-async` is answered once ready, or after this long with its progress (202). */
const ASYNC_ANSWER_MS = 1000;

const ROUTE =
  /^\/api\/labs\/([a-z][a-z0-9-]{0,30})(\/reset|\/preview-status|\/preview-script|\/checks\/([a-z][a-z0-9-]{0,30})(\/solution|\/apply)?)?$/;

export function labApi(opts: ApiOptions) {
  const json = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' });
    res.end(JSON.stringify(body));
  };
  const info = (req: IncomingMessage, lab: LabView) => {
    const space = opts.previewSpace(req);
    // One URL per site of the lab's preview (its virtual hosts), the first also as previewUrl.
    const previewUrls = Array.from({ length: lab.previewSites }, (_, site) => space.urlOf(lab.labId, site));
    return { ...lab, previewUrl: previewUrls[0], previewUrls };
  };
  const background = new BackgroundStarts();
  const scriptLimiter = new RateLimiter(30, 90);

  /** Returns false when the request is not for the API. */
  return async function handle(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    const path = (req.url ?? '').split('?')[0] ?? '';
    if (!path.startsWith('/api/')) return false;
    if (path === '/api/progress' && req.method === 'GET') {
      const learner = opts.identity.identify(req);
      const passed = learner ? await opts.progress.passed(learner) : [];
      return (json(res, 200, { passed: passed.map((p) => ({ lab: p.lab, checkId: p.checkId, at: p.at.toISOString() })) }), true);
    }
    const m = ROUTE.exec(path);
    if (!m) return (json(res, 404, { error: 'not-found', message: M.notFound }), true);
    const [, name, action, checkId, help] = m as unknown as [string, string, string | undefined, string | undefined, string | undefined];
    const reset = action === '/reset';
    try {
      if (req.method === 'GET' && action === '/preview-status') {
        const learner = opts.identity.identify(req);
        const lab = learner ? await opts.labs.find(learner, name) : null;
        const last = lab ? opts.previewStatuses.get(lab.labId) : undefined;
        return (last ? json(res, 200, last) : (res.writeHead(204, { 'Cache-Control': 'no-store' }).end(), true), true);
      }
      if (req.method === 'GET' && action === '/preview-script') {
        // An exec in the lab per question: the panel asks twice a second for a few seconds after a page.
        const learner = opts.identity.identify(req);
        if (!learner) return (res.writeHead(204, { 'Cache-Control': 'no-store' }).end(), true);
        if (!scriptLimiter.take(learner)) return (json(res, 429, { error: 'rate-limited', message: M.tooManyPreview }), true);
        const scripts = await opts.labs.previewScripts(learner, name);
        return (scripts ? json(res, 200, { scripts }) : (res.writeHead(204, { 'Cache-Control': 'no-store' }).end(), true), true);
      }
      if (req.method === 'GET' && !action) {
        // Never a new identity on a GET: a cross-site link (no SameSite=Strict cookie sent) would replace
        // the learner's cookie, and with it their labs. Identities are issued by POSTs from the site only.
        const learner = opts.identity.identify(req);
        const lab = learner ? await opts.labs.find(learner, name) : null;
        const failed = learner && lab?.state !== 'ready' ? background.takeFailure(learner, name) : undefined;
        if (failed) throw failed; // a start answered early failed since: told like the POST would have
        // 204, not 404: "not started yet" is a normal answer, and browsers log every 404 as an error.
        if (!lab) return (res.writeHead(204, { 'Cache-Control': 'no-store' }).end(), true);
        return (json(res, 200, info(req, lab)), true);
      }
      if (req.method !== 'POST') return (json(res, 405, { error: 'method', message: M.method }), true);
      // State changes come only from the site's own pages: a learner page in the preview is same-site
      // (same host, other port), so the SameSite cookie alone would not stop it.
      if (!originAllowed(req, opts.allowedOrigins)) return (json(res, 403, { error: 'origin', message: M.origin }), true);
      if (!/^application\/json\b/.test(req.headers['content-type'] ?? '')) {
        return (json(res, 415, { error: 'content-type', message: M.contentType }), true);
      }
      if (opts.addressAllowed && !opts.addressAllowed(req)) {
        return (json(res, 429, { error: 'rate-limited', message: M.tooManyFromNetwork }), true);
      }
      const learner = opts.identity.ensure(req, res);
      if (checkId) {
        if (!opts.checkLimiter.take(learner)) {
          return (json(res, 429, { error: 'rate-limited', message: M.tooManyChecks }), true);
        }
        if (help === '/solution') return (json(res, 200, await opts.labs.solution(learner, name, checkId)), true);
        if (help === '/apply') return (json(res, 200, await opts.labs.applySolution(learner, name, checkId)), true);
        const outcome = await opts.labs.check(learner, name, checkId);
        if (outcome.ok) await opts.progress.recordPass(learner, name, checkId);
        return (json(res, 200, outcome), true);
      }
      if (!opts.createLimiter.take(learner)) {
        return (json(res, 429, { error: 'rate-limited', message: M.tooMany }), true);
      }
      const starting = reset ? opts.labs.reset(learner, name) : opts.labs.ensure(learner, name);
      if (!/\brespond-async\b/i.test(String(req.headers.prefer ?? ''))) return (json(res, 200, info(req, await starting)), true);
      // The panel follows a long start with GET (its progress, within its own bound) instead of one
      // request that no one can see into.
      const soon = await Promise.race([starting, new Promise<null>((ok) => setTimeout(ok, ASYNC_ANSWER_MS, null))]);
      if (soon) return (json(res, 200, info(req, soon)), true);
      background.watch(learner, name, starting);
      const lab = await opts.labs.find(learner, name);
      if (!lab) return (json(res, 200, info(req, await starting)), true); // ended between the two
      return (json(res, lab.state === 'ready' ? 200 : 202, info(req, lab)), true);
    } catch (err) {
      if (err instanceof UnknownLabError) return (json(res, 404, { error: 'unknown-lab', message: err.message }), true);
      if (err instanceof NoRoomError) return (json(res, 503, { error: 'no-room', message: err.message }), true);
      if (err instanceof UnknownCheckError) return (json(res, 404, { error: 'unknown-check', message: err.message }), true);
      if (err instanceof NoLabError) return (json(res, 409, { error: 'no-lab', message: err.message }), true);
      if (err instanceof ApplyRefusedError) return (json(res, 409, { error: 'apply-refused', message: err.message }), true);
      if (err instanceof SolutionUnavailableError) {
        opts.log?.(`api ${req.method} ${path}: ${err.message}`);
        return (
          json(res, 503, {
            error: 'solution-unavailable',
            message: M.solutionUnavailable,
          }),
          true
        );
      }
      opts.log?.(`api ${req.method} ${path}: ${(err as Error).stack ?? err}`);
      return (json(res, 500, { error: 'engine', message: M.engine }), true);
    }
  };
}
