// Help when stuck (issue 12): « Voir la solution de cette étape » and « Appliquer ». The step of a check
// is the part of the lab's solution that leads to it (after the previous check's stage, up to its own).
// The reference state of the files that part declares (`files` of its steps) comes from running the
// solution in a lab of the same definition (see References in ./reference.ts); the learner's own files
// are read in their lab and compared line by line. « Appliquer » puts those files back to the reference
// state before the step, then runs the step's commands as CI does; it refuses when the learner changed
// something in those files that is not this step's (it would be lost).
import { stepCommand } from '../../sandbox/labs/plan.ts';
import type { Lab, LabStep } from '../../sandbox/labs/schema.ts';
import { findCheck } from './checks.ts';
import { edits, hunks, outside, type Edit, type Hunk } from './diff.ts';
import { readFiles, restoreScript, sameState, shownLines, type FileState } from './file-state.ts';

export type ExecInLab = (
  host: string,
  command: string,
  timeoutMs: number,
) => Promise<{ exitCode: number; stdout: string; stderr?: string }>;

/** host + path of a declared file */
const keyOf = (host: string, path: string) => `${host}\0${path}`;

/** For each stage (0: start, i: after the solution's step i), the state of every file the solution declares. */
export type Reference = Map<string, FileState>[];

const DEFAULT_STEP_MS = 60_000;
const stepTimeout = (step: LabStep) => (step.timeoutSeconds ?? DEFAULT_STEP_MS / 1000) * 1000;
/** What a failed step printed, shown to the learner: the end, bounded. */
const OUTPUT_CHARS = 2000;

/** The files the solution's steps declare, each once, with the host of its step. */
export function declaredFiles(lab: Lab): { host: string; path: string }[] {
  const seen = new Map<string, { host: string; path: string }>();
  for (const step of lab.solution) for (const path of step.files) seen.set(keyOf(step.host, path), { host: step.host, path });
  return [...seen.values()];
}

async function snapshot(files: { host: string; path: string }[], run: ExecInLab): Promise<Map<string, FileState>> {
  const states = new Map<string, FileState>();
  for (const host of new Set(files.map((f) => f.host))) {
    const paths = files.filter((f) => f.host === host).map((f) => f.path);
    const read = await readFiles(run, host, paths);
    for (const [i, p] of paths.entries()) states.set(keyOf(host, p), read[i]!);
  }
  return states;
}

/** Runs the whole solution in `run`'s lab (a fresh one), reading the declared files at each stage. */
export async function computeReference(lab: Lab, run: ExecInLab): Promise<Reference> {
  const files = declaredFiles(lab);
  const states: Reference = [await snapshot(files, run)];
  for (const step of lab.solution) {
    const result = await run(step.host, stepCommand(step), stepTimeout(step));
    if (result.exitCode !== 0)
      throw new Error(`${lab.id}: step "${step.id ?? step.title}" exited ${result.exitCode}: ${result.stdout}${result.stderr ?? ''}`);
    states.push(await snapshot(files, run));
  }
  return states;
}

/** The solution's steps that lead to this check: after the stage of the checks before it, up to its own. */
export function stepsOfCheck(lab: Lab, checkId: string): { first: number; steps: LabStep[] } {
  const stageEnd = (after: string | undefined) =>
    after === undefined ? lab.solution.length : after === 'start' ? 0 : lab.solution.findIndex((s) => s.id === after) + 1;
  const end = stageEnd(findCheck(lab, checkId).after);
  const first = Math.max(0, ...lab.checks.map((c) => stageEnd(c.after)).filter((e) => e < end));
  return { first, steps: lab.solution.slice(first, end) };
}

export interface FileComparison {
  host: string;
  path: string;
  /** the learner's file is already as the solution leaves it */
  same: boolean;
  mine: FileState['kind'];
  solution: FileState['kind'];
  /** from the learner's file (« votre fichier », -) to the solution's (« la solution », +) */
  hunks: Hunk[];
}

export type ApplyPlan =
  | { possible: true; restores: { host: string; path: string }[]; runs: { host: string; run: string }[] }
  | { possible: false; reason: string };

export interface SolutionView {
  checkId: string;
  steps: { title: string; host: string; run: string; files: string[] }[];
  files: FileComparison[];
  apply: ApplyPlan;
}

/** `ligne 3`, `lignes 3–5`: where an edit is in the learner's file. */
function where(e: Edit): string {
  const from = e.toStart + 1;
  return e.toEnd - e.toStart > 1 ? `lignes ${from}–${e.toEnd}` : `ligne ${from}`;
}

