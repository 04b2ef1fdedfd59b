// Keystrokes and pastes go to the server as binary frames no larger than the protocol allows.
import { MAX_FRAME_BYTES } from '../../../protocol/terminal.ts';

/** Splits bytes into views of at most `max` bytes (no copy). Empty input gives no frame. */
export function splitFrames(bytes: Uint8Array<ArrayBuffer>, max: number = MAX_FRAME_BYTES): Uint8Array<ArrayBuffer>[] {
  if (!Number.isInteger(max) || max < 1) throw new RangeError(`frame size must be a positive integer, got ${max}`);
  const frames: Uint8Array<ArrayBuffer>[] = [];
  for (let at = 0; at < bytes.length; at += max) frames.push(bytes.subarray(at, at + max));
  return frames;
}

const encoder = new TextEncoder();

/** xterm's onData: text typed or pasted, sent as UTF-8. */
export function textFrames(text: string, max: number = MAX_FRAME_BYTES): Uint8Array<ArrayBuffer>[] {
  return splitFrames(encoder.encode(text), max);
}

/** xterm's onBinary: a string whose characters are bytes 0-255 (some mouse reports), sent as is. */
export function binaryStringFrames(data: string, max: number = MAX_FRAME_BYTES): Uint8Array<ArrayBuffer>[] {
  const bytes = new Uint8Array(data.length);
  for (let i = 0; i < data.length; i++) bytes[i] = data.charCodeAt(i) & 0xff;
  return splitFrames(bytes, max);
}
