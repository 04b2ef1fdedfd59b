// remark plugin: ```sequence fenced blocks become <figure> diagrams at build time.
//
// The figure is attached as hast (data.hName / hProperties / hChildren) on a stand-in node rather
// than as a raw `html` node: MDX drops raw HTML, while both the Markdown and the MDX pipelines turn
// hast-carrying nodes into the same elements.
import path from 'node:path';
import type { Code, Paragraph, Parent, Root } from 'mdast';
import type {} from 'mdast-util-to-hast'; // declares data.hName & co. on mdast nodes
import type { Element } from 'hast';
import type { VFile } from 'vfile';
import { SequenceSyntaxError, sequenceFigure, sequenceId } from './index.ts';
import { toHast, type El } from './markup.ts';

/** Reads `title="…"` and `id="…"` from the fence's meta string (after the language). */
export function readMeta(meta: string | null | undefined): { title?: string; id?: string } {
  const found: { title?: string; id?: string } = {};
  for (const m of (meta ?? '').matchAll(/\b(title|id)=(?:"([^"]*)"|'([^']*)')/g)) {
    found[m[1] as 'title' | 'id'] = m[2] ?? m[3] ?? '';
  }
  return found;
}

function codeBlocks(parent: Parent, found: Array<{ parent: Parent; index: number; node: Code }>): typeof found {
  parent.children.forEach((node, index) => {
    if (node.type === 'code' && node.lang === 'sequence') found.push({ parent, index, node });
    else if ('children' in node) codeBlocks(node, found);
  });
  return found;
}

export default function remarkSequence() {
  return function transform(tree: Root, file: VFile): void {
    const idsInPage = new Map<string, number>();
    for (const { parent, index, node } of codeBlocks(tree, [])) {
      const meta = readMeta(node.meta);
      // Two identical diagrams on one page still need distinct marker ids.
      const base = meta.id ?? sequenceId(node.value, meta.title);
      const seen = idsInPage.get(base) ?? 0;
      idsInPage.set(base, seen + 1);
      const id = seen === 0 ? base : `${base}-${seen + 1}`;

      let figure: El;
      try {
        figure = sequenceFigure(node.value, { title: meta.title, id });
      } catch (error) {
        if (!(error instanceof SequenceSyntaxError)) throw error;
        const line = node.position ? node.position.start.line + error.line : undefined;
        const where = file.path ? path.relative(process.cwd(), file.path) : '(unnamed file)';
        file.fail(`${where}${line === undefined ? '' : `:${line}`}: ${error.message}`, {
          place: line === undefined ? undefined : { line, column: 1 },
          source: 'remark-sequence',
          ruleId: 'syntax',
        });
      }
      const hast = toHast(figure) as Element;
      const replacement: Paragraph = {
        type: 'paragraph',
        children: [],
        data: { hName: hast.tagName, hProperties: hast.properties, hChildren: hast.children },
      };
      if (node.position) replacement.position = node.position;
      parent.children[index] = replacement;
    }
  };
}
