// When a shell opened ahead may be resized. Readline reads the terminal's size once as it starts, then
// switches bracketed paste on (its own write) and only after that installs its SIGWINCH handler and
// draws the prompt. A resize landing between the two is lost until the first command has run: the first
// long line is then drawn at the width the shell was opened with (issue 11, 5: about 1 run in 150 when
// the learner's terminal attaches while bash is starting). Once the prompt is drawn, a resize reaches it.
import type { Readable } from 'node:stream';

const BRACKETED_PASTE_ON = '\x1b[?2004h';
/** Looked at no further than this (a shell that prints a banner first, or no bracketed paste at all). */
const LOOK_BYTES = 64 * 1024;

/**
 * Resolves once `output` shows readline's prompt (bytes after its bracketed-paste switch), or after `ms`,
 * or at the end of the stream. Nothing is consumed: what was read is put back for the terminal's reader.
 */
export function promptDrawn(output: Readable, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const seen: Buffer[] = [];
    let text = '';
    const finish = () => {
      clearTimeout(timer);
      output.off('readable', read);
      output.off('end', finish);
      output.off('close', finish);
      if (seen.length > 0 && !output.readableEnded && !output.destroyed) output.unshift(Buffer.concat(seen));
      resolve();
    };
    const read = () => {
      for (let chunk: Buffer | null; (chunk = output.read() as Buffer | null) !== null; ) {
        seen.push(chunk);
        text += chunk.toString('latin1');
      }
      const at = text.indexOf(BRACKETED_PASTE_ON);
      if ((at >= 0 && text.length > at + BRACKETED_PASTE_ON.length) || text.length >= LOOK_BYTES) finish();
    };
    const timer = setTimeout(finish, ms);
    timer.unref();
    output.on('readable', read);
    output.once('end', finish);
    output.once('close', finish);
  });
}
