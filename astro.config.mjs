// Astro builds the course site from site/ (pages, layouts, components) and content/ (chapters in MDX).
// Everything is rendered at build time: code blocks by Expressive Code, sequence diagrams by our remark
// plugin. The pages request nothing from any outside host.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'astro/config';
import { unified } from '@astrojs/markdown-remark';
import mdx from '@astrojs/mdx';
import expressiveCode from 'astro-expressive-code';
import remarkSequence from './site/lib/sequence/remark.ts';
import remarkFrenchTypography from './site/lib/french-typography.ts';
import remarkDemos from './site/lib/remark-demos.ts';
import remarkChapterLabs from './site/lib/chapter-labs.ts';
import rehypeExternalLinks from './site/lib/external-links.ts';
import atelierBackend from './server/dev.ts';
import { labCatalog } from './sandbox/labs/catalog.ts';
import { reloadLabs, LABS_DIR } from './sandbox/labs/index.ts';

/**
 * The lab catalog as a virtual module: the site reads lab data without importing sandbox/ code. In
 * `npm run dev` an edit under sandbox/labs/ (a definition, a helper, a seeded file) loads the labs again,
 * for the pages and the lab API alike, and reloads the page; an invalid definition shows in the browser's
 * error overlay (this module's load throws) until it is fixed.
 */
function labCatalogModule() {
  const id = 'virtual:atelier/labs';
  const labsDir = fileURLToPath(LABS_DIR);
  /** the reload under way, if a lab file changed; its error is thrown by each load until the next edit */
  let reloading = Promise.resolve();
  return {
    name: 'atelier-lab-catalog',
    resolveId: (source) => (source === id ? `\0${id}` : undefined),
    async load(resolved) {
      if (resolved !== `\0${id}`) return undefined;
      await reloading;
      return `export default ${JSON.stringify(labCatalog())};`;
    },
    configureServer(server) {
      server.watcher.add(labsDir);
      const changed = (file) => {
        if (!file.startsWith(labsDir)) return;
        reloading = reloadLabs().then(() => undefined);
        reloading.catch(() => {}); // thrown by the next load, into the overlay
        for (const environment of Object.values(server.environments)) {
          const module = environment.moduleGraph.getModuleById(`\0${id}`);
          if (module) environment.moduleGraph.invalidateModule(module);
        }
        // Chapters too: their lab references are checked against the new catalog when they compile again.
        for (const environment of Object.values(server.environments))
          for (const module of environment.moduleGraph.idToModuleMap.values())
            if (module.file?.endsWith('.mdx')) environment.moduleGraph.invalidateModule(module);
        server.ws.send({ type: 'full-reload' });
      };
      server.watcher.on('change', changed);
      server.watcher.on('add', changed);
      server.watcher.on('unlink', changed);
    },
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
      // remarkChapterLabs first: it checks the frontmatter as written, before remarkDemos adds `demos` to it.
      remarkPlugins: [[remarkChapterLabs, { labs: labCatalog }], remarkSequence, remarkFrenchTypography, remarkDemos],
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
