// The learners' lab starts under way in this process (a creation or a reset), and how far each has come:
// waiting its turn in the creation queue (with its place), then the provider's steps. The lab API reports
// it while the lab is 'starting', so the panel shows real progress. Kept only while the start runs.
import type { CreationPhase } from '../sandbox/provider.ts';

export type StartPhase = 'queued' | CreationPhase;

export interface StartState {
  labId: string;
  /** when the start began (ms) */
  since: number;
  phase: StartPhase;
  /** 'queued': creations waiting in line before this one */
  ahead?: number;
}

/** One start, as its code reports it; end() once it settled. */
export interface StartTracker {
  /** the lab's id (for a creation: the id it will have, unless a lab of the warm pool is claimed instead) */
  readonly labId: string;
  queued(ahead: number): void;
  phase(phase: CreationPhase): void;
  end(): void;
}

export class Starts {
  readonly #starts = new Map<string, StartState>();
  readonly #now: () => number;

  constructor(now: () => number) {
    this.#now = now;
  }

  /** How far the learner's start of that lab kind has come, or undefined when none runs here. */
  get(owner: string, definitionId: string): StartState | undefined {
    return this.#starts.get(key(owner, definitionId));
  }

  begin(owner: string, definitionId: string, labId: string): StartTracker {
    const k = key(owner, definitionId);
    const state: StartState = { labId, since: this.#now(), phase: 'queued' };
    this.#starts.set(k, state);
    // A later start of the same lab (a reset during a creation) replaces this record: leave it alone then.
    const mine = () => this.#starts.get(k) === state;
    return {
      labId,
      queued: (ahead) => {
        if (mine()) Object.assign(state, { phase: 'queued', ahead });
      },
      phase: (phase) => {
        if (!mine()) return;
        state.phase = phase;
        delete state.ahead;
      },
      end: () => {
        if (mine()) this.#starts.delete(k);
      },
    };
  }
}

const key = (owner: string, definitionId: string) => `${owner}\0${definitionId}`;
