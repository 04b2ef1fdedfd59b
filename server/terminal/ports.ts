// What the terminal gateway and the HTTP API need from the lab side. The composition root adapts the
// lab manager to this; nothing here knows which engine runs the labs.
import type { Duplex, Readable } from 'node:stream';
import type { StartProgress } from '../../protocol/lab-start.ts';
import type { ScriptTiming } from '../../protocol/preview.ts';

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

/** A lab's web server, as the preview proxy reaches it: a byte stream per request (direct or forwarded). */
export interface PreviewTarget {
  /** the Host header of each of its virtual hosts (the definition's preview.sites); empty: one, Host: localhost */
  sites: string[];
  /** resolves once connected; rejects when the host is not running or nothing listens */
  connect(): Promise<Duplex>;
}

export interface LabView {
  name: string;
  labId: string;
  title: string;
  hosts: string[];
  /** how many sites its preview offers (preview.sites, at least 1): each has an origin (preview/location.ts) */
  previewSites: number;
  state: 'starting' | 'ready' | 'expired';
  expiresAt: number;
  /** 'starting' only, while its start runs in this process: how far it has come */
  progress?: StartProgress;
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
  /**
   * « Voir la solution de cette étape »: the learner's files of the step that leads to this check against
   * the reference, and what « Appliquer » would do. Same errors as check, and SolutionUnavailableError.
   */
  solution(learner: string, name: string, checkId: string): Promise<SolutionView>;
  /** « Appliquer »: runs that step in the learner's lab. ApplyRefusedError when it would lose their work. */
  applySolution(learner: string, name: string, checkId: string): Promise<ApplyOutcome>;
  /**
   * When the PHP scripts behind the learner's last preview requests really ended (php-fpm's access log,
   * server/preview/script-timing.ts), or null when that lab does not log them. NoLabError as check.
   */
  previewScripts(learner: string, name: string): Promise<ScriptTiming[] | null>;
  /** How the preview proxy reaches this lab instance's web server, or null if there is no such lab. */
  previewTarget(labId: string): Promise<PreviewTarget | null>;
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

/** A few lines of a diff: ' ' in both files, '-' only in the learner's, '+' only in the solution's. */
export interface SolutionHunk {
  fromLine: number;
  toLine: number;
  lines: { op: ' ' | '-' | '+'; text: string }[];
}

export interface SolutionView {
  checkId: string;
  /** the solution's steps that lead to the check, as the chapter shows them */
  steps: { title: string; host: string; run: string; files: string[] }[];
  files: {
    host: string;
    path: string;
    same: boolean;
    mine: 'file' | 'link' | 'absent' | 'other';
    solution: 'file' | 'link' | 'absent' | 'other';
    hunks: SolutionHunk[];
  }[];
  apply:
    | { possible: true; restores: { host: string; path: string }[]; runs: { host: string; run: string }[] }
    | { possible: false; reason: string };
}

export type ApplyOutcome = { ok: true } | { ok: false; step: string; output: string };

/** « Appliquer » would lose some of the learner's work, or there is nothing to apply (French message). */
export class ApplyRefusedError extends Error {}
/** The reference state could not be computed now (no room for the reference lab, too slow). */
export class SolutionUnavailableError extends Error {}
