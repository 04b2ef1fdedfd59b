// The reference states of each lab's declared files (./solution.ts), computed once per lab kind and kept
// for the life of the process: the same definition on the same image gives the same files, so one run of
// the solution in a throwaway lab serves every learner. A failed or too slow run is forgotten (the next
// request tries again).
import type { Lab } from '../../sandbox/labs/schema.ts';
import type { Reference } from './solution.ts';

export class ReferenceTimeoutError extends Error {}

export class References {
  readonly #cache = new Map<string, Promise<Reference>>();
  readonly #compute: (lab: Lab) => Promise<Reference>;
  readonly #timeoutMs: number;

  constructor(compute: (lab: Lab) => Promise<Reference>, timeoutMs = 180_000) {
    this.#compute = compute;
    this.#timeoutMs = timeoutMs;
  }

  get(lab: Lab): Promise<Reference> {
    let pending = this.#cache.get(lab.id);
    if (!pending) {
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new ReferenceTimeoutError(`${lab.id}: reference not computed in ${this.#timeoutMs} ms`)),
          this.#timeoutMs,
        );
      });
      pending = Promise.race([this.#compute(lab), late]).finally(() => clearTimeout(timer));
      pending.catch(() => this.#cache.delete(lab.id));
      this.#cache.set(lab.id, pending);
    }
    return pending;
  }
}
