// A minimal element tree: serialised to an HTML/SVG string for `renderSequence`, or handed to the
// Markdown pipeline as hast so MDX (which drops raw HTML) builds the same markup.
import type { ElementContent } from 'hast';

export interface El {
  tag: string;
  attrs: Record<string, string | number>;
  children: Array<El | string>;
}

export function el(tag: string, attrs: Record<string, string | number | undefined> = {}, children: Array<El | string> = []): El {
  const kept: Record<string, string | number> = {};
  for (const [name, value] of Object.entries(attrs)) if (value !== undefined) kept[name] = typeof value === 'number' ? round(value) : value;
  return { tag, attrs: kept, children };
}

/** One decimal is plenty for a drawing at 1 unit = 1 CSS pixel, and keeps the output small. */
export function round(value: number): number {
  const rounded = Math.round(value * 10) / 10;
  return rounded === 0 ? 0 : rounded; // no "-0"
}

export const escapeText = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const escapeAttr = (text: string): string => escapeText(text).replace(/"/g, '&quot;');

// The only elements we ever leave empty; anything else gets an explicit end tag, as HTML wants.
const EMPTY_SVG_ELEMENTS = new Set(['path', 'rect', 'line']);

export function toHtml(node: El | string): string {
  if (typeof node === 'string') return escapeText(node);
  const attrs = Object.entries(node.attrs)
    .map(([name, value]) => ` ${name}="${escapeAttr(String(value))}"`)
    .join('');
  // Self-closing is fine for SVG elements (foreign content in HTML).
  if (node.children.length === 0 && EMPTY_SVG_ELEMENTS.has(node.tag)) return `<${node.tag}${attrs}/>`;
  // Text inside <style> is CSS we wrote without any character that needs escaping.
  return `<${node.tag}${attrs}>${node.children.map(toHtml).join('')}</${node.tag}>`;
}

export function toHast(node: El | string): ElementContent {
  if (typeof node === 'string') return { type: 'text', value: node };
  const properties: Record<string, string> = {};
  for (const [name, value] of Object.entries(node.attrs)) properties[name] = String(value);
  return { type: 'element', tagName: node.tag, properties, children: node.children.map(toHast) };
}
