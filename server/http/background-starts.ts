// Lab starts the API answered before they ended (POST with `Prefer: respond-async`, as the panel sends
// it): the learner follows them with GET, so a start that fails must be told there, once, or the panel
// would take "no lab" for an answer. Failures are kept a minute at most.

const KEPT_MS = 60_000;

export class BackgroundStarts {
  readonly #failed = new Map<string, { error: unknown; at: number }>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /** Follows a start answered early: its failure is kept for the learner's next question. */
  watch(learner: string, name: string, start: Promise<unknown>): void {
    const k = key(learner, name);
    this.#failed.delete(k);
    for (const [other, f] of this.#failed) if (this.#now() - f.at > KEPT_MS) this.#failed.delete(other);
    start.then(
      () => this.#failed.delete(k),
      (error: unknown) => this.#failed.set(k, { error, at: this.#now() }),
    );
  }

  /** Why the learner's last start of that lab failed (told once), or undefined. */
  takeFailure(learner: string, name: string): unknown {
    const k = key(learner, name);
    const failed = this.#failed.get(k);
    this.#failed.delete(k);
    return failed && this.#now() - failed.at <= KEPT_MS ? failed.error : undefined;
  }
}

const key = (learner: string, name: string) => `${learner}\0${name}`;
