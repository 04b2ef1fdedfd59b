// Makes sure dist/ holds a build of the current site: runs `astro build` when dist/ is missing or
// older than anything under content/ and site/ or the Astro config. A lock directory keeps two test
// files started in parallel from building into dist/ at the same time.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export const root = resolve(import.meta.dirname, '..', '..');
export const dist = join(root, 'dist');
const lock = join(root, 'tests', '.artifacts', 'site-build.lock');

function newestMtime(path: string): number {
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = st.mtimeMs;
  for (const name of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, name)));
  return newest;
}

function isStale(): boolean {
  const index = join(dist, 'index.html');
  if (!existsSync(index)) return true;
  const sources = ['content', 'site', 'astro.config.mjs'].map((p) => join(root, p)).filter((p) => existsSync(p));
  return Math.max(...sources.map(newestMtime)) > statSync(index).mtimeMs;
}

export async function ensureSiteBuilt(): Promise<void> {
  mkdirSync(join(root, 'tests', '.artifacts'), { recursive: true });
  for (let waited = 0; ; waited += 200) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      // Another test file is building; a lock older than 5 minutes is from a run that died.
      if (waited > 300_000 || Date.now() - statSync(lock).mtimeMs > 300_000) rmSync(lock, { recursive: true, force: true });
      await sleep(200);
    }
  }
  try {
    if (isStale()) {
      // The Node running the tests (>= 22.12) also runs Astro, whatever `node` is first on PATH.
      execFileSync(process.execPath, [join(root, 'node_modules', 'astro', 'bin', 'astro.mjs'), 'build'], {
        cwd: root,
        stdio: ['ignore', 'ignore', 'inherit'],
      });
    }
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/** Every HTML page of the build, as its path under dist/ (posix) and its text. */
export function builtPages(): Array<{ file: string; html: string }> {
  const pages: Array<{ file: string; html: string }> = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.html')) pages.push({ file: relative(dist, p).split(sep).join('/'), html: readFileSync(p, 'utf8') });
    }
  };
  walk(dist);
  return pages;
}
