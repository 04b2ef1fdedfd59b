// The built chapter page (dist/05-fastcgi/index.html): diagrams are inline SVG, no JavaScript of
// its own beyond the theme toggle, French, labs marked, table of contents and neighbours in place.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { dist, ensureSiteBuilt } from '../helpers/site-build.ts';

let html = '';
let coming = '';

before(async () => {
  await ensureSiteBuilt();
  html = readFileSync(join(dist, '05-fastcgi', 'index.html'), 'utf8');
  coming = readFileSync(join(dist, '06-php-multitenant', 'index.html'), 'utf8');
});

describe('the built FastCGI chapter', () => {
  test('is in French', () => {
    assert.match(html, /^<!DOCTYPE html><html lang="fr"/i);
  });

  test('has its five diagrams as inline SVG figures with a text version, and no sequence code left', () => {
    const figures = [...html.matchAll(/<figure class="sequence-diagram">([\s\S]*?)<\/figure>/g)].map((m) => m[1]!);
    assert.equal(figures.length, 5);
    for (const f of figures) {
      assert.match(f, /^<figcaption>[^<]+<\/figcaption><svg [^>]*class="seq"/);
      assert.match(f, /<details><summary>Version texte du diagramme<\/summary>/);
    }
    assert.doesNotMatch(html, /data-language="sequence"|participant [A-Z]+ as/);
  });

  test('ships no script but the theme toggle, the copy button and the lab panel loader', () => {
    const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
    const inline = scripts.filter((s) => !/\bsrc=/.test(s[1]!));
    const external = scripts.filter((s) => /\bsrc=/.test(s[1]!)).map((s) => /src="([^"]+)"/.exec(s[1]!)![1]!);
    assert.equal(inline.length, 1, 'one inline script');
    assert.match(inline[0]![2]!, /atelier-theme/);
    assert.ok(inline[0]![2]!.length < 1024, `the theme script stays tiny (${inline[0]![2]!.length} bytes)`);
    assert.ok(external.length <= 2, `at most the copy button and the lab loader: ${external.join(', ')}`);
    for (const src of external) {
      const js = readFileSync(join(dist, src), 'utf8');
      // The loader only registers the element and imports the panel when it scrolls into view.
      if (/LabPanel/.test(src)) assert.ok(js.length < 8192 && /import\(/.test(js), `${src} is the small lazy loader (${js.length} bytes)`);
      else assert.match(js, /clipboard/, `${src} is the copy button module`);
    }
  });

  test('a chapter without a lab ships no lab script', () => {
    // Its inlined CSS may style the panel (one stylesheet for every chapter); no script, no panel.
    assert.doesNotMatch(coming, /<script[^>]*LabPanel|<atelier-lab/);
    assert.equal([...coming.matchAll(/<script\b/g)].length, [...coming.matchAll(/<script>/g)].length, 'only inline scripts (the theme)');
  });

  test('puts the live lab panel at the place of each lab', () => {
    const labs = [...html.matchAll(/<atelier-lab name="([^"]+)"/g)].map((m) => m[1]);
    assert.deepEqual(labs, ['apache-remote', 'nginx-remote', 'apache-local', 'nginx-local', 'finish-request']);
  });

  test('has a table of contents whose entries point at the section headings', () => {
    const toc = /<nav class="toc"[\s\S]*?<\/nav>/.exec(html)?.[0] ?? '';
    const anchors = [...toc.matchAll(/href="#([^"]+)"/g)].map((m) => m[1]!);
    assert.equal(anchors.length, 11);
    for (const id of anchors) assert.match(html, new RegExp(`<h[23] id="${id}"`));
  });

  test('links to the next chapter, which is marked as coming and links back', () => {
    assert.match(html, /<a class="chapter-nav__next" href="\/06-php-multitenant\/" rel="next">/);
    assert.match(coming, /Ce chapitre est en cours d’écriture/);
    assert.match(coming, /<a class="chapter-nav__prev" href="\/05-fastcgi\/" rel="prev">/);
  });

  test('puts non-breaking spaces before French colons in the prose', () => {
    assert.match(html, /D’après <a [^>]*>Wikipedia<\/a>\u00A0:/);
  });
});
