// The built chapter page (dist/05-fastcgi/index.html): diagrams are inline SVG, no JavaScript of
// its own beyond the theme toggle, French, labs marked, table of contents and neighbours in place. And of
// every built page, whatever chapters exist: no lab script without a lab, the banner of a chapter to come.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chapter, chapters, dist, ensureSiteBuilt } from '../helpers/site-build.ts';

let html = '';
const built = (file: string) => readFileSync(join(dist, file), 'utf8');
const COMING = /Ce chapitre est en cours d’écriture/;

before(async () => {
  await ensureSiteBuilt();
  html = built('05-fastcgi/index.html');
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

  test('puts the live lab panel at the place of each lab', () => {
    const labs = [...html.matchAll(/<atelier-lab name="([^"]+)"/g)].map((m) => m[1]);
    assert.deepEqual(labs, ['apache-remote', 'nginx-remote', 'apache-local', 'nginx-local', 'finish-request']);
  });

  test('links to each of its labs from under its title, in the order of the text', () => {
    const nav = /<nav class="lab-links"[\s\S]*?<\/nav>/.exec(html)?.[0] ?? '';
    const links = [...nav.matchAll(/href="#([^"]+)"/g)].map((m) => m[1]);
    const panels = [...html.matchAll(/<atelier-lab name="[^"]+" id="([^"]+)"/g)].map((m) => m[1]);
    assert.deepEqual(links, panels);
    assert.deepEqual(links, ['lab-apache-remote', 'lab-nginx-remote', 'lab-apache-local', 'lab-nginx-local', 'lab-finish-request']);
    assert.ok(html.indexOf('<nav class="lab-links"') < html.indexOf('<nav class="toc"'), 'before the table of contents');
  });

  test('has a table of contents whose entries point at the section headings', () => {
    const toc = /<nav class="toc"[\s\S]*?<\/nav>/.exec(html)?.[0] ?? '';
    const anchors = [...toc.matchAll(/href="#([^"]+)"/g)].map((m) => m[1]!);
    assert.equal(anchors.length, 11);
    for (const id of anchors) assert.match(html, new RegExp(`<h[23] id="${id}"`));
  });

  test('links to the next chapter, which links back', () => {
    const next = chapter('05-fastcgi').next;
    assert.ok(next, 'a chapter follows chapter 05');
    assert.ok(html.includes(`<a class="chapter-nav__next" href="${next.href}" rel="next">`), `a link to ${next.href}`);
    assert.match(built(`${next.id}/index.html`), /<a class="chapter-nav__prev" href="\/05-fastcgi\/" rel="prev">/);
  });

  test('puts narrow no-break spaces before French colons in the prose', () => {
    assert.match(html, /D’après <a [^>]*>Wikipedia<\/a>\u202F:/);
  });
});

describe('every built page', () => {
  test('a page without a lab (the home page, a chapter without labs) ships no lab script', () => {
    const files = [
      'index.html',
      ...chapters()
        .filter((c) => c.entry.data.labs.length === 0)
        .map((c) => `${c.id}/index.html`),
    ];
    for (const file of files) {
      const page = built(file);
      // Its inlined CSS may style the panel (one stylesheet for every chapter); no script, no panel.
      assert.doesNotMatch(page, /<script[^>]*LabPanel|<atelier-lab/, file);
      // The home page shows each demo's progress (« 3 étapes sur 5 »): one small script, no lab code.
      const external = [...page.matchAll(/<script\b[^>]*\bsrc="([^"]+)"/g)].map((m) => m[1]!);
      const progress = file === 'index.html' ? external.filter((src) => /progress|index\.astro/.test(src)) : [];
      assert.deepEqual(external, progress, `${file}: only inline scripts (the theme)${file === 'index.html' ? ' and the progress' : ''}`);
      for (const src of progress) {
        // The entry and the modules it imports (progress, its strings).
        const entry = readFileSync(join(dist, src), 'utf8');
        const imported = [...entry.matchAll(/import\s*"\.\/([^"]+)"/g)].map((m) => readFileSync(join(dist, '_astro', m[1]!), 'utf8'));
        const nested = imported.flatMap((js) =>
          [...js.matchAll(/from\s*"\.\/([^"]+)"/g)].map((m) => readFileSync(join(dist, '_astro', m[1]!), 'utf8')),
        );
        const js = [entry, ...imported, ...nested].join('\n');
        assert.ok(
          js.length < 6144 && /\/api\/progress/.test(js) && !/xterm|WebSocket/.test(js),
          `${src}: the small progress script (${js.length} bytes)`,
        );
      }
    }
  });

  test('the home page says the labs are there, not that they come « bientôt »', () => {
    const home = built('index.html');
    const lead = /<p class="lead">([\s\S]*?)<\/p>/.exec(home)?.[1] ?? '';
    assert.doesNotMatch(home, /bientôt/);
    assert.match(lead, /se font dans un lab à vous/);
  });

  test('a chapter still to come says so, and only such a chapter', () => {
    for (const c of chapters()) {
      if (c.status === 'coming') assert.match(built(`${c.id}/index.html`), COMING, c.id);
      else assert.doesNotMatch(built(`${c.id}/index.html`), COMING, c.id);
    }
  });
});
