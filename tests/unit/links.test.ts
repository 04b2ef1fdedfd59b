// Every internal link of the built site (dist/) leads to a page, and every #anchor to an element of
// that page; pages load nothing from another host. Builds the site first when dist/ is out of date.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { builtPages, chapters, dist, ensureSiteBuilt } from '../helpers/site-build.ts';

interface Tag {
  name: string;
  attrs: Map<string, string>;
}

const ENTITIES: Record<string, string> = { amp: '&', quot: '"', '#39': "'", lt: '<', gt: '>', apos: "'" };
const decodeEntities = (s: string) => s.replace(/&(amp|quot|#39|lt|gt|apos);/g, (_, e: string) => ENTITIES[e] ?? _);

// The build escapes < in text and code, so every raw "<name" starts a real tag; attributes are
// written name="value" or bare.
function tags(html: string): Tag[] {
  const found: Tag[] = [];
  for (const m of html.matchAll(/<([a-zA-Z][\w:-]*)((?:\s+[^\s=>/]+(?:="[^"]*"|='[^']*'|=[^\s>]+)?)*)\s*\/?>/g)) {
    const attrs = new Map<string, string>();
    for (const a of (m[2] ?? '').matchAll(/([^\s=>/]+)(?:="([^"]*)"|='([^']*)'|=([^\s>]+))?/g)) {
      attrs.set(a[1]!.toLowerCase(), decodeEntities(a[2] ?? a[3] ?? a[4] ?? ''));
    }
    found.push({ name: m[1]!.toLowerCase(), attrs });
  }
  return found;
}

/** The file a site path is served from, as the production server and `astro preview` map it. */
function fileFor(pathname: string): string | undefined {
  const p = decodeURIComponent(pathname);
  const candidates = p.endsWith('/')
    ? [join(dist, p, 'index.html')]
    : [join(dist, p), join(dist, p, 'index.html'), join(dist, `${p}.html`)];
  return candidates.find((c) => existsSync(c) && statSync(c).isFile());
}

const SITE = 'http://atelier.invalid';
const pageUrl = (file: string) => new URL(`/${file.replace(/(^|\/)index\.html$/, '$1')}`, SITE);

let pages: Array<{ file: string; html: string; tags: Tag[]; ids: Set<string> }> = [];

before(async () => {
  await ensureSiteBuilt();
  pages = builtPages().map(({ file, html }) => {
    const t = tags(html);
    return { file, html, tags: t, ids: new Set(t.flatMap((tag) => (tag.attrs.has('id') ? [tag.attrs.get('id')!] : []))) };
  });
});

describe('built site links', () => {
  test('the build has the home page, every chapter and a 404 page', () => {
    const files = pages.map((p) => p.file).sort();
    const expected = ['index.html', ...chapters().map((c) => `${c.id}/index.html`), '404.html'];
    assert.ok(expected.includes('05-fastcgi/index.html'), 'chapter 05 is among them');
    for (const f of expected) assert.ok(files.includes(f), `dist/${f} missing`);
  });

  test('every internal link and #anchor resolves', () => {
    const broken: string[] = [];
    let checked = 0;
    for (const page of pages) {
      const base = pageUrl(page.file);
      for (const tag of page.tags) {
        const ref = tag.attrs.get('href') ?? tag.attrs.get('src');
        if (ref === undefined || /^(mailto|tel|data):/i.test(ref)) continue;
        const url = new URL(ref, base);
        if (url.origin !== SITE) continue;
        checked++;
        const target = fileFor(url.pathname);
        if (!target) {
          broken.push(`${page.file}: <${tag.name}> ${ref} → no such page or file`);
          continue;
        }
        if (url.hash) {
          const id = decodeURIComponent(url.hash.slice(1));
          const targetPage = pages.find((p) => join(dist, p.file) === target);
          if (!targetPage?.ids.has(id))
            broken.push(`${page.file}: ${ref} → no element with id "${id}" in ${target.slice(dist.length + 1)}`);
        }
      }
    }
    assert.deepEqual(broken, []);
    assert.ok(checked > 20, `only ${checked} internal links found: is the parser still reading the pages?`);
  });

  test('url(#id) references inside the diagrams point to ids of the same page', () => {
    const broken: string[] = [];
    let checked = 0;
    for (const page of pages) {
      for (const m of page.html.matchAll(/url\(#([^)]+)\)/g)) {
        checked++;
        if (!page.ids.has(m[1]!)) broken.push(`${page.file}: url(#${m[1]})`);
      }
    }
    assert.deepEqual(broken, []);
    assert.ok(checked > 0, 'no url(#…) reference found: the diagrams use markers for arrow heads');
  });

  test('no element id is used twice in a page', () => {
    for (const page of pages) {
      const seen = new Set<string>();
      const twice = new Set<string>();
      for (const tag of page.tags) {
        const id = tag.attrs.get('id');
        if (id === undefined) continue;
        if (seen.has(id)) twice.add(id);
        seen.add(id);
      }
      assert.deepEqual([...twice], [], `${page.file} repeats ids`);
    }
  });

  test('pages load nothing from another host, and links to other sites carry rel="noopener"', () => {
    const problems: string[] = [];
    let external = 0;
    for (const page of pages) {
      for (const tag of page.tags) {
        const ref = tag.attrs.get('href') ?? tag.attrs.get('src');
        if (ref === undefined || !/^(https?:)?\/\//i.test(ref)) continue;
        if (tag.name !== 'a') problems.push(`${page.file}: <${tag.name}> loads ${ref}`);
        else {
          external++;
          if (!(tag.attrs.get('rel') ?? '').split(/\s+/).includes('noopener'))
            problems.push(`${page.file}: <a href="${ref}"> has no rel="noopener"`);
        }
      }
      for (const m of page.html.matchAll(/@import|url\((['"]?)(https?:)?\/\//g))
        problems.push(`${page.file}: CSS loads from elsewhere (${m[0]})`);
    }
    for (const css of readdirSync(join(dist, '_astro')).filter((f) => f.endsWith('.css'))) {
      const text = readFileSync(join(dist, '_astro', css), 'utf8');
      for (const m of text.matchAll(/@import|url\((['"]?)(https?:)?\/\//g)) problems.push(`_astro/${css}: loads from elsewhere (${m[0]})`);
    }
    assert.deepEqual(problems, []);
    assert.ok(external >= 5, 'the FastCGI chapter links to Wikipedia, DigitalOcean, Rackspace and php.net');
  });

  test('the chapter 05 links to chapter 06 as /06-php-multitenant, which the server can serve', () => {
    const chapter = pages.find((p) => p.file === '05-fastcgi/index.html')!;
    const hrefs = chapter.tags.filter((t) => t.name === 'a').map((t) => t.attrs.get('href'));
    assert.ok(hrefs.includes('/06-php-multitenant'), 'the conclusion link of the source is kept as written');
    assert.ok(fileFor('/06-php-multitenant'), '/06-php-multitenant maps to dist/06-php-multitenant/index.html');
  });
});
