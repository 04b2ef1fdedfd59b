// Who typed lately, across every terminal of this server: the output rate of a flood applies only while
// someone else types (ShellSession). Alone on the machine a flood may use what nobody else needs; as soon
// as a neighbour types, relaying it would take the CPU their keystrokes wait for.
/** How long after a keystroke a terminal counts as in use. */
export const ACTIVE_MS = 5_000;

export class InputActivity {
  // The latest input, and the latest from another terminal than that one: enough to answer "has anyone
  // but X typed within ACTIVE_MS" in constant time, whatever the number of terminals.
  #latest: { who: object; at: number } | null = null;
  #other: { who: object; at: number } | null = null;
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  noteInput(who: object): void {
    const at = this.#now();
    if (this.#latest && this.#latest.who !== who) this.#other = this.#latest;
    this.#latest = { who, at };
  }

  /** Someone other than `who` typed within ACTIVE_MS. */
  othersActive(who: object): boolean {
    const last = this.#latest?.who === who ? this.#other : this.#latest;
    return last !== null && this.#now() - last.at < ACTIVE_MS;
  }
}
