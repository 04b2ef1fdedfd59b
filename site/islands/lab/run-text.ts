// The text a run button types into a terminal, taken from the code block it wraps. Expressive Code
// renders each block with a copy button whose data-code attribute holds the code with line breaks
// stored as U+007F (and, for terminal frames, without `#` comment lines): that is exactly what a
// learner would paste, so we prefer it. Plain <pre><code> blocks work too.

/** Decodes Expressive Code's data-code attribute. */
export function decodeCopyData(data: string): string {
  return data.replace(/\u007f/g, '\n');
}

/** Normalises code for typing: LF line ends, no blank lines at either end, no trailing newline. */
export function commandText(code: string): string {
  const lines = code.replace(/\r\n?/g, '\n').split('\n');
  while (lines.length > 0 && lines[0]!.trim() === '') lines.shift();
  while (lines.length > 0 && lines[lines.length - 1]!.trim() === '') lines.pop();
  return lines.join('\n');
}

/** The code inside a run block, as the learner sees it; '' when there is none. */
export function codeOfBlock(block: ParentNode): string {
  const copy = block.querySelector<HTMLElement>('.expressive-code .copy button[data-code]');
  const data = copy?.dataset.code;
  if (data !== undefined) return commandText(decodeCopyData(data));
  const lines = block.querySelectorAll('.ec-line');
  if (lines.length > 0) {
    return commandText(Array.from(lines, (line) => (line.querySelector('.code') ?? line).textContent ?? '').join('\n'));
  }
  const pre = block.querySelector('pre');
  return commandText(pre?.textContent ?? '');
}