function plan(
  lab: Lab,
  steps: LabStep[],
  files: { host: string; path: string; before: FileState; after: FileState; mine: FileState }[],
): ApplyPlan {
  if (steps.length === 0) {
    return { possible: false, reason: 'Cette vérification porte sur l’état de départ du lab\u202F: il n’y a pas d’étape à appliquer.' };
  }
  const restores: { host: string; path: string }[] = [];
  for (const f of files) {
    if (f.mine.kind === 'other') {
      return { possible: false, reason: `${f.path} (sur ${f.host}) n’est pas un fichier que l’on peut comparer\u202F: ${f.mine.what}.` };
    }
    if (f.before.kind === 'other') throw new Error(`${lab.id}: the reference ${f.path} is a ${f.before.what}`);
    const before = shownLines(f.before);
    const foreign = outside(edits(before, shownLines(f.mine)), edits(before, shownLines(f.after)));
    if (foreign.length > 0) {
      return {
        possible: false,
        reason:
          `Votre fichier ${f.path} (sur ${f.host}) a des changements qui ne font pas partie de cette étape ` +
          `(${foreign.map(where).join(', ')})\u202F: «\u00A0Appliquer\u00A0» les effacerait. Défaites-les, ou faites d’abord les étapes ` +
          'précédentes, ou réinitialisez le lab, puis réessayez.',
      };
    }
    if (!sameState(f.mine, f.before)) restores.push({ host: f.host, path: f.path });
  }
  return { possible: true, restores, runs: steps.map((s) => ({ host: s.host, run: s.run })) };
}

async function compare(lab: Lab, checkId: string, reference: Reference, run: ExecInLab) {
  const { first, steps } = stepsOfCheck(lab, checkId);
  const declared = declaredFiles({ ...lab, solution: steps });
  const mine = await snapshot(declared, run);
  const files = declared.map((f) => {
    const key = keyOf(f.host, f.path);
    return { ...f, before: reference[first]!.get(key)!, after: reference[first + steps.length]!.get(key)!, mine: mine.get(key)! };
  });
  return { steps, files };
}

/** The learner's files of this check's step against the solution's, and what « Appliquer » would do. */
export async function viewSolution(lab: Lab, checkId: string, reference: Reference, run: ExecInLab): Promise<SolutionView> {
  const { steps, files } = await compare(lab, checkId, reference, run);
  return {
    checkId,
    steps: steps.map((s) => ({ title: s.title, host: s.host, run: s.run, files: s.files })),
    files: files.map((f) => ({
      host: f.host,
      path: f.path,
      same: sameState(f.mine, f.after),
      mine: f.mine.kind,
      solution: f.after.kind,
      hunks: hunks(shownLines(f.mine), shownLines(f.after)),
    })),
    apply: plan(lab, steps, files),
  };
}

/** « Appliquer » refused: the learner's work would be lost, or there is nothing to apply. French. */
export class ApplyRefusedError extends Error {}

export type ApplyOutcome = { ok: true } | { ok: false; step: string; output: string };

/** Puts the step's files back to the state before it, then runs its commands in order (stops at a failure). */
export async function applySolution(lab: Lab, checkId: string, reference: Reference, run: ExecInLab): Promise<ApplyOutcome> {
  const { steps, files } = await compare(lab, checkId, reference, run);
  const decided = plan(lab, steps, files);
  if (!decided.possible) throw new ApplyRefusedError(decided.reason);
  for (const host of new Set(files.map((f) => f.host))) {
    const scripts = files.filter((f) => f.host === host && !sameState(f.mine, f.before)).map((f) => restoreScript(f.path, f.before));
    if (scripts.length === 0) continue;
    const restored = await run(host, scripts.join(' && '), 10_000);
    if (restored.exitCode !== 0) return { ok: false, step: 'remise des fichiers', output: tail(restored) };
  }
  for (const step of steps) {
    const result = await run(step.host, stepCommand(step), stepTimeout(step));
    if (result.exitCode !== 0) return { ok: false, step: step.title, output: tail(result) };
  }
  return { ok: true };
}

function tail(result: { stdout: string; stderr?: string }): string {
  const all = `${result.stdout}${result.stderr ?? ''}`.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, '');
  return all.length > OUTPUT_CHARS ? `…${all.slice(-OUTPUT_CHARS)}` : all;
}
