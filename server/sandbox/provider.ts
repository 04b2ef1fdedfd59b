// The sandbox provider interface: what the lab manager (and the terminal gateway, through it) may ask
// of whatever runs the labs. Engine-neutral: nothing here knows Docker, Kubernetes, HTTP or WebSockets.
// The engine is the source of truth: every lab carries its identity as labels/annotations, so a
// restarted backend finds its labs again with listLabs().
import { randomBytes } from 'node:crypto';
import type { Duplex, Readable } from 'node:stream';
import type { Lab } from '../../sandbox/labs/schema.ts';

/** What createLab needs. `labId` comes from newLabId(): random and unguessable. */
export interface LabSpec {
  labId: string;
  /** the learner's id */
  owner: string;
  definition: Lab;
  /** hard expiry, stored with the lab; the reaper removes the lab after it */
  expiresAt: Date;
  /** prepared ahead for the warm pool: created without an owner (`owner` must be ''), given one by claimLab */
  pooled?: boolean;
  /** told as the creation reaches each of its steps, in order (the learner sees them) */
  progress?: (phase: CreationPhase) => void;
}

/** The steps of a creation: the lab's network, its containers, then its services (each host's preparation). */
export type CreationPhase = 'network' | 'containers' | 'services';

/** running: usable; stopped: exists but not running (engine restarted, PID 1 killed); missing: not created */
export type HostState = 'running' | 'stopped' | 'missing';

export interface LabHostStatus {
  name: string;
  state: HostState;
}

/**
 * ready: every host of the definition runs; stopped: every host exists but some are not running
 * (a reset brings it back); partial: something is missing (being created, half-created or half-removed).
 */
export type LabState = 'ready' | 'stopped' | 'partial';

/** A lab as found in the engine. */
export interface LabInfo {
  labId: string;
  owner: string;
  /** the definition's id, e.g. nginx-remote */
  definitionId: string;
  createdAt: Date;
  expiresAt: Date;
  state: LabState;
  /** the hosts the definition declares (as recorded at creation), with their state */
  hosts: LabHostStatus[];
  /** true while the lab waits in the warm pool (owner is '' until claimLab) */
  pooled?: boolean;
}

export interface LabFilter {
  owner?: string;
  labId?: string;
  definitionId?: string;
}

export interface ExecOptions {
  /** the command is killed after this long (default from configuration) */
  timeoutMs?: number;
  /** the whole environment besides LANG (the manager passes the host's, from the definition) */
  env?: Record<string, string>;
  /** default: the image's working directory (the manager passes the host's) */
  workdir?: string;
}

export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  /** true when the command was killed at timeoutMs (exitCode is then 124 or 137) */
  timedOut: boolean;
}

export interface TerminalOptions {
  cols: number;
  rows: number;
  /** environment for the shell (TERM and LANG are always set) */
  env?: Record<string, string>;
  /** default: the image's working directory */
  workdir?: string;
}

/**
 * An interactive shell (`bash -l`, as root, at `workdir`) on a pseudo-terminal.
 * Flow control, both ways: pausing `output` stops reading from the engine, which stops the shell's
 * writes; `write` returning false says the engine is behind on input, and the caller stops sending
 * until `drained()` settles.
 */
export interface TerminalSession {
  readonly id: string;
  readonly labId: string;
  readonly host: string;
  /** raw terminal bytes; ends when the shell exits or the session is closed */
  readonly output: Readable;
  /** false: buffered past the high-water mark, wait for drained() before writing more */
  write(data: string | Uint8Array): boolean;
  /** settles once input may be written again (or the session ended) */
  drained(): Promise<void>;
  resize(cols: number, rows: number): Promise<void>;
  /** hangs up the shell (SIGHUP, like closing a terminal window) and ends the stream; idempotent */
  close(): Promise<void>;
  /** settles when the shell has ended; exitCode is null when the engine could not say */
  readonly exited: Promise<{ exitCode: number | null }>;
}

export interface ProviderHealth {
  /** false when the engine does not answer */
  ok: boolean;
  engine: string;
  /** isolation that could not be put in place (firewall, disk quota...): the service runs, but weaker */
  warnings: string[];
}

