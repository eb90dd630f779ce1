/** Retry arithmetic of the log writer, kept pure. */

/** Delay before retry number `failures` (1-based): base·2^(failures−1), ±20 % jitter, never above max. */
export function backoffDelay(failures: number, baseMs: number, maxMs: number, random: number = Math.random()): number {
  const base = Math.min(maxMs, baseMs * 2 ** Math.min(Math.max(failures, 1) - 1, 30));
  return Math.min(maxMs, Math.round(base * (0.8 + random * 0.4)));
}

export function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

class WriteTimeoutError extends Error {}

/** A write that has not answered by then counts as failed (it may still commit: replays are idempotent). */
export async function withTimeout<T>(work: PromiseLike<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new WriteTimeoutError(`the database did not answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
