// Serves the built site (dist/) with the precompressed .br/.gz files written after the build.
import { existsSync, readFileSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import sirv from 'sirv';

export type Handler = (req: IncomingMessage, res: ServerResponse) => void;

export function staticSite(distDir: string): Handler {
  if (!existsSync(join(distDir, 'index.html'))) {
    throw new Error(`No built site in ${distDir}: run \`npm run build\` (npm start does it for you).`);
  }
  // Sent with status 404 (sirv would answer 200 with it: a "soft 404", and /robots.txt an HTML page).
  const notFoundFile = join(distDir, '404.html');
  const notFound = existsSync(notFoundFile)
    ? readFileSync(notFoundFile)
    : Buffer.from('<!doctype html><title>404</title><p>Page introuvable.</p>');
  const serve = sirv(distDir, {
    brotli: true,
    gzip: true,
    etag: true,
    // Astro fingerprints everything under /_astro/: safe to cache forever.
    setHeaders(res, pathname) {
      if (pathname.startsWith('/_astro/')) res.setHeader('Cache-Control', 'public, max-age=31536000, immutable');
      else res.setHeader('Cache-Control', 'no-cache');
    },
  });
  return (req, res) => {
    // /06-php-multitenant → /06-php-multitenant/ so that relative URLs and anchors behave like in dev.
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (!path.endsWith('/') && !path.includes('.') && isDir(join(distDir, decodeSafe(path)))) {
      // One leading slash: `//host` in Location would send the browser to another site.
      const local = `/${path.replace(/^[/\\]+/, '')}/`;
      res.writeHead(301, { Location: local + (req.url?.slice(path.length) ?? '') }).end();
      return;
    }
    serve(req, res, () => {
      res.writeHead(404, { 'Content-Type': 'text/html; charset=utf-8', 'Content-Length': notFound.length, 'Cache-Control': 'no-cache' });
      res.end(req.method === 'HEAD' ? undefined : notFound);
    });
  };
}

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory() && existsSync(join(p, 'index.html'));
  } catch {
    return false;
  }
}

function decodeSafe(p: string): string {
  try {
    return decodeURIComponent(p).replaceAll('..', '');
  } catch {
    return p;
  }
}
