// Sequence diagrams: parser, layout invariants, SVG/HTML output, text version, remark plugin, and the
// five diagrams of the FastCGI chapter (tests/unit/fixtures/sequence).
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { optimize } from 'svgo';
import { unified } from 'unified';
import remarkParse from 'remark-parse';
import remarkRehype from 'remark-rehype';
import rehypeStringify from 'rehype-stringify';
import { compile } from '@mdx-js/mdx';
import { parseSequence, layoutSequence, renderSequence, SequenceSyntaxError } from '../../site/lib/sequence/index.ts';
import type { Box, Layout } from '../../site/lib/sequence/layout.ts';
import { textColumns } from '../../site/lib/sequence/measure.ts';
import remarkSequence, { readMeta } from '../../site/lib/sequence/remark.ts';

const FIXTURES = new URL('./fixtures/sequence/', import.meta.url);
const fixtures = readdirSync(FIXTURES)
  .filter((f) => f.endsWith('.seq'))
  .sort()
  .map((name) => ({ name, source: readFileSync(new URL(name, FIXTURES), 'utf8') }));

// --- a tiny XML reader: enough to prove the output is well-formed and to look inside it ---------
interface XmlNode {
  tag: string;
  attrs: Record<string, string>;
  children: Array<XmlNode | string>;
}

function decodeEntities(text: string, where: string): string {
  return text.replace(/&([^;\s]*);?/g, (entity, name: string) => {
    const known: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
    const code = /^#x([0-9a-f]+)$/i.exec(name)?.[1];
    if (entity.endsWith(';') && code !== undefined) return String.fromCodePoint(parseInt(code, 16));
    if (!entity.endsWith(';') || !(name in known)) throw new Error(`bad entity ${entity} in ${where}`);
    return known[name]!;
  });
}

function parseXml(xml: string): XmlNode {
  const root: XmlNode = { tag: '#root', attrs: {}, children: [] };
  const stack = [root];
  const token = /<\/([\w:-]+)\s*>|<([\w:-]+)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>|([^<]+)/y;
  let at = 0;
  while (at < xml.length) {
    token.lastIndex = at;
    const m = token.exec(xml);
    if (!m) throw new Error(`not well-formed at ${at}: ${xml.slice(at, at + 40)}`);
    at = token.lastIndex;
    const top = stack.at(-1)!;
    if (m[1]) {
      if (top.tag !== m[1]) throw new Error(`</${m[1]}> closes <${top.tag}>`);
      stack.pop();
    } else if (m[2]) {
      const attrs: Record<string, string> = {};
      for (const [, name, value] of m[3]!.matchAll(/([\w:-]+)="([^"]*)"/g)) {
        if (name! in attrs) throw new Error(`duplicate attribute ${name}`);
        attrs[name!] = decodeEntities(value!, `attribute ${name}`);
      }
      const node: XmlNode = { tag: m[2], attrs, children: [] };
      top.children.push(node);
      if (!m[4]) stack.push(node);
    } else {
      top.children.push(decodeEntities(m[5]!, `<${top.tag}>`));
    }
  }
  if (stack.length !== 1) throw new Error(`<${stack.at(-1)!.tag}> is never closed`);
  return root;
}

const all = (node: XmlNode): XmlNode[] => [node, ...node.children.flatMap((c) => (typeof c === 'string' ? [] : all(c)))];
const textOf = (node: XmlNode): string => node.children.map((c) => (typeof c === 'string' ? c : textOf(c))).join('');
const findAll = (root: XmlNode, tag: string): XmlNode[] => all(root).filter((n) => n.tag === tag);

