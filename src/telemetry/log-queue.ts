import { createId } from "@paralleldrive/cuid2";
import type { Sql } from "../db/client.ts";
import { silentLogger, type Logger } from "../logger.ts";
import { insertLogs, isDataError, toRow } from "./log-rows.ts";
import { LogSpool } from "./log-spool.ts";
import { message, withTimeout, WriterHealth, type LogQueueStats } from "./log-health.ts";
import type { LogQueueOptions, LogSink, RequestRecord } from "./types.ts";

/**
 * The request log writer. `enqueue` is all the hot path does: push onto an array and, at most,
 * arm a timer. A single writer loop takes batches (by size, or after flushIntervalMs) and stores
 * each with ONE statement that inserts the log rows (`on conflict (id) do nothing`) and adds only
 * the rows actually inserted to usage_daily, aggregated per (workspace, day, provider, model), and
 * to usage_key_daily per (workspace, key, day), so logs and counters commit together and a
 * replayed batch is never counted twice (log-rows.ts). The spool is log-spool.ts; counters, backoff
 * and overflow reporting are log-health.ts.
 *
 * When PostgreSQL is unavailable the batch goes back to the front of the queue and is retried
 * with exponential backoff; beyond maxMemoryRecords the records are appended (fsync-ed) to
 * DATA_DIR/spool/current.ndjson and replayed once writes succeed again, or at start-up after a
 * crash; a spool file is deleted only after every record in it has committed.
 */
export class LogQueue implements LogSink {
  private readonly sql: Sql;
  private readonly logger: Logger;
  private readonly spool: LogSpool | null;
  private readonly batchSize: number;
  private readonly flushIntervalMs: number;
  private readonly maxMemory: number;
  private readonly retryMaxMs: number;
  private readonly writeTimeoutMs: number;

  private buffer: RequestRecord[] = [];
  private inflight = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private timerDue = 0;
  /** The writer loop or a flush, whichever holds the writer; never both. */
  private running: Promise<void> | null = null;
  private flushChain: Promise<unknown> = Promise.resolve();
  private spilling: Promise<void> | null = null;
  private spillQueued = false;
  private spillRetryAt = 0;
  private replayPending = false;
  /** While flushing: no write may outlast this instant. */
  private deadline = 0;
  private stopped = false;
  private readonly health: WriterHealth;

  constructor(opts: LogQueueOptions) {
    this.sql = opts.sql;
    this.logger = opts.logger ?? silentLogger;
    this.spool = opts.spoolDir ? new LogSpool(opts.spoolDir, opts.maxSpoolBytes ?? 1024 ** 3, this.logger) : null;
    this.batchSize = Math.max(1, opts.batchSize ?? 500);
    this.flushIntervalMs = opts.flushIntervalMs ?? 200;
    this.maxMemory = Math.max(this.batchSize, opts.maxMemoryRecords ?? 10_000);
    this.retryMaxMs = opts.retryMaxMs ?? 5_000;
    this.writeTimeoutMs = opts.writeTimeoutMs ?? 15_000;
    this.health = new WriterHealth(this.logger, opts.retryBaseMs ?? 100, this.retryMaxMs);
  }

  private readonly storedListeners = new Set<(ids: string[]) => void>();

  /** Called with the ids of records once committed (or found already stored); governance uses it to know what the usage counters include. */
  onStored(listener: (ids: string[]) => void): () => void {
    this.storedListeners.add(listener);
    return () => this.storedListeners.delete(listener);
  }

  /** Hot path: O(1), never waits. */
  enqueue(record: RequestRecord): void {
    if (!record.id) record.id = createId();
    if (this.stopped) return this.appendAfterStop(record);
    const held = this.buffer.length + this.inflight;
    // Past the bound only while a spill is on its way, and never past twice the bound.
    if (held >= this.maxMemory && (held >= 2 * this.maxMemory || !this.canSpill())) {
      this.discard(1, this.spool ? "the spool is full or cannot be written" : "there is no spool");
      return;
    }
    this.buffer.push(record);
    const n = held + 1;
    if (n > this.maxMemory) this.queueSpill();
    else if (n >= this.batchSize) {
      if (Date.now() >= this.health.retryAt) this.schedule(0);
    } else if (!this.timer) this.schedule(this.flushIntervalMs);
  }

  /** Replays a spool left by an earlier run (crash, or shutdown with the database away). Does not wait for the replay. */
  async start(): Promise<void> {
    if (!this.spool) return;
    if (await this.spool.start()) {
      this.replayPending = true;
      this.logger.info("log spool found; replaying it into the database", { dir: this.spool.dir });
      this.schedule(0);
    }
  }

