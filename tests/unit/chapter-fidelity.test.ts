// content/05-fastcgi.mdx is a faithful conversion of its source (content/sources/05-fastcgi.md):
// every heading, paragraph, quotation, code block and link is still there, with only the listed
// typos fixed; code blocks carry the language that highlights them; labs and diagrams are in place.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..', '..');
const source = readFileSync(resolve(root, 'content/sources/05-fastcgi.md'), 'utf8');
const mdx = readFileSync(resolve(root, 'content/05-fastcgi.mdx'), 'utf8');

/** The typos of the source and their fix; nothing else of the text may change. */
const TYPO_FIXES: Array<[string, string]> = [
  ['Concrêtement', 'Concrètement'],
  ['configuation', 'configuration'],
  ['prennant', 'prenant'],
  ['un schema similaire', 'un schéma similaire'],
  ['réagis :', 'réagit :'],
  ['resulte', 'résulte'],
  ["d'executer", "d'exécuter"],
  ["l'execution", "l'exécution"],
  ['executons', 'exécutons'],
  ['serveurs physique ou virtuels différent du', 'serveurs physiques ou virtuels différents du'],
  ['Demo / Exercice', 'Démo / Exercice'],
];
const fixTypos = (text: string) => TYPO_FIXES.reduce((t, [typo, fix]) => t.replaceAll(typo, fix), text);

interface Fence {
  lang: string;
  meta: string;
  body: string;
  inRun: boolean;
}

function split(markdown: string): { fences: Fence[]; lines: string[] } {
  const fences: Fence[] = [];
  const lines: string[] = [];
  let open: { lang: string; meta: string; body: string[] } | undefined;
  let inRun = false;
  for (const line of markdown.split('\n')) {
    const fence = /^```(\S*)\s*(.*)$/.exec(line);
    if (fence && !open) open = { lang: fence[1] ?? '', meta: fence[2] ?? '', body: [] };
    else if (line.startsWith('```') && open) {
      fences.push({ lang: open.lang, meta: open.meta, body: open.body.join('\n').trimEnd(), inRun });
      open = undefined;
    } else if (open) open.body.push(line.trimEnd());
    else {
      // <Run lab step /> closes itself: its command is the lab's solution step, shown by the component.
      if (line.startsWith('<Run ') && !line.trimEnd().endsWith('/>')) inRun = true;
      if (line.startsWith('</Run>')) inRun = false;
      lines.push(line);
    }
  }
  return { fences, lines };
}

const src = split(source);
const out = split(mdx.replace(/^---\n[\s\S]*?\n---\n/, ''));
const frontmatter = /^---\n([\s\S]*?)\n---\n/.exec(mdx)?.[1] ?? '';
const headings = (lines: string[]) => lines.filter((l) => /^#{1,6} /.test(l)).map((l) => l.trim());
const normalise = (text: string) => text.replace(/\s+/g, ' ').trim();
const mdxText = normalise(out.lines.join('\n'));

describe('chapter 05 is faithful to its source', () => {
  test('same title and the same section headings, in the same order', () => {
    const [title, ...sections] = headings(src.lines);
    assert.equal(title, '# Un site dynamique avec FastCGI');
    assert.match(frontmatter, /^title: Un site dynamique avec FastCGI$/m);
    assert.deepEqual(headings(out.lines), sections.map(fixTypos));
    assert.equal(
      sections.length,
      11,
      'Définition, Évolutivité, both demos with Apache httpd and Nginx, fastcgi_finish_request, Conclusion',
    );
  });

  test('every paragraph and quotation of the source is in the chapter, typos fixed', () => {
    const missing: string[] = [];
    for (const raw of src.lines) {
      const line = raw.trim();
      if (line === '' || line === '>' || line.startsWith('#')) continue;
      // The picture we do not have is replaced by a diagram; the log line became a code block.
      if (line.startsWith('![](')) continue;
      if (line.startsWith('> 2018/02/26')) continue;
      const text = normalise(fixTypos(line.replace(/^>\s*/, '')))
        // The function name lost a stray space inside its backticks.
        .replace('`fastcgi_finish_request `', '`fastcgi_finish_request`');
      if (!mdxText.includes(text)) missing.push(text);
    }
    assert.deepEqual(missing, []);
  });

  test('the typos of the source are gone', () => {
    for (const [typo] of TYPO_FIXES) assert.ok(!mdx.includes(typo), `"${typo}" is still in the chapter`);
  });

  test('every code block of the source is kept, with a language that highlights it', () => {
    // Blocks inside <Run> are the lab's own commands, added for the lab (tested in
    // tests/integration/chapter-commands.test.ts), not part of the source text.
    const code = out.fences.filter((f) => f.lang !== 'sequence' && !f.inRun);
    for (const fence of src.fences) {
      assert.ok(
        code.some((f) => f.body === fence.body),
        `code block missing or changed:\n${fence.body}`,
      );
    }
    const logLine = /^> (2018\/02\/26 .*)$/m.exec(source)?.[1];
    assert.ok(logLine, 'the source has the Nginx log line');
    assert.ok(
      code.some((f) => f.lang === 'log' && f.body === logLine),
      'the Nginx log line is a ```log block',
    );
    assert.equal(code.length, src.fences.length + 1);

    const expectedLang = (body: string) =>
      body.startsWith('docker run')
        ? 'sh'
        : /^(LoadModule|ProxyPassMatch)/.test(body)
          ? 'apache'
          : /^(location|#fastcgi_pass)/.test(body)
            ? 'nginx'
            : body.startsWith('listen =')
              ? 'ini'
              : body.startsWith('<!Doctype')
                ? 'php'
                : 'log';
    for (const f of code) assert.equal(f.lang, expectedLang(f.body), `wrong language for:\n${f.body.slice(0, 60)}`);
  });

  test('the docker run commands a student types at home are all kept', () => {
    const count = (text: string) => text.match(/^docker run /gm)?.length ?? 0;
    assert.equal(count(mdx), count(source));
    assert.ok(count(source) >= 7);
  });

  test('every link of the source is kept, with its address', () => {
    const links = (text: string) =>
      [...text.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]).filter((u) => !u!.startsWith('05-fastcgi/images'));
    assert.deepEqual(links(mdx), links(source));
    assert.ok(links(mdx).includes('/06-php-multitenant'));
  });

  test('five sequence diagrams replace the missing pictures, each with a title', () => {
    const diagrams = out.fences.filter((f) => f.lang === 'sequence');
    assert.equal(diagrams.length, 5);
    for (const d of diagrams) assert.match(d.meta, /^title=".+"$/);
    const all = diagrams.map((d) => `${d.meta}\n${d.body}`).join('\n');
    for (const expected of [
      /CGI : un nouveau processus/,
      /TCP, port 9000/,
      /socket unix/,
      /502 Bad Gateway[\s\S]*503 Service/,
      /fastcgi_finish_request\(\)/,
    ]) {
      assert.match(all, expected);
    }
  });

  test('each demo has its lab, and the frontmatter lists exactly those labs', () => {
    const used = [...mdx.matchAll(/<Lab name="([^"]+)" \/>/g)].map((m) => m[1]);
    assert.deepEqual(used, ['apache-remote', 'nginx-remote', 'apache-local', 'nginx-local', 'finish-request']);
    const listed = /^labs: \[(.*)\]$/m
      .exec(frontmatter)?.[1]
      ?.split(',')
      .map((s) => s.trim());
    assert.deepEqual(listed, used);
  });
});
