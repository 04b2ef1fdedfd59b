// An in-memory provider for tests: labs, hosts and their states live in a FakeEngine object, while
// commands and shells are real local processes (bash, node-pty) in a temporary directory per host, so
// exit codes, environment, working directory, time-outs, resize and hang-up behave as they do in a lab.
// No isolation at all: it must never serve learners (docs/providers.md says why it is not a dev tool).
// Several FakeProviders on one FakeEngine are several backends (or a restarted one) on one engine.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { duplexPair, PassThrough, type Duplex } from 'node:stream';
import type { Lab } from '../../sandbox/labs/schema.ts';
import {
  assertLabId,
  HostNotFoundError,
  LabClaimedError,
  LabCreateError,
  LabNotFoundError,
  type CreationPhase,
  type ExecOptions,
  type ExecResult,
  type LabFilter,
  type LabInfo,
  type LabSpec,
  type ProviderHealth,
  type SandboxProvider,
  type TerminalOptions,
  type TerminalSession,
} from '../../server/sandbox/provider.ts';

const pty = createRequire(import.meta.url)('node-pty') as typeof import('node-pty');
/** A shell still there this long after its SIGHUP is killed. */
const HANG_UP_GRACE_MS = 1000;

interface FakeHost {
  name: string;
  state: 'running' | 'stopped';
  dir: string;
  /** ports something listens on */
  listening: Set<number>;
}

interface FakeLab {
  labId: string;
  owner: string;
  definitionId: string;
  hostNames: string[];
  createdAt: Date;
  expiresAt: Date;
  pooled: boolean;
  hosts: Map<string, FakeHost>;
}

interface FakeTerminal {
  session: TerminalSession;
  labId: string;
  host: string;
  /** the provider that opened it */
  openedBy: FakeProvider;
  hangUp(): void;
}

/** The "engine" several FakeProviders share: what Docker's daemon is to DockerProviders. */
export class FakeEngine {
  readonly labs = new Map<string, FakeLab>();
  readonly terminals = new Set<FakeTerminal>();
  /** calls per provider method, for tests that count engine work */
  readonly calls = new Map<string, number>();
  /** awaited at the start of each creation: tests hold, count or fail creations here */
  beforeCreate: ((spec: LabSpec) => Promise<void>) | undefined;
  readonly #root = mkdtempSync(join(tmpdir(), 'atelier-fake-'));

  count(method: string): number {
    return this.calls.get(method) ?? 0;
  }

  hostDir(labId: string, host: string): string {
    const dir = join(this.#root, `${labId}-${host}-${randomBytes(3).toString('hex')}`);
    mkdirSync(dir);
    return dir;
  }

  /** As when the engine restarts or the learner kills PID 1: the host stops, its shells end. */
  stopHost(labId: string, host: string): void {
    const h = this.labs.get(labId)?.hosts.get(host);
    if (h) h.state = 'stopped';
    this.#hangUp((t) => t.labId === labId && t.host === host);
  }

  /** As after a crash in the middle of a creation or removal: a host is missing. */
  removeHost(labId: string, host: string): void {
    this.stopHost(labId, host);
    this.labs.get(labId)?.hosts.delete(host);
  }

  /** Something starts or stops listening on a host's port (the preview's server, say). */
  listen(labId: string, host: string, port: number, on: boolean): void {
    const h = this.labs.get(labId)?.hosts.get(host);
    if (on) h?.listening.add(port);
    else h?.listening.delete(port);
  }

  /** Removes a lab's hosts (its shells end with them). */
  drop(labId: string): void {
    this.#hangUp((t) => t.labId === labId);
    for (const h of this.labs.get(labId)?.hosts.values() ?? []) rmSync(h.dir, { recursive: true, force: true });
    this.labs.delete(labId);
  }

  hangUpWhere(which: (t: FakeTerminal) => boolean): number {
    return this.#hangUp(which);
  }

  #hangUp(which: (t: FakeTerminal) => boolean): number {
    let n = 0;
    for (const t of [...this.terminals]) {
      if (!which(t)) continue;
      t.hangUp();
      this.terminals.delete(t);
      n++;
    }
    return n;
  }

