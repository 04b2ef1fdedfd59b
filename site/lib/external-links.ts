// Links to other sites get rel="noopener" (and "external", which the print stylesheet and readers can use).
// Links inside the site (/…, #…) are left alone.
import type { Element, Root, RootContent } from 'hast';

export function isExternalHref(href: string): boolean {
  return /^https?:\/\//i.test(href);
}

type Node = Root | RootContent;

function walk(node: Node): void {
  if (node.type === 'element') markIfExternal(node);
  if ('children' in node) for (const child of node.children) walk(child as Node);
}

function markIfExternal(el: Element): void {
  const href = el.properties.href;
  if (el.tagName !== 'a' || typeof href !== 'string' || !isExternalHref(href)) return;
  const rel = new Set(Array.isArray(el.properties.rel) ? el.properties.rel.map(String) : []);
  rel.add('noopener');
  rel.add('external');
  el.properties.rel = [...rel];
}

export default function rehypeExternalLinks() {
  return (tree: Root) => walk(tree);
}
