import { closeSync, fsyncSync, mkdirSync, openSync, writeSync } from "node:fs";
import { mkdir, open, readdir, rename, stat, unlink } from "node:fs/promises";
import { join } from "node:path";
import { createId } from "@paralleldrive/cuid2";
import type { Sql } from "../db/client.ts";
import { silentLogger, type Logger } from "../logger.ts";
import { LOG_BODY_LIMIT } from "./content.ts";
import type { AttemptRecord, LogSink, RequestRecord } from "./types.ts";

export interface LogQueueOptions {
  sql: Sql;
  logger?: Logger;
  /**
   * Where records go when PostgreSQL cannot take them (DATA_DIR/spool). Created on first use.
   * null: no spool, records stay in memory until the database is back.
   */
  spoolDir?: string | null;
  /** Rows per insert statement. */
  batchSize?: number;
  /** A partial batch is written after waiting this long for more records. */
  flushIntervalMs?: number;
  /**
   * Records held in memory while the database is away before they are spilled to the spool. Also
   * the memory bound when there is no spool, or the spool is full or failing: beyond it the newest
   * records are dropped, counted in stats().discarded.
   */
  maxMemoryRecords?: number;
  /** Bound on the spool files waiting to be replayed (rejected.ndjson aside); beyond it records stay in memory, then are dropped. */
  maxSpoolBytes?: number;
  /** First retry delay after a failed write; doubles per failure up to retryMaxMs. */
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** A write that has not answered by then counts as failed (it may still commit: replays are idempotent). */
  writeTimeoutMs?: number;
}

export interface LogQueueStats {
  /** Records in memory, not yet committed (including the batch being written). */
  queued: number;
  /** Records written to the spool since start (each counted once per spill). */
  spilled: number;
  /** Records read back from the spool and committed or found already stored. */
  replayed: number;
  /** Log rows inserted. */
  written: number;
  /** Records skipped because their id was already stored (replays). */
  duplicates: number;
  /** Records dropped because their workspace no longer exists. */
  dropped: number;
  /** Records PostgreSQL refused one by one (bad data); kept in spool/rejected.ndjson. */
  rejected: number;
  /** Records lost: arrived after stop() with no spool, or spooled and could not be written. */
  lost: number;
  /** Records dropped because memory (maxMemoryRecords) and the spool (maxSpoolBytes) were both full. */
  discarded: number;
  /** Bytes in the spool files waiting to be replayed. */
  spool_bytes: number;
  /** Failed write attempts (each retried). */
  failures: number;
  consecutive_failures: number;
  last_error: string | null;
  last_write_at: string | null;
  /** Whether spool files are waiting to be replayed. */
  spool_pending: boolean;
}

const CURRENT = "current.ndjson";
const REJECTED = "rejected.ndjson";
const REPLAY = /^replay-.*\.ndjson$/;
const INT_MAX = 2_147_483_647;
const MAX_ATTEMPTS = 50;

/**
 * The request log writer. `enqueue` is all the hot path does: push onto an array and, at most,
 * arm a timer. A single writer loop takes batches (by size, or after flushIntervalMs) and stores
 * each with ONE statement that inserts the log rows (`on conflict (id) do nothing`) and adds only
 * the rows actually inserted to usage_daily, aggregated per (workspace, day, provider, model), and
 * to usage_key_daily per (workspace, key, day) —
 * so logs and counters commit together and a replayed batch is never counted twice.
 *
 * When PostgreSQL is unavailable the batch goes back to the front of the queue and is retried
 * with exponential backoff; beyond maxMemoryRecords the records are appended (fsync-ed) to
 * DATA_DIR/spool/current.ndjson and replayed once writes succeed again, or at start-up after a
 * crash; a spool file is deleted only after every record in it has committed.
 */
