// The chapters collection: every content/*.mdx file, its frontmatter checked by site/lib/chapter-schema.ts.
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineCollection } from 'astro:content';
import { glob, type Loader } from 'astro/loaders';
import { chapterSchema, validateChapterFrontmatter } from './lib/chapter-schema.ts';

/**
 * The glob loader, with our own check first: a bad frontmatter stops the build with a message naming
 * the file and each bad field in plain words (Astro's generic schema error would come second).
 */
function chapterLoader(): Loader {
  const inner = glob({ pattern: '*.mdx', base: './content' });
  return {
    name: 'atelier-chapters',
    load: (context) => {
      const root = fileURLToPath(context.config.root);
      return inner.load({
        ...context,
        parseData: async (entry) => {
          validateChapterFrontmatter(entry.data, entry.filePath ? relative(root, entry.filePath) : `content/${entry.id}.mdx`);
          return context.parseData(entry);
        },
      });
    },
  };
}

export const collections = {
  chapters: defineCollection({ loader: chapterLoader(), schema: chapterSchema }),
};
