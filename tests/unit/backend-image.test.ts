// The backend image's definition (deploy/image): both Dockerfiles build the same application, the Debian
// route and the Hub route install the same packages, and the packages staged are those the server imports.
// The image itself is built and run by tests/integration/backend-image.test.ts.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { importedPackages, packageOf, runtimePackages } from '../../deploy/image/runtime-deps.ts';

const read = (file: string) => readFileSync(new URL(`../../deploy/image/${file}`, import.meta.url), 'utf8');
const MARK = /^# --- same as Dockerfile(\.hub)? from here$/m;

test('Dockerfile and Dockerfile.hub are the same after their base', () => {
  const [debian, hub] = [read('Dockerfile'), read('Dockerfile.hub')].map((text) => {
    const at = MARK.exec(text);
    assert.ok(at, 'the marker line is missing');
    return text.slice(at.index + at[0].length);
  });
  assert.equal(hub, debian);
});

test('the Hub route installs the packages of the Debian route', () => {
  const listed = read('base/packages.txt')
    .split('\n')
    .map((l) => l.replace(/#.*/, '').trim())
    .filter(Boolean)
    .sort();
  const installed = /apt-get install -y --no-install-recommends ([^\\\n]+)/.exec(read('Dockerfile.hub'))?.[1]?.trim().split(/\s+/).sort();
  assert.deepEqual(installed, listed);
});

test('bare imports are read as packages, type-only and relative ones left out', () => {
  assert.equal(packageOf('@kubernetes/client-node/dist/web-socket-handler.js'), '@kubernetes/client-node');
  assert.equal(packageOf('ws'), 'ws');
  assert.equal(packageOf('node:fs'), undefined);
  assert.equal(packageOf('./x.ts'), undefined);
  const text = [
    "import { z } from 'zod';",
    "import type { AstroIntegration } from 'astro';",
    "import Docker from 'dockerode';",
    "export { a } from './a.ts';",
    "import './side-effect.ts';",
    "import 'pg';",
    "import { readFileSync } from 'node:fs';",
    "import {\n  CoreV1Api,\n  KubeConfig,\n} from '@kubernetes/client-node';",
  ].join('\n');
  assert.deepEqual(importedPackages(text), ['@kubernetes/client-node', 'dockerode', 'pg', 'zod']);
});

test('the staged packages: the server’s imports and their dependencies, not the site’s build tools', () => {
  const dirs = runtimePackages();
  for (const needed of ['dockerode', '@kubernetes/client-node', 'pg', 'ws', 'zod', 'sirv', 'cookie', 'tar-stream', 'docker-modem']) {
    assert.ok(dirs.includes(`node_modules/${needed}`), `${needed} is not staged`);
  }
  for (const tool of ['astro', 'typescript', 'node-pty', '@astrojs/mdx', 'playwright-core', 'vite']) {
    assert.ok(!dirs.includes(`node_modules/${tool}`), `${tool} is staged`);
  }
});