export class LogQueue implements LogSink {
  private readonly sql: Sql;
  private readonly logger: Logger;
  private readonly spoolDir: string | null;
  private readonly batchSize: number;
  private readonly flushIntervalMs: number;
  private readonly maxMemory: number;
  private readonly maxSpoolBytes: number;
  private readonly retryBaseMs: number;
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
  private fileChain: Promise<unknown> = Promise.resolve();
  private replay: { file: string; batches: AsyncGenerator<RequestRecord[]>; records: number } | null = null;
  private replayPending = false;
  private retryAt = 0;
  /** While flushing: no write may outlast this instant. */
  private deadline = 0;
  private consecutive = 0;
  private stopped = false;
  private spoolBytes = 0;
  private spoolMeasured = false;
  /** While records are being dropped (one log line when it starts, one when it ends). */
  private overflowing = false;
  private overflowDropped = 0;
  private seq = 0;
  private counts = {
    spilled: 0,
    replayed: 0,
    written: 0,
    duplicates: 0,
    dropped: 0,
    rejected: 0,
    lost: 0,
    discarded: 0,
    failures: 0,
  };
  private lastError: string | null = null;
  private lastWriteAt: string | null = null;

  constructor(opts: LogQueueOptions) {
    this.sql = opts.sql;
    this.logger = opts.logger ?? silentLogger;
    this.spoolDir = opts.spoolDir ?? null;
    this.batchSize = Math.max(1, opts.batchSize ?? 500);
    this.flushIntervalMs = opts.flushIntervalMs ?? 200;
    this.maxMemory = Math.max(this.batchSize, opts.maxMemoryRecords ?? 10_000);
    this.maxSpoolBytes = opts.maxSpoolBytes ?? 1024 ** 3;
    this.retryBaseMs = opts.retryBaseMs ?? 100;
    this.retryMaxMs = opts.retryMaxMs ?? 5_000;
    this.writeTimeoutMs = opts.writeTimeoutMs ?? 15_000;
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
    if (this.stopped) {
      this.appendAfterStop(record);
      return;
    }
    const held = this.buffer.length + this.inflight;
    // Past the bound only while a spill is on its way, and never past twice the bound.
    if (held >= this.maxMemory && (held >= 2 * this.maxMemory || !this.canSpill())) {
      this.discard(1, this.spoolDir ? "the spool is full or cannot be written" : "there is no spool");
      return;
    }
    this.buffer.push(record);
    const n = held + 1;
    if (n > this.maxMemory) this.queueSpill();
    else if (n >= this.batchSize) {
      if (Date.now() >= this.retryAt) this.schedule(0);
    } else if (!this.timer) this.schedule(this.flushIntervalMs);
  }

  /** Replays a spool left by an earlier run (crash, or shutdown with the database away). Does not wait for the replay. */
  async start(): Promise<void> {
    if (!this.spoolDir) return;
    await this.withFiles(() => this.measureSpool());
    const names = await readdir(this.spoolDir).catch(() => [] as string[]);
    if (names.some((n) => n === CURRENT || REPLAY.test(n))) {
      this.replayPending = true;
      this.logger.info("log spool found; replaying it into the database", { dir: this.spoolDir });
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
    return {
      queued: this.buffer.length + this.inflight,
      ...this.counts,
      spool_bytes: this.spoolBytes,
      consecutive_failures: this.consecutive,
      last_error: this.lastError,
      last_write_at: this.lastWriteAt,
      spool_pending: this.replayPending,
    };
  }

  // --- writer loop ------------------------------------------------------------------------

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
    if (now < this.retryAt) this.schedule(this.retryAt - now);
    else if (this.buffer.length >= this.batchSize) this.schedule(0);
    else this.schedule(this.flushIntervalMs);
  }

