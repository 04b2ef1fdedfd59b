// How long the terminal waits before reconnecting after a drop. Doubles from 0.5 s up to 10 s; the jitter
// keeps a classroom of browsers that lost Wi-Fi together from hammering the server in step.

export const BACKOFF_FIRST_MS = 500;
export const BACKOFF_MAX_MS = 10_000;

/**
 * Delay before reconnect attempt `attempt` (0 = the first retry after a drop).
 * "Equal jitter": half of the step is fixed, the other half random, so the delay lies in
 * [step / 2, step] with step = min(10 s, 0.5 s × 2^attempt).
 */
export function reconnectDelay(attempt: number, random: () => number = Math.random): number {
  if (!Number.isInteger(attempt) || attempt < 0) throw new RangeError(`attempt must be a non-negative integer, got ${attempt}`);
  const step = Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** Math.min(attempt, 16));
  const r = Math.min(1, Math.max(0, random()));
  return Math.round(step / 2 + (step / 2) * r);
}
