// Browser side of flow control (docs/protocol.md § Flow control). xterm.js parses what it is given
// asynchronously; we count bytes handed to it and bytes it reports as processed (write callback), then
// tell the server what was rendered (ack) so it can pause the shell when we fall behind. Our own
// watermarks (pause / resume) are a second guard in case the server ever sends faster than it should.
import { ACK_EVERY_BYTES, HIGH_WATER_BYTES, LOW_WATER_BYTES } from '../../../protocol/terminal.ts';

export interface FlowLimits {
  ackEvery: number;
  high: number;
  low: number;
}

/** What the connection must send after an event; empty when nothing. */
export interface FlowActions {
  ack?: number;
  pause?: true;
  resume?: true;
}

export const DEFAULT_LIMITS: FlowLimits = { ackEvery: ACK_EVERY_BYTES, high: HIGH_WATER_BYTES, low: LOW_WATER_BYTES };

export class FlowAccountant {
  readonly #limits: FlowLimits;
  /** handed to xterm, not yet processed */
  #pending = 0;
  /** processed, not yet acknowledged to the server */
  #unacked = 0;
  #paused = false;

  constructor(limits: FlowLimits = DEFAULT_LIMITS) {
    if (!(limits.low < limits.high) || limits.ackEvery <= 0) throw new RangeError('flow limits need 0 < ackEvery and low < high');
    this.#limits = limits;
  }

  get pending(): number {
    return this.#pending;
  }
  get unacked(): number {
    return this.#unacked;
  }
  get paused(): boolean {
    return this.#paused;
  }
  /** Nothing left to render: the output went idle. */
  get drained(): boolean {
    return this.#pending === 0;
  }

  /** `bytes` were handed to xterm.write. */
  received(bytes: number): FlowActions {
    this.#pending += bytes;
    if (!this.#paused && this.#pending > this.#limits.high) {
      this.#paused = true;
      return { pause: true };
    }
    return {};
  }

  /** xterm's write callback fired for a chunk of `bytes`. */
  rendered(bytes: number): FlowActions {
    this.#pending = Math.max(0, this.#pending - bytes);
    this.#unacked += bytes;
    const actions: FlowActions = {};
    if (this.#unacked >= this.#limits.ackEvery) {
      actions.ack = this.#unacked;
      this.#unacked = 0;
    }
    if (this.#paused && this.#pending < this.#limits.low) {
      this.#paused = false;
      actions.resume = true;
    }
    return actions;
  }

  /**
   * Output went quiet: acknowledge the rest, so that small interactive output (echo of keystrokes)
   * does not add up on the server until it pauses a shell nobody is flooding.
   */
  idle(): FlowActions {
    if (this.#pending > 0 || this.#unacked === 0) return {};
    const ack = this.#unacked;
    this.#unacked = 0;
    return { ack };
  }
}
