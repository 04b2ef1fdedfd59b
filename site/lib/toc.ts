// Builds the nested table of contents of a chapter from the headings Astro collected while rendering.
export interface Heading {
  depth: number;
  slug: string;
  text: string;
}

export interface TocEntry {
  slug: string;
  text: string;
  children: TocEntry[];
}

/** h2 become entries, h3 their children; deeper headings stay out of the way. */
export function tableOfContents(headings: readonly Heading[]): TocEntry[] {
  const toc: TocEntry[] = [];
  for (const h of headings) {
    if (h.depth === 2) toc.push({ slug: h.slug, text: h.text, children: [] });
    else if (h.depth === 3) {
      const entry = { slug: h.slug, text: h.text, children: [] };
      const parent = toc.at(-1);
      if (parent) parent.children.push(entry);
      else toc.push(entry);
    }
  }
  return toc;
}
