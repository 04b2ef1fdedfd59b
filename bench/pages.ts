// Page weight on first load, from the built site (run `npm run build` first; this builds nothing).
// For each page: the HTML plus every stylesheet and script it loads, raw, gzip and brotli (the
// compressions the server sends), and the JavaScript apart. Writes bench/results/pages.json.
// Usage: node bench/pages.ts [dist]
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

const root = resolve(import.meta.dirname, '..');
const dist = resolve(process.argv[2] ?? join(root, 'dist'));
const PAGES = ['/', '/05-fastcgi/', '/06-php-multitenant/'];
/** Issue 2: a chapter page without a lab weighs at most 30 KB compressed (HTML + CSS + JS). */
const BUDGET_COMPRESSED = 30 * 1024;

interface Size {
  raw: number;
  gzip: number;
  brotli: number;
}

const sizeOf = (bytes: Buffer): Size => ({
  raw: bytes.length,
  gzip: gzipSync(bytes, { level: 9 }).length,
  brotli: brotliCompressSync(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length,
});
const add = (a: Size, b: Size): Size => ({ raw: a.raw + b.raw, gzip: a.gzip + b.gzip, brotli: a.brotli + b.brotli });
const ZERO: Size = { raw: 0, gzip: 0, brotli: 0 };

function fileOf(page: string): string {
  return join(dist, page, 'index.html');
}

function measure(page: string) {
  const html = readFileSync(fileOf(page));
  const text = html.toString('utf8');
  const css = [...text.matchAll(/<link\b[^>]*rel="stylesheet"[^>]*href="([^"]+)"/g)].map((m) => m[1]!);
  const js = [...text.matchAll(/<script\b[^>]*src="([^"]+)"/g)].map((m) => m[1]!);
  const inlineScripts = [...text.matchAll(/<script\b(?![^>]*\bsrc=)[^>]*>([\s\S]*?)<\/script>/g)].map((m) => Buffer.from(m[1]!));
  const inlineStyles = [...text.matchAll(/<style\b[^>]*>([\s\S]*?)<\/style>/g)].map((m) => Buffer.from(m[1]!));
  const files = (urls: string[]) => urls.map((u) => ({ url: u, ...sizeOf(readFileSync(join(dist, u.split('?')[0]!))) }));
  const cssFiles = files(css);
  const jsFiles = files(js);
  const htmlSize = sizeOf(html);
  const total = [htmlSize, ...cssFiles, ...jsFiles].reduce(add, ZERO);
  return {
    page,
    html: htmlSize,
    css: { files: cssFiles, total: cssFiles.reduce(add, ZERO) },
    js: { files: jsFiles, total: jsFiles.reduce(add, ZERO) },
    // Inside the HTML already; listed apart because "no JavaScript of its own" is measured here.
    inline: { scripts: inlineScripts.map(sizeOf), styles: inlineStyles.reduce((s, b) => add(s, sizeOf(b)), ZERO) },
    total,
  };
}

if (!existsSync(join(dist, 'index.html'))) {
  console.error(`No built site in ${dist}: run \`npm run build\` first.`);
  process.exit(1);
}

const pages = PAGES.filter((p) => existsSync(fileOf(p))).map(measure);
const chapter = pages.find((p) => p.page === '/05-fastcgi/');
const result = {
  date: new Date().toISOString(),
  machine: {
    os: `${os.type()} ${os.release()}`,
    kernel: os.version(),
    arch: os.arch(),
    cpus: os
      .cpus()
      .map((c) => c.model)
      .filter((m, i, all) => all.indexOf(m) === i),
    cpuCount: os.cpus().length,
    totalmemBytes: os.totalmem(),
    node: process.version,
  },
  budget: { chapterCompressedBytes: BUDGET_COMPRESSED, measuredWith: 'gzip -9 (the larger of gzip and brotli)' },
  pages,
  chapterWithinBudget: chapter ? Math.max(chapter.total.gzip, chapter.total.brotli) <= BUDGET_COMPRESSED : null,
};

mkdirSync(join(root, 'bench', 'results'), { recursive: true });
writeFileSync(join(root, 'bench', 'results', 'pages.json'), `${JSON.stringify(result, null, 2)}\n`);

const kb = (n: number) => (n / 1024).toFixed(1).padStart(6);
const row = (name: string, s: Size) => `  ${name.padEnd(34)}${kb(s.raw)}${kb(s.gzip)} ${kb(s.brotli)}`;
for (const p of pages) {
  console.log(`\n  ${p.page.padEnd(34)}${'raw KB'.padStart(6)}${'gzip'.padStart(6)}${'brotli'.padStart(7)}`);
  console.log(row('HTML', p.html));
  for (const f of p.css.files) console.log(row(`CSS ${f.url}`, f));
  for (const f of p.js.files) console.log(row(`JS ${f.url}`, f));
  for (const s of p.inline.scripts) console.log(row('(inline script, in the HTML)', s));
  console.log(row('total first load', p.total));
}
if (chapter) {
  const worst = Math.max(chapter.total.gzip, chapter.total.brotli);
  console.log(
    `\nchapter page: ${kb(worst).trim()} KB compressed, budget ${BUDGET_COMPRESSED / 1024} KB: ${result.chapterWithinBudget ? 'within' : 'OVER'}`,
  );
}
console.log('written to bench/results/pages.json');
