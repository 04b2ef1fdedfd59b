// What the terminal gateway and the HTTP API need from the lab side. The composition root adapts the
// lab manager to this; nothing here knows which engine runs the labs.
import type { Readable } from 'node:stream';

/**
 * A shell in a lab host: raw bytes both ways, flow-controlled both ways. Pausing `output` must stop
 * reading from the engine; `write` returns false when input is buffered past its mark, and `drained()`
 * settles when more may be written.
 */
export interface Shell {
  readonly output: Readable;
  write(data: Buffer): boolean;
  drained(): Promise<void>;
  resize(cols: number, rows: number): Promise<void>;
  close(): Promise<void>;
  readonly exited: Promise<unknown>;
}

export interface LabView {
  name: string;
  labId: string;
  title: string;
  hosts: string[];
  state: 'starting' | 'ready' | 'expired';
  expiresAt: number;
}

export interface LabAccess {
  /** The learner's lab of that kind, or null. Throws UnknownLabError for an unknown kind. */
  find(learner: string, name: string): Promise<LabView | null>;
  /** Creates the learner's lab of that kind, or returns the one they have. */
  ensure(learner: string, name: string): Promise<LabView>;
  reset(learner: string, name: string): Promise<LabView>;
  openShell(labId: string, host: string, size: { cols: number; rows: number }): Promise<Shell>;
  /** The learner is active in this lab (postpones the idle timeout). */
  touch(labId: string): void;
  /**
   * Runs a check of the learner's lab of that kind in that lab (« Vérifier »). Throws UnknownLabError
   * for an unknown kind, UnknownCheckError for a check the lab does not have, NoLabError when the
   * learner has no such lab running.
   */
  check(learner: string, name: string, checkId: string): Promise<CheckOutcome>;
  /** Where the preview proxy connects for this lab instance, or null if there is no such lab. */
  previewTarget(labId: string): Promise<{ host: string; port: number } | null>;
}

export class UnknownLabError extends Error {}
export class NoRoomError extends Error {}
/** The answer to « Vérifier ». */
export interface CheckOutcome {
  checkId: string;
  title: string;
  ok: boolean;
  /** why not, when not, in French */
  diagnosis?: { id: string; explain: string; hint: string };
}

export class UnknownCheckError extends Error {}
/** The learner has no running lab of that kind (a check needs one). */
export class NoLabError extends Error {}
