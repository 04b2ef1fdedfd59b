// The lab manager: at most one lab of each kind per learner, a global cap, idle timeout, maximum
// lifetime, reset, and a reaper. It knows only the SandboxProvider interface, and keeps no lab state that
// a restart would lose: labs are always listed from the engine (see activity.ts for the one exception).
import type { Lab } from '../../sandbox/labs/schema.ts';
import {
  LabClaimedError,
  LabNotFoundError,
  newLabId,
  type ExecOptions,
  type ExecResult,
  type LabInfo,
  type SandboxProvider,
  type TerminalOptions,
  type TerminalSession,
} from '../sandbox/provider.ts';
import { ActivityTracker } from './activity.ts';
import { NoRoomError, UnknownLabKindError } from './errors.ts';
import { LabHosts } from './lab-hosts.ts';
import { WarmPool } from './pool.ts';
import { PreviewTargets, type PreviewTarget } from './preview-targets.ts';
import { CreationQueue } from './queue.ts';
import { labsToReap, type ReapDecision } from './reaper.ts';
import { Starts, type StartState, type StartTracker } from './starts.ts';
import { runService, type ServiceAction, type ServiceResult } from './services.ts';
import { promptDrawn } from './shell-prompt.ts';

/** After a claim, the pool refills this much later: the learner's terminals open first. */
const REFILL_AFTER_CLAIM_MS = 3000;
/** A shell opened ahead that draws no prompt within this is handed over all the same. */
const PROMPT_WAIT_MS = 5000;

export interface LabLimits {
  /** global cap on labs */
  maxLabs: number;
  /** no terminal and no activity for this long: removed */
  idleMs: number;
  /** removed this long after creation */
  maxLifetimeMs: number;
  /** 0: no periodic reaping (tests call reap()) */
  reapIntervalMs: number;
  /** a partial lab older than this is an orphan (default: 2 minutes) */
  orphanGraceMs?: number;
  /** lab creations and resets at once, the others wait their turn (default 3) */
  createConcurrency?: number;
}

interface PreparedShell {
  /** undefined: it could not be opened */
  session: Promise<TerminalSession | undefined>;
  alive: boolean;
}

export interface LabManagerOptions {
  provider: SandboxProvider;
  definitions: (id: string) => Lab | undefined;
  limits: LabLimits;
  /** warm pool: definition id → labs kept ready (none by default) */
  pool?: Record<string, number>;
  now?: () => number;
  log?: (message: string) => void;
}

export class LabManager {
  readonly #provider: SandboxProvider;
  readonly #definitions: (id: string) => Lab | undefined;
  readonly #limits: Required<LabLimits>;
  readonly #now: () => number;
  readonly #log: (message: string) => void;
  readonly #activity: ActivityTracker;
  /** owner+kind → the creation under way, so that concurrent requests share it */
  readonly #pending = new Map<string, Promise<LabInfo>>();
  /** labs being created, reset or removed by this process: the reaper leaves them alone */
  readonly #busy = new Set<string>();
  #timer: NodeJS.Timeout | undefined;
  #reaping: Promise<ReapDecision[]> | undefined;
  readonly #pool: WarmPool;
  readonly #queue: CreationQueue;
  /** pool labs' shells, opened ahead (labId → host → shell): the learner's first hello takes one */
  readonly #prepared = new Map<string, Map<string, PreparedShell>>();
  readonly #previews: PreviewTargets;
  /** each lab's definition and hosts: their environment, workdir, services and preview */
  readonly #hosts: LabHosts;
  /** learners' creations and resets under way, and how far each has come */
  readonly #starts: Starts;