  private async cycle(): Promise<void> {
    while (!this.stopped && Date.now() >= this.retryAt) {
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
      const wait = this.retryAt - Date.now();
      if (Date.now() + Math.max(wait, 0) >= deadline) return false;
      if (wait > 0) await Bun.sleep(wait);
      return true;
    };
    const work = (async () => {
      if (this.spilling) await this.spilling;
      this.retryAt = 0;
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
      this.failed(err);
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
    this.succeeded();
  }

  private async insert(records: RequestRecord[]): Promise<void> {
    const seen = new Set<string>();
    const rows: RequestRecord[] = [];
    for (const r of records) {
      const row = toRow(r);
      if (seen.has(row.id)) continue;
      seen.add(row.id);
      rows.push(row);
    }
    const limit = this.deadline ? Math.max(1, Math.min(this.writeTimeoutMs, this.deadline - Date.now())) : this.writeTimeoutMs;
    const result = await withTimeout(insertLogs(this.sql, rows), limit);
    this.counts.written += result.inserted;
    this.counts.dropped += result.orphaned;
    if (this.storedListeners.size) {
      const ids = rows.map((r) => r.id);
      for (const l of this.storedListeners) l(ids);
    }
    this.counts.duplicates += records.length - result.inserted - result.orphaned;
    if (result.orphaned > 0) this.logger.debug("log records dropped: their workspace was deleted", { count: result.orphaned });
    this.lastWriteAt = new Date().toISOString();
  }

  private failed(err: unknown): void {
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
        queued: this.buffer.length,
        retry_in_ms: delay,
      });
    }
  }

  private succeeded(): void {
    if (this.consecutive > 0) {
      this.logger.info("log writer: database writes resumed", { after_failures: this.consecutive, queued: this.buffer.length });
    }
    this.consecutive = 0;
    this.retryAt = 0;
    this.overflowEnded();
  }

  /** Records neither memory nor the spool can hold: counted, and said once per episode, never silently. */
  private discard(n: number, why: string): void {
    this.counts.discarded += n;
    this.overflowDropped += n;
    if (this.overflowing) return;
    this.overflowing = true;
    this.logger.error("log queue full: request log records are being dropped (counted) until the database catches up", {
      reason: why,
      queued: this.buffer.length,
      max_memory_records: this.maxMemory,
      spool_bytes: this.spoolBytes,
      max_spool_bytes: this.maxSpoolBytes,
    });
  }

  private overflowEnded(): void {
    if (!this.overflowing || this.buffer.length >= this.maxMemory) return;
    this.overflowing = false;
    this.logger.warn("log queue accepting records again", { dropped: this.overflowDropped, dropped_since_start: this.counts.discarded });
    this.overflowDropped = 0;
  }

  /** Keeps memory within its bound after records came back from a failed or partial spill. */
  private trimToBound(why: string): void {
    const excess = this.buffer.length + this.inflight - this.maxMemory;
    if (excess <= 0) return;
    this.buffer.length -= excess;
    this.discard(excess, why);
  }

  // --- spool ------------------------------------------------------------------------------

  private withFiles<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.fileChain.then(fn);
    this.fileChain = run.catch(() => {});
    return run;
  }

  private canSpill(): boolean {
    return this.spoolDir !== null && this.spoolBytes < this.maxSpoolBytes && Date.now() >= this.spillRetryAt;
  }

  /** Bytes of the spool files still to replay, from the disk (start-up, and after a file is replayed). */
  private async measureSpool(): Promise<void> {
    let total = 0;
    for (const name of await readdir(this.spoolDir!).catch(() => [] as string[])) {
      if (name !== CURRENT && !REPLAY.test(name)) continue;
      total += await stat(join(this.spoolDir!, name)).then((st) => st.size, () => 0);
    }
    this.spoolBytes = total;
    this.spoolMeasured = true;
  }

  private queueSpill(): void {
    if (!this.spoolDir) return;
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
    if (!this.spoolDir || this.buffer.length === 0) return Promise.resolve();
    let records = this.buffer;
    this.buffer = [];
    this.spilling = this.withFiles(async () => {
      if (!this.spoolMeasured) await this.measureSpool();
      // Oldest first, as many as the spool's bound leaves room for; the rest stay in memory (within its bound).
      const lines = records.map((r) => JSON.stringify(toRow(r)));
      let fit = 0;
      let bytes = 0;
      for (const room = this.maxSpoolBytes - this.spoolBytes; fit < lines.length; fit++) {
        const size = Buffer.byteLength(lines[fit]!) + 1;
        if (bytes + size > room) break;
        bytes += size;
      }
      if (fit < records.length) {
        // Full: no more spills until replays make room (or a while has passed).
        this.spillRetryAt = Date.now() + this.retryMaxMs;
        this.buffer = records.slice(fit).concat(this.buffer);
        records = records.slice(0, fit);
        this.trimToBound("the spool is full");
      }
      if (fit > 0) await this.appendFile(CURRENT, lines.slice(0, fit));
      this.spoolBytes += bytes;
    })
      .then(
        () => {
          if (records.length === 0) return;
          this.counts.spilled += records.length;
          this.replayPending = true;
          this.logger.warn("log records spilled to the spool until the database is back", {
            count: records.length,
            file: join(this.spoolDir!, CURRENT),
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

  /** Appends lines and fsyncs the file (and the directory when the file is new). */
  private async appendFile(name: string, lines: string[]): Promise<void> {
    const dir = this.spoolDir!;
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const path = join(dir, name);
    const fh = await open(path, "a", 0o600);
    let created = false;
    try {
      created = (await fh.stat()).size === 0;
      for (let i = 0; i < lines.length; i += 500) {
        await fh.write(lines.slice(i, i + 500).join("\n") + "\n");
      }
      await fh.sync();
    } finally {
      await fh.close();
    }
    if (created) await syncDir(dir);
  }

  private appendAfterStop(record: RequestRecord): void {
    if (!this.spoolDir) {
      this.counts.lost++;
      this.logger.error("log record arrived after the log queue stopped and there is no spool; it is lost", { id: record.id });
      return;
    }
    const line = JSON.stringify(toRow(record)) + "\n";
    const size = Buffer.byteLength(line);
    if (this.spoolBytes + size > this.maxSpoolBytes) {
      this.discard(1, "the spool is full");
      return;
    }
    try {
      mkdirSync(this.spoolDir, { recursive: true, mode: 0o700 });
      const fd = openSync(join(this.spoolDir, CURRENT), "a", 0o600);
      try {
        writeSync(fd, line);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      this.spoolBytes += size;
      this.counts.spilled++;
    } catch (err) {
      this.counts.lost++;
      this.logger.error("log record arrived after the log queue stopped and could not be spooled", { id: record.id, error: message(err) });
    }
  }

  private async reject(record: RequestRecord, err: unknown): Promise<void> {
    this.counts.rejected++;
    this.logger.error("log record refused by the database", { id: record.id, error: message(err) });
    if (!this.spoolDir) return;
    const line = JSON.stringify({ error: message(err), record: toRow(record) });
    await this.withFiles(() => this.appendFile(REJECTED, [line])).catch((e) =>
      this.logger.error("could not keep the refused log record", { id: record.id, error: message(e) }),
    );
  }

  /** Oldest spool file to replay, after moving the file being appended to out of the way. */
  private nextSpoolFile(): Promise<string | null> {
    return this.withFiles(async () => {
      const dir = this.spoolDir!;
      let names = await readdir(dir).catch(() => [] as string[]);
      if (names.includes(CURRENT)) {
        const stamp = `${Date.now()}`.padStart(15, "0");
        await rename(join(dir, CURRENT), join(dir, `replay-${stamp}-${String(this.seq++).padStart(6, "0")}.ndjson`));
        names = await readdir(dir);
      }
      const next = names.filter((n) => REPLAY.test(n)).sort()[0];
      return next ? join(dir, next) : null;
    });
  }

  /** Writes one batch of the spool; false when the database failed (the file stays, to be read again from its start). */
  private async replayStep(): Promise<boolean> {
    if (!this.spoolDir) {
      this.replayPending = false;
      return true;
    }
    if (!this.replay) {
      const file = await this.nextSpoolFile();
      if (!file) {
        this.replayPending = false;
        return true;
      }
      this.replay = { file, batches: readSpool(file, this.batchSize, (line, why) => this.badSpoolLine(file, line, why)), records: 0 };
    }
    const current = this.replay;
    let next: IteratorResult<RequestRecord[]>;
    try {
      next = await current.batches.next();
    } catch (err) {
      this.logger.error("log spool could not be read; leaving it in place", { file: current.file, error: message(err) });
      this.replay = null;
      this.replayPending = false;
      return false;
    }
    if (next.done) {
      await this.withFiles(async () => {
        await unlink(current.file).catch(() => {});
        await this.measureSpool();
      });
      this.logger.info("log spool replayed", { file: current.file, records: current.records });
      this.replay = null;
      return true;
    }
    try {
      await this.store(next.value);
    } catch (err) {
      this.failed(err);
      await current.batches.return(undefined).catch(() => {});
      this.replay = null;
      return false;
    }
    current.records += next.value.length;
    this.counts.replayed += next.value.length;
    return true;
  }

  private badSpoolLine(file: string, line: string, why: string): void {
    this.logger.warn("log spool line skipped", { file, reason: why });
    void this.withFiles(() => this.appendFile(REJECTED, [JSON.stringify({ error: why, line })])).catch(() => {});
  }
}

// --- helpers --------------------------------------------------------------------------------

/**
 * One statement per batch: insert the rows that are new (and whose workspace still exists), then
 * add exactly those rows to usage_daily, summed per (workspace, UTC day, provider, model) in SQL
 * (exact numeric cost sums) and upserted in key order (no deadlock between instances).
 */
export function insertLogs(sql: Sql, rows: RequestRecord[]) {
  return sql<{ inserted: number; orphaned: number }[]>`
    with incoming as (
      -- Sent as text: postgres.js's own json serialisation of a 500-row batch costs several times more.
      select * from json_populate_recordset(null::request_logs, ${JSON.stringify(rows)}::text::json)
    ), inserted as (
      insert into request_logs (
        id, request_id, workspace_id, api_key_id, provider_id, provider_name, provider_type,
        model_requested, model_used, stream, status, error_class, error_message, latency_ms, ttft_ms,
        prompt_tokens, completion_tokens, cached_tokens, reasoning_tokens, usage_estimated, cost_usd,
        attempts, request_body, response_body, created_at, tags, endpoint)
      select
        id, request_id, workspace_id, api_key_id, provider_id, provider_name, provider_type,
        model_requested, model_used, stream, status, error_class, error_message, latency_ms, ttft_ms,
        prompt_tokens, completion_tokens, cached_tokens, reasoning_tokens, usage_estimated, cost_usd,
        attempts, request_body, response_body, created_at, tags, endpoint
      from incoming i
      where exists (select 1 from workspaces w where w.id = i.workspace_id)
      on conflict (id) do nothing
      returning workspace_id, api_key_id, created_at, provider_id, model_requested, model_used, status, error_class,
        prompt_tokens, completion_tokens, cached_tokens, reasoning_tokens, cost_usd
    ), counted as (
      insert into usage_daily as u (
        workspace_id, day, provider_id, model, requests, errors, prompt_tokens, completion_tokens,
        cached_tokens, reasoning_tokens, cost_usd, unpriced_requests)
      select
        workspace_id,
        (created_at at time zone 'UTC')::date,
        coalesce(provider_id, ''),
        coalesce(model_used, model_requested),
        count(*),
        count(*) filter (where status >= 400 or error_class is not null),
        sum(prompt_tokens),
        sum(completion_tokens),
        sum(cached_tokens),
        sum(reasoning_tokens),
        coalesce(sum(cost_usd), 0),
        count(*) filter (where cost_usd is null and prompt_tokens + completion_tokens > 0)
      from inserted
      group by 1, 2, 3, 4
      order by 1, 2, 3, 4
      on conflict (workspace_id, day, provider_id, model) do update set
        requests = u.requests + excluded.requests,
        errors = u.errors + excluded.errors,
        prompt_tokens = u.prompt_tokens + excluded.prompt_tokens,
        completion_tokens = u.completion_tokens + excluded.completion_tokens,
        cached_tokens = u.cached_tokens + excluded.cached_tokens,
        reasoning_tokens = u.reasoning_tokens + excluded.reasoning_tokens,
        cost_usd = u.cost_usd + excluded.cost_usd,
        unpriced_requests = u.unpriced_requests + excluded.unpriced_requests
      returning 1
    ), counted_keys as (
      -- The same rows per gateway key (budgets and usage by key read this); rows without a key are not counted.
      insert into usage_key_daily as k (
        workspace_id, day, api_key_id, requests, errors, prompt_tokens, completion_tokens, cost_usd, unpriced_requests)
      select
        workspace_id,
        (created_at at time zone 'UTC')::date,
        api_key_id,
        count(*),
        count(*) filter (where status >= 400 or error_class is not null),
        sum(prompt_tokens),
        sum(completion_tokens),
        coalesce(sum(cost_usd), 0),
        count(*) filter (where cost_usd is null and prompt_tokens + completion_tokens > 0)
      from inserted
      where api_key_id is not null
      group by 1, 2, 3
      order by 1, 3, 2
      on conflict (workspace_id, api_key_id, day) do update set
        requests = k.requests + excluded.requests,
        errors = k.errors + excluded.errors,
        prompt_tokens = k.prompt_tokens + excluded.prompt_tokens,
        completion_tokens = k.completion_tokens + excluded.completion_tokens,
        cost_usd = k.cost_usd + excluded.cost_usd,
        unpriced_requests = k.unpriced_requests + excluded.unpriced_requests
      returning 1
    )
    select
      (select count(*) from inserted)::int as inserted,
      (select count(*) from incoming i where not exists (select 1 from workspaces w where w.id = i.workspace_id))::int as orphaned`.then(
    ([r]) => r,
  );
}

/** Whatever the gateway handed over, as a row PostgreSQL accepts: JSON-safe, well-formed text, integers in range. */
export function toRow(r: RequestRecord): RequestRecord {
  return {
    id: text(r.id, 64) ?? createId(),
    request_id: text(r.request_id, 200) ?? "",
    workspace_id: text(r.workspace_id, 64) ?? "",
    api_key_id: text(r.api_key_id, 64),
    provider_id: text(r.provider_id, 64),
    provider_name: text(r.provider_name, 200),
    provider_type: text(r.provider_type, 64),
    model_requested: text(r.model_requested, 300) ?? "",
    model_used: text(r.model_used, 300),
    // Records spooled before the column existed have none: they were chat requests.
    endpoint: text(r.endpoint, 32) ?? "chat",
    stream: r.stream === true,
    status: int(r.status) ?? 0,
    error_class: text(r.error_class, 64),
    error_message: text(r.error_message, 2000),
    latency_ms: int(r.latency_ms) ?? 0,
    ttft_ms: int(r.ttft_ms),
    prompt_tokens: int(r.prompt_tokens) ?? 0,
    completion_tokens: int(r.completion_tokens) ?? 0,
    cached_tokens: int(r.cached_tokens) ?? 0,
    reasoning_tokens: int(r.reasoning_tokens) ?? 0,
    usage_estimated: r.usage_estimated === true,
    cost_usd: typeof r.cost_usd === "number" && Number.isFinite(r.cost_usd) && r.cost_usd >= 0 ? r.cost_usd : null,
    attempts: Array.isArray(r.attempts) ? r.attempts.slice(0, MAX_ATTEMPTS).map(attempt) : [],
    // The gateway truncates (content.ts); this only guards the table against a body that was not.
    request_body: text(r.request_body, LOG_BODY_LIMIT + 100),
    response_body: text(r.response_body, LOG_BODY_LIMIT + 100),
    created_at: isoDate(r.created_at),
    tags: tags(r.tags),
  };
}

/** A key's tags as stored on its rows: null when it had none. */
function tags(x: unknown): string[] | null {
  if (!Array.isArray(x)) return null;
  const out = x.slice(0, 50).map((t) => text(t, 200)).filter((t): t is string => t !== null);
  return out.length ? out : null;
}

function attempt(a: AttemptRecord): AttemptRecord {
  const o = (typeof a === "object" && a !== null ? a : {}) as Partial<AttemptRecord>;
  return {
    provider_id: text(o.provider_id, 64) ?? "",
    provider_name: text(o.provider_name, 200) ?? "",
    provider_type: text(o.provider_type, 64) ?? "",
    model: text(o.model, 300) ?? "",
    status: int(o.status),
    error_class: text(o.error_class, 64),
    message: text(o.message, 1000),
    latency_ms: int(o.latency_ms) ?? 0,
  };
}

function text(x: unknown, max: number): string | null {
  if (typeof x !== "string") return null;
  // PostgreSQL text cannot hold NUL, and JSON with a lone surrogate does not convert to text.
  let s = x.includes("\u0000") ? x.replaceAll("\u0000", "") : x;
  if (s.length > max) s = s.slice(0, max);
  return s.isWellFormed() ? s : s.toWellFormed();
}

function int(x: unknown): number | null {
  if (typeof x !== "number" || !Number.isFinite(x)) return null;
  return Math.min(INT_MAX, Math.max(0, Math.round(x)));
}

function isoDate(x: unknown): string {
  const d = typeof x === "string" || x instanceof Date ? new Date(x) : new Date(NaN);
  return Number.isNaN(d.getTime()) ? new Date().toISOString() : d.toISOString();
}

/** Delay before retry number `failures` (1-based): base·2^(failures−1), ±20 % jitter, never above max. */
export function backoffDelay(failures: number, baseMs: number, maxMs: number, random: number = Math.random()): number {
  const base = Math.min(maxMs, baseMs * 2 ** Math.min(Math.max(failures, 1) - 1, 30));
  return Math.min(maxMs, Math.round(base * (0.8 + random * 0.4)));
}

/** SQLSTATE classes that blame the data, not the database: 22 data exception, 23 integrity, 54 limits. */
function isDataError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" && /^(22|23|54)[0-9A-Z]{3}$/.test(code);
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

class WriteTimeoutError extends Error {}

async function withTimeout<T>(work: PromiseLike<T>, ms: number): Promise<T> {
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

async function syncDir(dir: string): Promise<void> {
  try {
    const fh = await open(dir, "r");
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch {
    // Not every platform can fsync a directory; the file itself is synced.
  }
}

/** Batches of records from an NDJSON spool file, streamed (a spool can be large). */
async function* readSpool(
  file: string,
  size: number,
  onBad: (line: string, why: string) => void,
): AsyncGenerator<RequestRecord[]> {
  const decoder = new TextDecoder();
  let rest = "";
  let batch: RequestRecord[] = [];
  const take = (line: string) => {
    if (!line.trim()) return;
    try {
      const parsed = JSON.parse(line) as RequestRecord | { error: string; record: RequestRecord };
      // A line of rejected.ndjson ({error, record}) is accepted too: renaming that file to
      // replay-<anything>.ndjson retries its records once the cause is fixed.
      const r = parsed && typeof parsed === "object" && "record" in parsed ? parsed.record : (parsed as RequestRecord);
      if (typeof r !== "object" || r === null || typeof r.id !== "string" || typeof r.workspace_id !== "string") {
        onBad(line, "not a log record");
        return;
      }
      batch.push(r);
    } catch {
      onBad(line, "not valid JSON (a write cut short by a crash?)");
    }
  };
  const reader = Bun.file(file).stream().getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    const lines = (rest + decoder.decode(value, { stream: true })).split("\n");
    rest = lines.pop() ?? "";
    for (const line of lines) {
      take(line);
      if (batch.length >= size) {
        yield batch;
        batch = [];
      }
    }
  }
  take(rest + decoder.decode());
  if (batch.length) yield batch;
}
