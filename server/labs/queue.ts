// At most `limit` lab creations at once, learners before the warm pool. A class clicking « Lancer » in
// the same minute would otherwise start every creation at once: the engine then shares two cores
// between hundreds of container starts, every one of them slows down, and some pass their time bound.
// In a queue, each creation runs at the engine's best speed and learners are served in arrival order.
// A creation waiting its turn is told its place each time the line moves (the learner sees it).

export type Priority = 'learner' | 'pool';

/** How many creations wait in line before this one (0: it is the next). */
export type PlaceListener = (ahead: number) => void;

interface Waiter {
  turn: () => void;
  place: PlaceListener | undefined;
}

export class CreationQueue {
  readonly #limit: number;
  #running = 0;
  readonly #waiting: Record<Priority, Waiter[]> = { learner: [], pool: [] };

  constructor(limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`creation concurrency must be a positive integer, not ${limit}`);
    this.#limit = limit;
  }

  /** Creations running now and waiting for their turn. */
  get load(): { running: number; waiting: number } {
    return { running: this.#running, waiting: this.#waiting.learner.length + this.#waiting.pool.length };
  }

  async run<T>(priority: Priority, work: () => Promise<T>, place?: PlaceListener): Promise<T> {
    if (this.#running >= this.#limit) {
      await new Promise<void>((turn) => {
        this.#waiting[priority].push({ turn, place });
        this.#tellPlaces();
      });
    } else this.#running++;
    try {
      return await work();
    } finally {
      // The place goes straight to the next in line (learners first), or is freed.
      const next = this.#waiting.learner.shift() ?? this.#waiting.pool.shift();
      if (next) {
        next.turn();
        this.#tellPlaces();
      } else this.#running--;
    }
  }

  /** Tells everyone waiting their place, in the order they will run. */
  #tellPlaces(): void {
    for (const [ahead, w] of [...this.#waiting.learner, ...this.#waiting.pool].entries()) w.place?.(ahead);
  }
}
