// Terminal colours that follow the page: light or dark from <html data-theme> (set by the site's
// toggle) or else prefers-color-scheme, with CSS custom properties on the panel (--lab-term-*) taking
// precedence, so the site's stylesheet can restyle terminals without touching this code.
import type { ITheme } from '@xterm/xterm';

export type ColorMode = 'light' | 'dark';

// Palettes close to the GitHub themes the code blocks use, so commands look alike in both places.
const LIGHT: ITheme = {
  background: '#ffffff',
  foreground: '#1f2328',
  cursor: '#0969da',
  cursorAccent: '#ffffff',
  selectionBackground: '#0969da40',
  selectionInactiveBackground: '#0969da26',
  black: '#24292f',
  red: '#cf222e',
  green: '#116329',
  yellow: '#4d2d00',
  blue: '#0969da',
  magenta: '#8250df',
  cyan: '#1b7c83',
  white: '#6e7781',
  brightBlack: '#57606a',
  brightRed: '#a40e26',
  brightGreen: '#1a7f37',
  brightYellow: '#633c01',
  brightBlue: '#218bff',
  brightMagenta: '#a475f9',
  brightCyan: '#3192aa',
  brightWhite: '#8c959f',
};
const DARK: ITheme = {
  background: '#0d1117',
  foreground: '#e6edf3',
  cursor: '#58a6ff',
  cursorAccent: '#0d1117',
  selectionBackground: '#58a6ff4d',
  selectionInactiveBackground: '#58a6ff26',
  black: '#484f58',
  red: '#ff7b72',
  green: '#3fb950',
  yellow: '#d29922',
  blue: '#58a6ff',
  magenta: '#bc8cff',
  cyan: '#39c5cf',
  white: '#b1bac4',
  brightBlack: '#6e7681',
  brightRed: '#ffa198',
  brightGreen: '#56d364',
  brightYellow: '#e3b341',
  brightBlue: '#79c0ff',
  brightMagenta: '#d2a8ff',
  brightCyan: '#56d4dd',
  brightWhite: '#ffffff',
};

/** ITheme key → custom property read on the panel, e.g. background → --lab-term-background. */
const OVERRIDABLE = ['background', 'foreground', 'cursor', 'cursorAccent', 'selectionBackground'] as const;

/**
 * The palette for a mode; a plain colour in --lab-term-background, --lab-term-foreground,
 * --lab-term-cursor, --lab-term-cursor-accent or --lab-term-selection-background replaces the default.
 */
export function terminalTheme(mode: ColorMode, property: (name: string) => string = () => ''): ITheme {
  const theme: ITheme = { ...(mode === 'dark' ? DARK : LIGHT) };
  for (const key of OVERRIDABLE) {
    const value = property(`--lab-term-${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`).trim();
    // Custom properties come back unresolved: light-dark(…) or var(…) mean nothing to xterm's canvas.
    if (value && !/\b(light-dark|var)\(/.test(value)) theme[key] = value;
  }
  return theme;
}

/** `data-theme` on <html> wins (the site's toggle); otherwise the system preference. */
export function colorModeOf(dataTheme: string | null | undefined, prefersDark: boolean): ColorMode {
  if (dataTheme === 'dark' || dataTheme === 'light') return dataTheme;
  return prefersDark ? 'dark' : 'light';
}

/** Calls `apply` now and whenever the page switches between light and dark; returns an unsubscribe. */
export function watchColorMode(apply: (mode: ColorMode) => void): () => void {
  const html = document.documentElement;
  const query = window.matchMedia('(prefers-color-scheme: dark)');
  const update = () => apply(colorModeOf(html.getAttribute('data-theme'), query.matches));
  const observer = new MutationObserver(update);
  observer.observe(html, { attributes: true, attributeFilter: ['data-theme', 'class'] });
  query.addEventListener('change', update);
  update();
  return () => {
    observer.disconnect();
    query.removeEventListener('change', update);
  };
}
