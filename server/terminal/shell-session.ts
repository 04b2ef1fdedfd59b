// One shell of one learner in one lab host. It outlives WebSocket connections: a client that comes
// back within the grace period (page reload, Wi-Fi change) reattaches to the same shell and gets the
// recent screen contents replayed. At most one client is attached; a new one replaces the old one.
import { HIGH_WATER_BYTES, LOW_WATER_BYTES } from '../../protocol/terminal.ts';
import type { InputActivity } from './input-activity.ts';
import type { Shell } from './ports.ts';

export interface ShellClient {
  /** Sends output bytes; returns the bytes the connection still has buffered (ws.bufferedAmount). */
  send(data: Buffer): number;
  /** The shell ended or the session was taken over by another connection. */
  end(reason: 'exited' | 'replaced' | 'closed'): void;
}

const REPLAY_BYTES = 64 * 1024;
/** Output is coalesced within one turn of the event loop, up to this size per frame. */
const FRAME_BYTES = 16 * 1024;
/** Output a shell may send at once before its rate applies (a `cat` of a config file never waits). */
const OUTPUT_BURST_BYTES = 256 * 1024;
/** After Ctrl-C under the output rate: what was buffered before it drains at once, up to this much… */
const INTERRUPT_GRANT_BYTES = 4 * 1024 * 1024;
/** …at most this often. */
const INTERRUPT_EVERY_MS = 10_000;

export interface SessionOptions {
  graceMs: number;
  onClose: () => void;
  /**
   * A shell's output rate once its burst is spent (0 or absent: none). Relaying a flood costs the engine
   * and this process CPU that no container limit accounts for; past the rate the output is paused like
   * for a slow client, so the program in the lab blocks instead.
   */
  outputBytesPerSecond?: number;
  /** With it, the rate applies only while another terminal of the server is typed in (absent: always). */
  activity?: InputActivity;
}

export class ShellSession {
  readonly shell: Shell;
  #client: ShellClient | null = null;
  #unacked = 0;
  #paused = false;
  #held = false;
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  #flushScheduled = false;
  #replay: Buffer[] = [];
  #replayBytes = 0;
  #graceTimer: NodeJS.Timeout | null = null;
  #closed = false;
  /** output budget in bytes (token bucket), below zero: throttled until it refills */
  #budget = OUTPUT_BURST_BYTES;
  #budgetAt = Date.now();
  #throttle: NodeJS.Timeout | null = null;
  #lastGrant = 0;
  /** peak of bytes sent but not yet acknowledged, for benchmarks */
  peakQueued = 0;

  readonly #options: SessionOptions;

