// Where the preview of a lab connects, cached. A preview URL needs no cookie, so anyone can send requests
// for random lab ids: each must not cost engine calls. Unknown ids are answered from one shared listing
// of the engine's labs, taken at most every LIST_EVERY_MS; known labs' targets are kept for TARGET_TTL_MS
// and asked for once even by many requests at the same moment.
import type { Duplex } from 'node:stream';
import { LabNotFoundError } from '../sandbox/provider.ts';

/** A lab's preview: the definition's host and port, reached through the provider. */
export interface PreviewTarget {
  host: string;
  port: number;
  /** the Host header of each virtual host (preview.sites); empty: one site, Host: localhost */
  sites: string[];
  /** a fresh byte stream to that port (the provider's connect) */
  connect(): Promise<Duplex>;
}

const LIST_EVERY_MS = 2000;
const TARGET_TTL_MS = 5000;
const MAX_TARGETS = 10_000;

export interface PreviewTargetSource<T> {
  /** every lab id in the engine */
  labIds(): Promise<string[]>;
  target(labId: string): Promise<T>;
}

export class PreviewTargets<T = PreviewTarget> {
  readonly #source: PreviewTargetSource<T>;
  readonly #now: () => number;
  /** lab ids from the last listing */
  #listed = new Set<string>();
  /** labs this process made or found, with when: kept until a listing started after them */
  readonly #recent = new Map<string, number>();
  #listedAt = -Infinity;
  #listing: Promise<void> | undefined;
  readonly #targets = new Map<string, { target: T; at: number }>();
  readonly #resolving = new Map<string, Promise<T>>();

  constructor(source: PreviewTargetSource<T>, now: () => number = Date.now) {
    this.#source = source;
    this.#now = now;
  }

  /** The lab's target; LabNotFoundError when the engine has no such lab. */
  async get(labId: string): Promise<T> {
    const cached = this.#targets.get(labId);
    if (cached && this.#now() - cached.at < TARGET_TTL_MS) return cached.target;
    if (!this.#has(labId)) {
      await this.#list();
      if (!this.#has(labId)) throw new LabNotFoundError(labId);
    }
    let resolving = this.#resolving.get(labId);
    if (!resolving) {
      resolving = this.#source.target(labId).finally(() => this.#resolving.delete(labId));
      this.#resolving.set(labId, resolving);
    }
    const target = await resolving;
    if (this.#targets.size >= MAX_TARGETS) this.#targets.clear();
    this.#targets.set(labId, { target, at: this.#now() });
    return target;
  }

  /** A lab this process created or found: its preview works before the next listing. */
  known(labId: string): void {
    this.#recent.set(labId, this.#now());
  }

  /** Its hosts were recreated (new addresses) or removed. */
  forget(labId: string, removed: boolean): void {
    this.#targets.delete(labId);
    if (!removed) return;
    this.#listed.delete(labId);
    this.#recent.delete(labId);
  }

  #has(labId: string): boolean {
    return this.#listed.has(labId) || this.#recent.has(labId);
  }

  /** Lists the engine's labs unless a listing is under way or recent (then waits for that one). */
  #list(): Promise<void> {
    if (this.#listing) return this.#listing;
    if (this.#now() - this.#listedAt < LIST_EVERY_MS) return Promise.resolve();
    const startedAt = this.#now();
    this.#listing = this.#source
      .labIds()
      .then((ids) => {
        this.#listed = new Set(ids);
        this.#listedAt = startedAt;
        for (const [id, at] of this.#recent) if (at < startedAt) this.#recent.delete(id);
      })
      .finally(() => (this.#listing = undefined));
    return this.#listing;
  }
}