/** A live packet capture (the FastCGI view); closing it removes whatever the engine ran for it. */
export interface PacketCapture {
  /** a pcap byte stream (tcpdump -w -); pausing it stops reading from the engine */
  readonly output: Readable;
  close(): Promise<void>;
}

export interface SandboxProvider {
  readonly name: string;
  /** one-time setup (host firewall, engine checks); safe to call more than once */
  init(): Promise<void>;
  /** Creates every host, seeds files, runs boot commands. On failure removes what it created and throws LabCreateError. */
  createLab(spec: LabSpec): Promise<LabInfo>;
  /**
   * Gives a lab of the warm pool to a learner, from now until `expiresAt`. The claim is recorded in the
   * engine (the lab's objects keep their labels), so listLabs({ owner }) finds it after a restart too.
   * LabNotFoundError: no such lab; LabClaimedError: it is not (or no longer) waiting in the pool.
   */
  claimLab(labId: string, owner: string, expiresAt: Date): Promise<LabInfo>;
  /** Labs found in the engine (including partial ones, for the reaper). */
  listLabs(filter?: LabFilter): Promise<LabInfo[]>;
  getLab(labId: string): Promise<LabInfo | undefined>;
  /** Runs a shell command (bash -c) as root in a host. HostNotFoundError: no such host, or not running. */
  exec(labId: string, host: string, command: string, options?: ExecOptions): Promise<ExecResult>;
  openTerminal(labId: string, host: string, options: TerminalOptions): Promise<TerminalSession>;
  /**
   * A byte stream to a TCP port of a host, from the backend (labs cannot connect out to it): a direct
   * connection, a port-forward, a tunnel. Resolves once connected; HostNotFoundError: no such host, or
   * not running. A closed port rejects, or errors or ends the stream before any byte comes back.
   * The caller ends and destroys the stream.
   */
  connect(labId: string, host: string, port: number): Promise<Duplex>;
  /**
   * Hangs up the terminal shells in running labs that this provider did not open (a backend killed
   * before it could close them leaves them idle, out of reach). Meant for a backend's start; returns
   * how many.
   */
  hangUpStrayTerminals(): Promise<number>;
  /**
   * Recreates every host from `definition` (same labId, owner, creation time and expiry): a lab's stop
   * and start, since a host's writable directories do not outlive it. `progress` as in LabSpec.
   * LabNotFoundError: no such lab.
   */
  resetLab(labId: string, definition: Lab, progress?: (phase: CreationPhase) => void): Promise<LabInfo>;
  /** Removes everything of the lab; no error when it is already gone. */
  destroyLab(labId: string): Promise<void>;
  healthy(): Promise<ProviderHealth>;
  /**
   * Captures the TCP traffic to and from `port` of a host, without giving the lab any new power
   * (docs/security.md, capture helper). HostNotFoundError: no such host, or not running.
   */
  captureTcp(labId: string, host: string, port: number): Promise<PacketCapture>;
  /** releases connections (labs keep running) */
  close(): Promise<void>;
}

/** 96 random bits, lowercase hex: unguessable, and safe in names of containers, pods and networks. */
export function newLabId(): string {
  return randomBytes(12).toString('hex');
}

export const LAB_ID_PATTERN = /^[a-z0-9]{8,40}$/;

export function assertLabId(labId: string): void {
  if (!LAB_ID_PATTERN.test(labId)) throw new LabNotFoundError(labId);
}

export class LabNotFoundError extends Error {
  readonly labId: string;
  constructor(labId: string) {
    super(`no lab ${JSON.stringify(labId)}`);
    this.name = 'LabNotFoundError';
    this.labId = labId;
  }
}

export class HostNotFoundError extends Error {
  constructor(labId: string, host: string) {
    super(`lab ${labId} has no running host ${JSON.stringify(host)}`);
    this.name = 'HostNotFoundError';
  }
}

/** A lab of the warm pool was already claimed (or was never a pool lab). */
export class LabClaimedError extends Error {
  constructor(labId: string) {
    super(`lab ${JSON.stringify(labId)} is not waiting in the pool`);
    this.name = 'LabClaimedError';
  }
}

/** Creating a lab failed; whatever was created has been removed. */
export class LabCreateError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LabCreateError';
  }
}

/** The engine did not answer in time or answered with an error. */
export class EngineError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'EngineError';
  }
}
