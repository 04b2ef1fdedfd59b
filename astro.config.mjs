// Astro builds the course site from site/ (pages, layouts, components) and content/ (chapters in MDX).
// Everything is rendered at build time: code blocks by Expressive Code, sequence diagrams by our remark
// plugin. The pages request nothing from any outside host.
import { defineConfig } from 'astro/config';
import { unified } from '@astrojs/markdown-remark';
import mdx from '@astrojs/mdx';
import expressiveCode from 'astro-expressive-code';
import remarkSequence from './site/lib/sequence/remark.ts';
import remarkFrenchTypography from './site/lib/french-typography.ts';
import remarkDemos from './site/lib/remark-demos.ts';
import rehypeExternalLinks from './site/lib/external-links.ts';
import atelierBackend from './server/dev.ts';
import { labCatalog } from './sandbox/labs/catalog.ts';

/** The lab catalog as a virtual module: the site reads lab data without importing sandbox/ code. */
function labCatalogModule() {
  const id = 'virtual:atelier/labs';
  return {
    name: 'atelier-lab-catalog',
    resolveId: (source) => (source === id ? `\0${id}` : undefined),
    load: (resolved) => (resolved === `\0${id}` ? `export default ${JSON.stringify(labCatalog())};` : undefined),
  };
}

export default defineConfig({
  srcDir: './site',
  publicDir: './site/public',
  output: 'static',
  // /05-fastcgi/ is written as dist/05-fastcgi/index.html; the server redirects /05-fastcgi to it.
  // Stylesheets inlined: on a phone each render-blocking request is a round trip before the first paint
  // (Lighthouse, bench/scenarios/pages.ts); the site's CSS is a few KiB compressed.
  build: { format: 'directory', inlineStylesheets: 'always' },
  trailingSlash: 'ignore',
  vite: { plugins: [labCatalogModule()] },
  markdown: {
    // Astro 7 defaults to the Sätteri processor, which does not run remark plugins: the unified one does,
    // for .md and (through extendMarkdownConfig, on by default) for .mdx. Remark plugins run before
    // rehype ones, so ```sequence blocks become SVG figures before Expressive Code looks at code blocks.
    processor: unified({
      remarkPlugins: [remarkSequence, remarkFrenchTypography, remarkDemos],
      rehypePlugins: [rehypeExternalLinks],
      smartypants: {
        // French quotation marks; the non-breaking spaces inside them come from remarkFrenchTypography.
        openingQuotes: { double: '«', single: '‘' },
        closingQuotes: { double: '»', single: '’' },
      },
    }),
  },
  integrations: [
    // Must come before mdx() so that code blocks in MDX go through it. Its options are in ec.config.mjs,
    // where the <Code> component (site/components/Run.astro) finds them too.
    expressiveCode(),
    mdx(),
    // `astro dev` only: the lab API, the terminals and the preview on the dev server (one address).
    atelierBackend(),
  ],
});
