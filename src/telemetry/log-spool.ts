import { closeSync, fsyncSync, mkdirSync, openSync, writeSync } from "node:fs";
import { mkdir, open, readdir, rename, stat, unlink } from "node:fs/promises";
import { join } from "node:path";
import type { Logger } from "../logger.ts";
import { message } from "./log-health.ts";
import { toRow } from "./log-rows.ts";
import type { RequestRecord } from "./types.ts";

const CURRENT = "current.ndjson";
const REJECTED = "rejected.ndjson";
const REPLAY = /^replay-.*\.ndjson$/;

/**
 * The log writer's disk fallback (DATA_DIR/spool): NDJSON records appended (fsync-ed) to
 * current.ndjson while PostgreSQL is away, renamed to replay-<time>-<seq>.ndjson when a replay
 * starts, and deleted only after every record in them has committed. rejected.ndjson keeps what
 * PostgreSQL refused; it is never replayed unless renamed. Every file operation runs in one chain,
 * so a rename never races an append. Records are stored as toRow makes them.
 */
export class LogSpool {
  /** Bytes of the files waiting to be replayed (rejected.ndjson aside). */
  bytes = 0;
  private measured = false;
  private chain: Promise<unknown> = Promise.resolve();
  private seq = 0;
  private replay: { file: string; batches: AsyncGenerator<RequestRecord[]>; records: number } | null = null;

  constructor(
    readonly dir: string,
    readonly maxBytes: number,
    private readonly logger: Logger,
  ) {}

  get currentFile(): string {
    return join(this.dir, CURRENT);
  }

  /** Measures the spool and says whether an earlier run left records to replay. */
  async start(): Promise<boolean> {
    return (await this.serial(() => this.measure())) > 0;
  }

  /** Appends the oldest records that fit within maxBytes; when not all do, onShort learns how many do before they are written. */
  append(records: RequestRecord[], onShort: (fit: number) => void): Promise<void> {
    const lines = records.map((r) => JSON.stringify(toRow(r)));
    return this.serial(async () => {
      if (!this.measured) await this.measure();
      let fit = 0;
      let bytes = 0;
      for (const room = this.maxBytes - this.bytes; fit < lines.length; fit++) {
        const size = Buffer.byteLength(lines[fit]!) + 1;
        if (bytes + size > room) break;
        bytes += size;
      }
      if (fit < lines.length) onShort(fit);
      if (fit > 0) await this.appendFile(CURRENT, fit < lines.length ? lines.slice(0, fit) : lines);
      this.bytes += bytes;
    });
  }

  /**
   * The same, synchronously, for a record arriving after stop() (the process is about to exit, no
   * later turn of the event loop may come). false: the spool is full. Throws when it cannot write.
   */
  appendNow(record: RequestRecord): boolean {
    const line = JSON.stringify(toRow(record));
    const size = Buffer.byteLength(line) + 1;
    if (this.bytes + size > this.maxBytes) return false;
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const fd = openSync(join(this.dir, CURRENT), "a", 0o600);
    try {
      writeSync(fd, line + "\n");
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    this.bytes += size;
    return true;
  }

  /** Keeps a refused record (or unreadable spool line) in rejected.ndjson, outside the bound: an operator reads or renames it. */
  reject(entry: { error: string; record: RequestRecord } | { error: string; line: string }): Promise<void> {
    return this.serial(() => this.appendFile(REJECTED, [JSON.stringify(entry)]));
  }

  /** Oldest spool file to replay, after moving the file being appended to out of the way. */
  private next(): Promise<string | null> {
    return this.serial(async () => {
      let names = await readdir(this.dir).catch(() => [] as string[]);
      if (names.includes(CURRENT)) {
        const stamp = `${Date.now()}`.padStart(15, "0");
        await rename(join(this.dir, CURRENT), join(this.dir, `replay-${stamp}-${String(this.seq++).padStart(6, "0")}.ndjson`));
        names = await readdir(this.dir);
      }
      const next = names.filter((n) => REPLAY.test(n)).sort()[0];
      return next ? join(this.dir, next) : null;
    });
  }

  /**
   * Replay, a batch at a time: the next batch of the oldest file, or null when none is left. A file
   * read to its end (every batch of it committed) is deleted first. Throws when a file cannot be
   * read (it stays in place); a line that is no record is set aside in rejected.ndjson.
   */
  async nextBatch(size: number): Promise<RequestRecord[] | null> {
    for (;;) {
      if (!this.replay) {
        const file = await this.next();
        if (!file) return null;
        const bad = (line: string, why: string) => {
          this.logger.warn("log spool line skipped", { file, reason: why });
          void this.reject({ error: why, line }).catch(() => {});
        };
        this.replay = { file, batches: readSpool(file, size, bad), records: 0 };
      }
      const current = this.replay;
      let next: IteratorResult<RequestRecord[]>;
      try {
        next = await current.batches.next();
      } catch (err) {
        this.replay = null;
        this.logger.error("log spool could not be read; leaving it in place", { file: current.file, error: message(err) });
        throw err;
      }
      if (!next.done) return next.value;
      await this.done(current.file);
      this.replay = null;
      this.logger.info("log spool replayed", { file: current.file, records: current.records });
    }
  }

  /** The batch nextBatch gave has committed. */
  committed(records: number): void {
    if (this.replay) this.replay.records += records;
  }

  /** The batch nextBatch gave failed: its file will be read again from its start. */
  async abandon(): Promise<void> {
    const current = this.replay;
    this.replay = null;
    await current?.batches.return(undefined).catch(() => {});
  }

  /** A replayed file: every record in it committed. */
  private done(file: string): Promise<void> {
    return this.serial(async () => {
      await unlink(file).catch(() => {});
      await this.measure();
    });
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(fn);
    this.chain = run.catch(() => {});
    return run;
  }

  /** Bytes of the spool files still to replay, from the disk (start-up, and after a file is replayed); returns how many files there are. */
  private async measure(): Promise<number> {
    let total = 0;
    let files = 0;
    for (const name of await readdir(this.dir).catch(() => [] as string[])) {
      if (name !== CURRENT && !REPLAY.test(name)) continue;
      files++;
      total += await stat(join(this.dir, name)).then(
        (st) => st.size,
        () => 0,
      );
    }
    this.bytes = total;
    this.measured = true;
    return files;
  }

  /** Appends lines and fsyncs the file (and the directory when the file is new). */
  private async appendFile(name: string, lines: string[]): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const fh = await open(join(this.dir, name), "a", 0o600);
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
    if (created) await syncDir(this.dir);
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
async function* readSpool(file: string, size: number, onBad: (line: string, why: string) => void): AsyncGenerator<RequestRecord[]> {
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
