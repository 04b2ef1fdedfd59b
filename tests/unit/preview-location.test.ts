import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { labDomain, previewRoute, previewSpace } from '../../server/preview/location.ts';

const LAB = '0123456789abcdef01234567';
const req = (host: string, url: string) => ({ headers: { host }, url }) as IncomingMessage;

test('a site on loopback: each lab at the root of {labId}.localhost on the preview port', () => {
  for (const site of ['localhost', '127.0.0.1', '[::1]']) {
    const space = previewSpace(null, site, 4322);
    assert.equal(space.urlOf(LAB), `http://${LAB}.localhost:4322/`, site);
    assert.equal(space.frameSource, 'http://*.localhost:4322', site);
  }
});

test('a configured preview origin: each lab under its host name, with its scheme and port', () => {
  const space = previewSpace('https://preview.example.net', 'atelier.example.org', 4322);
  assert.equal(space.urlOf(LAB), `https://${LAB}.preview.example.net/`);
  assert.equal(space.frameSource, 'https://*.preview.example.net');
  assert.equal(previewSpace('http://labs.test:8080', 'x', 1).urlOf(LAB), `http://${LAB}.labs.test:8080/`);
  assert.equal(labDomain('https://preview.example.net'), 'preview.example.net');
  assert.equal(labDomain(null), 'localhost');
});

test('a site at an IP address with no preview domain: labs share one origin, under /p/{labId}/', () => {
  const space = previewSpace(null, '192.0.2.7', 4322);
  assert.equal(space.urlOf(LAB), `http://192.0.2.7:4322/p/${LAB}/`);
  assert.equal(space.frameSource, 'http://192.0.2.7:4322');
  assert.equal(previewSpace(null, '[2001:db8::1]', 4322).urlOf(LAB), `http://[2001:db8::1]:4322/p/${LAB}/`);
});

test('a request names its lab by its host, or by its path on the shared origin', () => {
  assert.deepEqual(previewRoute(req(`${LAB}.localhost:4322`, '/icons/x.png?a'), 'localhost'), {
    labId: LAB,
    site: 0,
    path: '/icons/x.png?a',
    prefix: '',
  });
  assert.deepEqual(previewRoute(req(`${LAB.toUpperCase()}.LOCALHOST`, '/'), 'localhost'), { labId: LAB, site: 0, path: '/', prefix: '' });
  assert.deepEqual(previewRoute(req('192.0.2.7:4322', `/p/${LAB}/a/b`), 'localhost'), {
    labId: LAB,
    site: 0,
    path: '/a/b',
    prefix: `/p/${LAB}`,
  });
  assert.deepEqual(previewRoute(req('192.0.2.7:4322', `/p/${LAB}`), 'localhost'), { labId: LAB, site: 0, path: null, prefix: `/p/${LAB}` });
  // A host name that merely looks like a lab's (the site's own name, another domain) is not one.
  assert.deepEqual(previewRoute(req('atelier1.lan:4322', `/p/${LAB}/`), 'localhost'), {
    labId: LAB,
    site: 0,
    path: '/',
    prefix: `/p/${LAB}`,
  });
  assert.equal(previewRoute(req(`${LAB}.evil.example`, '/'), 'localhost'), null);
});

test('what names no lab is refused: bad labels, nested names, absolute-form targets, unknown paths', () => {
  for (const [host, url] of [
    ['bad_label.localhost', '/'],
    ['short.localhost', '/'],
    [`a.${LAB}.localhost`, '/'],
    [`${LAB}.localhost`, 'http://elsewhere/'],
    ['localhost:4322', '/'],
    ['localhost:4322', '/p/UPPERCASE0000/'],
    ['', '/x'],
  ] as const) {
    assert.equal(previewRoute(req(host, url), 'localhost'), null, `${host} ${url}`);
  }
});

test('a lab with several virtual hosts: site n at {labId}-{n}, an origin of its own, on both kinds of space', () => {
  const local = previewSpace(null, 'localhost', 4322);
  assert.equal(local.urlOf(LAB, 0), `http://${LAB}.localhost:4322/`);
  assert.equal(local.urlOf(LAB, 1), `http://${LAB}-1.localhost:4322/`);
  assert.notEqual(new URL(local.urlOf(LAB, 1)).origin, new URL(local.urlOf(LAB, 0)).origin);
  assert.equal(previewSpace('https://preview.example.net', 'x', 1).urlOf(LAB, 2), `https://${LAB}-2.preview.example.net/`);
  assert.equal(previewSpace(null, '192.0.2.7', 4322).urlOf(LAB, 1), `http://192.0.2.7:4322/p/${LAB}-1/`);

  assert.deepEqual(previewRoute(req(`${LAB}-1.localhost:4322`, '/voisin.php'), 'localhost'), {
    labId: LAB,
    site: 1,
    path: '/voisin.php',
    prefix: '',
  });
  assert.deepEqual(previewRoute(req(`${LAB}-7.preview.example.net`, '/'), 'preview.example.net'), {
    labId: LAB,
    site: 7,
    path: '/',
    prefix: '',
  });
  assert.deepEqual(previewRoute(req('192.0.2.7:4322', `/p/${LAB}-1/a`), 'localhost'), {
    labId: LAB,
    site: 1,
    path: '/a',
    prefix: `/p/${LAB}-1`,
  });
  assert.deepEqual(previewRoute(req('192.0.2.7:4322', `/p/${LAB}-1`), 'localhost'), {
    labId: LAB,
    site: 1,
    path: null,
    prefix: `/p/${LAB}-1`,
  });
  // Past the schema's 8 sites, a site 0 written out, several numbers, a dash alone: no lab.
  for (const name of [`${LAB}-8`, `${LAB}-0`, `${LAB}-12`, `${LAB}-1-1`, `${LAB}-`, `-1`]) {
    assert.equal(previewRoute(req(`${name}.localhost`, '/'), 'localhost'), null, name);
    assert.equal(previewRoute(req('localhost:4322', `/p/${name}/`), 'localhost'), null, name);
  }
});
