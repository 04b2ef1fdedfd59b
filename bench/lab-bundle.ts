// Weight of the lab panel in the built site (run `npm run build` first; this builds nothing): the
// loader script and the panel's CSS that a chapter page loads up front, then the chunks the loader
// imports when a panel scrolls into view (xterm.js, addons, the panel; the WebGL addon only where the
// browser has WebGL2). Raw, gzip and brotli, as the server sends them. Target: <= 150 KB compressed.
// Writes bench/results/lab-bundle.json. Usage: node bench/lab-bundle.ts [dist] [page, e.g. /05-fastcgi/]
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

const root = resolve(import.meta.dirname, '..');
const dist = resolve(process.argv[2] ?? join(root, 'dist'));
const TARGET_COMPRESSED = 150 * 1024;

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
const sum = (xs: Size[]) => xs.reduce(add, ZERO);

function* htmlFiles(dir: string): Generator<string> {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) yield* htmlFiles(p);
    else if (e.name.endsWith('.html')) yield p;
  }
}

/** The page to measure: the one named on the command line, else the first page with a lab panel. */
function findPage(): string {
  const wanted = process.argv[3];
  if (wanted) {
    const file = join(dist, wanted, wanted.endsWith('.html') ? '' : 'index.html');
    if (!existsSync(file)) throw new Error(`no built page ${wanted} in ${dist}`);
    return file;
  }
  for (const file of htmlFiles(dist)) if (readFileSync(file, 'utf8').includes('<atelier-lab')) return file;
  throw new Error(`no page of ${dist} has a lab panel (<atelier-lab>): build a chapter that uses <Lab> first`);
}

const fileOfUrl = (url: string, from: string) => (url.startsWith('/') ? join(dist, url) : resolve(dirname(from), url));

