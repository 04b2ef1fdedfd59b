// The headers every answer of the site carries (pages and API; not the preview, which has its own):
// nobody may frame the course, content types are not sniffed, preview URLs (capabilities) do not leak
// through Referer, and scripts run only from the site itself or as one of the built pages' inline scripts.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** sha256 sources of every inline <script> of the built pages, for the Content-Security-Policy. */
export function inlineScriptHashes(distDir: string): string[] {
  const hashes = new Set<string>();
  for (const file of readdirSync(distDir, { recursive: true, encoding: 'utf8' })) {
    if (!file.endsWith('.html')) continue;
    const html = readFileSync(join(distDir, file), 'utf8');
    for (const [, body] of html.matchAll(/<script(?![^>]*\ssrc=)[^>]*>([\s\S]*?)<\/script>/g)) {
      hashes.add(`'sha256-${createHash('sha256').update(body!).digest('base64')}'`);
    }
  }
  return [...hashes].sort();
}

/** `siteOrigin`: where this request reached the site; `previewFrames`: the source of its labs' previews. */
export function siteHeaders(opts: { scriptHashes: string[]; siteOrigin: string; previewFrames: string }): Record<string, string> {
  const socket = opts.siteOrigin.replace(/^http/, 'ws');
  const csp = [
    "default-src 'self'",
    `script-src 'self' ${opts.scriptHashes.join(' ')}`.trim(),
    // Expressive Code and the diagrams set style attributes.
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    `connect-src 'self' ${socket}`,
    `frame-src ${opts.previewFrames}`,
    "frame-ancestors 'none'",
    "form-action 'self'",
    "base-uri 'none'",
    "object-src 'none'",
  ].join('; ');
  return {
    'Content-Security-Policy': csp,
    'X-Content-Type-Options': 'nosniff',
    'X-Frame-Options': 'DENY',
    'Referrer-Policy': 'no-referrer',
    'Cross-Origin-Opener-Policy': 'same-origin',
  };
}
