// Build-time helpers of the chapter pages: French spacing, external links, table of contents.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Root as HastRoot } from 'hast';
import type { Root as MdastRoot } from 'mdast';
import remarkFrenchTypography, { frenchSpacing, frenchText } from '../../site/lib/french-typography.ts';
import rehypeExternalLinks, { isExternalHref } from '../../site/lib/external-links.ts';
import { tableOfContents } from '../../site/lib/toc.ts';

const NBSP = '\u00A0';
const NNBSP = '\u202F';

describe('French spacing', () => {
  test('the space before : ; ! ? is a narrow no-break one; the one after « and before » does not break', () => {
    assert.equal(frenchSpacing("D'après Wikipedia :"), `D'après Wikipedia${NNBSP}:`);
    assert.equal(frenchSpacing('Vraiment ? Oui ! Bon ; ensuite'), `Vraiment${NNBSP}? Oui${NNBSP}! Bon${NNBSP}; ensuite`);
    assert.equal(frenchSpacing('« Interface passerelle commune »'), `«${NBSP}Interface passerelle commune${NBSP}»`);
    assert.equal(frenchSpacing('«serré»'), `«${NBSP}serré${NBSP}»`);
  });

  test('text without a space before the sign is left alone (times, URLs, ports)', () => {
    for (const s of ['06:25:16', 'http://localhost/index.php?x=1', 'php:9000', 'a!b']) assert.equal(frenchSpacing(s), s);
  });

  test('frontmatter text gets typographic apostrophes too', () => {
    assert.equal(frenchText("l'exécution : d'abord"), `l’exécution${NNBSP}: d’abord`);
  });

  test('the remark plugin changes prose only, never code', () => {
    const tree: MdastRoot = {
      type: 'root',
      children: [
        {
          type: 'paragraph',
          children: [
            { type: 'text', value: 'Activer :' },
            { type: 'inlineCode', value: 'a : b' },
          ],
        },
        { type: 'code', lang: 'nginx', value: 'location ~ \\.php$ {' },
      ],
    };
    remarkFrenchTypography()(tree);
    assert.deepEqual(tree.children[0], {
      type: 'paragraph',
      children: [
        { type: 'text', value: `Activer${NNBSP}:` },
        { type: 'inlineCode', value: 'a : b' },
      ],
    });
    assert.deepEqual(tree.children[1], { type: 'code', lang: 'nginx', value: 'location ~ \\.php$ {' });
  });
});

describe('external links', () => {
  test('only http(s) addresses are external', () => {
    assert.equal(isExternalHref('https://fr.wikipedia.org/wiki/FastCGI'), true);
    assert.equal(isExternalHref('http://localhost/index.php'), true);
    assert.equal(isExternalHref('/06-php-multitenant'), false);
    assert.equal(isExternalHref('#définition'), false);
  });

  test('links to other sites get rel="noopener external", internal links are untouched', () => {
    const tree: HastRoot = {
      type: 'root',
      children: [
        { type: 'element', tagName: 'a', properties: { href: 'https://www.php.net/' }, children: [] },
        { type: 'element', tagName: 'a', properties: { href: 'https://x.example/', rel: ['me'] }, children: [] },
        { type: 'element', tagName: 'a', properties: { href: '/05-fastcgi/' }, children: [] },
      ],
    };
    rehypeExternalLinks()(tree);
    const rels = tree.children.map((c) => (c.type === 'element' ? c.properties.rel : null));
    assert.deepEqual(rels, [['noopener', 'external'], ['me', 'noopener', 'external'], undefined]);
  });
});

describe('table of contents', () => {
  test('h2 are entries, h3 their children, h4 and h1 left out', () => {
    const toc = tableOfContents([
      { depth: 1, slug: 't', text: 'Titre' },
      { depth: 3, slug: 'orphan', text: 'Avant tout h2' },
      { depth: 2, slug: 'a', text: 'A' },
      { depth: 3, slug: 'a1', text: 'A1' },
      { depth: 4, slug: 'a1x', text: 'A1x' },
      { depth: 2, slug: 'b', text: 'B' },
    ]);
    assert.deepEqual(toc, [
      { slug: 'orphan', text: 'Avant tout h2', children: [] },
      { slug: 'a', text: 'A', children: [{ slug: 'a1', text: 'A1', children: [] }] },
      { slug: 'b', text: 'B', children: [] },
    ]);
  });
});
