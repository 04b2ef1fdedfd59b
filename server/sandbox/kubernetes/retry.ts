// Every API call is bounded in time and retried with back-off while the answer says "later" (429, 5xx,
// a dropped connection), never past its bound. A 4xx other than 429 is an answer, not retried.
import { EngineError } from '../provider.ts';

/** Delay before attempt `n` (1-based, after the first failure): 100 ms doubling, at most 2 s, ± 20 % jitter. */
export function backoffMs(n: number, random: () => number = Math.random): number {
  const base = Math.min(2000, 100 * 2 ** (n - 1));
  return Math.round(base * (0.8 + 0.4 * random()));
}

/** The HTTP status of a client-node error (ApiException carries `code`), if any. */
export function statusOf(err: unknown): number | undefined {
  const e = err as { code?: unknown; statusCode?: unknown; response?: { statusCode?: unknown } };
  for (const v of [e?.code, e?.statusCode, e?.response?.statusCode]) if (typeof v === 'number') return v;
  return undefined;
}

export function retriable(err: unknown): boolean {
  const code = statusOf(err);
  if (code === undefined) return !(err instanceof RangeError || err instanceof TypeError);
  return code === 429 || code >= 500;
}

export const isNotFound = (err: unknown) => statusOf(err) === 404;
export const isConflict = (err: unknown) => statusOf(err) === 409;

/**
 * Runs `call` until it succeeds, fails for good, or `budgetMs` has passed (the call in flight is aborted
 * through its signal). Throws the last error, or EngineError naming `what` at the bound.
 */
export async function bounded<T>(what: string, budgetMs: number, call: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const deadline = Date.now() + budgetMs;
  for (let attempt = 1; ; attempt++) {
    const left = deadline - Date.now();
    if (left <= 0) throw new EngineError(`${what}: no answer within ${budgetMs} ms`);
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        call(controller.signal),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => {
            controller.abort();
            reject(new EngineError(`${what}: no answer within ${budgetMs} ms`));
          }, left);
        }),
      ]);
    } catch (err) {
      if (err instanceof EngineError || !retriable(err)) throw err;
      const wait = backoffMs(attempt);
      if (Date.now() + wait >= deadline) throw new EngineError(`${what}: ${(err as Error).message}`, { cause: err });
      await new Promise((r) => setTimeout(r, wait));
    } finally {
      clearTimeout(timer);
    }
  }
}
