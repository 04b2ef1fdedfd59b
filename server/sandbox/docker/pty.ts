// A terminal's pseudo-terminal inside the lab host, behind a non-TTY exec (docs/decisions.md, « The
// terminal's PTY »): the engine relays plain pipes (one copy, large chunks) instead of its own TTY (a
// copy per 4 KiB read of the PTY). pty-helper.pl holds the PTY; this side frames its input and reads the
// engine's multiplexed output.
import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';

const HELPER = readFileSync(new URL('./pty-helper.pl', import.meta.url), 'utf8');

/** The exec's command: the helper (perl-base, in every Debian image), then what it runs on the terminal. */
export function ptyCommand(cols: number, rows: number, command: string[]): string[] {
  return ['perl', '-e', HELPER, String(cols), String(rows), ...command];
}

const KEYS = 0;
const SIZE = 1;

/** Keys for the terminal, as one frame of the helper's input. */
export function keysFrame(data: string | Uint8Array): Buffer {
  const payload = typeof data === 'string' ? Buffer.from(data) : data;
  const frame = Buffer.allocUnsafe(5 + payload.length);
  frame[0] = KEYS;
  frame.writeUInt32BE(payload.length, 1);
  frame.set(payload, 5);
  return frame;
}

/** The terminal's size, as one frame of the helper's input (applied after the keys sent before it). */
export function sizeFrame(cols: number, rows: number): Buffer {
  const frame = Buffer.alloc(9);
  frame[0] = SIZE;
  frame.writeUInt32BE(4, 1);
  frame.writeUInt16BE(cols, 5);
  frame.writeUInt16BE(rows, 7);
  return frame;
}

/**
 * The payload of the engine's output frames ([stream u8, 0, 0, 0, length u32 BE] then the bytes; the
 * helper's standard error is the terminal's too) as one byte stream. Pausing it stops reading from the
 * engine once its buffer is full.
 */
export class ExecOutput extends Readable {
  readonly #source: Readable;
  #header = Buffer.alloc(8);
  #headerBytes = 0;
  #left = 0;

  constructor(source: Readable) {
    super({ highWaterMark: 64 * 1024 });
    this.#source = source;
    source.on('data', (chunk: Buffer) => {
      const payload = this.#payload(chunk);
      if (payload.length > 0 && !this.push(payload)) source.pause();
    });
    source.once('end', () => this.push(null));
    source.once('close', () => {
      if (!this.readableEnded) this.push(null);
    });
    source.once('error', (err) => this.destroy(err));
  }

  override _read(): void {
    this.#source.resume();
  }

  /** The payload bytes of a chunk of the engine's stream (frames may span chunks). */
  #payload(chunk: Buffer): Buffer {
    const parts: Buffer[] = [];
    let at = 0;
    while (at < chunk.length) {
      if (this.#left > 0) {
        const end = Math.min(chunk.length, at + this.#left);
        parts.push(chunk.subarray(at, end));
        this.#left -= end - at;
        at = end;
        continue;
      }
      const take = Math.min(8 - this.#headerBytes, chunk.length - at);
      chunk.copy(this.#header, this.#headerBytes, at, at + take);
      this.#headerBytes += take;
      at += take;
      if (this.#headerBytes === 8) {
        this.#left = this.#header.readUInt32BE(4);
        this.#headerBytes = 0;
      }
    }
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  }
}
