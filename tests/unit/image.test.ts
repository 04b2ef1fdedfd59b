// The lab image's definition: tag by content hash (base separately), apt sources derived from the host's
// configuration (both formats), and the two build paths (mmdebstrap, Docker Hub) sharing the same lab layers.
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { IMAGE_DIR, baseImageTag, hashTree, labImageTag } from '../../sandbox/image/tag.ts';
import { imageSourceLines, parseDeb822, parseOneLine, selectSuite } from '../../sandbox/image/apt-sources.ts';

const scratch = mkdtempSync(join(tmpdir(), 'atelier-image-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

describe('image tag', () => {
  test('atelier-lab:<12 hex> of sandbox/image, stable', () => {
    assert.match(labImageTag(), /^atelier-lab:[0-9a-f]{12}$/);
    assert.equal(labImageTag(), labImageTag());
    assert.match(baseImageTag(), /^atelier-lab-base:[0-9a-f]{12}$/);
  });

  test('a lab-layer change changes the image tag but not the base tag; a package change changes both', () => {
    const copy = join(scratch, 'image');
    cpSync(IMAGE_DIR, copy, { recursive: true });
    assert.equal(labImageTag(copy), labImageTag());
    const [lab0, base0] = [labImageTag(copy), baseImageTag(copy)];
    writeFileSync(join(copy, 'layer.sh'), `${readFileSync(join(copy, 'layer.sh'), 'utf8')}\n# change\n`);
    assert.notEqual(labImageTag(copy), lab0);
    assert.equal(baseImageTag(copy), base0);
    writeFileSync(join(copy, 'base', 'packages.txt'), `${readFileSync(join(copy, 'base', 'packages.txt'), 'utf8')}\nstrace\n`);
    assert.notEqual(baseImageTag(copy), base0);
  });

  test('the hash covers paths as well as contents', () => {
    const a = join(scratch, 'a');
    const b = join(scratch, 'b');
    mkdirSync(a);
    mkdirSync(b);
    writeFileSync(join(a, 'x'), 'same');
    writeFileSync(join(b, 'y'), 'same');
    assert.notEqual(hashTree(a), hashTree(b));
  });
});

describe('apt sources of the host', () => {
  const oneLine = `# comment
deb http://mirror.example/debian bookworm main contrib
deb [signed-by=/usr/share/keyrings/k.gpg] http://mirror.example/debian bookworm-updates main
deb-src http://mirror.example/debian bookworm main
deb http://other.example/apt cloud-sdk-bookworm main
`;
  const deb822 = `Types: deb
# http://snapshot.example/archive/debian/20250520T000000Z
URIs: http://mirror.example/debian
Suites: bookworm bookworm-updates
Components: main

Types: deb
URIs: http://mirror.example/debian-security
Suites: bookworm-security
Components: main

Types: deb
URIs: http://disabled.example/debian
Suites: bookworm
Enabled: no
`;

  test('one-line format: deb entries only, options skipped', () => {
    assert.deepEqual(parseOneLine(oneLine), [
      { uri: 'http://mirror.example/debian', suite: 'bookworm' },
      { uri: 'http://mirror.example/debian', suite: 'bookworm-updates' },
      { uri: 'http://other.example/apt', suite: 'cloud-sdk-bookworm' },
    ]);
  });

  test('deb822 format: several suites per entry, disabled entries skipped', () => {
    assert.deepEqual(parseDeb822(deb822), [
      { uri: 'http://mirror.example/debian', suite: 'bookworm' },
      { uri: 'http://mirror.example/debian', suite: 'bookworm-updates' },
      { uri: 'http://mirror.example/debian-security', suite: 'bookworm-security' },
    ]);
  });

  test('only the image suite and its -updates/-security, without duplicates', () => {
    const all = [...parseOneLine(oneLine), ...parseDeb822(deb822)];
    assert.deepEqual(
      selectSuite(all, 'bookworm').map((s) => `${s.uri} ${s.suite}`),
      [
        'http://mirror.example/debian bookworm',
        'http://mirror.example/debian bookworm-updates',
        'http://mirror.example/debian-security bookworm-security',
      ],
    );
  });

  test('reads /etc/apt-like directories; ATELIER_DEBIAN_MIRROR overrides; a clear error when nothing fits', () => {
    const etc = join(scratch, 'apt');
    mkdirSync(join(etc, 'sources.list.d'), { recursive: true });
    writeFileSync(join(etc, 'sources.list.d', 'debian.sources'), deb822);
    writeFileSync(join(etc, 'sources.list.d', 'old.list.disabled'), 'deb http://ignored.example/debian bookworm main\n');
    assert.deepEqual(imageSourceLines({}, etc), [
      'deb http://mirror.example/debian bookworm main',
      'deb http://mirror.example/debian bookworm-updates main',
      'deb http://mirror.example/debian-security bookworm-security main',
    ]);
    assert.deepEqual(imageSourceLines({ ATELIER_DEBIAN_MIRROR: 'http://local.example/debian' }, etc), [
      'deb http://local.example/debian bookworm main',
      'deb http://local.example/debian bookworm-updates main',
    ]);
    const empty = join(scratch, 'empty');
    mkdirSync(empty);
    assert.throws(() => imageSourceLines({}, empty), /no apt source for Debian bookworm .*set ATELIER_DEBIAN_MIRROR/);
  });
});

describe('build paths', () => {
  const lines = (file: string) =>
    readFileSync(join(IMAGE_DIR, file), 'utf8')
      .split('\n')
      .filter((l) => l.trim() && !l.startsWith('#'));

  test('Dockerfile and Dockerfile.hub add the same lab layers', () => {
    const local = lines('Dockerfile');
    const hub = lines('Dockerfile.hub');
    const layers = (ls: string[], from: string) => ls.slice(ls.findIndex((l) => l.startsWith(from)) + 1);
    const localLayers = layers(local, 'FROM ');
    assert.ok(localLayers.length > 3);
    assert.deepEqual(hub.slice(-localLayers.length), localLayers);
    assert.ok(hub.some((l) => l === 'FROM debian:bookworm-slim'));
  });

  test('the package list has the chapter’s servers, tini and the learner’s tools', () => {
    const packages = lines('base/packages.txt');
    for (const p of ['apache2', 'nginx-light', 'php8.2-fpm', 'tini', 'curl', 'procps', 'iproute2', 'less', 'nano', 'vim-tiny']) {
      assert.ok(packages.includes(p), p);
    }
  });
});
