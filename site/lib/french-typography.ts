// French typography for the prose of chapters: the space before : ; ! ? » and after « must not break
// (a line must never start with a colon or a closing quote). Authors type ordinary spaces; this remark
// plugin swaps them at build time. It touches only text nodes, never code, URLs or JSX attributes.
// Text outside the prose (diagrams, aside and lab titles) goes through frenchText.
import type { Root, RootContent } from 'mdast';

const NBSP = '\u00A0'; // inside « »
const NNBSP = '\u202F'; // narrow, before : ; ! ?

/** Applies the French spacing rules to one run of prose. */
export function frenchSpacing(text: string): string {
  return text
    .replace(/[ \u00A0\u202F]+([:;!?])/g, `${NNBSP}$1`)
    .replace(/[ \u00A0\u202F]+»/g, `${NBSP}»`)
    .replace(/«[ \u00A0\u202F]*/g, `«${NBSP}`)
    .replace(/(\S)»/g, `$1${NBSP}»`);
}

type Node = Root | RootContent;

function walk(node: Node): void {
  if (node.type === 'text') {
    node.value = frenchSpacing(node.value);
    return;
  }
  if ('children' in node) for (const child of node.children) walk(child as Node);
}

export default function remarkFrenchTypography() {
  return (tree: Root) => walk(tree);
}

/** For text outside the Markdown (titles, summaries from the frontmatter): apostrophes and spacing. */
export function frenchText(text: string): string {
  return frenchSpacing(text.replace(/(\p{L})'(?=\p{L})/gu, '$1’'));
}