/** JS files a module pulls in: static imports, dynamic import() and Vite's preload lists. */
function importsOf(file: string): { statics: string[]; dynamics: string[] } {
  const code = readFileSync(file, 'utf8');
  const statics = new Set<string>();
  const dynamics = new Set<string>();
  for (const m of code.matchAll(/(?:^|[;}\s])import\s*(?:[\w${},*\s]+from\s*)?["'`]([^"'`]+\.js)["'`]/g))
    statics.add(fileOfUrl(m[1]!, file));
  for (const m of code.matchAll(/import\(\s*["'`]([^"'`]+\.js)["'`]\s*\)/g)) dynamics.add(fileOfUrl(m[1]!, file));
  // __vite__mapDeps lists chunks by path from the site root ("_astro/x.js")
  for (const m of code.matchAll(/["'`](_astro\/[\w.-]+\.js)["'`]/g)) dynamics.add(join(dist, m[1]!));
  return { statics: [...statics].filter(existsSync), dynamics: [...dynamics].filter(existsSync) };
}

/** A module and everything it imports statically (what loading it costs). */
function closure(entry: string, seen: Set<string>): string[] {
  if (seen.has(entry)) return [];
  seen.add(entry);
  return [entry, ...importsOf(entry).statics.flatMap((f) => closure(f, seen))];
}

/** Top-level blocks of a minified stylesheet that style the lab panel or the run buttons. */
function labRules(css: string): string {
  const blocks: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < css.length; i++) {
    if (css[i] === '{') depth++;
    else if (css[i] === '}' && --depth === 0) {
      blocks.push(css.slice(start, i + 1));
      start = i + 1;
    }
  }
  return blocks
    .filter((b) => /atelier-lab|\.lab-panel|\.lab__|\.run-block|lab-pulse|lab-maximized/.test(b.slice(0, b.indexOf('{') + 1) + b))
    .join('');
}

if (!existsSync(dist) || !statSync(dist).isDirectory()) {
  console.error(`No built site in ${dist}: run \`npm run build\` first.`);
  process.exit(1);
}
let pageFile: string;
try {
  pageFile = findPage();
} catch (err) {
  console.error((err as Error).message);
  process.exit(1);
}
const html = readFileSync(pageFile, 'utf8');
const page = `/${relative(dist, dirname(pageFile)).replace(/\\/g, '/')}/`.replace(/\/+/g, '/');

// Up front: the module script(s) that define <atelier-lab>, and the panel's rules in the page CSS.
const scripts = [...html.matchAll(/<script\b[^>]*type="module"[^>]*src="([^"]+)"/g)].map((m) => fileOfUrl(m[1]!, pageFile));
const loaders = scripts.filter((f) => readFileSync(f, 'utf8').includes('atelier-lab'));
if (loaders.length === 0) {
  console.error(`${page}: no module script defines <atelier-lab> (is the loader inlined?)`);
  process.exit(1);
}
const seen = new Set<string>();
const upfrontJs = loaders.flatMap((f) => closure(f, seen));
const stylesheets = [...html.matchAll(/<link\b[^>]*rel="stylesheet"[^>]*href="([^"]+)"/g)].map((m) => fileOfUrl(m[1]!, pageFile));
const inlineStyles = [...html.matchAll(/<style\b[^>]*>([\s\S]*?)<\/style>/g)].map((m) => m[1]!);
const upfrontCss = [...stylesheets.map((f) => readFileSync(f, 'utf8')), ...inlineStyles].map(labRules).join('');

// On scroll: every chunk reachable through dynamic imports of the loader graph.
const lazyJs: string[] = [];
const queue = [...upfrontJs];
while (queue.length > 0) {
  for (const d of importsOf(queue.shift()!).dynamics) {
    for (const f of closure(d, seen)) {
      lazyJs.push(f);
      queue.push(f);
    }
  }
}
const lazyCss = lazyJs.map((f) => f.replace(/\.js$/, '.css')).filter(existsSync); // CSS Vite split off a lazy chunk, if any

const entry = (f: string) => ({ file: relative(dist, f), ...sizeOf(readFileSync(f)) });
const upfront = {
  js: upfrontJs.map(entry),
  css: { file: '(panel and run-button rules of the page stylesheet)', ...sizeOf(Buffer.from(upfrontCss)) },
};
const lazy = { js: lazyJs.map(entry), css: lazyCss.map(entry) };
const upfrontTotal = add(sum(upfront.js), upfront.css);
const lazyTotal = sum([...lazy.js, ...lazy.css]);
const total = add(upfrontTotal, lazyTotal);
const result = {
  date: new Date().toISOString(),
  machine: { os: `${os.type()} ${os.release()}`, arch: os.arch(), cpus: os.cpus().length, node: process.version },
  page,
  target: { compressedBytes: TARGET_COMPRESSED, measuredWith: 'the larger of gzip -9 and brotli q11' },
  upfront: { ...upfront, total: upfrontTotal },
  onScroll: { ...lazy, total: lazyTotal },
  total,
  withinTarget: Math.max(total.gzip, total.brotli) <= TARGET_COMPRESSED,
};
mkdirSync(join(root, 'bench', 'results'), { recursive: true });
writeFileSync(join(root, 'bench', 'results', 'lab-bundle.json'), `${JSON.stringify(result, null, 2)}\n`);

const kb = (n: number) => (n / 1024).toFixed(1).padStart(7);
const row = (name: string, s: Size) => console.log(`  ${name.padEnd(58)}${kb(s.raw)}${kb(s.gzip)}${kb(s.brotli)}`);
console.log(`\n  lab panel on ${page}`.padEnd(60) + 'raw KB'.padStart(7) + 'gzip'.padStart(7) + 'brotli'.padStart(7));
for (const f of upfront.js) row(`up front  ${f.file}`, f);
row('up front  panel CSS in the page stylesheet', upfront.css);
for (const f of [...lazy.js, ...lazy.css]) row(`on scroll ${f.file}`, f);
row('total up front', upfrontTotal);
row('total', total);
const worst = Math.max(total.gzip, total.brotli);
console.log(
  `\nlab panel: ${kb(worst).trim()} KB compressed, target ${TARGET_COMPRESSED / 1024} KB: ${result.withinTarget ? 'within' : 'OVER'}`,
);
console.log('written to bench/results/lab-bundle.json');