  /** Ends every shell and removes every lab: the end of a test file. */
  shutdown(): void {
    for (const id of [...this.labs.keys()]) this.drop(id);
    rmSync(this.#root, { recursive: true, force: true });
  }
}

function info(lab: FakeLab): LabInfo {
  const hosts = lab.hostNames.map((name) => ({ name, state: lab.hosts.get(name)?.state ?? ('missing' as const) }));
  const state = hosts.some((h) => h.state === 'missing') ? 'partial' : hosts.every((h) => h.state === 'running') ? 'ready' : 'stopped';
  return {
    labId: lab.labId,
    owner: lab.owner,
    definitionId: lab.definitionId,
    createdAt: lab.createdAt,
    expiresAt: lab.expiresAt,
    state,
    hosts,
    ...(lab.pooled && { pooled: true }),
  };
}

/** `bash -c command` in the host's directory, killed after timeoutMs as coreutils `timeout` does in a lab. */
function run(command: string, cwd: string, env: Record<string, string>, timeoutMs: number): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('timeout', ['-k', '2', (timeoutMs / 1000).toFixed(3), 'bash', '-c', command], {
      cwd,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C.UTF-8', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const exitCode = code ?? (signal === 'SIGKILL' ? 137 : 128);
      resolve({ exitCode, stdout, stderr, timedOut: exitCode === 124 || exitCode === 137 });
    });
  });
}

/** A tiny web server behind every listening port (FakeEngine.listen): it answers with the request line. */
const web = createServer((req, res) => {
  res.writeHead(200, { 'Content-Type': 'text/plain' }).end(`fake ${req.method} ${req.url}\n`);
});

export interface FakeProviderOptions {
  engine?: FakeEngine;
  /** default bound of one command */
  execTimeoutMs?: number;
}

export class FakeProvider implements SandboxProvider {
  readonly name = 'memory';
  readonly engine: FakeEngine;
  readonly #execTimeoutMs: number;

  constructor(options: FakeProviderOptions = {}) {
    this.engine = options.engine ?? new FakeEngine();
    this.#execTimeoutMs = options.execTimeoutMs ?? 30_000;
  }

