// Waiting for what a test expects instead of sleeping: an event or a stream's output, awaited with a
// deadline, and an error that says what did not come. (pollUntil in engine.ts polls what sends no event.)
import type { Readable } from 'node:stream';

/** The promise's value, or an error naming `what` once `ms` have passed. */
export async function within<T>(promise: Promise<T>, ms: number, what: string | (() => string)): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_ok, fail) => {
    timer = setTimeout(() => fail(new Error(`${typeof what === 'string' ? what : what()}: not within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * A stream's output from now on, once it matches `re` (call it before writing what makes the output);
 * fails after `ms` with what came.
 */
export async function outputMatching(output: Readable, re: RegExp, ms: number): Promise<string> {
  let text = '';
  let onData: (d: Buffer) => void = () => {};
  const matched = new Promise<string>((ok) => {
    onData = (d) => {
      text += d.toString('utf8');
      if (re.test(text)) ok(text);
    };
    output.on('data', onData);
  });
  try {
    return await within(matched, ms, () => `output matching ${re} (got ${JSON.stringify(text.slice(-400))})`);
  } finally {
    output.off('data', onData);
  }
}
