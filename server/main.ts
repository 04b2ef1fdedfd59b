// Production server: the built site, the lab API, the terminal WebSocket (one port) and the preview
// proxy (its own port, hence its own origin).
import { writeHeapSnapshot } from 'node:v8';
import { createServer, type Server } from 'node:http';
import { resolve } from 'node:path';
import { createBackend } from './backend.ts';
import { startLabs } from './compose.ts';
import { fastcgiAccess } from './fastcgi-access.ts';
import { openProgressStore } from './progress/open.ts';
import { staticSite } from './http/static-site.ts';
import { bindPorts, previewSiteWarning, previewSpaceFor, siteOriginFor, webSettings } from './http/settings.ts';
import { inlineScriptHashes, siteHeaders } from './http/site-policy.ts';

const root = resolve(import.meta.dirname, '..');
const settings = webSettings(process.env, root);
// ATELIER_SITE_DIR: another build of the site (the pages benchmark serves an older one beside it).
const siteDir = resolve(root, process.env.ATELIER_SITE_DIR ?? 'dist');
const site = staticSite(siteDir);
const scriptHashes = inlineScriptHashes(siteDir);
const labs = await startLabs();
const backend = createBackend(labs.access, settings, await openProgressStore(settings), console.error, fastcgiAccess(labs));

const server = createServer((req, res) => {
  const headers = siteHeaders({
    scriptHashes,
    siteOrigin: siteOriginFor(settings, req),
    previewFrames: previewSpaceFor(settings, req).frameSource,
  });
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  backend.handleRequest(req, res).then(
    (handled) => handled || site(req, res),
    (err: unknown) => {
      console.error(err);
      if (!res.headersSent) res.writeHead(500).end();
    },
  );
});
server.on('upgrade', (req, socket, head) => {
  if (!backend.handleUpgrade(req, socket, head)) socket.destroy();
});

const listen = (s: Server, port: number) =>
  new Promise<number>((ok, fail) => {
    s.once('error', fail);
    s.listen(port, settings.host, () => {
      const addr = s.address();
      ok(typeof addr === 'object' && addr ? addr.port : port);
    });
  });
const previewPort = await listen(backend.preview, settings.previewPort);
const port = await listen(server, settings.port);
bindPorts(settings, process.env, port, previewPort);
console.log(`preview on http://${settings.host}:${previewPort}`);
// Secure cookies mean a deployment behind TLS: say when the preview can still reach the site's cookies.
const previewWarning = settings.secureCookie ? previewSiteWarning(settings) : null;
if (previewWarning) console.error(`[web] WARNING: ${previewWarning}`);
console.log(`listening on http://${settings.host}:${port}`);

// Started with an IPC channel (bench/lib/server.ts): answer with figures only the process itself knows.
if (process.send) {
  process.on('message', (m) => {
    // Started with --expose-gc (tests, benchmarks): memory after a full collection, to tell a leak from
    // a heap that has not been collected yet.
    if (m === 'atelier:gc') {
      (globalThis as { gc?: () => void }).gc?.();
      process.send?.({
        t: 'atelier:gc',
        memory: process.memoryUsage(),
        collected: typeof (globalThis as { gc?: unknown }).gc === 'function',
      });
      return;
    }
    // A heap snapshot after a full collection, written where asked (benchmarks compare two of them).
    if (typeof m === 'object' && m !== null && (m as { t?: unknown }).t === 'atelier:heap-snapshot') {
      const path = (m as { path?: unknown }).path;
      if (typeof path !== 'string') return;
      (globalThis as { gc?: () => void }).gc?.();
      process.send?.({ t: 'atelier:heap-snapshot', path: writeHeapSnapshot(path) });
      return;
    }
    if (m !== 'atelier:metrics') return;
    const gateway = backend.gateway;
    const pool = labs.manager.poolCounts();
    process.send?.({
      t: 'atelier:metrics',
      peakQueued: gateway.peakQueued(),
      sessions: gateway.sessionCount,
      memory: process.memoryUsage(),
      pool,
    });
  });
  process.channel?.unref();
}

let stopping = false;
function stop(): void {
  if (stopping) return;
  stopping = true;
  // Labs keep running in the engine: a restarted server finds them again.
  server.close();
  void Promise.allSettled([backend.close(), labs.close()]).then(() => process.exit(0));
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, stop);
// Started by a benchmark over IPC: when that process dies, so does this one (no server left behind).
if (process.send) process.on('disconnect', stop);
