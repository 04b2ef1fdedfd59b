// Expressive Code's options (code blocks of the chapters, and the <Code> component of site/components/Run.astro,
// which reads them from this file: astro.config.mjs's options are not serialisable for it).
import { defineEcConfig, pluginFramesTexts } from 'astro-expressive-code';

// The copy button and terminal frames speak French, like the page.
pluginFramesTexts.addLocale('fr', {
  terminalWindowFallbackTitle: 'Fenêtre de terminal',
  copyButtonTooltip: 'Copier dans le presse-papiers',
  copyButtonCopied: 'Copié\u202F!',
});

/**
 * The <Code> component (Run.astro's step blocks) counts its blocks apart from the chapter's own code blocks,
 * so its first block of a page would add Expressive Code's styles and script a second time (about 9 KB).
 * The chapter's blocks come first and carry them: <Code> blocks never count as a page's first.
 * tests/unit/chapter-page.test.ts checks that a page has them exactly once.
 */
function pluginCodeComponentNotFirst() {
  return {
    name: 'atelier-code-component-not-first',
    hooks: {
      preprocessMetadata: ({ codeBlock }) => {
        const doc = codeBlock.parentDocument;
        // <Code> names its document by the page's URL; Markdown blocks by their file path.
        if (doc?.positionInDocument && /^[a-z]+:\/\//.test(doc.sourceFilePath ?? '')) doc.positionInDocument.groupIndex += 1;
      },
    },
  };
}

/**
 * A token in the code's own colour (in every theme) needs no span: its text inherits that colour from <code>.
 * A third of a chapter's token spans are such (205 of 518 in chapter 05), each one more element to parse,
 * style and lay out on a phone (bench/scenarios/pages.ts).
 */
function pluginPlainTokensUnwrapped() {
  return {
    name: 'atelier-plain-tokens-unwrapped',
    hooks: {
      postprocessRenderedLine: ({ renderData, styleVariants }) => {
        const plain = styleVariants.map((v, i) => `--${i}:${v.theme.fg}`.toLowerCase()).join(';');
        const unwrap = (node) => {
          if (!node.children) return;
          node.children = node.children.flatMap((child) =>
            child.type === 'element' &&
            child.tagName === 'span' &&
            !child.properties.className &&
            String(child.properties.style ?? '').toLowerCase() === plain
              ? child.children
              : [child],
          );
          for (const child of node.children) unwrap(child);
        };
        unwrap(renderData.lineAst);
      },
    },
  };
}

export default defineEcConfig({
  plugins: [pluginCodeComponentNotFirst(), pluginPlainTokensUnwrapped()],
  // No `all: revert` on every element of a code frame: on a phone it was a fifth of the page's style work
  // (bench/scenarios/pages.ts). No site rule changes a frame without it: every frame of both chapters
  // screenshots pixel for pixel the same, in both themes, at 412 and 1000 px wide.
  useStyleReset: false,
  // First theme = base; the other one applies with prefers-color-scheme or <html data-theme="…">,
  // the attribute the theme toggle sets.
  themes: ['github-light', 'github-dark'],
  // Its CSS in the page (with the first code block) rather than one more render-blocking request.
  emitExternalStylesheet: false,
  defaultLocale: 'fr',
  useDarkModeMediaQuery: true,
  themeCssSelector: (theme) => `[data-theme='${theme.type}']`,
  styleOverrides: {
    codeFontFamily: 'ui-monospace, "SFMono-Regular", "DejaVu Sans Mono", Menlo, Consolas, "Liberation Mono", monospace',
    uiFontFamily: 'system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "Liberation Sans", sans-serif',
    codeFontSize: '0.875rem',
    borderRadius: '0.4rem',
  },
  defaultProps: {
    // Long docker run commands wrap instead of scrolling sideways on a phone; the copy button
    // still copies them as one line.
    wrap: true,
    preserveIndent: true,
    hangingIndent: 2,
  },
});
