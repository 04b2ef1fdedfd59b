// The command a chapter's <Run lab="…" step="…" /> block shows: the named solution step of that lab, as the
// lab definition has it, so that what the student sees and types is what CI runs. A wrong name stops the
// build with a message naming the chapter file, the lab and the steps it has.

interface LabSteps {
  id: string;
  steps: { id: string; host: string; run: string }[];
}

export interface RunStepRequest {
  /** the chapter file, for the message (e.g. content/05-fastcgi.mdx) */
  file: string;
  lab: string;
  step: string;
  /** when the block names a host too, it must be the step's */
  host?: string | undefined;
}

/** The step's host and command, or an error that says what to write instead. */
export function runStep(labs: readonly LabSteps[], { file, lab, step, host }: RunStepRequest): { host: string; run: string } {
  const where = `${file}: <Run lab="${lab}" step="${step}">`;
  const definition = labs.find((l) => l.id === lab);
  if (!definition) throw new Error(`${where}: no lab "${lab}" (labs: ${labs.map((l) => l.id).join(', ')})`);
  const found = definition.steps.find((s) => s.id === step);
  if (!found) {
    const known = definition.steps.map((s) => s.id).join(', ') || 'none: give its solution steps an id';
    throw new Error(`${where}: lab ${lab} has no step "${step}" (its steps: ${known})`);
  }
  if (host !== undefined && host !== found.host) {
    throw new Error(`${where}: host="${host}", but the step runs on ${found.host} (leave host out: it comes from the step)`);
  }
  return { host: found.host, run: found.run };
}