  #count(method: string): void {
    this.engine.calls.set(method, this.engine.count(method) + 1);
  }

  async init(): Promise<void> {}

  async createLab(spec: LabSpec): Promise<LabInfo> {
    this.#count('createLab');
    return this.#create(spec, new Date());
  }

  async #create(spec: LabSpec, createdAt: Date): Promise<LabInfo> {
    assertLabId(spec.labId);
    if (spec.pooled && spec.owner !== '') throw new RangeError('a pool lab has no owner until it is claimed');
    if (this.engine.labs.has(spec.labId)) throw new LabCreateError(`lab ${spec.labId} exists`);
    const lab: FakeLab = {
      labId: spec.labId,
      owner: spec.owner,
      definitionId: spec.definition.id,
      hostNames: spec.definition.hosts.map((h) => h.name),
      createdAt,
      expiresAt: spec.expiresAt,
      pooled: spec.pooled === true,
      hosts: new Map(),
    };
    try {
      await this.engine.beforeCreate?.(spec);
      spec.progress?.('network');
      this.engine.labs.set(spec.labId, lab);
      spec.progress?.('containers');
      for (const h of spec.definition.hosts) {
        lab.hosts.set(h.name, { name: h.name, state: 'running', dir: this.engine.hostDir(spec.labId, h.name), listening: new Set() });
      }
      spec.progress?.('services');
      for (const h of spec.definition.hosts) {
        for (const command of h.boot) {
          const r = await run(command, lab.hosts.get(h.name)!.dir, h.env, this.#execTimeoutMs);
          if (r.exitCode !== 0) {
            throw new LabCreateError(`lab ${spec.definition.id}: boot command of host ${h.name} failed (exit ${r.exitCode}): ${command}`);
          }
        }
      }
      return info(lab);
    } catch (err) {
      if (this.engine.labs.get(spec.labId) === lab) this.engine.drop(spec.labId);
      if (err instanceof LabCreateError) throw err;
      throw new LabCreateError(`lab ${spec.definition.id} could not be created: ${(err as Error).message}`, { cause: err });
    }
  }

  async claimLab(labId: string, owner: string, expiresAt: Date): Promise<LabInfo> {
    this.#count('claimLab');
    assertLabId(labId);
    if (!owner) throw new RangeError('claimLab needs an owner');
    const lab = this.engine.labs.get(labId);
    if (!lab) throw new LabNotFoundError(labId);
    if (!lab.pooled || info(lab).state !== 'ready') throw new LabClaimedError(labId);
    Object.assign(lab, { owner, createdAt: new Date(), expiresAt, pooled: false });
    return info(lab);
  }

  async listLabs(filter: LabFilter = {}): Promise<LabInfo[]> {
    this.#count('listLabs');
    return [...this.engine.labs.values()]
      .filter(
        (l) =>
          (filter.owner === undefined || l.owner === filter.owner) &&
          (filter.labId === undefined || l.labId === filter.labId) &&
          (filter.definitionId === undefined || l.definitionId === filter.definitionId),
      )
      .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime())
      .map(info);
  }

  async getLab(labId: string): Promise<LabInfo | undefined> {
    const lab = this.engine.labs.get(labId);
    return lab && info(lab);
  }

  #running(labId: string, host: string): FakeHost {
    assertLabId(labId);
    const h = this.engine.labs.get(labId)?.hosts.get(host);
    if (h?.state !== 'running') throw new HostNotFoundError(labId, host);
    return h;
  }

  async exec(labId: string, host: string, command: string, options: ExecOptions = {}): Promise<ExecResult> {
    this.#count('exec');
    const h = this.#running(labId, host);
    return run(command, options.workdir ?? h.dir, options.env ?? {}, options.timeoutMs ?? this.#execTimeoutMs);
  }

  async openTerminal(labId: string, host: string, options: TerminalOptions): Promise<TerminalSession> {
    this.#count('openTerminal');
    const h = this.#running(labId, host);
    const id = randomBytes(8).toString('hex');
    const shell = pty.spawn('bash', ['--noprofile', '--norc', '-i'], {
      cols: options.cols,
      rows: options.rows,
      cwd: options.workdir ?? h.dir,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...options.env, TERM: 'xterm-256color', LANG: 'C.UTF-8', ATELIER_TERMINAL: id },
    });
    const output = new PassThrough();
    output.on('pause', () => shell.pause());
    output.on('resume', () => shell.resume());
    shell.onData((d) => {
      if (!output.write(d)) shell.pause();
    });
    output.on('drain', () => shell.resume());
    let exitCode: number | null = null;
    const exited = new Promise<{ exitCode: number | null }>((resolve) =>
      shell.onExit((e) => {
        exitCode = e.exitCode;
        output.end();
        resolve({ exitCode });
      }),
    );
    let closed = false;
    const signal = (name: 'SIGHUP' | 'SIGKILL') => {
      try {
        shell.kill(name);
      } catch {
        // already gone
      }
    };
    const hangUp = () => {
      if (closed) return;
      closed = true;
      signal('SIGHUP');
      // An interactive bash now and then misses a SIGHUP that lands while readline waits (measured: about
      // a shell in 9 closed right after its prompt stayed in poll()); the engine's shells end at close.
      const kill = setTimeout(() => signal('SIGKILL'), HANG_UP_GRACE_MS);
      void exited.then(() => clearTimeout(kill));
    };
    const session: TerminalSession = {
      id,
      labId,
      host,
      output,
      write: (data) => (shell.write(typeof data === 'string' ? data : Buffer.from(data).toString('utf8')), true),
      drained: async () => {},
      resize: async (cols, rows) => {
        if (!closed) shell.resize(cols, rows);
      },
      close: async () => {
        hangUp();
        await exited;
      },
      exited,
    };
    const terminal: FakeTerminal = { session, labId, host, openedBy: this, hangUp };
    this.engine.terminals.add(terminal);
    void exited.then(() => this.engine.terminals.delete(terminal));
    return session;
  }

  async connect(labId: string, host: string, port: number): Promise<Duplex> {
    this.#count('connect');
    const h = this.#running(labId, host);
    if (!h.listening.has(port)) throw Object.assign(new Error(`connect ECONNREFUSED ${host}:${port}`), { code: 'ECONNREFUSED' });
    const [ours, theirs] = duplexPair();
    web.emit('connection', theirs);
    return ours;
  }

  async hangUpStrayTerminals(): Promise<number> {
    this.#count('hangUpStrayTerminals');
    return this.engine.hangUpWhere((t) => t.openedBy !== this);
  }

  async resetLab(labId: string, definition: Lab, progress?: (phase: CreationPhase) => void): Promise<LabInfo> {
    this.#count('resetLab');
    const lab = this.engine.labs.get(labId);
    if (!lab) throw new LabNotFoundError(labId);
    this.engine.drop(labId);
    return this.#create({ labId, owner: lab.owner, definition, expiresAt: lab.expiresAt, progress }, lab.createdAt);
  }

  async destroyLab(labId: string): Promise<void> {
    this.#count('destroyLab');
    this.engine.drop(labId);
  }

  /** The fake runs no engine that could capture packets (the FastCGI view is tested on Docker). */
  async captureTcp(labId: string, host: string): Promise<never> {
    this.#running(labId, host);
    throw new Error('the in-memory fake provider captures no packets');
  }

  async healthy(): Promise<ProviderHealth> {
    return { ok: true, engine: 'memory (tests only)', warnings: [] };
  }

  async close(): Promise<void> {}
}
