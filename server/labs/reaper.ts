// Which labs the reaper removes, and why. Pure: the manager gives it what the engine reports.
import type { LabInfo } from '../sandbox/provider.ts';

export type ReapReason = 'expired' | 'idle' | 'orphan' | 'duplicate';

export interface ReapInput {
  labs: LabInfo[];
  now: number;
  /** being created or reset by this process: never touched */
  busy: Set<string>;
  idle: (labId: string) => boolean;
  /** a partial lab older than this was abandoned mid-creation or mid-removal */
  orphanGraceMs: number;
}

export interface ReapDecision {
  labId: string;
  reason: ReapReason;
}

export function labsToReap(input: ReapInput): ReapDecision[] {
  const out: ReapDecision[] = [];
  const kept = new Map<string, LabInfo>();
  for (const lab of input.labs) {
    if (input.busy.has(lab.labId)) continue;
    if (lab.state === 'partial') {
      if (input.now - lab.createdAt.getTime() >= input.orphanGraceMs) out.push({ labId: lab.labId, reason: 'orphan' });
      continue;
    }
    if (lab.expiresAt.getTime() <= input.now) {
      out.push({ labId: lab.labId, reason: 'expired' });
      continue;
    }
    // A lab waiting in the warm pool has no learner yet: neither idle nor anyone's duplicate.
    if (lab.pooled) continue;
    if (input.idle(lab.labId)) {
      out.push({ labId: lab.labId, reason: 'idle' });
      continue;
    }
    // At most one lab of a kind per learner: the newest one stays.
    const key = `${lab.owner}\0${lab.definitionId}`;
    const other = kept.get(key);
    if (!other) kept.set(key, lab);
    else {
      const [older, newer] = other.createdAt <= lab.createdAt ? [other, lab] : [lab, other];
      out.push({ labId: older.labId, reason: 'duplicate' });
      kept.set(key, newer);
    }
  }
  return out;
}