// --- parsing -------------------------------------------------------------------------------------
describe('sequence diagram parser', () => {
  test('reads every construct of the syntax', () => {
    const diagram = parseSequence(
      [
        'sequenceDiagram',
        'title: FastCGI : le parcours',
        '%% a comment',
        'participant B as Navigateur web',
        'participant M as php-fpm (maître)<br>pool www',
        '',
        'B->>N: GET /index.php',
        'N-->>B: 200 OK<br>HTML',
        'N-xM: connect()',
        'N--xM: timeout',
        'M->>M: fork()',
        'Note over M: démarre',
        'Note over M,B: deux participants',
        'Note left of B: à gauche',
        'note right of N: à droite',
        'php-fpm->>N: :9000',
      ].join('\r\n'),
    );
    assert.equal(diagram.title, 'FastCGI : le parcours');
    assert.deepEqual(diagram.participants, [
      { id: 'B', label: ['Navigateur web'] },
      { id: 'M', label: ['php-fpm (maître)', 'pool www'] },
      { id: 'N', label: ['N'] }, // created on first use
      { id: 'php-fpm', label: ['php-fpm'] },
    ]);
    assert.deepEqual(diagram.steps, [
      { kind: 'message', from: 'B', to: 'N', label: ['GET /index.php'], dashed: false, failed: false },
      { kind: 'message', from: 'N', to: 'B', label: ['200 OK', 'HTML'], dashed: true, failed: false },
      { kind: 'message', from: 'N', to: 'M', label: ['connect()'], dashed: false, failed: true },
      { kind: 'message', from: 'N', to: 'M', label: ['timeout'], dashed: true, failed: true },
      { kind: 'message', from: 'M', to: 'M', label: ['fork()'], dashed: false, failed: false },
      { kind: 'note', placement: 'over', of: ['M'], label: ['démarre'] },
      { kind: 'note', placement: 'over', of: ['B', 'M'], label: ['deux participants'] }, // left to right
      { kind: 'note', placement: 'left', of: ['B'], label: ['à gauche'] },
      { kind: 'note', placement: 'right', of: ['N'], label: ['à droite'] },
      { kind: 'message', from: 'php-fpm', to: 'N', label: [':9000'], dashed: false, failed: false },
    ]);
  });

  test('splits A-xB and keeps hyphens inside names', () => {
    const { steps } = parseSequence('A-xB: x\nphp-fpm-->>nginx-1: y\nA->>B');
    assert.deepEqual(
      steps.map((s) => s.kind === 'message' && [s.from, s.to, s.failed, s.dashed, s.label]),
      [
        ['A', 'B', true, false, ['x']],
        ['php-fpm', 'nginx-1', false, true, ['y']],
        ['A', 'B', false, false, []],
      ],
    );
  });

  const errors: Array<[string, string]> = [
    ['A->>B: ok\n\n%% c\nA => B', 'sequence diagram line 4: cannot read "A => B" (expected a message like A->>B: text)'],
    [
      'A->>B: ok\nNote above A: x',
      'sequence diagram line 2: cannot read "Note above A: x" (expected a note like Note over A: text, Note over A,B: text, Note left of A: text)',
    ],
    ['participant', 'sequence diagram line 1: cannot read "participant" (expected participant ID or participant ID as Label)'],
    ['A->>B: ok\nNote left of A,B: x', 'sequence diagram line 2: a note left of takes one participant, not two: "Note left of A,B: x"'],
    [
      'participant A\nparticipant A as Autre',
      'sequence diagram line 2: participant A is already known from line 1 (declare participants once, before using them)',
    ],
    [
      'A->>B: ok\nparticipant B as Bob',
      'sequence diagram line 2: participant B is already known from line 1 (declare participants once, before using them)',
    ],
    [
      'A->>B: ok\nloop every minute\nend',
      'sequence diagram line 2: "loop" is not supported here (only participants, messages and notes): "loop every minute"',
    ],
    ['title: a\ntitle: b\nA->>B: x', 'sequence diagram line 2: the title is given twice'],
    ['%% only a comment\n', 'sequence diagram line 1: nothing to draw (write at least one message like A->>B: text)'],
  ];
  for (const [source, message] of errors) {
    test(`rejects bad input: ${message}`, () => {
      assert.throws(
        () => parseSequence(source),
        (error: unknown) => {
          assert.ok(error instanceof SequenceSyntaxError);
          assert.equal(error.message, message);
          return true;
        },
      );
    });
  }
});

test('measures text by code point: combining marks 0, wide CJK and emoji 2', () => {
  assert.equal(textColumns('php-fpm'), 7);
  assert.equal(textColumns('maître'), 6);
  assert.equal(textColumns('mai\u0302tre'), 6); // decomposed î
  assert.equal(textColumns('漢字'), 4);
  assert.equal(textColumns('😀 ok'), 5);
  assert.equal(textColumns('👍\u{fe0f}'), 2); // variation selector
});

// --- layout --------------------------------------------------------------------------------------
const overlaps = (a: Box, b: Box): boolean => a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;

