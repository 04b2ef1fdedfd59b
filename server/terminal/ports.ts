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
  /** Where the preview proxy connects for this lab instance, or null if there is no such lab. */
  previewTarget(labId: string): Promise<{ host: string; port: number } | null>;
}

export class UnknownLabError extends Error {}
export class NoRoomError extends Error {}
