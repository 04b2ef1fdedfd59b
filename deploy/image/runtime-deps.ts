// The packages the backend needs at run time, found from its code rather than listed by hand: the bare
// imports of the server's files (type-only imports and the `astro dev` integration left out), then every
// package they depend on, resolved as Node resolves them (nested node_modules first). The image gets only
// these; the site's build tools (Astro, its plugins, the test tools) stay out.
// CLI: `node deploy/image/runtime-deps.ts` prints one node_modules directory per line, relative to the root.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** What the running server loads: its code, the shared protocol, the lab definitions and the lab image tag. */
export const SERVER_SOURCES = ['server', 'protocol', 'sandbox/labs', 'sandbox/image/tag.ts', 'sandbox/image/apt-sources.ts'];
/** Loaded only by `astro dev` (astro.config.mjs), never by server/main.ts. */
const NOT_AT_RUN_TIME = new Set(['server/dev.ts']);

const IMPORT = /^\s*(?:import|export)\s+(type\s+)?(?:[^'"]*?\sfrom\s+)?['"]([^'"]+)['"]/gm;

/** Package name of a bare specifier ('@a/b/c' → '@a/b', 'x/y' → 'x'); undefined for relative and node: ones. */
export function packageOf(specifier: string): string | undefined {
  if (specifier.startsWith('.') || specifier.startsWith('/') || specifier.startsWith('node:')) return undefined;
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

/** Packages imported (not type-only) by a TypeScript source text. */
export function importedPackages(text: string): string[] {
  const out = new Set<string>();
  for (const m of text.matchAll(IMPORT)) {
    if (m[1]) continue;
    const name = packageOf(m[2]!);
    if (name) out.add(name);
  }
  return [...out].sort();
}

function sourceFiles(root: string): string[] {
  return SERVER_SOURCES.flatMap((entry) => {
    const path = join(root, entry);
    if (entry.endsWith('.ts')) return [path];
    return readdirSync(path, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.test.ts'))
      .map((e) => join(e.parentPath, e.name));
  }).filter((f) => !NOT_AT_RUN_TIME.has(relative(root, f).split(sep).join('/')));
}

/** The package's directory as Node finds it from `fromDir` (a package directory or the root). */
function resolvePackage(name: string, fromDir: string, root: string): string | undefined {
  for (let dir = fromDir; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    if (dir === root || dir === dirname(dir)) return undefined;
  }
}

/** Directories (relative to root) of the packages the server needs, its imports and their dependencies. */
export function runtimePackages(root = ROOT): string[] {
  const direct = new Set(sourceFiles(root).flatMap((f) => importedPackages(readFileSync(f, 'utf8'))));
  const found = new Set<string>();
  const visit = (name: string, fromDir: string, required: boolean) => {
    const dir = resolvePackage(name, fromDir, root);
    if (!dir) {
      if (required) throw new Error(`${name}, needed from ${relative(root, fromDir) || 'the server'}, is not installed`);
      return;
    }
    if (found.has(dir)) return;
    found.add(dir);
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Record<string, Record<string, string> | undefined>;
    for (const dep of Object.keys(pkg.dependencies ?? {})) visit(dep, dir, true);
    // Optional and peer dependencies go in when installed (npm installed them for a reason: ssh2's cpu-features...).
    for (const dep of [...Object.keys(pkg.optionalDependencies ?? {}), ...Object.keys(pkg.peerDependencies ?? {})]) visit(dep, dir, false);
  };
  for (const name of direct) visit(name, root, true);
  return [...found].map((d) => relative(root, d).split(sep).join('/')).sort();
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const dir of runtimePackages()) console.log(dir);
}
