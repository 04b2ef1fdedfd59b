// A token bucket per key (learner id or address): `burst` at once, refilled at `perMinute`.
export class RateLimiter {
  readonly #buckets = new Map<string, { tokens: number; at: number }>();
  readonly #burst: number;
  readonly #perMs: number;

  constructor(burst: number, perMinute: number) {
    this.#burst = burst;
    this.#perMs = perMinute / 60_000;
  }

  take(key: string, now = Date.now()): boolean {
    const b = this.#buckets.get(key) ?? { tokens: this.#burst, at: now };
    b.tokens = Math.min(this.#burst, b.tokens + (now - b.at) * this.#perMs);
    b.at = now;
    if (this.#buckets.size > 100_000) this.#prune(now);
    if (b.tokens < 1) {
      this.#buckets.set(key, b);
      return false;
    }
    b.tokens -= 1;
    this.#buckets.set(key, b);
    return true;
  }

  #prune(now: number): void {
    for (const [k, b] of this.#buckets) if (b.tokens + (now - b.at) * this.#perMs >= this.#burst) this.#buckets.delete(k);
  }
}