  constructor(options: LabManagerOptions) {
    this.#provider = options.provider;
    this.#definitions = options.definitions;
    this.#limits = { orphanGraceMs: 120_000, createConcurrency: 3, ...options.limits };
    this.#queue = new CreationQueue(this.#limits.createConcurrency);
    this.#now = options.now ?? Date.now;
    this.#log = options.log ?? ((m) => console.error(`[labs] ${m}`));
    this.#activity = new ActivityTracker(this.#now);
    this.#starts = new Starts(this.#now);
    this.#pool = new WarmPool({ sizes: options.pool ?? {}, create: (id) => this.#createPooled(id), log: this.#log });
    this.#hosts = new LabHosts(this.#definitions, (labId) => this.#provider.getLab(labId));
    this.#previews = new PreviewTargets(
      {
        labIds: async () => (await this.#provider.listLabs()).map((l) => (this.#hosts.known(l.labId, l.definitionId), l.labId)),
        target: async (labId) => {
          const { host, port, sites } = (await this.#hosts.definition(labId)).preview;
          return { host, port, sites: sites.map((s) => s.hostHeader), connect: () => this.#provider.connect(labId, host, port) };
        },
      },
      this.#now,
    );
  }

  /** Reaps once (what a previous run left), fills the warm pool, then reaps periodically. */
  async start(): Promise<ReapDecision[]> {
    const first = await this.reap();
    if (this.#limits.reapIntervalMs > 0 && !this.#timer) {
      this.#timer = setInterval(
        () => void this.reap().catch((err) => this.#log(`reaper: ${(err as Error).message}`)),
        this.#limits.reapIntervalMs,
      );
      this.#timer.unref();
    }
    return first;
  }

  /** Stops reaping and filling the pool; resolves once pool creations under way have settled. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#pool.stop();
    await Promise.all([...this.#prepared.keys()].map((labId) => this.#dropShells(labId)));
  }

  /** Ready labs in the warm pool, per definition. */
  poolCounts(): Record<string, number> {
    return this.#pool.counts();
  }

  #definition(definitionId: string): Lab {
    const definition = this.#definitions(definitionId);
    if (!definition) throw new UnknownLabKindError(definitionId);
    return definition;
  }

  // ---------------------------------------------------------------- a learner's labs

  /**
   * The learner's lab of that kind (the newest, if a crash left two), or undefined. A lab whose start
   * is under way here is 'partial', also before the engine holds anything of it (waiting its turn).
   */
  async find(owner: string, definitionId: string): Promise<LabInfo | undefined> {
    const definition = this.#definition(definitionId);
    const lab = await this.#inEngine(owner, definitionId);
    const start = this.#starts.get(owner, definitionId);
    if (!start) return lab;
    // A start or a reset under way here: not ready until it ends, whatever the engine shows meanwhile
    // (a reset's new hosts run before their services are prepared).
    return lab ? { ...lab, state: 'partial' } : this.#starting(owner, definition, start);
  }

  async #inEngine(owner: string, definitionId: string): Promise<LabInfo | undefined> {
    const labs = await this.#provider.listLabs({ owner, definitionId });
    const lab = labs.filter((l) => l.state !== 'partial' || this.#busy.has(l.labId)).at(-1);
    if (lab) this.#found(lab);
    return lab;
  }

  /** A lab made or found here: active now, its preview and definition known without asking the engine. */
  #found(lab: LabInfo): void {
    this.#activity.seen(lab.labId);
    this.#previews.known(lab.labId);
    this.#hosts.known(lab.labId, lab.definitionId);
  }

  /** How far the learner's start of that lab kind has come, or undefined when none is under way here. */
  startProgress(owner: string, definitionId: string): Pick<StartState, 'phase' | 'ahead'> | undefined {
    const start = this.#starts.get(owner, definitionId);
    return start && { phase: start.phase, ...(start.ahead === undefined ? {} : { ahead: start.ahead }) };
  }

  /** A lab still waiting for its turn, as it will be: nothing of it runs yet. */
  #starting(owner: string, definition: Lab, start: StartState): LabInfo {
    return {
      labId: start.labId,
      owner,
      definitionId: definition.id,
      createdAt: new Date(start.since),
      expiresAt: new Date(start.since + this.#limits.maxLifetimeMs),
      state: 'partial',
      hosts: definition.hosts.map((h) => ({ name: h.name, state: 'missing' })),
    };
  }

