// What one lab's preview may cost this process: requests in flight at once, and bytes relayed per second
// both ways (a learner's server can answer with an endless body, or the learner's page can upload one).
// The relay waits when a lab is over its rate, as a terminal does, so the lab's program blocks instead.
import { Transform, type TransformCallback } from 'node:stream';

export interface LabBudgetOptions {
  /** requests of one lab relayed at once (a browser opens 6 per host; the rest are refused with 429) */
  concurrent: number;
  bytesPerSecond: number;
  burstBytes: number;
}

interface Bucket {
  inFlight: number;
  tokens: number;
  at: number;
}

export class LabBudgets {
  readonly #buckets = new Map<string, Bucket>();
  readonly #opts: LabBudgetOptions;

  constructor(opts: LabBudgetOptions) {
    this.#opts = opts;
  }

  /** A slot for one request, or null when the lab has too many in flight; release() exactly once. */
  acquire(labId: string): { release(): void; meter(): Transform } | null {
    const bucket = this.#buckets.get(labId) ?? { inFlight: 0, tokens: this.#opts.burstBytes, at: Date.now() };
    if (bucket.inFlight >= this.#opts.concurrent) return null;
    bucket.inFlight++;
    this.#buckets.set(labId, bucket);
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        bucket.inFlight--;
        // A lab's bucket goes when nothing of it is in flight and it is full again (no state per lab id kept).
        if (bucket.inFlight === 0 && this.#refill(bucket) >= this.#opts.burstBytes) this.#buckets.delete(labId);
      },
      meter: () => this.#meter(bucket),
    };
  }

  #refill(bucket: Bucket): number {
    const now = Date.now();
    bucket.tokens = Math.min(this.#opts.burstBytes, bucket.tokens + ((now - bucket.at) * this.#opts.bytesPerSecond) / 1000);
    bucket.at = now;
    return bucket.tokens;
  }

  /** A pass-through stream that holds each chunk until the lab's budget covers it. */
  #meter(bucket: Bucket): Transform {
    const budgets = this;
    let wait: NodeJS.Timeout | null = null;
    return new Transform({
      transform(chunk: Buffer, _enc, done: TransformCallback) {
        const tokens = budgets.#refill(bucket) - chunk.length;
        bucket.tokens = tokens;
        if (tokens >= 0) return done(null, chunk);
        wait = setTimeout(() => ((wait = null), done(null, chunk)), Math.ceil((-tokens * 1000) / budgets.#opts.bytesPerSecond));
      },
      destroy(err, done) {
        if (wait) clearTimeout(wait);
        done(err);
      },
    });
  }
}
