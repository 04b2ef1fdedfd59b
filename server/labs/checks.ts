// « Vérifier »: a check of the learner's lab, run in their own lab by the server (the browser names the
// check, never a command), and when it fails, the first of its diagnoses that applies, in French.
// What the lab prints is the learner's (they are root there): it is only matched and quoted, bounded.
import { checkFailures, type CommandResult } from '../../sandbox/labs/expect.ts';
import type { Lab, LabCheck, LabDiagnosis } from '../../sandbox/labs/schema.ts';

export type RunInLab = (host: string, command: string, timeoutMs: number) => Promise<CommandResult>;

export interface CheckOutcome {
  checkId: string;
  title: string;
  ok: boolean;
  /** why not, when not, in French */
  diagnosis?: { id: string; explain: string; hint: string };
}

/** The lab definition has no check of that id. */
export class NoSuchCheckError extends Error {}

const DEFAULT_TIMEOUT_MS = 15_000;
/** A quoted value: one line, printable, short. */
const QUOTE_CHARS = 160;

/** `{1}`, `{2}`… replaced by the groups of the diagnosis's stdoutMatches, each one line, printable, short. */
export function fillQuotes(text: string, diagnosis: LabDiagnosis, stdout: string): string {
  const groups = diagnosis.expect.stdoutMatches ? (new RegExp(diagnosis.expect.stdoutMatches).exec(stdout) ?? []) : [];
  return text.replace(/\{(\d)\}/g, (_, n: string) => {
    const raw = groups[Number(n)] ?? '';
    const clean = raw.replace(/[\u0000-\u001f\u007f-\u009f]+/g, ' ').trim();
    return clean.length > QUOTE_CHARS ? `${clean.slice(0, QUOTE_CHARS - 1)}…` : clean;
  });
}

const bound = (seconds: number | undefined) => (seconds ?? DEFAULT_TIMEOUT_MS / 1000) * 1000;

export function findCheck(definition: Lab, checkId: string): LabCheck {
  const check = definition.checks.find((c) => c.id === checkId);
  if (!check) throw new NoSuchCheckError(NO_SUCH_CHECK(definition.id, checkId));
  return check;
}

/** Runs the check, then its diagnoses in order until one applies. */
export async function runCheck(definition: Lab, checkId: string, run: RunInLab): Promise<CheckOutcome> {
  const check = findCheck(definition, checkId);
  const result = await run(check.host, check.run, bound(check.timeoutSeconds));
  if (checkFailures(check.expect, result).length === 0) return { checkId, title: check.title, ok: true };
  for (const d of check.diagnoses) {
    const probe = await run(d.host, d.run, bound(d.timeoutSeconds));
    if (checkFailures(d.expect, probe).length > 0) continue;
    return {
      checkId,
      title: check.title,
      ok: false,
      diagnosis: { id: d.id, explain: fillQuotes(d.explain, d, probe.stdout), hint: fillQuotes(d.hint, d, probe.stdout) },
    };
  }
  return {
    checkId,
    title: check.title,
    ok: false,
    diagnosis: { id: 'not-yet', explain: NOT_YET.explain(check.title), hint: NOT_YET.hint },
  };
}

/** The answer when no diagnosis of the check applies (French typography: U+202F before :, U+00A0 inside « »). */
/** A check id the lab does not have (the API's 404). */
export const NO_SUCH_CHECK = (lab: string, check: string) => `le lab «\u00A0${lab}\u00A0» n’a pas de vérification «\u00A0${check}\u00A0»`;

export const NOT_YET = {
  explain: (title: string) => `Pas encore\u202F: «\u00A0${title}\u00A0» n’est pas vrai dans votre lab.`,
  hint: 'Relisez l’étape qui précède ce bouton, puis vérifiez à nouveau.',
} as const;