  async list(owner: string): Promise<LabInfo[]> {
    return (await this.#provider.listLabs({ owner })).filter((l) => l.state !== 'partial');
  }

  /**
   * The learner's lab of that kind, created if there is none. An expired one is replaced, a stopped
   * one (engine restarted, PID 1 killed) is recreated. Throws NoRoomError at the global cap.
   */
  ensure(owner: string, definitionId: string): Promise<LabInfo> {
    const definition = this.#definition(definitionId);
    const key = `${owner}\0${definitionId}`;
    let pending = this.#pending.get(key);
    if (!pending) {
      // Tracked from the first moment, so that the learner's next question finds a lab starting.
      const start = this.#starts.begin(owner, definitionId, newLabId());
      pending = this.#ensure(owner, definition, start)
        .then((lab) => (this.#found(lab), lab))
        .finally(() => {
          start.end();
          this.#pending.delete(key);
        });
      this.#pending.set(key, pending);
    }
    return pending;
  }

  async #ensure(owner: string, definition: Lab, start: StartTracker): Promise<LabInfo> {
    const existing = await this.#provider.listLabs({ owner, definitionId: definition.id });
    let keep: LabInfo | undefined;
    for (const lab of existing.reverse()) {
      const usable = !keep && lab.state !== 'partial' && lab.expiresAt.getTime() > this.#now();
      if (usable) keep = lab;
      else await this.#remove(lab.labId, keep ? 'duplicate' : lab.state === 'partial' ? 'orphan' : 'expired');
    }
    if (keep?.state === 'ready') {
      this.#activity.seen(keep.labId);
      return keep;
    }
    if (keep) return this.#busyWith(keep.labId, () => this.#reset(keep.labId, start));
    return (await this.#claim(owner, definition)) ?? this.#create(owner, definition, start);
  }

  /** A lab of the warm pool for this learner, or undefined when none is ready. */
  async #claim(owner: string, definition: Lab): Promise<LabInfo | undefined> {
    if (!this.#pool.enabled) return undefined;
    try {
      for (let labId = this.#pool.take(definition.id); labId; labId = this.#pool.take(definition.id)) {
        try {
          const lab = await this.#busyWith(labId, () =>
            this.#provider.claimLab(labId!, owner, new Date(this.#now() + this.#limits.maxLifetimeMs)),
          );
          this.#activity.touch(lab.labId);
          return lab;
        } catch (err) {
          // Gone or taken meanwhile (reaped, another backend): try the next one.
          if (!(err instanceof LabNotFoundError || err instanceof LabClaimedError)) throw err;
        }
      }
      return undefined;
    } finally {
      this.#pool.refill(REFILL_AFTER_CLAIM_MS);
    }
  }

  /** One lab for the pool (no owner), or null when it would take the last place. */
  async #createPooled(definitionId: string): Promise<string | null> {
    const definition = this.#definition(definitionId);
    const labId = newLabId();
    // With one place to spare: a learner arriving meanwhile always finds the place the pool leaves.
    if (!(await this.#reserve(labId, 1))) return null;
    try {
      await this.#queue.run('pool', () =>
        this.#provider.createLab({
          labId,
          owner: '',
          pooled: true,
          definition,
          expiresAt: new Date(this.#now() + this.#limits.maxLifetimeMs),
        }),
      );
      this.#activity.seen(labId);
      this.#hosts.known(labId, definitionId);
      await this.#openShells(labId, definition);
      return labId;
    } finally {
      this.#busy.delete(labId);
    }
  }

  async #create(owner: string, definition: Lab, start: StartTracker): Promise<LabInfo> {
    const labId = start.labId;
    if (!(await this.#reserve(labId))) {
      await this.reap();
      // A learner goes before labs prepared ahead for others: give up a pool lab of another kind.
      const spare = (await this.#hasRoom(labId)) ? undefined : this.#pool.takeOther(definition.id);
      if (spare) await this.#remove(spare, 'room for a learner');
      if (!(await this.#reserve(labId))) throw new NoRoomError(this.#limits.maxLabs);
    }
    try {
      const lab = await this.#queue.run(
        'learner',
        () =>
          this.#provider.createLab({
            labId,
            owner,
            definition,
            expiresAt: new Date(this.#now() + this.#limits.maxLifetimeMs),
            progress: start.phase,
          }),
        start.queued,
      );
      this.#activity.seen(labId);
      // The panel says hello for each host right after this answer: its shells are on their way.
      void this.#openShells(labId, definition);
      return lab;
    } finally {
      this.#busy.delete(labId);
    }
  }

  /** Labs in the engine plus creations under way here (each counted once), and `spare` places, fit under the cap. */
  async #hasRoom(labId: string, spare = 0): Promise<boolean> {
    const inEngine = (await this.#provider.listLabs()).map((l) => l.labId);
    return this.#fits(inEngine, labId, spare);
  }

  #fits(inEngine: string[], labId: string, spare: number): boolean {
    const ids = new Set(inEngine);
    for (const id of this.#busy) ids.add(id);
    ids.add(labId);
    return ids.size + spare <= this.#limits.maxLabs;
  }

  /**
   * Takes a place under the cap for a creation (it is then busy until the caller lets it go): the count
   * and the reservation happen together, after the engine's listing, so two creations at once can
   * neither both take the last place nor turn each other away with a place still free.
   */
  async #reserve(labId: string, spare = 0): Promise<boolean> {
    const inEngine = (await this.#provider.listLabs()).map((l) => l.labId);
    if (!this.#fits(inEngine, labId, spare)) return false;
    this.#busy.add(labId);
    return true;
  }

  /** Back to the start state: every host recreated (same lab id and expiry). */
  async reset(owner: string, definitionId: string): Promise<LabInfo> {
    this.#definition(definitionId);
    const lab = await this.#inEngine(owner, definitionId);
    if (!lab || lab.expiresAt.getTime() <= this.#now()) return this.ensure(owner, definitionId);
    const start = this.#starts.begin(owner, definitionId, lab.labId);
    return this.#busyWith(lab.labId, () => this.#reset(lab.labId, start)).finally(start.end);
  }

  async #reset(labId: string, start: StartTracker): Promise<LabInfo> {
    this.#prepared.delete(labId); // their hosts are recreated: the shells end with them
    this.#previews.forget(labId, false);
    const definition = await this.#hosts.definition(labId);
    const lab = await this.#queue.run('learner', () => this.#provider.resetLab(labId, definition, start.phase), start.queued);
    this.#previews.forget(labId, false); // a preview during the reset may have cached an old target
    void this.#openShells(labId, definition);
    return lab;
  }

  async destroy(owner: string, definitionId: string): Promise<void> {
    const labs = await this.#provider.listLabs({ owner, definitionId });
    for (const lab of labs) await this.#remove(lab.labId, 'removed by the learner');
  }

  // ---------------------------------------------------------------- one lab, by its (unguessable) id

  /** The lab, or undefined; `owner` given: undefined unless it is theirs. */
  async get(labId: string, owner?: string): Promise<LabInfo | undefined> {
    const lab = await this.#provider.getLab(labId);
    if (!lab || (owner !== undefined && lab.owner !== owner)) return undefined;
    return lab;
  }

  /**
   * A shell in every host of a lab, opened ahead (pool labs, and a learner's lab just created or reset,
   * whose terminals the panel opens next): the engine takes a few hundred milliseconds to start an exec
   * and bash to print its prompt, which the learner would otherwise wait for. Resolves once every shell
   * is open or could not be (then it is simply not prepared).
   */
  async #openShells(labId: string, definition: Lab): Promise<void> {
    const shells = new Map<string, PreparedShell>();
    this.#prepared.set(labId, shells);
    await Promise.all(
      definition.hosts.map((h) => {
        const prepared: PreparedShell = {
          // Handed over once its prompt is drawn: the learner's size then reaches readline (shell-prompt.ts).
          session: this.#provider
            .openTerminal(labId, h.name, { cols: 80, rows: 24, env: h.env, workdir: h.workdir })
            .then(async (session) => (await promptDrawn(session.output, PROMPT_WAIT_MS), session))
            .catch(() => undefined),
          alive: true,
        };
        shells.set(h.name, prepared);
        return prepared.session.then((session) => {
          const gone = () => (prepared.alive = false);
          if (!session) gone();
          else void session.exited.then(gone, gone);
        });
      }),
    );
  }

  /** Hangs up the shells prepared for a lab that nobody took. */
  async #dropShells(labId: string): Promise<void> {
    const shells = this.#prepared.get(labId);
    this.#prepared.delete(labId);
    await Promise.all([...(shells?.values() ?? [])].map(async (p) => (await p.session)?.close().catch(() => {})));
  }

  /** A shell in a host; while it is open the lab is never idle. */
  async openTerminal(labId: string, host: string, options: TerminalOptions): Promise<TerminalSession> {
    const shells = options.env ? undefined : this.#prepared.get(labId);
    const prepared = shells?.get(host);
    shells?.delete(host);
    if (shells?.size === 0) this.#prepared.delete(labId);
    const waiting = prepared ? await prepared.session : undefined;
    // Its prompt waits in the stream; the learner's terminal size replaces the one it was opened with.
    let session =
      waiting && prepared?.alive
        ? await waiting.resize(options.cols, options.rows).then(
            () => waiting,
            () => undefined,
          )
        : undefined;
    if (!session) {
      const h = await this.#hosts.host(labId, host);
      session = await this.#provider.openTerminal(labId, host, { ...options, env: { ...h.env, ...options.env }, workdir: h.workdir });
    }
    this.#activity.terminalOpened(labId);
    let counted = true;
    const closed = () => {
      if (counted) this.#activity.terminalClosed(labId);
      counted = false;
    };
    void session.exited.then(closed, closed);
    return session;
  }

  /** A command in a host, with the host's environment and workdir from the definition unless given. */
  async exec(labId: string, host: string, command: string, options: ExecOptions = {}): Promise<ExecResult> {
    this.#activity.touch(labId);
    const h = await this.#hosts.host(labId, host);
    return this.#provider.exec(labId, host, command, {
      ...options,
      env: { ...h.env, ...options.env },
      workdir: options.workdir ?? h.workdir,
    });
  }

  /** A service of the host's definition: start or stop it, or ask whether it runs. */
  async service(labId: string, host: string, name: string, action: ServiceAction): Promise<ServiceResult> {
    const h = await this.#hosts.host(labId, host);
    return runService(h, name, action, (command) => this.exec(labId, host, command));
  }

  /**
   * The lab's preview (the definition's host and port, a stream through the provider); LabNotFoundError
   * when there is no such lab. Cached: anyone can send preview requests, with any lab id, and they must
   * not drive the engine.
   */
  previewTarget(labId: string): Promise<PreviewTarget> {
    return this.#previews.get(labId);
  }

  /** The learner did something in the lab (keystroke, page view): postpones the idle timeout. */
  touch(labId: string): void {
    this.#activity.touch(labId);
  }

  // ---------------------------------------------------------------- reaper

  /** Removes expired, idle, orphaned and duplicate labs. Never touches objects without atelier labels. */
  reap(): Promise<ReapDecision[]> {
    this.#reaping ??= this.#reap().finally(() => (this.#reaping = undefined));
    return this.#reaping;
  }

  async #reap(): Promise<ReapDecision[]> {
    const listedAt = this.#pool.now();
    const labs = await this.#provider.listLabs();
    this.#activity.retain(new Set(labs.map((l) => l.labId)));
    const decisions = labsToReap({
      labs,
      now: this.#now(),
      busy: this.#busy,
      idle: (id) => this.#activity.idle(id, this.#limits.idleMs),
      orphanGraceMs: this.#limits.orphanGraceMs,
    });
    for (const d of decisions) {
      if (this.#busy.has(d.labId)) continue; // became busy meanwhile
      await this.#remove(d.labId, d.reason).catch((err) => this.#log(`could not remove lab ${d.labId}: ${(err as Error).message}`));
    }
    if (this.#pool.enabled || labs.some((l) => l.pooled)) {
      const gone = new Set(decisions.map((d) => d.labId));
      const waiting = labs.filter((l) => l.pooled && l.state === 'ready' && !gone.has(l.labId) && !this.#busy.has(l.labId));
      // Pool labs of a definition no longer pooled (or beyond its size) are not kept.
      const surplus = this.#pool.sync(waiting, listedAt);
      for (const labId of surplus) {
        await this.#remove(labId, 'not needed in the pool').catch((err) =>
          this.#log(`could not remove lab ${labId}: ${(err as Error).message}`),
        );
      }
      // Pool labs found in the engine (a restart): their shells are opened ahead too.
      for (const lab of waiting) {
        const definition = this.#definitions(lab.definitionId);
        if (definition && !surplus.includes(lab.labId) && !this.#prepared.has(lab.labId)) void this.#openShells(lab.labId, definition);
      }
      this.#pool.refill();
    }
    return decisions;
  }

  async #remove(labId: string, reason: string): Promise<void> {
    this.#pool.forget(labId);
    this.#prepared.delete(labId); // the shells end with the hosts
    this.#previews.forget(labId, true);
    await this.#busyWith(labId, () => this.#provider.destroyLab(labId));
    this.#hosts.forget(labId);
    this.#activity.forget(labId);
    this.#log(`removed lab ${labId} (${reason})`);
    this.#pool.refill(); // a pool lab gone, or a place free again
  }

  async #busyWith<T>(labId: string, work: () => Promise<T>): Promise<T> {
    this.#busy.add(labId);
    try {
      return await work();
    } finally {
      this.#busy.delete(labId);
    }
  }
}
