// Makes sure dist/ holds a build of the current site: runs `astro build` when dist/ is missing or
// older than anything under content/, site/, sandbox/labs/ (the lab catalog: titles, steps) or the Astro config. A lock directory keeps two test
// files started in parallel from building into dist/ at the same time; it lives in the system's temporary
// directory (one per checkout), never in the repository, where `astro dev` watches files. Also: the
// chapters as the build sees them, for tests that iterate over what exists.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve, sep } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseFrontmatter } from '@astrojs/markdown-remark';
import { orderChapters, validateChapterFrontmatter, type ChapterFrontmatter, type OrderedChapter } from '../../site/lib/chapter-schema.ts';

export const root = resolve(import.meta.dirname, '..', '..');
export const dist = join(root, 'dist');
const lock = join(tmpdir(), `atelier-site-build-${createHash('sha256').update(root).digest('hex').slice(0, 12)}.lock`);

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
  const sources = ['content', 'site', 'sandbox/labs', 'astro.config.mjs', 'ec.config.mjs']
    .map((p) => join(root, p))
    .filter((p) => existsSync(p));
  return Math.max(...sources.map(newestMtime)) > statSync(index).mtimeMs;
}

export async function ensureSiteBuilt(): Promise<void> {
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

export type Chapter = OrderedChapter<{ id: string; data: ChapterFrontmatter }>;

/**
 * Every chapter of content/ as the site builds them: frontmatter read by Astro's own parser and checked
 * by the site's schema, ordered and linked to their neighbours, drafts left out.
 */
export function chapters(): Chapter[] {
  const dir = join(root, 'content');
  const entries = readdirSync(dir)
    .filter((f) => f.endsWith('.mdx'))
    .map((f) => ({
      id: f.replace(/\.mdx$/, ''),
      data: validateChapterFrontmatter(parseFrontmatter(readFileSync(join(dir, f), 'utf8')).frontmatter, `content/${f}`),
    }));
  return orderChapters(entries);
}

/** One chapter by its id (its file name), or a failure naming it. */
export function chapter(id: string): Chapter {
  const found = chapters().find((c) => c.id === id);
  if (!found) throw new Error(`no chapter ${id} in content/ (or it is a draft)`);
  return found;
}

/** The sandbox attribute of the lab panel's preview iframe, as built. */
export function panelSandbox(): string {
  const html = readFileSync(join(dist, '05-fastcgi', 'index.html'), 'utf8');
  const m = /class="lab__frame"[^>]*\ssandbox="([^"]*)"/.exec(html);
  assert.ok(m, 'the chapter page has a preview iframe with a sandbox attribute');
  return m[1]!;
}
