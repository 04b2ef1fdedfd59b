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
    path: '/icons/x.png?a',
    prefix: '',
  });
  assert.deepEqual(previewRoute(req(`${LAB.toUpperCase()}.LOCALHOST`, '/'), 'localhost'), { labId: LAB, path: '/', prefix: '' });
  assert.deepEqual(previewRoute(req('192.0.2.7:4322', `/p/${LAB}/a/b`), 'localhost'), { labId: LAB, path: '/a/b', prefix: `/p/${LAB}` });
  assert.deepEqual(previewRoute(req('192.0.2.7:4322', `/p/${LAB}`), 'localhost'), { labId: LAB, path: null, prefix: `/p/${LAB}` });
  // A host name that merely looks like a lab's (the site's own name, another domain) is not one.
  assert.deepEqual(previewRoute(req('atelier1.lan:4322', `/p/${LAB}/`), 'localhost'), { labId: LAB, path: '/', prefix: `/p/${LAB}` });
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
