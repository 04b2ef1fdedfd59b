// The order in which a lab's solution and checks run: the start-state checks, then each step followed by the
// checks that hold right after it, then the checks of the end state. Integration tests, the CLI baseline
// (bench/baseline/cli-lab.sh) and any other runner follow this one order.
import type { Lab, LabCheck, LabStep } from './schema.ts';

export type PlanItem = { kind: 'step'; step: LabStep; index: number } | { kind: 'check'; check: LabCheck; stage: string };

/** The shell a runner runs for a step: the student's command, then its `settle` wait when the command succeeded. */
export function stepCommand(step: LabStep): string {
  return step.settle === undefined ? step.run : `{\n${step.run}\n} && ${step.settle}`;
}

export function runOrder(lab: Lab): PlanItem[] {
  const lastId = `#${lab.solution.length}`;
  const stageOf = (c: LabCheck) => c.after ?? lastId;
  const checksAt = (stage: string): PlanItem[] =>
    lab.checks.filter((c) => stageOf(c) === stage).map((check) => ({ kind: 'check', check, stage }));
  const items: PlanItem[] = [...checksAt('start')];
  lab.solution.forEach((step, index) => {
    items.push({ kind: 'step', step, index });
    if (step.id !== undefined) items.push(...checksAt(step.id));
  });
  items.push(...checksAt(lastId));
  return items;
}
