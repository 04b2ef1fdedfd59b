// The warm pool: labs prepared ahead, per definition, so that a learner's click claims one instead of
// waiting for containers to start. The engine stays the source of truth: pool labs carry their own
// label (no owner yet), `sync` rebuilds the list from what the engine reports, and a claim is recorded
// in the engine by the provider. Creations run in the background, one at a time per definition, and
// back off after a failure.

export interface WarmPoolOptions {
  /** definition id → number of labs kept ready */
  sizes: Record<string, number>;
  /** creates one pool lab of that definition; null when there is no room for it now */
  create: (definitionId: string) => Promise<string | null>;
  /** wait after a failed creation before trying again */
  retryMs?: number;
  log: (message: string) => void;
}

export class WarmPool {
  readonly #sizes: Record<string, number>;
  readonly #create: (definitionId: string) => Promise<string | null>;
  readonly #retryMs: number;
  readonly #log: (message: string) => void;
  /** definition id → ids of ready pool labs, oldest first */
  readonly #ready = new Map<string, string[]>();
  /** definition id → the refill under way */
  readonly #filling = new Map<string, Promise<void>>();
  readonly #retry = new Map<string, NodeJS.Timeout>();
  /** when each ready lab joined the pool (a counter), so that sync keeps labs newer than its listing */
  readonly #joined = new Map<string, number>();
  /** when each lab left the pool, so that sync does not take back a lab claimed after its listing */
  readonly #left = new Map<string, number>();
  #clock = 0;
  #stopped = false;
  #delayed: NodeJS.Timeout | undefined;

  constructor(options: WarmPoolOptions) {
    this.#sizes = Object.fromEntries(Object.entries(options.sizes).filter(([, n]) => n > 0));
    this.#create = options.create;
    this.#retryMs = options.retryMs ?? 30_000;
    this.#log = options.log;
  }

  get enabled(): boolean {
    return Object.keys(this.#sizes).length > 0;
  }

  /** Labs ready now, per definition. */
  counts(): Record<string, number> {
    return Object.fromEntries(Object.keys(this.#sizes).map((id) => [id, this.#ready.get(id)?.length ?? 0]));
  }

  /** Takes a ready lab of that definition out of the pool (the caller claims it), or undefined. */
  take(definitionId: string): string | undefined {
    const labId = this.#ready.get(definitionId)?.shift();
    if (labId) {
      this.#joined.delete(labId);
      this.#left.set(labId, ++this.#clock);
    }
    return labId;
  }

  /** Takes any ready lab whose definition is not `except` (to make room for a learner), or undefined. */
  takeOther(except: string): string | undefined {
    for (const [id, labs] of this.#ready) if (id !== except && labs.length > 0) return this.take(id);
    return undefined;
  }

  /** A point in time for sync: labs that join the pool after it are kept whatever the listing says. */
  now(): number {
    return this.#clock;
  }

  /**
   * Makes the pool what the engine reports (ready pool labs listed since `since`), plus labs that
   * joined after that listing. Returns the labs beyond a definition's size (or of a definition no
   * longer pooled): the caller removes them.
   */
  sync(labs: { labId: string; definitionId: string }[], since: number): string[] {
    const newer = [...this.#ready.entries()].flatMap(([definitionId, ids]) =>
      ids.filter((labId) => (this.#joined.get(labId) ?? 0) > since).map((labId) => ({ labId, definitionId })),
    );
    const surplus: string[] = [];
    this.#ready.clear();
    const seen = new Set<string>();
    const left = (labId: string) => (this.#left.get(labId) ?? -1) > since;
    for (const lab of [...labs.filter((l) => !left(l.labId)), ...newer]) {
      if (seen.has(lab.labId)) continue;
      seen.add(lab.labId);
      const list = this.#ready.get(lab.definitionId) ?? [];
      if (list.length >= (this.#sizes[lab.definitionId] ?? 0)) surplus.push(lab.labId);
      else this.#ready.set(lab.definitionId, [...list, lab.labId]);
    }
    for (const id of this.#joined.keys()) if (!seen.has(id) || surplus.includes(id)) this.#joined.delete(id);
    for (const [id, at] of this.#left) if (at <= since) this.#left.delete(id);
    return surplus;
  }

  forget(labId: string): void {
    this.#joined.delete(labId);
    this.#left.set(labId, ++this.#clock);
    for (const labs of this.#ready.values()) {
      const i = labs.indexOf(labId);
      if (i >= 0) labs.splice(i, 1);
    }
  }

  /**
   * Starts the background creations that bring every definition back to its size, after `delayMs`
   * (after a claim: the learner's own terminals open first, without a creation competing for the CPU
   * and the engine).
   */
  refill(delayMs = 0): void {
    if (this.#stopped) return;
    if (delayMs > 0) {
      if (this.#delayed) return;
      this.#delayed = setTimeout(() => {
        this.#delayed = undefined;
        this.refill();
      }, delayMs);
      this.#delayed.unref();
      return;
    }
    for (const id of Object.keys(this.#sizes)) {
      if (this.#filling.has(id) || this.#retry.has(id)) continue;
      const filling = this.#fill(id).finally(() => this.#filling.delete(id));
      this.#filling.set(id, filling);
    }
  }

  async #fill(definitionId: string): Promise<void> {
    const size = this.#sizes[definitionId] ?? 0;
    while (!this.#stopped && (this.#ready.get(definitionId)?.length ?? 0) < size) {
      let labId: string | null;
      try {
        labId = await this.#create(definitionId);
      } catch (err) {
        this.#log(`warm pool: could not prepare a ${definitionId} lab (again in ${this.#retryMs / 1000} s): ${(err as Error).message}`);
        const timer = setTimeout(() => (this.#retry.delete(definitionId), this.refill()), this.#retryMs);
        timer.unref();
        this.#retry.set(definitionId, timer);
        return;
      }
      if (!labId) return; // no room: the next claim or reap tries again
      this.#joined.set(labId, ++this.#clock);
      this.#ready.set(definitionId, [...(this.#ready.get(definitionId) ?? []), labId]);
    }
  }

  /** No more creations; resolves when the ones under way have settled. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#delayed);
    for (const t of this.#retry.values()) clearTimeout(t);
    this.#retry.clear();
    await Promise.allSettled([...this.#filling.values()]);
  }
}
