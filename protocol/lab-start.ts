// How far a lab's start has come, as the lab HTTP API reports it (docs/protocol.md § HTTP API): the
// `progress` field of a lab that is still 'starting'. Shared by the browser and the server; imports nothing.

/** The steps of a start on the server, in order: waiting its turn, then the lab's network, containers, services. */
export const START_PHASES = ['queued', 'network', 'containers', 'services'] as const;

export type StartPhase = (typeof START_PHASES)[number];

export interface StartProgress {
  phase: StartPhase;
  /** 'queued' only: how many creations wait in line before this one */
  ahead?: number;
}

/** The progress field of a lab info answer, or undefined when it is absent or not understood. */
export function parseStartProgress(value: unknown): StartProgress | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { phase, ahead } = value as { phase?: unknown; ahead?: unknown };
  if (!START_PHASES.includes(phase as StartPhase)) return undefined;
  if (phase !== 'queued') return { phase: phase as StartPhase };
  return Number.isInteger(ahead) && (ahead as number) >= 0 ? { phase, ahead: ahead as number } : { phase };
}
