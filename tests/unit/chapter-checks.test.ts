// Every step of every demo has a « Vérifier » with diagnoses (issue 12), on the chapters as they are: the
// build's own check (site/lib/chapter-labs.ts) finds no problem in content/*.mdx against today's labs. Its
// messages for a step without « Vérifier » or a check without diagnoses are pinned in lab-errors.test.ts.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import remarkMdx from 'remark-mdx';
import remarkParse from 'remark-parse';
import { unified } from 'unified';
import { parse } from 'yaml';
import { labCatalog } from '../../sandbox/labs/catalog.ts';
import { ChapterError, chapterProblems } from '../../site/lib/chapter-labs.ts';

const chapters = readdirSync(new URL('../../content/', import.meta.url)).filter((f) => f.endsWith('.mdx'));

test('the chapters exist and show labs', () => {
  assert.ok(chapters.length >= 2, chapters.join(', '));
});

for (const name of chapters) {
  test(`${name}: each step shown is followed by a « Vérifier » of a check with diagnoses`, () => {
    const text = readFileSync(new URL(`../../content/${name}`, import.meta.url), 'utf8');
    const [, yaml = '', body = ''] = /^---\n([\s\S]*?)\n---\n([\s\S]*)$/.exec(text) ?? [];
    // The body keeps its line numbers: the frontmatter's lines become empty ones.
    const tree = unified()
      .use(remarkParse)
      .use(remarkMdx)
      .parse(`${'\n'.repeat(yaml.split('\n').length + 2)}${body}`);
    const labs = labCatalog();
    const problems = chapterProblems(tree, parse(yaml), labs, `content/${name}`, text);
    assert.equal(problems.length === 0 ? '' : new ChapterError(`content/${name}`, '/x', problems).message, '');
    // Not vacuous: the chapter shows steps and checks.
    assert.match(body, /<Run lab="[^"]+" step="/);
    assert.match(body, /<Check lab="[^"]+" id="/);
  });
}
