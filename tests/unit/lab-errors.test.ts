// The messages an author gets for a wrong lab file or a wrong chapter, pinned word for word (as Starlight
// pins its config errors): each problem of a file at once, with its file:line, what is wrong and the fix.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import remarkMdx from 'remark-mdx';
import remarkParse from 'remark-parse';
import { unified } from 'unified';
import { discoverLabs, labFiles } from '../../sandbox/labs/index.ts';
import { chapterProblems, ChapterError } from '../../site/lib/chapter-labs.ts';

const dir = mkdtempSync(join(tmpdir(), 'atelier-lab-errors-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const schema = new URL('../../sandbox/labs/schema.ts', import.meta.url).href;

/** The error discoverLabs throws for these lab files (name → source), as text. */
async function labErrors(files: Record<string, string>): Promise<string> {
  const sub = mkdtempSync(join(dir, 'labs-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(sub, name), text.replaceAll('SCHEMA', schema));
  const error = await discoverLabs(pathToFileURL(`${sub}/`)).then(
    () => assert.fail('the labs were accepted'),
    (err: Error) => err,
  );
  return error.message.replaceAll(`${sub}/`, 'sandbox/labs/');
}

const BROKEN = `import { defineLab } from 'SCHEMA';

export default defineLab({
  id: 'broken',
  title: 'Broken',
  chapter: '99-broken',
  hosts: [
    { name: 'web' },
    {
      name: 'web',
      files: [{ path: '/etc/x.conf', source: 'nowhere/x.conf' }],
    },
  ],
  preview: { host: 'web', port: 80 },
  solution: [{ id: 'reload', title: 'Reload', host: 'web', run: 'true' }],
  checks: [
    {
      id: 'page',
      title: 'Page',
      host: 'db',
      run: 'curl -s localhost',
      after: 'relaod',
      expect: { exitcode: 0 },
    },
    {
      id: 'status',
      title: 'Status',
      host: 'web',
      run: 'true',
      expect: { stdoutIncludes: 'OK' },
    },
  ],
});
`;

describe('lab definition errors', () => {
  test('every mistake of a file at once, with its line and fix', async () => {
    assert.equal(
      await labErrors({ 'broken.ts': BROKEN }),
      `Invalid lab definition in sandbox/labs/broken.ts:
  sandbox/labs/broken.ts:10: hosts.1.name: duplicate host "web"
    fix: give each host its own name
  sandbox/labs/broken.ts:11: hosts.1.files.0.source: no file sandbox/labs/files/nowhere/x.conf
    fix: create that file, or fix the path (relative to sandbox/labs/files/)
  sandbox/labs/broken.ts:20: checks.0.host: unknown host "db"
    fix: use one of the lab's hosts: web
  sandbox/labs/broken.ts:22: checks.0.after: unknown step "relaod"
    fix: use "start" or a solution step's id: start, reload
  sandbox/labs/broken.ts:23: checks.0.expect.exitcode: unknown key "exitcode"
    fix: did you mean "exitCode"?
  sandbox/labs/broken.ts:30: checks.1.expect.stdoutIncludes: Invalid input: expected array, received string
    fix: write a list [...] here`,
    );
  });

  test('all files at once; the id is the file name; a helper file is no lab', async () => {
    const misnamed = `import { defineLab } from 'SCHEMA';\n\nexport default defineLab({\n  id: 'other',\n  title: 'T',\n  chapter: 'c',\n  hosts: [{ name: 'web', colour: 'red' }],\n  preview: { host: 'web', port: 80 },\n});\n`;
    const helper = `export const PAGE = 'index.php';\n`;
    assert.equal(
      await labErrors({ 'broken.ts': BROKEN, 'misnamed.ts': misnamed, 'common.ts': helper }),
      (await labErrors({ 'broken.ts': BROKEN })) +
        `
Invalid lab definition in sandbox/labs/misnamed.ts:
  sandbox/labs/misnamed.ts:4: id: "other" is not the file's name
    fix: name the lab "misnamed" or rename the file other.ts
  sandbox/labs/misnamed.ts:7: hosts.0.colour: unknown key "colour"
    fix: remove it (known keys: name, image, boot, services, files, env, capabilities, workdir)`,
    );
  });

  test('the labs of the repository are the files that define one', () => {
    const names = labFiles().map((f) => f.replace(/^.*\//, ''));
    assert.ok(names.includes('nginx-remote.ts'));
    for (const helper of ['common.ts', 'diagnoses.ts', 'schema.ts', 'index.ts', 'catalog.ts']) assert.ok(!names.includes(helper), helper);
  });
});

const LABS = [
  {
    id: 'web-lab',
    hosts: [{ name: 'web' }, { name: 'php' }],
    steps: [
      { id: 'reload', host: 'web' },
      { id: 'start-php', host: 'php' },
    ],
    checks: [
      { id: 'page', after: 'reload', diagnosed: true },
      { id: 'first-502', after: 'start', diagnosed: false },
      { id: 'story', after: 'start', diagnosed: true },
    ],
  },
  { id: 'spare', hosts: [{ name: 'web' }], steps: [], checks: [] },
];

function problems(mdx: string, frontmatter: unknown): string {
  const text = `---\nfrontmatter\n---\n${mdx}`;
  const tree = unified().use(remarkParse).use(remarkMdx).parse(text);
  const found = chapterProblems(tree, frontmatter, LABS, 'content/99-broken.mdx', 'title: T\nlabs: [web-lab, spare]\n');
  return new ChapterError('content/99-broken.mdx', '/x', found).message;
}

describe('chapter errors', () => {
  const frontmatter = { title: 'T', chapter: 9, summary: 'S', labs: ['web-lab', 'spare', 'ghost'] };
  test('unknown lab, host, step and check; a lab used but not listed, or listed but unused', () => {
    const mdx = [
      '<Lab name="web-lab" />',
      '',
      '<Run lab="web-lab" host="db">',
      '',
      '```sh',
      'true',
      '```',
      '',
      '</Run>',
      '',
      '<Run lab="web-lab" step="relaod" />',
      '',
      '<Run lab="web-lab" step="reload" host="php" />',
      '',
      '<Check lab="web-lab" id="pages">Page</Check>',
      '',
      '<Lab name="nope" />',
      '',
      '<Check lab="spare" id="x">X</Check>',
    ].join('\n');
    assert.equal(
      problems(mdx, frontmatter),
      `Invalid chapter content/99-broken.mdx:
  content/99-broken.mdx:2: frontmatter: labs names "ghost", which is no lab
    fix: use one of the labs (web-lab, spare)
  content/99-broken.mdx:6: <Run lab="web-lab" host="db">: lab web-lab has no host "db"
    fix: use one of its hosts: web, php
  content/99-broken.mdx:14: <Run lab="web-lab" step="relaod">: lab web-lab has no step "relaod"
    fix: use one of its steps (reload, start-php), or give that solution step an id
  content/99-broken.mdx:16: <Run lab="web-lab" step="reload" host="php">: step reload runs on web, not php
    fix: leave host out: it comes from the step
  content/99-broken.mdx:16: <Run lab="web-lab" step="reload">: no « Vérifier » after this step
    fix: add <Check lab="web-lab" id="…"> before the lab's next step, with a check that holds after it: page
  content/99-broken.mdx:18: <Check lab="web-lab" id="pages">: lab web-lab has no check "pages"
    fix: use one of its checks: page, first-502, story
  content/99-broken.mdx:20: <Lab name="nope">: no lab "nope"
    fix: use one of the labs (web-lab, spare), or create sandbox/labs/nope.ts
  content/99-broken.mdx:22: <Check lab="spare" id="x">: the page has no panel of lab spare, so its button would stay hidden
    fix: add <Lab name="spare" /> before it
  content/99-broken.mdx:22: <Check lab="spare" id="x">: lab spare has no check "x"
    fix: use one of its checks: none`,
    );
  });

  test('a lab shown but not listed, and frontmatter errors, with the fix', () => {
    assert.equal(
      problems('<Lab name="spare" />\n', { title: 'T', chapter: 'nine', summary: 'S', labs: ['web-lab'] }),
      `Invalid chapter content/99-broken.mdx:
  content/99-broken.mdx:1: frontmatter: chapter: must be a number without quotes, e.g. chapter: 5, got "nine"
    fix: see the fields in docs/authoring.md
  content/99-broken.mdx:2: frontmatter: lab web-lab is listed but the chapter never shows it
    fix: add <Lab name="web-lab" />, or remove it from labs
  content/99-broken.mdx:4: <Lab name="spare">: lab spare is not in the frontmatter's labs
    fix: add it: labs: [web-lab, spare]`,
    );
  });

  test('a step shown without « Vérifier » after it, or a « Vérifier » whose check has no diagnoses', () => {
    const mdx = [
      '<Lab name="web-lab" />',
      '',
      '<Check lab="web-lab" id="first-502">502</Check>',
      '',
      '<Check lab="web-lab" id="story">story</Check>',
      '',
      '<Run lab="web-lab" step="reload" />',
      '',
      // A check of another stage does not verify this step; the next step comes first.
      '<Check lab="web-lab" id="story">story</Check>',
      '',
      '<Run lab="web-lab" step="start-php" />',
    ].join('\n');
    assert.equal(
      problems(mdx, { title: 'T', chapter: 9, summary: 'S', labs: ['web-lab'] }),
      `Invalid chapter content/99-broken.mdx:
  content/99-broken.mdx:6: <Check lab="web-lab" id="first-502">: check first-502 has no diagnoses, so « Vérifier » could only say that it failed
    fix: give it diagnoses in sandbox/labs/web-lab.ts (sandbox/labs/diagnoses.ts), or say why it cannot fail in a way one could explain: undiagnosed: "…"
  content/99-broken.mdx:10: <Run lab="web-lab" step="reload">: no « Vérifier » after this step
    fix: add <Check lab="web-lab" id="…"> before the lab's next step, with a check that holds after it: page
  content/99-broken.mdx:14: <Run lab="web-lab" step="start-php">: no « Vérifier » after this step
    fix: add a check with after: "start-php" to sandbox/labs/web-lab.ts, and its <Check> before the lab's next step`,
    );
  });

  test('each step followed by its « Vérifier », every check diagnosed or saying why not: no problem', () => {
    const labs = [{ ...LABS[0]!, checks: [...LABS[0]!.checks, { id: 'end', after: 'start-php', diagnosed: true }] }];
    const mdx = [
      '<Lab name="web-lab" />',
      '<Run lab="web-lab" step="reload" />',
      '<Check lab="web-lab" id="page">page</Check>',
      '<Run lab="web-lab" step="start-php" />',
      '<Check lab="web-lab" id="end">end</Check>',
    ].join('\n');
    const tree = unified().use(remarkParse).use(remarkMdx).parse(mdx);
    assert.deepEqual(
      chapterProblems(tree, { title: 'T', chapter: 9, summary: 'S', labs: ['web-lab'] }, labs, 'c.mdx', 'labs: [web-lab]\n'),
      [],
    );
  });
});
