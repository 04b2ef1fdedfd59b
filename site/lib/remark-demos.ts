// The demos of a chapter, read from its MDX at build time: each <Lab name> and the <Check lab id> of that
// lab that follow it (until the next <Lab>), with the heading of the table of contents it sits under.
// The chapter page, its table of contents and the home page show each demo's progress from this
// (`demos` in the render's remarkPluginFrontmatter); each <Lab> also gets its steps as a `steps`
// attribute (JSON), so that its panel lists them.
import type { Root, RootContent } from 'mdast';
import { frenchText } from './french-typography.ts';

export interface DemoStep {
  /** the check id */
  id: string;
  /** what the <Check> says, as plain text */
  text: string;
}

export interface Demo {
  lab: string;
  /** index among the chapter's headings (Astro's `headings`) of the last h2 or h3 before the <Lab>; -1: none */
  heading: number;
  steps: DemoStep[];
}

type Node = Root | RootContent;
interface JsxElement {
  type: 'mdxJsxFlowElement' | 'mdxJsxTextElement';
  name: string | null;
  attributes: { type: string; name?: string; value?: unknown }[];
  children: Node[];
}

const isJsx = (node: Node): node is Node & JsxElement => node.type === 'mdxJsxFlowElement' || node.type === 'mdxJsxTextElement';
const attribute = (node: JsxElement, name: string) => {
  const value = node.attributes.find((a) => a.type === 'mdxJsxAttribute' && a.name === name)?.value;
  return typeof value === 'string' ? value : undefined;
};
const textOf = (node: Node): string =>
  'value' in node && typeof node.value === 'string' ? node.value : 'children' in node ? (node.children as Node[]).map(textOf).join('') : '';

/** The demos of a chapter's tree, in order; adds `steps` to each <Lab>. */
export function collectDemos(tree: Root): Demo[] {
  const demos: (Demo & { node: JsxElement })[] = [];
  let headings = 0;
  let tocHeading = -1;
  const walk = (node: Node): void => {
    if (node.type === 'heading') {
      if (node.depth === 2 || node.depth === 3) tocHeading = headings;
      headings++;
    }
    if (isJsx(node) && node.name === 'Lab') {
      const lab = attribute(node, 'name');
      if (lab) demos.push({ lab, heading: tocHeading, steps: [], node });
    }
    if (isJsx(node) && node.name === 'Check') {
      const [lab, id] = [attribute(node, 'lab'), attribute(node, 'id')];
      const demo = demos.at(-1);
      if (lab && id && demo?.lab === lab)
        demo.steps.push({
          id,
          text: frenchText(
            textOf(node)
              .replace(/[ \t\n]+/g, ' ')
              .trim(),
          ),
        });
    }
    if ('children' in node) for (const child of node.children as Node[]) walk(child);
  };
  walk(tree);
  for (const demo of demos) {
    demo.node.attributes.push({ type: 'mdxJsxAttribute', name: 'steps', value: JSON.stringify(demo.steps) });
  }
  return demos.map(({ lab, heading, steps }) => ({ lab, heading, steps }));
}

export default function remarkDemos() {
  return (tree: Root, file: { data: { astro?: { frontmatter?: Record<string, unknown> } } }) => {
    const demos = collectDemos(tree);
    file.data.astro ??= {};
    file.data.astro.frontmatter ??= {};
    file.data.astro.frontmatter.demos = demos;
  };
}
