// The life of the learner's lab as a panel sees it, without the page: ask whether the learner has this
// lab (check), start it, reset it, follow a lab that is still 'starting' until it is ready, notice that
// it expired or went away, and once its terminals are attached, the state they add up to (badge.ts).
// A start shows its steps as the server reports them (waiting its turn, network, containers, services),
// then the terminal's, and always ends: every question to the server and every step has a time bound.
// Operations run one after the other (a Run button pressed while the panel still asks for the lab waits
// for the answer); a failed one ends in 'error' with its French message, and retry() repeats it.
// The panel (panel.ts) gives it the lab HTTP API and hooks for what it does in the page.
import { LabApiError, type LabInfo } from './api.ts';
import { startingBadge, stateBadge, terminalsBadge, type Badge } from './badge.ts';
import type { ConnectionState } from './connection.ts';
import { TEXT, type PanelState, type StartStep } from './strings.ts';

export interface LabApi {
  getLab(name: string): Promise<LabInfo | null>;
  createLab(name: string): Promise<LabInfo>;
  resetLab(name: string): Promise<LabInfo>;
}

/** What the panel shows: the state, its badge's words, a message (an error, another panel…), a start's step. */
export interface LifecycleView extends Badge {
  message?: string;
  /** 'starting': the step the start is at, and for 'queued' the creations waiting before it (when known) */
  progress?: { step: StartStep; ahead?: number };
}

export interface LifecycleHooks {
  /**
   * The lab is ready: attach its terminals (`changed`: another lab than before, whose screens are not
   * ours). The panel reports its terminals' states with terminals() from then on.
   */
  attach(info: LabInfo, changed: boolean): void;
  /** Stop the terminals: the lab is being reset, expired, or gone (`gone`: no lab any more, nor preview). */
  detach(gone: boolean): void;
  /** Whether this panel holds the lab's terminals (one panel per lab on a page). */
  holding(): boolean;
  /** Whether another panel of the page holds them. */
  heldElsewhere(): boolean;
  /** The view changed. */
  show(view: LifecycleView): void;
}

export interface LifecycleOptions {
  /** lab kind, e.g. nginx-remote */
  name: string;
  api: LabApi;
  hooks: LifecycleHooks;
  /**
   * How long a start may go without progress (a step, or a place in the queue) before it ends in an
   * error; each question to the server is bounded by it too.
   */
  startTimeoutMs?: number;
  /** between two questions to a starting lab */
  pollMs?: number;
  sleep?: (ms: number) => Promise<void>;
  /** resolves after `ms`, unless `signal` aborts first (the bound of a question to the server) */
  timer?: (ms: number, signal: AbortSignal) => Promise<void>;
  now?: () => number;
}

/** Errors that end an operation without the 'error' state: its own state says it all. */
const EXPIRED = 'expired-lab';

export class LabLifecycle {
  readonly #o: Required<LifecycleOptions>;
  #view: LifecycleView = stateBadge('idle');
  #info: LabInfo | null = null;
  #busy: Promise<void> | null = null;
  /** the operation retry() repeats after it failed */
  #last: (() => Promise<void>) | null = null;
  /** hosts whose terminal has been open since the lab was (re)attached: their drops are "disconnected" */
  #opened = new Set<string>();

