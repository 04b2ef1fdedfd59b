// French typography outside the prose, read where the student reads it: every text node of the built
// chapter (diagram titles, labels and text versions, aside titles, lab titles, the panel's markup, the
// table of contents…) and the words of its attributes a reader hears or sees (aria-label, title,
// placeholder, alt), and every string the lab panel shows from JavaScript (site/islands/lab/strings.ts).
// A narrow no-break space (U+202F) before : ; ? !, never an ordinary or a wide no-break one; ’, never '.
// Code (pre, code, kbd, script, style) keeps its own characters.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import type { Element, Root, RootContent } from 'hast';
import { fromHtml } from 'hast-util-from-html';
import * as strings from '../../site/islands/lab/strings.ts';
import { typographyError } from '../helpers/french-typography.ts';
import { dist, ensureSiteBuilt } from '../helpers/site-build.ts';

const CODE = new Set(['pre', 'code', 'kbd', 'samp', 'script', 'style']);
const SPOKEN_ATTRIBUTES = ['ariaLabel', 'title', 'placeholder', 'alt'] as const;

/** Text nodes and spoken attributes of the page outside code, each with where it is. */
function texts(node: Root | RootContent | Element, path: string, found: Array<{ where: string; text: string }>): typeof found {
  if (node.type === 'text') found.push({ where: path, text: node.value });
  if (node.type === 'element') {
    if (CODE.has(node.tagName)) return found;
    const here = `${path} > ${node.tagName}${node.properties.className ? `.${[node.properties.className].flat().join('.')}` : ''}`;
    for (const name of SPOKEN_ATTRIBUTES) {
      const value = node.properties[name];
      if (typeof value === 'string') found.push({ where: `${here}[${name}]`, text: value });
    }
    // A <template>'s markup (a lab host the page did not render) is in its content.
    if (node.tagName === 'template' && node.content) texts(node.content, `${here} (template)`, found);
    for (const child of node.children) texts(child, here, found);
    return found;
  }
  if ('children' in node) for (const child of node.children) texts(child, path, found);
  return found;
}

describe('French typography of the built chapter, outside the prose too', () => {
  let found: Array<{ where: string; text: string }> = [];
  before(async () => {
    await ensureSiteBuilt();
    found = texts(fromHtml(readFileSync(join(dist, '05-fastcgi', 'index.html'), 'utf8')), 'html', []);
  });

  test('every text node and spoken attribute', () => {
    assert.ok(found.length > 500, `the page has its texts (${found.length})`);
    const wrong = found.flatMap(({ where, text }) => {
      const error = typographyError(text);
      return error === undefined ? [] : [`${error}: « ${text.trim().slice(0, 90)} » (${where.split(' > ').slice(-3).join(' > ')})`];
    });
    assert.deepEqual(wrong, []);
  });

  test('the diagrams, asides and labs use it (what this test would miss if they were gone)', () => {
    const all = found.map((f) => f.text).join('\n');
    for (const expected of [
      'CGI\u202F: un nouveau processus par requête', // a diagram title
      'le script continue\u202F:', // a diagram note
      'Participants\u202F: Navigateur', // a text version
      'Avec les logiciels d’aujourd’hui', // an aside title
      'fastcgi_finish_request()\u202F: répondre avant la fin du travail', // a lab title
      'Démo / Exercice\u202F: PHP-FPM distant',
      'Copier\u202F: sélection',
    ]) {
      assert.ok(all.includes(expected), `the page shows « ${expected} »`);
    }
  });
});

describe('French typography of the lab panel’s strings', () => {
  test('every string it shows from JavaScript', () => {
    const shown: Array<[string, string]> = [];
    for (const [group, value] of Object.entries(strings)) {
      if (typeof value === 'string') shown.push([group, value]);
      else if (typeof value === 'object') {
        for (const [key, text] of Object.entries(value))
          shown.push([`${group}.${key}`, typeof text === 'function' ? String(text(3)) : String(text)]);
      }
    }
    assert.ok(shown.length > 20, `the panel's strings (${shown.length})`);
    const wrong = shown.flatMap(([key, text]) => {
      const error = typographyError(text);
      return error === undefined ? [] : [`${key}: ${error}: « ${text} »`];
    });
    assert.deepEqual(wrong, []);
  });
});
