// GET /api/health: answers while the process serves requests. The server listens only once its labs' engine
// answered at start (compose.ts), so a first answer also means "started"; the Helm chart uses it for both
// probes. It asks nothing of the engine on purpose: a slow engine must not get every backend restarted.
import type { IncomingMessage, ServerResponse } from 'node:http';

export const HEALTH_PATH = '/api/health';

/** Returns false when the request is not for the health endpoint. */
export function answerHealth(req: IncomingMessage, res: ServerResponse): boolean {
  if ((req.url ?? '').split('?')[0] !== HEALTH_PATH) return false;
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { Allow: 'GET, HEAD' }).end();
    return true;
  }
  res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' });
  res.end(req.method === 'HEAD' ? undefined : '{"status":"ok"}');
  return true;
}