  constructor(options: LifecycleOptions) {
    this.#o = {
      // Longer than any one step takes on a busy server (a creation in a queue of 30 moves every few seconds).
      startTimeoutMs: 90_000,
      pollMs: 1000,
      sleep: (ms) => new Promise((ok) => setTimeout(ok, ms)),
      timer: (ms, signal) =>
        new Promise((ok) => {
          const t = setTimeout(ok, ms);
          signal.addEventListener('abort', () => clearTimeout(t));
        }),
      now: Date.now,
      ...options,
    };
  }

  get state(): PanelState {
    return this.#view.state;
  }
  get view(): LifecycleView {
    return this.#view;
  }
  /** The lab as the API last described it (null: none known). */
  get info(): LabInfo | null {
    return this.#info;
  }
  /** Whether a lab operation is under way or waiting for its turn. */
  get busy(): boolean {
    return this.#busy !== null;
  }

  /** On load: if the learner already has this lab (page reload), attach to it at once. */
  check(): Promise<void> {
    this.#last = () => this.check();
    return this.#exclusive(async () => {
      this.#show('checking');
      const info = await this.#bounded(this.#o.api.getLab(this.#o.name), this.#o.now() + this.#o.startTimeoutMs);
      if (!info) return this.#show('idle');
      if (info.state === 'expired') return this.expire(info);
      if (this.#o.hooks.heldElsewhere()) {
        this.#info = info;
        return this.#show('idle', TEXT.otherPanel);
      }
      this.#attach(await this.#whenReady(info));
    });
  }

  /** Starts (or finds) the learner's lab and attaches the terminals. */
  start(): Promise<void> {
    this.#last = () => this.start();
    return this.#exclusive(async () => {
      const state = this.#view.state;
      // Attached here already (its terminals may still be connecting): nothing to start.
      const attached = this.#o.hooks.holding() && this.#info?.state === 'ready';
      if (attached && (state === 'ready' || state === 'disconnected' || state === 'starting')) return;
      if (state === 'idle' && this.#info?.state === 'ready') return this.#attach(this.#info); // shown by another panel so far
      // An expired lab is replaced by a fresh one; creating would hand back the expired one.
      const fresh = state === 'expired' || this.#info?.state === 'expired';
      this.#show('starting');
      const asked = fresh ? this.#o.api.resetLab(this.#o.name) : this.#o.api.createLab(this.#o.name);
      this.#attach(await this.#whenReady(await this.#bounded(asked, this.#o.now() + this.#o.startTimeoutMs)));
    });
  }

  /** A fresh lab in its start state, in place of the current one. */
  reset(): Promise<void> {
    this.#last = () => this.reset();
    return this.#exclusive(async () => {
      this.#o.hooks.detach(false);
      this.#show('starting');
      const asked = this.#o.api.resetLab(this.#o.name);
      this.#attach(await this.#whenReady(await this.#bounded(asked, this.#o.now() + this.#o.startTimeoutMs)));
    });
  }

  /** « Réessayer »: the operation that failed, again; otherwise a start. */
  retry(): Promise<void> {
    return this.#view.state === 'error' && this.#last ? this.#last() : this.start();
  }

  /** A terminal ended in a way that may mean the lab is gone (its shell exited, the server knows no lab). */
  async recheck(): Promise<void> {
    let info: LabInfo | null;
    try {
      info = await this.#o.api.getLab(this.#o.name);
    } catch {
      return; // the server did not answer: the terminals say so already
    }
    if (!info) {
      this.#o.hooks.detach(true);
      this.#info = null;
      this.#show('idle', TEXT.noLab);
    } else if (info.state === 'expired') this.expire(info);
    else if (info.labId !== this.#info?.labId) this.#attach(info); // reset from another tab
  }

  /** The lab expired (the API, a terminal or the server's status said so). */
  expire(info: LabInfo | null = null): void {
    this.#o.hooks.detach(true);
    if (info) this.#info = info;
    this.#show('expired');
  }

  /** Another panel of the page took the terminals: « Lancer le lab » takes them back. */
  released(): void {
    this.#show('idle', TEXT.otherPanel);
  }

  /** A failure outside any operation (an invalid lab name in the page). */
  fail(message: string): void {
    this.#show('error', message);
  }

  /**
   * The states of the lab's terminals (by host) changed: while the lab is up, the badge follows the worst
   * of them (badge.ts).
   */
  terminals(states: ReadonlyMap<string, ConnectionState | 'none'>): void {
    if (!['ready', 'disconnected', 'starting', 'error'].includes(this.#view.state)) return;
    if (!this.#info || !this.#o.hooks.holding()) return;
    for (const [host, state] of states) if (state === 'open') this.#opened.add(host);
    let badge: LifecycleView = terminalsBadge([...states].map(([host, state]) => ({ state, wasOpen: this.#opened.has(host) })));
    // Terminals connecting for the first time: the start's last step.
    if (badge.state === 'starting') badge = { ...startingBadge('terminal'), progress: { step: 'terminal' } };
    if (badge.state !== this.#view.state || badge.label !== this.#view.label || this.#view.message) {
      this.#view = badge;
      this.#o.hooks.show(this.#view);
    }
  }

  #attach(info: LabInfo): void {
    const changed = this.#info?.labId !== info.labId;
    this.#info = info;
    this.#opened.clear();
    this.#showStep({ step: 'terminal' }); // until the terminals attach: terminals()
    this.#o.hooks.attach(info, changed);
  }

  #show(state: PanelState, message?: string): void {
    this.#view = message ? { ...stateBadge(state), message } : stateBadge(state);
    this.#o.hooks.show(this.#view);
  }

  /** 'starting' at a step (none known yet: « démarrage… »); shown only when it changed. */
  #showStep(progress: LifecycleView['progress']): void {
    const view: LifecycleView = progress ? { ...startingBadge(progress.step), progress } : startingBadge(undefined);
    const now = this.#view;
    if (now.state === view.state && now.label === view.label && !now.message && now.progress?.ahead === view.progress?.ahead) return;
    this.#view = view;
    this.#o.hooks.show(view);
  }

  /** Runs lab operations one after the other; a failure ends in 'error' with its French message. */
  #exclusive(op: () => Promise<void>): Promise<void> {
    const run = (this.#busy ?? Promise.resolve())
      .catch(() => {})
      .then(op)
      .catch((err: unknown) => {
        if (err instanceof LabApiError && err.code === EXPIRED) return;
        this.#show('error', err instanceof LabApiError ? err.message : `${TEXT.startFailed} ${String((err as Error)?.message ?? err)}`);
        throw err;
      })
      .finally(() => {
        if (this.#busy === run) this.#busy = null;
      });
    this.#busy = run;
    return run;
  }

  /**
   * A lab answered 'starting' (waiting its turn, containers booting): ask again until it is ready,
   * showing each step. The bound runs from the last progress: a start that moves is never cut short,
   * one that stops moving ends in an error (« Réessayer » joins the same start on the server).
   */
  async #whenReady(info: LabInfo): Promise<LabInfo> {
    let deadline = this.#o.now() + this.#o.startTimeoutMs;
    let progress = '';
    while (info.state === 'starting') {
      const now = JSON.stringify(info.progress ?? null);
      if (now !== progress) deadline = this.#o.now() + this.#o.startTimeoutMs;
      progress = now;
      this.#showStep(
        info.progress && { step: info.progress.phase, ...(info.progress.ahead === undefined ? {} : { ahead: info.progress.ahead }) },
      );
      if (this.#o.now() > deadline) throw new LabApiError(0, 'timeout', TEXT.startTimeout);
      await this.#o.sleep(this.#o.pollMs);
      const next = await this.#bounded(this.#o.api.getLab(this.#o.name), deadline);
      if (!next) throw new LabApiError(404, 'no-lab', TEXT.noLab);
      info = next;
    }
    if (info.state === 'expired') {
      this.expire(info);
      throw new LabApiError(410, EXPIRED, TEXT.expired);
    }
    return info;
  }

  /** The server's answer, or a timeout error once `deadline` has passed: no question waits without end. */
  async #bounded<T>(answer: Promise<T>, deadline: number): Promise<T> {
    const stop = new AbortController();
    const late = this.#o.timer(Math.max(0, deadline - this.#o.now()), stop.signal).then(() => {
      throw new LabApiError(0, 'timeout', TEXT.startTimeout);
    });
    try {
      return await Promise.race([answer, late]);
    } finally {
      stop.abort();
      late.catch(() => {});
    }
  }
}