  constructor(shell: Shell, options: SessionOptions) {
    this.shell = shell;
    this.#options = options;
    shell.output.on('data', (chunk: Buffer) => this.#onOutput(chunk));
    shell.output.on('error', () => this.close());
    shell.output.on('end', () => this.close());
    void shell.exited.then(
      () => this.close(),
      () => this.close(),
    );
    // Born detached: until a client attaches, the shell is read no further and waits out a grace period
    // (a client that says hello and leaves before the shell opens must not leave it running unread).
    this.#updateFlow();
    this.#startGrace();
  }

  get closed(): boolean {
    return this.#closed;
  }

  attach(client: ShellClient): Buffer {
    this.#flush(); // pending output belongs to the old client: the replay below covers it for the new one
    if (this.#graceTimer) clearTimeout(this.#graceTimer);
    this.#graceTimer = null;
    const previous = this.#client;
    this.#client = client;
    previous?.end('replaced');
    this.#unacked = 0;
    this.#held = false;
    this.#updateFlow();
    return this.#replayBuffer();
  }

  detach(client: ShellClient): void {
    if (this.#client !== client) return;
    this.#client = null;
    this.#updateFlow();
    this.#startGrace();
  }

  #startGrace(): void {
    if (this.#graceTimer) clearTimeout(this.#graceTimer);
    this.#graceTimer = setTimeout(() => this.close(), this.#options.graceMs);
    this.#graceTimer.unref();
  }

  /** Writes the learner's keys; false: the shell is behind, send no more before shell.drained(). */
  input(data: Buffer): boolean {
    this.#flush(); // flush on input: the learner sees output up to their keystroke at once
    this.#options.activity?.noteInput(this);
    if ((this.#options.outputBytesPerSecond ?? 0) > 0 && (data.includes(0x03) || data.includes(0x1c) || data.includes(0x1a)))
      this.#interrupted();
    return this.shell.write(data);
  }

  /**
   * Ctrl-C (or Ctrl-\, Ctrl-Z) under an output rate: what a flooding program wrote before it
   * stopped still sits in the PTY and the engine, and at the rate it would keep the prompt away for
   * seconds. It drains at once, within a budget granted at most every INTERRUPT_EVERY_MS (a program that
   * ignores SIGINT gains little by it).
   */
  #interrupted(): void {
    const now = Date.now();
    if (now - this.#lastGrant < INTERRUPT_EVERY_MS) return;
    this.#lastGrant = now;
    this.#budget = Math.max(this.#budget, INTERRUPT_GRANT_BYTES);
    this.#budgetAt = now;
    if (this.#throttle) clearTimeout(this.#throttle);
    this.#throttle = null;
    this.#updateFlow();
  }

  ack(bytes: number): void {
    this.#unacked = Math.max(0, this.#unacked - bytes);
    this.#updateFlow();
  }

  /** The client asked to stop (e.g. its tab is hidden) or to go on. */
  hold(held: boolean): void {
    this.#held = held;
    this.#updateFlow();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#graceTimer) clearTimeout(this.#graceTimer);
    if (this.#throttle) clearTimeout(this.#throttle);
    this.#client?.end('exited');
    this.#client = null;
    void this.shell.close().catch(() => {});
    this.#options.onClose();
  }

  #onOutput(chunk: Buffer): void {
    this.#remember(chunk);
    this.#pending.push(chunk);
    this.#pendingBytes += chunk.length;
    if (this.#pendingBytes >= FRAME_BYTES) this.#flush();
    else if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      setImmediate(() => this.#flush());
    }
  }

  #flush(): void {
    this.#flushScheduled = false;
    if (this.#pendingBytes === 0) return;
    const data = this.#pending.length === 1 ? this.#pending[0]! : Buffer.concat(this.#pending, this.#pendingBytes);
    this.#pending = [];
    this.#pendingBytes = 0;
    const client = this.#client;
    if (!client) return; // kept in the replay buffer only
    this.#spend(data.length);
    this.#unacked += data.length;
    const buffered = client.send(data);
    this.peakQueued = Math.max(this.peakQueued, this.#unacked, buffered);
    this.#updateFlow(buffered);
  }

  #spend(bytes: number): void {
    const rate = this.#options.outputBytesPerSecond ?? 0;
    if (rate <= 0) return;
    const { activity } = this.#options;
    if (activity && !activity.othersActive(this) && this.#budget >= 0) return; // nobody to make room for
    const now = Date.now();
    // Refilled up to the burst; a larger budget granted after Ctrl-C is spent down, not cut.
    const cap = Math.max(OUTPUT_BURST_BYTES, this.#budget);
    this.#budget = Math.min(cap, this.#budget + ((now - this.#budgetAt) * rate) / 1000) - bytes;
    this.#budgetAt = now;
    if (this.#budget < 0 && !this.#throttle) {
      // Back once the budget is positive again.
      this.#throttle = setTimeout(
        () => {
          this.#throttle = null;
          this.#spend(0);
          this.#updateFlow();
        },
        Math.ceil((-this.#budget * 1000) / rate) + 1,
      );
      this.#throttle.unref();
    }
  }

  /** Stops reading from the shell while the client is behind, or gone, or the output is over its rate. */
  #updateFlow(buffered = 0): void {
    const behind = Math.max(this.#unacked, buffered);
    const throttled = this.#throttle !== null;
    const shouldPause = this.#client === null || this.#held || behind > HIGH_WATER_BYTES || throttled;
    const shouldResume = this.#client !== null && !this.#held && behind < LOW_WATER_BYTES && !throttled;
    if (shouldPause && !this.#paused) {
      this.#paused = true;
      this.shell.output.pause();
    } else if (this.#paused && shouldResume) {
      this.#paused = false;
      this.shell.output.resume();
    }
  }

  #remember(chunk: Buffer): void {
    this.#replay.push(chunk);
    this.#replayBytes += chunk.length;
    while (this.#replayBytes - (this.#replay[0]?.length ?? 0) >= REPLAY_BYTES) {
      this.#replayBytes -= this.#replay.shift()!.length;
    }
  }

  /** Recent output, starting at a line boundary so that no escape sequence is cut in half. */
  #replayBuffer(): Buffer {
    this.#flush();
    const all = Buffer.concat(this.#replay, this.#replayBytes);
    if (all.length < REPLAY_BYTES) return all;
    const nl = all.indexOf(0x0a);
    return nl >= 0 ? all.subarray(nl + 1) : all;
  }
}