/** Everything drawn that must not collide, each with what it may legitimately touch. */
function drawnBoxes(layout: Layout): Array<{ what: string; box: Box; owner: number }> {
  const boxes: Array<{ what: string; box: Box; owner: number }> = [];
  layout.actors.forEach((a, i) => {
    boxes.push({ what: `actor ${a.id}`, box: a.top, owner: -1 - i }, { what: `actor ${a.id} (bottom)`, box: a.bottom, owner: -100 - i });
  });
  layout.items.forEach((item, i) => {
    if (item.kind === 'note') boxes.push({ what: `note ${i}`, box: item.box, owner: i });
    else if (item.kind === 'message') {
      boxes.push({
        what: `arrow ${i}`,
        box: { x: Math.min(item.x1, item.x2), y: item.y - 5, w: Math.abs(item.x2 - item.x1), h: 10 },
        owner: i,
      });
      if (item.label) boxes.push({ what: `label ${i}`, box: item.label.box, owner: i });
    } else {
      boxes.push({ what: `loop ${i}`, box: { x: item.x, y: item.y - 1, w: item.w, h: item.h + 2 }, owner: i });
      if (item.label) boxes.push({ what: `label ${i}`, box: item.label.box, owner: i });
    }
  });
  return boxes;
}

function assertClean(layout: Layout): void {
  const boxes = drawnBoxes(layout);
  for (const { what, box } of boxes) {
    assert.ok(
      box.x >= 0 && box.y >= 0 && box.x + box.w <= layout.width && box.y + box.h <= layout.height,
      `${what} lies outside the drawing`,
    );
  }
  for (let i = 0; i < boxes.length; i++) {
    for (let j = i + 1; j < boxes.length; j++) {
      const [a, b] = [boxes[i]!, boxes[j]!];
      if (a.owner !== b.owner) assert.ok(!overlaps(a.box, b.box), `${a.what} overlaps ${b.what}`);
    }
  }
  const xs = layout.actors.map((a) => a.x);
  layout.items.forEach((item, i) => {
    if (item.kind === 'message' && item.label) {
      const [lo, hi] = [Math.min(item.x1, item.x2), Math.max(item.x1, item.x2)];
      assert.ok(item.label.box.x > lo && item.label.box.x + item.label.box.w < hi, `label ${i} runs past its lifelines`);
    }
    if (item.kind === 'self' && item.label) {
      const next = xs.find((x) => x > item.x) ?? layout.width;
      assert.ok(item.label.box.x + item.label.box.w < next, `label ${i} of a self message runs into the next lifeline`);
    }
  });
  // Lifelines stop around notes and labels rather than run through them.
  const obstacles = layout.items.flatMap((item) => (item.kind === 'note' ? [item.box] : item.label ? [item.label.box] : []));
  for (const line of layout.lifelines) {
    for (const [y1, y2] of line.segments) {
      for (const o of obstacles) assert.ok(!overlaps({ x: line.x, y: y1, w: 0.01, h: y2 - y1 }, o), 'a lifeline crosses a label');
    }
  }
}

