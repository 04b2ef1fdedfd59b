// Text width in a monospace font, counted in columns: we cannot measure glyphs at build time, but
// every glyph of a monospace font is ~0.6 em wide, so columns give predictable widths.

const ZERO_WIDTH = /^[\p{Mn}\p{Me}\p{Cf}]$/u; // combining marks, variation selectors, ZWJ and friends

// East Asian Wide and Fullwidth ranges (and emoji), which take two columns in a monospace font.
const WIDE: ReadonlyArray<readonly [number, number]> = [
  [0x1100, 0x115f],
  [0x2e80, 0x303e],
  [0x3041, 0x33ff],
  [0x3400, 0x4dbf],
  [0x4e00, 0x9fff],
  [0xa000, 0xa4cf],
  [0xac00, 0xd7a3],
  [0xf900, 0xfaff],
  [0xfe30, 0xfe4f],
  [0xff00, 0xff60],
  [0xffe0, 0xffe6],
  [0x1f300, 0x1f64f],
  [0x1f680, 0x1f6ff],
  [0x1f900, 0x1f9ff],
  [0x20000, 0x3fffd],
];

export function charColumns(char: string): number {
  if (ZERO_WIDTH.test(char)) return 0;
  const cp = char.codePointAt(0) ?? 0;
  return WIDE.some(([lo, hi]) => cp >= lo && cp <= hi) ? 2 : 1;
}

/** Width of one line of text in columns (iterates by code point, not UTF-16 unit). */
export function textColumns(text: string): number {
  let columns = 0;
  for (const char of text) columns += charColumns(char);
  return columns;
}
