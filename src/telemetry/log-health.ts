import type { Logger } from "../logger.ts";

/** Delay before retry number `failures` (1-based): base·2^(failures−1), ±20 % jitter, never above max. */
export function backoffDelay(failures: number, baseMs: number, maxMs: number, random: number = Math.random()): number {
  const base = Math.min(maxMs, baseMs * 2 ** Math.min(Math.max(failures, 1) - 1, 30));
  return Math.min(maxMs, Math.round(base * (0.8 + random * 0.4)));
}

export function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** A write that has not answered by then counts as failed (it may still commit: replays are idempotent). */
export async function withTimeout<T>(work: PromiseLike<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the database did not answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * What the log writer reports (stats(), log lines) and when it may write again: counters, the
 * failure streak with its backoff, and the overflow episode (one line when dropping starts, one
 * when it ends, never a line per record).
 */
export class WriterHealth {
  readonly counts = {
    /** Records written to the spool since start (each counted once per spill). */
    spilled: 0,
    /** Records read back from the spool and committed or found already stored. */
    replayed: 0,
    /** Log rows inserted. */
    written: 0,
    /** Records skipped because their id was already stored (replays). */
    duplicates: 0,
    /** Records dropped because their workspace no longer exists. */
    dropped: 0,
    /** Records PostgreSQL refused one by one (bad data); kept in spool/rejected.ndjson. */
    rejected: 0,
    /** Records lost: arrived after stop() with no spool, or spooled and could not be written. */
    lost: 0,
    /** Records dropped because memory (maxMemoryRecords) and the spool (maxSpoolBytes) were both full. */
    discarded: 0,
    /** Failed write attempts (each retried). */
    failures: 0,
  };
  /** No write before this instant (backoff after a failure); 0 = now. */
  retryAt = 0;
  lastWriteAt: string | null = null;
  private consecutive = 0;
  private lastError: string | null = null;
  private overflowing = false;
  private overflowDropped = 0;

  constructor(
    private readonly logger: Logger,
    private readonly retryBaseMs: number,
    private readonly retryMaxMs: number,
  ) {}

  failed(err: unknown, queued: number): void {
    this.counts.failures++;
    this.consecutive++;
    const delay = backoffDelay(this.consecutive, this.retryBaseMs, this.retryMaxMs);
    this.retryAt = Date.now() + delay;
    this.lastError = message(err);
    // 1st, 2nd, 4th, 8th… failure: enough to see an outage without a line per retry.
    if ((this.consecutive & (this.consecutive - 1)) === 0) {
      this.logger.warn("log writer: database write failed; requests are still served, logs are kept and retried", {
        error: this.lastError,
        consecutive_failures: this.consecutive,
        queued,
        retry_in_ms: delay,
      });
    }
  }

  /** A write committed; `belowBound`: memory is under maxMemoryRecords again. */
  succeeded(queued: number, belowBound: boolean): void {
    if (this.consecutive > 0) this.logger.info("log writer: database writes resumed", { after_failures: this.consecutive, queued });
    this.consecutive = 0;
    this.retryAt = 0;
    if (!this.overflowing || !belowBound) return;
    this.overflowing = false;
    this.logger.warn("log queue accepting records again", { dropped: this.overflowDropped, dropped_since_start: this.counts.discarded });
    this.overflowDropped = 0;
  }

  /** Records neither memory nor the spool can hold: counted, and said once per episode, never silently. */
  discard(n: number, why: string, context: Record<string, unknown>): void {
    this.counts.discarded += n;
    this.overflowDropped += n;
    if (this.overflowing) return;
    this.overflowing = true;
    this.logger.error("log queue full: request log records are being dropped (counted) until the database catches up", {
      reason: why,
      ...context,
    });
  }

  /** What LogQueue.stats() reports. */
  stats(queued: number, spoolBytes: number, spoolPending: boolean) {
    return {
      /** Records in memory, not yet committed (including the batch being written). */
      queued,
      ...this.counts,
      /** Bytes in the spool files waiting to be replayed. */
      spool_bytes: spoolBytes,
      consecutive_failures: this.consecutive,
      last_error: this.lastError,
      last_write_at: this.lastWriteAt,
      /** Whether spool files are waiting to be replayed. */
      spool_pending: spoolPending,
    };
  }
}

export type LogQueueStats = ReturnType<WriterHealth["stats"]>;