  /**
   * Writes everything in memory now, ignoring any backoff. A failed write is retried (with
   * backoff) until timeoutMs (default 10 s) has passed; then whatever is left is spilled to the
   * spool (when there is one) instead of being kept only in memory. With replaySpool (default) a
   * pending spool is replayed too, within the same time. Resolves when done; stats().queued
   * says whether anything is still held in memory (only possible without a spool).
   */
  flush(opts: { replaySpool?: boolean; timeoutMs?: number } = {}): Promise<void> {
    const run = this.flushChain.then(() => this.flushOnce(opts.replaySpool !== false, opts.timeoutMs ?? 10_000));
    this.flushChain = run.catch(() => {});
    return run;
  }

  /** Stops the timers; records enqueued afterwards go straight to the spool. Call flush() first. */
  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  stats(): LogQueueStats {
    return this.health.stats(this.buffer.length + this.inflight, this.spool?.bytes ?? 0, this.replayPending);
  }

  private schedule(delay: number): void {
    if (this.stopped || this.running) return; // the running loop reschedules when it ends
    const due = Date.now() + delay;
    if (this.timer) {
      if (this.timerDue <= due) return;
      clearTimeout(this.timer);
    }
    this.timerDue = due;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.kick();
    }, delay);
    this.timer.unref?.();
  }

  private kick(): void {
    if (this.running || this.stopped) return;
    this.running = this.cycle()
      .catch((err) => this.logger.error("log writer loop failed", { error: message(err) }))
      .finally(() => {
        this.running = null;
        this.afterRun();
      });
  }

  private afterRun(): void {
    if (this.stopped || (this.buffer.length === 0 && !this.replayPending)) return;
    const now = Date.now();
    if (now < this.health.retryAt) this.schedule(this.health.retryAt - now);
    else if (this.buffer.length >= this.batchSize) this.schedule(0);
    else this.schedule(this.flushIntervalMs);
  }

  private async cycle(): Promise<void> {
    while (!this.stopped && Date.now() >= this.health.retryAt) {
      if (this.buffer.length > 0 && !(await this.writeFromBuffer())) return;
      if (this.buffer.length >= this.batchSize) continue;
      if (!this.replayPending) return;
      // Replay one spool batch per turn; fresh records (any amount) are written between them.
      if (!(await this.replayStep())) return;
    }
  }

  private async flushOnce(replaySpool: boolean, timeoutMs: number): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    while (this.running) await this.running;
    const deadline = Date.now() + timeoutMs;
    const retryWithin = async () => {
      const wait = this.health.retryAt - Date.now();
      if (Date.now() + Math.max(wait, 0) >= deadline) return false;
      if (wait > 0) await Bun.sleep(wait);
      return true;
    };
    const work = (async () => {
      if (this.spilling) await this.spilling;
      this.health.retryAt = 0;
      this.deadline = deadline;
      while (this.buffer.length > 0) {
        if (!(await this.writeFromBuffer()) && !(await retryWithin())) break;
      }
      if (this.buffer.length > 0) {
        await this.spill();
        return;
      }
      while (replaySpool && this.replayPending && Date.now() < deadline) {
        if (!(await this.replayStep()) && !(await retryWithin())) break;
      }
    })();
    this.running = work;
    try {
      await work;
    } finally {
      this.deadline = 0;
      this.running = null;
      this.afterRun();
    }
  }

  /** Takes one batch off the queue and stores it; on failure puts it back and returns false. */
  private async writeFromBuffer(): Promise<boolean> {
    const batch = this.buffer.length <= this.batchSize ? this.buffer : this.buffer.slice(0, this.batchSize);
    this.buffer = this.buffer.length <= this.batchSize ? [] : this.buffer.slice(this.batchSize);
    this.inflight = batch.length;
    try {
      await this.store(batch);
      return true;
    } catch (err) {
      this.buffer = batch.concat(this.buffer);
      this.health.failed(err, this.buffer.length);
      if (this.buffer.length > this.maxMemory) await this.spill();
      return false;
    } finally {
      this.inflight = 0;
    }
  }

  /**
   * Stores records or throws (nothing to undo: a retry of the same records is idempotent).
   * A batch PostgreSQL refuses for its data is written one record at a time so one bad record
   * cannot block the others; records refused alone go to the rejected file.
   */
  private async store(records: RequestRecord[]): Promise<void> {
    try {
      await this.insert(records);
    } catch (err) {
      if (!isDataError(err)) throw err;
      this.logger.warn("log writer: a batch was refused; writing its records one by one", { error: message(err) });
      for (const record of records) {
        try {
          await this.insert([record]);
        } catch (e) {
          if (!isDataError(e)) throw e;
          await this.reject(record, e);
        }
      }
    }
    this.health.succeeded(this.buffer.length, this.buffer.length < this.maxMemory);
  }

  private async insert(records: RequestRecord[]): Promise<void> {
    const seen = new Set<string>();
    const rows = records.map(toRow).filter((row) => !seen.has(row.id) && seen.add(row.id));
    const limit = this.deadline ? Math.max(1, Math.min(this.writeTimeoutMs, this.deadline - Date.now())) : this.writeTimeoutMs;
    const result = await withTimeout(insertLogs(this.sql, rows), limit);
    this.health.counts.written += result.inserted;
    this.health.counts.dropped += result.orphaned;
    if (this.storedListeners.size) {
      const ids = rows.map((r) => r.id);
      for (const l of this.storedListeners) l(ids);
    }
    this.health.counts.duplicates += records.length - result.inserted - result.orphaned;
    if (result.orphaned > 0) this.logger.debug("log records dropped: their workspace was deleted", { count: result.orphaned });
    this.health.lastWriteAt = new Date().toISOString();
  }

  private discard(n: number, why: string): void {
    this.health.discard(n, why, {
      queued: this.buffer.length,
      max_memory_records: this.maxMemory,
      spool_bytes: this.spool?.bytes ?? 0,
      max_spool_bytes: this.spool?.maxBytes ?? null,
    });
  }

  /** Keeps memory within its bound after records came back from a failed or partial spill. */
  private trimToBound(why: string): void {
    const excess = this.buffer.length + this.inflight - this.maxMemory;
    if (excess <= 0) return;
    this.buffer.length -= excess;
    this.discard(excess, why);
  }

  private canSpill(): boolean {
    return this.spool !== null && this.spool.bytes < this.spool.maxBytes && Date.now() >= this.spillRetryAt;
  }

  private queueSpill(): void {
    if (!this.spool) return;
    if (this.spillQueued || this.spilling || Date.now() < this.spillRetryAt) return;
    this.spillQueued = true;
    // Off the caller's stack: serialising thousands of records is not the hot path's job.
    setImmediate(() => {
      this.spillQueued = false;
      void this.spill();
    });
  }

  /** Moves everything in memory to the spool file (fsync-ed); on failure puts it back. */
  private spill(): Promise<void> {
    if (this.spilling) return this.spilling.then(() => this.spill());
    const spool = this.spool;
    if (!spool || this.buffer.length === 0) return Promise.resolve();
    let records = this.buffer;
    this.buffer = [];
    // Oldest first, as many as the spool's bound leaves room for; the rest stay in memory (within its bound).
    const short = (fit: number) => {
      // Full: no more spills until replays make room (or a while has passed).
      this.spillRetryAt = Date.now() + this.retryMaxMs;
      this.buffer = records.slice(fit).concat(this.buffer);
      records = records.slice(0, fit);
      this.trimToBound("the spool is full");
    };
    this.spilling = spool
      .append(records, short)
      .then(
        () => {
          if (records.length === 0) return;
          this.health.counts.spilled += records.length;
          this.replayPending = true;
          this.logger.warn("log records spilled to the spool until the database is back", {
            count: records.length,
            file: spool.currentFile,
          });
        },
        (err) => {
          this.buffer = records.concat(this.buffer);
          this.spillRetryAt = Date.now() + this.retryMaxMs;
          this.logger.error("log spool write failed; holding records in memory", { error: message(err), queued: this.buffer.length });
          this.trimToBound("the spool cannot be written");
        },
      )
      .finally(() => {
        this.spilling = null;
      });
    return this.spilling;
  }

  private appendAfterStop(record: RequestRecord): void {
    if (!this.spool) {
      this.health.counts.lost++;
      this.logger.error("log record arrived after the log queue stopped and there is no spool; it is lost", { id: record.id });
      return;
    }
    try {
      if (!this.spool.appendNow(record)) {
        this.discard(1, "the spool is full");
        return;
      }
      this.health.counts.spilled++;
    } catch (err) {
      this.health.counts.lost++;
      this.logger.error("log record arrived after the log queue stopped and could not be spooled", { id: record.id, error: message(err) });
    }
  }

  private async reject(record: RequestRecord, err: unknown): Promise<void> {
    this.health.counts.rejected++;
    this.logger.error("log record refused by the database", { id: record.id, error: message(err) });
    if (!this.spool) return;
    await this.spool
      .reject({ error: message(err), record: toRow(record) })
      .catch((e) => this.logger.error("could not keep the refused log record", { id: record.id, error: message(e) }));
  }

  /** Writes one batch of the spool; false when the database failed (the file stays, to be read again from its start). */
  private async replayStep(): Promise<boolean> {
    let batch: RequestRecord[] | null;
    try {
      batch = (await this.spool?.nextBatch(this.batchSize)) ?? null;
    } catch {
      // The spool logged it; the file stays in place.
      this.replayPending = false;
      return false;
    }
    if (!batch) {
      this.replayPending = false;
      return true;
    }
    try {
      await this.store(batch);
    } catch (err) {
      this.health.failed(err, this.buffer.length);
      await this.spool!.abandon();
      return false;
    }
    this.spool!.committed(batch.length);
    this.health.counts.replayed += batch.length;
    return true;
  }
}
