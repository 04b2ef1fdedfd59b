// French typography of a text the learner reads: a narrow no-break space (U+202F) before : ; ? !, never
// an ordinary or a wide no-break one; ’, never '. Code is the caller's to leave out.

/** What is wrong with a French text, or undefined. */
export function typographyError(text: string): string | undefined {
  const space = /[ \t\n\u00A0]([:;?!])/.exec(text);
  if (space) return `a ${space[0].startsWith('\u00A0') ? 'wide no-break' : 'breaking'} space before « ${space[1]} »`;
  if (/\p{L}'\p{L}/u.test(text)) return 'a straight apostrophe';
  return undefined;
}
