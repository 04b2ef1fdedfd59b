// Who is using which lab, for the idle timeout. This is the one piece of lab state kept only in memory
// (Docker labels cannot change on a running container): after a backend restart every lab counts as
// active "now", so a restart postpones idle removal by one idle period and never removes a lab early.
// The hard expiry, which bounds everything, is a label.

interface Usage {
  terminals: number;
  lastActive: number;
}

export class ActivityTracker {
  readonly #usage = new Map<string, Usage>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  #get(labId: string): Usage {
    let u = this.#usage.get(labId);
    if (!u) this.#usage.set(labId, (u = { terminals: 0, lastActive: this.#now() }));
    return u;
  }

  /** A lab seen for the first time (created, or found after a restart) is active now. */
  seen(labId: string): void {
    this.#get(labId);
  }

  touch(labId: string): void {
    this.#get(labId).lastActive = this.#now();
  }

  terminalOpened(labId: string): void {
    const u = this.#get(labId);
    u.terminals++;
    u.lastActive = this.#now();
  }

  terminalClosed(labId: string): void {
    const u = this.#get(labId);
    u.terminals = Math.max(0, u.terminals - 1);
    u.lastActive = this.#now();
  }

  /** No terminal attached and nothing done for `idleMs`. An unknown lab is seen now, so not idle. */
  idle(labId: string, idleMs: number): boolean {
    const u = this.#get(labId);
    return u.terminals === 0 && this.#now() - u.lastActive >= idleMs;
  }

  forget(labId: string): void {
    this.#usage.delete(labId);
  }

  /** Drops entries of labs that no longer exist. */
  retain(labIds: Set<string>): void {
    for (const id of this.#usage.keys()) if (!labIds.has(id)) this.#usage.delete(id);
  }
}
