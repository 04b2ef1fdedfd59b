// The boundaries docs/architecture.md claims, checked on every import of the code (static, dynamic and
// import.meta.glob patterns): browser and site code share only protocol/ with the server; providers know
// nothing of WebSockets nor of the web side; the lab manager knows only the provider interface; lab
// definitions import no server code.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';

const root = resolve(import.meta.dirname, '..', '..');

function filesUnder(dir: string): string[] {
  return readdirSync(join(root, dir), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && /\.(ts|mjs|astro)$/.test(e.name) && !e.name.endsWith('.d.ts'))
    .map((e) => relative(root, join(e.parentPath, e.name)));
}

/** Every module a file names: relative ones resolved to a path from the root, packages as they are. */
function importsOf(file: string): string[] {
  const text = readFileSync(join(root, file), 'utf8');
  const specs = [
    ...text.matchAll(/\bfrom\s+['"]([^'"]+)['"]/g),
    ...text.matchAll(/\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g),
    ...text.matchAll(/^\s*import\s+['"]([^'"]+)['"]/gm),
    // A glob's type argument may hold parentheses: the pattern is the first string right after a "(".
    ...text.matchAll(/import\.meta\.glob[\s\S]*?\(\s*['"]([^'"]+)['"]/g),
  ].map((m) => m[1]!);
  return specs.map((s) => {
    if (s.startsWith('.')) return relative(root, resolve(dirname(join(root, file)), s));
    if (s.startsWith('/')) return s.slice(1);
    return s;
  });
}

function violations(dir: string, allowed: (target: string, file: string) => boolean): string[] {
  return filesUnder(dir).flatMap((file) =>
    importsOf(file)
      .filter((t) => !allowed(t, file))
      .map((t) => `${file} → ${t}`),
  );
}

const isPackage = (t: string) => !/^(site|server|sandbox|protocol|content|tests|bench|scripts)\//.test(t);

test('site/ imports only site/, protocol/ and packages (lab data comes from the build, as virtual:atelier/labs)', () => {
  assert.deepEqual(
    violations('site', (t) => t.startsWith('site/') || t.startsWith('protocol/') || isPackage(t)),
    [],
  );
});

test('lab definitions import no server code', () => {
  assert.deepEqual(
    violations('sandbox/labs', (t) => !t.startsWith('server/')),
    [],
  );
});

test('providers know nothing of WebSockets nor of the web side', () => {
  assert.deepEqual(
    violations('server/sandbox', (t) => t !== 'ws' && !/^server\/(http|terminal|preview|labs|progress)\//.test(t)),
    [],
  );
});

const ENGINE_CLIENTS = new Set(['ws', 'dockerode', '@kubernetes/client-node']);

test('the lab manager knows the provider interface only, never a provider', () => {
  assert.deepEqual(
    // any provider's folder (docker/, kubernetes/), not only Docker's; provider.ts is the interface
    violations(
      'server/labs',
      (t) => !/^server\/(sandbox\/(?!provider\.ts$)|http\/|terminal\/|preview\/)/.test(t) && !ENGINE_CLIENTS.has(t),
    ),
    [],
  );
});

test('the web side reaches labs through its LabAccess port only', () => {
  const web = ['server/http', 'server/terminal', 'server/preview'];
  assert.deepEqual(
    web.flatMap((dir) => violations(dir, (t) => !/^server\/(labs|sandbox)\//.test(t) && !t.startsWith('sandbox/'))),
    [],
  );
});

test('the FastCGI decoder is pure, and its endpoint reaches labs through its own port (server/fastcgi-access.ts adapts)', () => {
  const endpoint = (file: string) => file.endsWith('/endpoint.ts');
  assert.deepEqual(
    violations(
      'server/fastcgi',
      (t, file) =>
        t.startsWith('protocol/') ||
        t.startsWith('server/fastcgi/') ||
        t.startsWith('node:') ||
        (endpoint(file) && (/^server\/http\/(origin|identity|rate-limit)\.ts$/.test(t) || t === 'ws')),
    ),
    [],
  );
});

test('lab definitions are loaded through sandbox/labs/index.ts only (no lab file imported, no glob of them)', () => {
  const labFiles = new Set(
    readdirSync(join(root, 'sandbox/labs'))
      .filter((f) => f.endsWith('.ts') && /^export default defineLab\(/m.test(readFileSync(join(root, 'sandbox/labs', f), 'utf8')))
      .map((f) => `sandbox/labs/${f}`),
  );
  assert.ok(labFiles.has('sandbox/labs/nginx-remote.ts'));
  const allowed = (t: string) => !labFiles.has(t) && !t.startsWith('sandbox/labs/*');
  assert.deepEqual(
    [
      ...['site', 'server', 'sandbox', 'scripts', 'tests', 'bench', 'protocol'].flatMap((dir) => violations(dir, allowed)),
      ...importsOf('astro.config.mjs').filter((t) => !allowed(t)),
    ],
    [],
  );
});