describe('sequence diagram layout', () => {
  test('spreads columns so long labels, notes and self messages never overlap', () => {
    const layout = layoutSequence(
      parseSequence(
        [
          'participant A as Un participant au nom très long',
          'participant B as B',
          'participant C as C',
          'A->>B: un message dont le libellé est vraiment très long, bien plus que la colonne',
          'B->>C: court',
          'A->>C: encore un libellé interminable qui enjambe une colonne entière',
          'C->>C: un message à soi-même, long lui aussi',
          'B->>B: idem au milieu<br>sur deux lignes',
          'Note over B: une note centrée bien plus large que sa colonne',
          'Note left of A: une note à gauche du premier',
          'Note right of C: une note à droite du dernier',
          'Note over A,C: une note sur trois colonnes, encore plus longue que tout le reste du diagramme',
          'C-->>A: 漢字漢字漢字漢字漢字漢字漢字漢字漢字漢字漢字漢字',
        ].join('\n'),
      ),
    );
    assertClean(layout);
    const [a, b] = layout.actors;
    assert.ok(
      b!.x - a!.x >= textColumns('un message dont le libellé est vraiment très long, bien plus que la colonne') * 8.4,
      'the column grew with its label',
    );
  });

  test('holds for random diagrams', () => {
    const word = fc.stringMatching(/^[a-zé漢 <&"-]{0,30}$/);
    const label = fc.array(word, { minLength: 1, maxLength: 3 }).map((lines) => lines.join('<br>'));
    const id = fc.constantFrom('A', 'B', 'C', 'D', 'E');
    const step = fc.oneof(
      fc.tuple(id, fc.constantFrom('->>', '-->>', '-x', '--x'), id, label).map(([a, arrow, b, text]) => `${a}${arrow}${b}: ${text}`),
      fc.tuple(fc.constantFrom('over', 'left of', 'right of'), id, label).map(([where, a, text]) => `Note ${where} ${a}: ${text}`),
      fc.tuple(id, id, label).map(([a, b, text]) => `Note over ${a},${b}: ${text}`),
    );
    const declaration = fc
      .tuple(id, fc.option(fc.stringMatching(/^[A-Za-zé漢][a-z é()]{0,24}$/)))
      .map(([p, name]) => (name ? `participant ${p} as ${name}` : `participant ${p}`));
    const source = fc
      .tuple(
        fc.uniqueArray(declaration, { selector: (d) => d.split(' ')[1], maxLength: 3 }),
        fc.array(step, { minLength: 1, maxLength: 10 }),
      )
      .map(([decls, steps]) => [...decls, ...steps].join('\n'));
    fc.assert(
      fc.property(source, (src) => {
        assertClean(layoutSequence(parseSequence(src)));
      }),
      { numRuns: 300 },
    );
  });
});

// --- output --------------------------------------------------------------------------------------
describe('sequence diagram output', () => {
  const source = 'title: Titre\nparticipant B as Navigateur\nB->>N: GET /\nN-->>B: 200 OK\nN-xP: connect()\nNote over P: arrêté';

  test('the SVG is well-formed, self-contained and accessible', () => {
    const { svg } = renderSequence(source, { id: 'demo' });
    const root = parseXml(svg);
    const [svgEl] = root.children as XmlNode[];
    assert.equal(svgEl!.tag, 'svg');
    assert.match(svgEl!.attrs.viewBox!, /^0 0 \d+ \d+$/);
    assert.equal(svgEl!.attrs.viewBox, `0 0 ${svgEl!.attrs.width} ${svgEl!.attrs.height}`);
    assert.equal(svgEl!.attrs.role, 'img');
    assert.equal(svgEl!.attrs['aria-labelledby'], 'demo-t demo-d');
    assert.equal(textOf(findAll(root, 'title')[0]!), 'Titre');
    assert.match(textOf(findAll(root, 'desc')[0]!), /1\. Navigateur → N\u202f: GET \//);
    // No scripts, links, external resources or web fonts.
    assert.doesNotMatch(svg, /<script|href|@import|@font-face|url\((?!#)/i);
    assert.ok(all(root).every((n) => Object.keys(n.attrs).every((a) => !a.startsWith('on'))));
    // Colours come from the page.
    assert.match(svg, /var\(--seq-line,currentColor\)/);
    assert.match(svg, /font:14px ui-monospace,SFMono-Regular,Menlo,Consolas,Liberation Mono,monospace/);
    // Numbers are rounded to at most one decimal.
    assert.doesNotMatch(svg, /\d\.\d\d/);
    // Every marker reference points to a marker of this SVG; a failed message ends with the cross.
    const ids = all(root)
      .map((n) => n.attrs.id)
      .filter(Boolean);
    for (const n of all(root).filter((n) => n.attrs['marker-end']))
      assert.ok(ids.includes(/^url\(#(.+)\)$/.exec(n.attrs['marker-end']!)![1]));
    assert.equal(all(root).filter((n) => n.attrs['marker-end'] === 'url(#demo-x)').length, 1);
    assert.equal(all(root).filter((n) => n.attrs.class === 'm r').length, 1); // the dashed reply
    // SVGO parses it as well.
    assert.match(optimize(svg).data, /^<svg/);
  });

  test('the figure has a caption, a hidden drawing and a text version', () => {
    const { html } = renderSequence(source, { id: 'demo' });
    const figure = parseXml(html).children[0] as XmlNode;
    assert.equal(figure.tag, 'figure');
    assert.equal(figure.attrs.class, 'sequence-diagram');
    assert.deepEqual(
      figure.children.map((c) => (c as XmlNode).tag),
      ['figcaption', 'svg', 'details'],
    );
    assert.equal(textOf(figure.children[0] as XmlNode), 'Titre');
    // The caption names the figure and the list tells its content: the drawing is not announced too.
    assert.equal((figure.children[1] as XmlNode).attrs['aria-hidden'], 'true');
    assert.equal(findAll(figure, 'title').length, 0);
    assert.equal(textOf(findAll(figure, 'summary')[0]!), 'Version texte du diagramme');
    assert.deepEqual(findAll(figure, 'li').map(textOf), [
      'Navigateur → N\u202f: GET /',
      'N → Navigateur (réponse)\u202f: 200 OK',
      'N → P ✗ (échec)\u202f: connect()',
      'Note (sur P)\u202f: arrêté',
    ]);
  });

  test('without a title, the drawing itself is the named image', () => {
    const { html } = renderSequence('A->>B: x', { id: 'solo' });
    const figure = parseXml(html).children[0] as XmlNode;
    assert.equal(findAll(figure, 'figcaption').length, 0);
    const svg = findAll(figure, 'svg')[0]!;
    assert.equal(svg.attrs.role, 'img');
    assert.equal(textOf(findAll(svg, 'title')[0]!), 'Diagramme de séquence');
  });

  test('the text version is French and numbered', () => {
    const { text } = renderSequence(
      [
        'participant N as Nginx',
        'participant M as php-fpm (maître)',
        'N->>M: FastCGI<br>port 9000',
        'M-->>N: HTML',
        'M->>M: fork()',
        'Note over N,M: même machine',
        'Note left of N: à gauche',
        'Note right of M: à droite',
      ].join('\n'),
      { title: 'Exemple' },
    );
    assert.equal(
      text,
      [
        'Diagramme de séquence\u202f: Exemple',
        'Participants\u202f: Nginx, php-fpm (maître).',
        '1. Nginx → php-fpm (maître)\u202f: FastCGI, port 9000',
        '2. php-fpm (maître) → Nginx (réponse)\u202f: HTML',
        '3. php-fpm (maître) → php-fpm (maître)\u202f: fork()',
        '4. Note (sur Nginx et php-fpm (maître))\u202f: même machine',
        '5. Note (à gauche de Nginx)\u202f: à gauche',
        '6. Note (à droite de php-fpm (maître))\u202f: à droite',
      ].join('\n'),
    );
  });

  test('labels are text, never markup', () => {
    const hostile =
      'participant A as <img src=x onerror="alert(1)">\nA->>B: <script>alert("x")</script> & co\nNote over B: "quotes" \'too\' </svg>';
    const { svg, html, text } = renderSequence(hostile, { title: '<b>titre</b> & "x"' });
    for (const out of [svg, html]) {
      const root = parseXml(out);
      assert.equal(findAll(root, 'script').length, 0);
      assert.equal(findAll(root, 'img').length, 0);
      assert.equal(findAll(root, 'b').length, 0);
      const texts = findAll(root, 'text').map(textOf);
      assert.ok(texts.includes('<script>alert("x")</script> & co'));
      assert.ok(texts.includes('<img src=x onerror="alert(1)">'));
      assert.ok(texts.includes('"quotes" \'too\' </svg>'));
    }
    assert.match(text, /<script>alert\("x"\)<\/script> & co/); // plain text stays plain
    assert.equal(findAll(parseXml(html), 'figcaption').map(textOf)[0], '<b>titre</b> & "x"');
  });

  test('ids are unique across diagrams of a page, and output is deterministic', () => {
    const first = renderSequence('A->>B: un');
    const second = renderSequence('A->>B: deux');
    const ids = [first.html, second.html].flatMap((h) =>
      all(parseXml(h))
        .map((n) => n.attrs.id)
        .filter(Boolean),
    );
    assert.ok(ids.length >= 4);
    assert.equal(new Set(ids).size, ids.length);
    assert.deepEqual(renderSequence('A->>B: un'), first);
    assert.notEqual(renderSequence('A->>B: un', { title: 'autre' }).svg, first.svg);
  });
});

// --- the remark plugin ---------------------------------------------------------------------------
describe('remark plugin', () => {
  const markdown = [
    '# Chapitre',
    '',
    '```sequence title="CGI : un processus"',
    'A->>B: <requête> & {x}',
    '```',
    '',
    '```sequence',
    'A->>B: <requête> & {x}',
    '```',
    '',
    '```sh',
    'echo ok',
    '```',
  ].join('\n');

  const toHtml = async (value: string, path = '/site/content/chapitre.md'): Promise<string> =>
    String(await unified().use(remarkParse).use(remarkSequence).use(remarkRehype).use(rehypeStringify).process({ value, path }));

  test('reads title and id from the fence meta', () => {
    assert.deepEqual(readMeta('title="Un titre : avec deux-points" id=\'x\''), { title: 'Un titre : avec deux-points', id: 'x' });
    assert.deepEqual(readMeta(null), {});
  });

  test('turns ```sequence blocks of Markdown into figures and leaves other code alone', async () => {
    const html = await toHtml(markdown);
    const figures = findAll(parseXml(html.replace(/<h1>.*<\/h1>|<pre>[\s\S]*<\/pre>/g, '')), 'figure');
    assert.equal(figures.length, 2);
    assert.equal(textOf(findAll(figures[0]!, 'figcaption')[0]!), 'CGI\u202F: un processus', 'the caption gets French typography');
    assert.ok(findAll(figures[0]!, 'text').some((t) => textOf(t) === '<requête> & {x}'));
    assert.match(html, /<pre><code class="language-sh">echo ok\n<\/code><\/pre>/);
    // The same diagram twice in a page still gets distinct ids.
    const ids = figures.flatMap((f) =>
      all(f)
        .map((n) => n.attrs.id)
        .filter(Boolean),
    );
    assert.equal(new Set(ids).size, ids.length);
  });

  test('works in MDX, where raw HTML would be dropped', async () => {
    const code = String(
      await compile(
        { value: markdown, path: '/site/content/chapitre.mdx' },
        { remarkPlugins: [remarkSequence], jsxImportSource: 'astro', elementAttributeNameCase: 'html' },
      ),
    );
    assert.match(code, /class: "sequence-diagram"/);
    assert.match(code, /_components\.svg/);
    assert.match(code, /"marker-end": "url\(#seq-[a-z0-9]+-a\)"/);
    assert.match(code, /children: "<requête> & \{x\}"/); // braces stay text, not an expression
  });

  test('a syntax error fails with the file and its line', async () => {
    const broken = '# Titre\n\nTexte\n\n```sequence\nA->>B: ok\nA => B\n```\n';
    await assert.rejects(toHtml(broken, `${process.cwd()}/content/05-fastcgi/index.mdx`), (error: Error) => {
      assert.equal(
        error.message,
        'content/05-fastcgi/index.mdx:7: sequence diagram line 2: cannot read "A => B" (expected a message like A->>B: text)',
      );
      return true;
    });
  });
});

// --- the chapter's diagrams ----------------------------------------------------------------------
describe('the FastCGI chapter diagrams', () => {
  test('there are five', () => {
    assert.deepEqual(
      fixtures.map((f) => f.name),
      ['1-cgi.seq', '2-fastcgi-tcp.seq', '3-fastcgi-unix-socket.seq', '4-php-fpm-stopped.seq', '5-fastcgi-finish-request.seq'],
    );
  });
  for (const { name, source } of fixtures) {
    test(`${name} renders cleanly and stays small`, () => {
      const diagram = parseSequence(source);
      assert.ok(diagram.title, 'has a title');
      assertClean(layoutSequence(diagram));
      const { svg, html, text } = renderSequence(source);
      const svgEl = parseXml(svg).children[0] as XmlNode;
      assert.ok(Number(svgEl.attrs.width) <= 720, `fits a 720 px column (${svgEl.attrs.width})`);
      assert.equal(findAll(parseXml(html), 'li').length, diagram.steps.length);
      assert.equal(text.split('\n').filter((l) => /^\d+\. /.test(l)).length, diagram.steps.length);
      assert.ok(gzipSync(svg).length < 2500, 'compressed SVG under 2.5 KB');
    });
  }
});

test('every ```sequence block of the chapters renders cleanly', () => {
  const contentDir = new URL('../../content/', import.meta.url);
  const files = readdirSync(contentDir, { recursive: true })
    .map(String)
    .filter((f) => /\.mdx?$/.test(f));
  let count = 0;
  for (const file of files) {
    const text = readFileSync(new URL(file, contentDir), 'utf8');
    for (const [, meta, source] of text.matchAll(/^```sequence([^\n]*)\n([\s\S]*?)^```/gm)) {
      count++;
      const where = `content/${file}, diagram ${count}`;
      assert.doesNotThrow(() => assertClean(layoutSequence(parseSequence(source!))), where);
      assert.match(renderSequence(source!, readMeta(meta)).html, /^<figure class="sequence-diagram">/, where);
    }
  }
  assert.ok(count >= 5, `the FastCGI chapter has at least five diagrams (found ${count})`);
});
