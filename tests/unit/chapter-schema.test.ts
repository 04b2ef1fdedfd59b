// The chapter frontmatter schema: good frontmatter passes with its defaults, bad frontmatter gives a
// message that names the file and each bad field; chapters are ordered and linked by number.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  ChapterFrontmatterError,
  orderChapters,
  validateChapterFrontmatter,
  type ChapterFrontmatter,
} from '../../site/lib/chapter-schema.ts';

const good = {
  title: 'Un site dynamique avec FastCGI',
  chapter: 5,
  summary: 'Confier PHP à PHP-FPM.',
  labs: ['apache-remote', 'nginx-remote'],
  status: 'published',
};

function problemsOf(data: unknown, file = 'content/99-broken.mdx'): ChapterFrontmatterError {
  try {
    validateChapterFrontmatter(data, file);
  } catch (error) {
    assert.ok(error instanceof ChapterFrontmatterError, `expected a ChapterFrontmatterError, got ${String(error)}`);
    return error;
  }
  assert.fail('the frontmatter was accepted');
}

describe('chapter frontmatter', () => {
  test('a valid frontmatter passes and is returned as read', () => {
    assert.deepEqual(validateChapterFrontmatter(good, 'content/05-fastcgi.mdx'), good);
  });

  test('labs and status may be left out: no labs, published', () => {
    const { labs, status, ...minimal } = good;
    assert.deepEqual(validateChapterFrontmatter(minimal, 'content/05-fastcgi.mdx'), { ...minimal, labs: [], status: 'published' });
  });

  test('a broken chapter names the file and every bad field in plain words', () => {
    const error = problemsOf({ title: '  ', chapter: 'cinq', labs: ['Bad_Lab'], status: 'later', sumary: 'typo' });
    assert.match(error.message, /^The frontmatter of content\/99-broken\.mdx is not valid:/);
    assert.equal(error.file, 'content/99-broken.mdx');
    const byField = new Map(error.problems.map((p) => [p.split(':')[0], p]));
    assert.match(byField.get('title')!, /is empty: write the chapter title/);
    assert.match(byField.get('chapter')!, /must be a number without quotes, e.g\. chapter: 5, got "cinq"/);
    assert.match(byField.get('summary')!, /missing: write one or two sentences/);
    assert.match(byField.get('labs, item 1')!, /"Bad_Lab" is not a lab id/);
    assert.match(byField.get('status')!, /must be one of draft, coming, published, got "later"/);
    assert.ok(
      error.problems.some((p) => /unknown field sumary/.test(p)),
      `a misspelt field is reported: ${error.problems.join(' | ')}`,
    );
    // Every problem is on its own line of the message, so the build output lists them all.
    for (const p of error.problems) assert.ok(error.message.includes(`\n  - ${p}`));
  });

  test('numbers must be whole and positive', () => {
    assert.match(problemsOf({ ...good, chapter: 5.5 }).message, /chapter: must be a whole number, got 5\.5/);
    assert.match(problemsOf({ ...good, chapter: 0 }).message, /chapter: must be 1 or more, got 0/);
  });

  test('labs must be a list', () => {
    assert.match(problemsOf({ ...good, labs: 'apache-remote' }).message, /labs: must be a list of lab ids/);
  });

  test('a missing frontmatter says what is expected', () => {
    const error = problemsOf(undefined, 'content/07-empty.mdx');
    assert.match(error.message, /content\/07-empty\.mdx/);
    assert.match(error.message, /"field: value" lines between two --- lines/);
  });
});

describe('chapter order', () => {
  const entry = (id: string, chapter: number, status: ChapterFrontmatter['status'] = 'published') => ({
    id,
    data: { title: `T${chapter}`, chapter, summary: 's', labs: [], status },
  });

  test('chapters are sorted by number and linked to their neighbours; drafts stay out', () => {
    const ordered = orderChapters([entry('07-c', 7), entry('05-a', 5), entry('06-draft', 6, 'draft'), entry('06-b', 6, 'coming')]);
    assert.deepEqual(
      ordered.map((c) => [c.id, c.href, c.prev?.id, c.next?.id]),
      [
        ['05-a', '/05-a/', undefined, '06-b'],
        ['06-b', '/06-b/', '05-a', '07-c'],
        ['07-c', '/07-c/', '06-b', undefined],
      ],
    );
  });

  test('two chapters with the same number are an error naming both', () => {
    assert.throws(() => orderChapters([entry('05-a', 5), entry('05-b', 5)]), /05-a and 05-b both have chapter: 5/);
  });
});

describe('astro build with a broken chapter', () => {
  test('stops with the friendly message naming the file and the fields', () => {
    // A copy of the site with one broken chapter, in the system's temporary directory: never inside the
    // repository, where a running `astro dev` watches files.
    const root = resolve(import.meta.dirname, '..', '..');
    const copy = mkdtempSync(join(tmpdir(), 'atelier-broken-site-'));
    try {
      mkdirSync(join(copy, 'content'));
      cpSync(join(root, 'site'), join(copy, 'site'), { recursive: true });
      for (const file of ['astro.config.mjs', 'package.json']) cpSync(join(root, file), join(copy, file));
      // What the config and the lab panel import at build time.
      for (const dir of ['server', 'sandbox', 'protocol']) cpSync(join(root, dir), join(copy, dir), { recursive: true });
      // The repository's packages, linked one by one: Astro's cache (node_modules/.astro) stays in the copy.
      mkdirSync(join(copy, 'node_modules'));
      for (const name of readdirSync(join(root, 'node_modules')).filter((n) => !n.startsWith('.'))) {
        symlinkSync(join(root, 'node_modules', name), join(copy, 'node_modules', name), 'dir');
      }
      writeFileSync(join(copy, 'content', '09-broken.mdx'), '---\ntitle: Cassé\nchapter: neuf\nsummary: x\n---\n\n## Texte\n');
      const run = spawnSync(process.execPath, [join(root, 'node_modules', 'astro', 'bin', 'astro.mjs'), 'build', '--root', copy], {
        cwd: copy,
        encoding: 'utf8',
        env: { ...process.env, NO_COLOR: '1', ASTRO_TELEMETRY_DISABLED: '1' },
      });
      const output = run.stdout + run.stderr;
      assert.notEqual(run.status, 0, 'the build must fail');
      assert.match(output, /The frontmatter of content\/09-broken\.mdx is not valid:/);
      assert.match(output, /chapter: must be a number without quotes, e\.g\. chapter: 5, got "neuf"/);
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  });
});
