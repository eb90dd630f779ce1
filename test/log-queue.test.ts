import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import type { Sql } from "../src/db/client.ts";
import { backoffDelay } from "../src/telemetry/log-health.ts";
import { LogQueue } from "../src/telemetry/log-queue.ts";
import { toRow } from "../src/telemetry/log-rows.ts";
import type { LogQueueOptions } from "../src/telemetry/types.ts";
import type { RequestRecord } from "../src/telemetry/types.ts";
import { testDatabase } from "./support/db.ts";
import { createLogger } from "../src/logger.ts";
import { countingSql, insertWorkspace, makeRecord, switchableSql, unreachableSql, waitFor } from "./support/logs.ts";

let db: Awaited<ReturnType<typeof testDatabase>>;
let sql: Sql;
const cleanup: (() => unknown)[] = [];

beforeAll(async () => {
  db = await testDatabase();
  sql = db.sql;
});
afterAll(() => db.close());
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!();
});

function queue(opts: Partial<LogQueueOptions> & { sql?: Sql } = {}): LogQueue {
  const q = new LogQueue({ sql, ...opts });
  cleanup.push(() => q.stop());
  return q;
}

function spoolDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "perpetuo-spool-"));
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, "spool");
}

async function downSql(): Promise<Sql> {
  const dead = await unreachableSql();
  cleanup.push(() => dead.end({ timeout: 0 }));
  return dead;
}

async function rowCount(ws: string): Promise<number> {
  const [r] = await sql<{ n: number }[]>`select count(*)::int as n from request_logs where workspace_id = ${ws}`;
  return r.n;
}

async function countedRequests(ws: string): Promise<number> {
  const [r] = await sql<{ n: number }[]>`select coalesce(sum(requests), 0)::int as n from usage_daily where workspace_id = ${ws}`;
  return r.n;
}

/** Rows of usage_daily that differ from what request_logs says they should be (none when they agree). */
async function counterMismatches(ws: string) {
  return sql`
    with expected as (
      select workspace_id, (created_at at time zone 'UTC')::date as day, coalesce(provider_id, '') as provider_id,
        coalesce(model_used, model_requested) as model, count(*) as requests,
        count(*) filter (where status >= 400 or error_class is not null) as errors,
        sum(prompt_tokens) as prompt_tokens, sum(completion_tokens) as completion_tokens,
        sum(cached_tokens) as cached_tokens, sum(reasoning_tokens) as reasoning_tokens,
        coalesce(sum(cost_usd), 0) as cost_usd,
        count(*) filter (where cost_usd is null and prompt_tokens + completion_tokens > 0) as unpriced_requests
      from request_logs where workspace_id = ${ws}
      group by 1, 2, 3, 4
    )
    select e.*, u.* from expected e
    full join (select * from usage_daily where workspace_id = ${ws}) u using (workspace_id, day, provider_id, model)
    where e.requests is distinct from u.requests or e.errors is distinct from u.errors
      or e.prompt_tokens is distinct from u.prompt_tokens or e.completion_tokens is distinct from u.completion_tokens
      or e.cached_tokens is distinct from u.cached_tokens or e.reasoning_tokens is distinct from u.reasoning_tokens
      or e.cost_usd is distinct from u.cost_usd or e.unpriced_requests is distinct from u.unpriced_requests`;
}

const spoolFiles = (dir: string) => (existsSync(dir) ? readdirSync(dir).filter((n) => n !== "rejected.ndjson") : []);

describe("batching", () => {
  test("a burst is written in full batches, one statement each", async () => {
    const ws = await insertWorkspace(sql);
    const counted = countingSql(sql);
    const q = queue({ sql: counted.sql, batchSize: 500 });
    for (let i = 0; i < 1200; i++) q.enqueue(makeRecord(ws));
    await q.flush();
    expect(counted.statements()).toBe(3);
    expect(await rowCount(ws)).toBe(1200);
    expect(await countedRequests(ws)).toBe(1200);
    expect(q.stats()).toMatchObject({ queued: 0, written: 1200, failures: 0 });
  });

  test("a partial batch is written after the flush interval without anyone asking", async () => {
    const ws = await insertWorkspace(sql);
    const counted = countingSql(sql);
    const q = queue({ sql: counted.sql, flushIntervalMs: 30 });
    for (let i = 0; i < 3; i++) q.enqueue(makeRecord(ws));
    expect(counted.statements()).toBe(0); // enqueue never touches the database
    await waitFor("the timer-driven write", async () => (await rowCount(ws)) === 3);
    expect(counted.statements()).toBe(1);
  });

  test("counters equal the sum of the logs after 10,000 concurrent enqueues", async () => {
    const wsA = await insertWorkspace(sql);
    const wsB = await insertWorkspace(sql);
    const counted = countingSql(sql);
    const q = queue({ sql: counted.sql, flushIntervalMs: 20 });
    const models = ["gpt-4o", "claude-sonnet-4-5", "gemini-2.5-flash", "mystery-model"];
    const providers = ["prov_a", "prov_b", null];
    // Three UTC days, including the last millisecond of one and the first of the next.
    const times = ["2025-03-01T10:00:00.000Z", "2025-03-01T23:59:59.999Z", "2025-03-02T00:00:00.000Z", "2025-03-03T12:00:00.000Z"];
    let n = 0;
    const producer = async (p: number) => {
      for (let i = 0; i < 100; i++) {
        const k = n++;
        const failed = k % 17 === 0;
        const provider = providers[k % 3];
        q.enqueue(
          makeRecord(p % 2 ? wsA : wsB, {
            provider_id: provider,
            model_requested: models[k % 4],
            model_used: provider && k % 5 ? models[k % 4] : null,
            status: failed ? 502 : 200,
            error_class: failed ? "server" : null,
            prompt_tokens: k % 97,
            completion_tokens: k % 13,
            cached_tokens: k % 7,
            reasoning_tokens: k % 3,
            cost_usd: k % 4 === 3 ? null : (k % 97) * 0.0000025 + (k % 13) * 0.00001,
            created_at: times[k % 4],
          }),
        );
        if (i % 10 === 0) await Bun.sleep(Math.random() * 3);
      }
    };
    await Promise.all(Array.from({ length: 100 }, (_, p) => producer(p)));
    await q.flush();
    expect((await rowCount(wsA)) + (await rowCount(wsB))).toBe(10_000);
    expect((await countedRequests(wsA)) + (await countedRequests(wsB))).toBe(10_000);
    expect([...(await counterMismatches(wsA))]).toEqual([]);
    expect([...(await counterMismatches(wsB))]).toEqual([]);
    // Batched: far fewer statements than records, no counter statement per request.
    expect(counted.statements()).toBeLessThan(200);
    const [days] = await sql<{ n: number }[]>`select count(distinct day)::int as n from usage_daily where workspace_id in (${wsA}, ${wsB})`;
    expect(days.n).toBe(3);
  });
});

describe("exactly once", () => {
  test("the same batch written twice is stored and counted once", async () => {
    const ws = await insertWorkspace(sql);
    const q = queue();
    const records = Array.from({ length: 100 }, () => makeRecord(ws));
    for (const r of records) q.enqueue(r);
    await q.flush();
    for (const r of records) q.enqueue({ ...r });
    await q.flush();
    expect(await rowCount(ws)).toBe(100);
    expect(await countedRequests(ws)).toBe(100);
    expect(q.stats()).toMatchObject({ written: 100, duplicates: 100 });
  });

  test("a batch mixing stored and new records counts only the new ones", async () => {
    const ws = await insertWorkspace(sql);
    const q = queue();
    const old = Array.from({ length: 30 }, () => makeRecord(ws, { prompt_tokens: 1000 }));
    for (const r of old) q.enqueue(r);
    await q.flush();
    for (const r of old) q.enqueue(r);
    for (let i = 0; i < 20; i++) q.enqueue(makeRecord(ws, { prompt_tokens: 1 }));
    q.enqueue(old[0]); // and a duplicate inside the batch itself
    await q.flush();
    expect(await rowCount(ws)).toBe(50);
    const [u] =
      await sql`select sum(requests)::int as requests, sum(prompt_tokens)::int as prompt from usage_daily where workspace_id = ${ws}`;
    expect(u).toEqual({ requests: 50, prompt: 30 * 1000 + 20 });
  });

  test("a write that answers after the timeout but did commit is not counted again on retry", async () => {
    const ws = await insertWorkspace(sql);
    let slow = true;
    // The statement runs at once (and commits); its answer reaches the queue only after the timeout.
    const lagging = new Proxy(sql, {
      apply(target, thisArg, args) {
        const query = Reflect.apply(target as unknown as (...a: unknown[]) => unknown, thisArg, args);
        if (!slow) return query;
        const settled = Promise.resolve(query as PromiseLike<unknown>);
        return new Promise((resolve, reject) => setTimeout(() => settled.then(resolve, reject), 300));
      },
    });
    const q = queue({ sql: lagging, writeTimeoutMs: 50, retryBaseMs: 10, retryMaxMs: 20 });
    for (let i = 0; i < 40; i++) q.enqueue(makeRecord(ws));
    await q.flush({ replaySpool: false, timeoutMs: 100 });
    expect(q.stats().failures).toBeGreaterThan(0);
    expect(q.stats().queued).toBe(40);
    await waitFor("the slow write to commit", async () => (await rowCount(ws)) === 40);
    slow = false;
    await q.flush();
    expect(await rowCount(ws)).toBe(40);
    expect(await countedRequests(ws)).toBe(40);
    expect(q.stats()).toMatchObject({ queued: 0, duplicates: 40 });
  });
});

describe("endpoint column (migration 0009)", () => {
  test("stored as given; a record without one (spooled before the column existed) is a chat row", async () => {
    const ws = await insertWorkspace(sql);
    const q = queue();
    const emb = makeRecord(ws, { endpoint: "embeddings" });
    const old = makeRecord(ws);
    delete (old as Partial<RequestRecord>).endpoint;
    q.enqueue(emb);
    q.enqueue(old);
    await q.flush();
    const rows = await sql<{ id: string; endpoint: string }[]>`select id, endpoint from request_logs where workspace_id = ${ws}`;
    expect(Object.fromEntries(rows.map((r) => [r.id, r.endpoint]))).toEqual({ [emb.id]: "embeddings", [old.id]: "chat" });
    expect(toRow({ ...old, endpoint: 42 as never }).endpoint).toBe("chat");
  });
});

describe("bad records", () => {
  test("records of a deleted workspace are dropped, the rest of the batch is stored", async () => {
    const ws = await insertWorkspace(sql);
    const q = queue();
    q.enqueue(makeRecord("no-such-workspace"));
    q.enqueue(makeRecord(ws));
    await q.flush();
    expect(await rowCount(ws)).toBe(1);
    expect(q.stats()).toMatchObject({ written: 1, dropped: 1, failures: 0, queued: 0 });
  });

  test("a record PostgreSQL refuses is set aside in rejected.ndjson and does not block its batch", async () => {
    const ws = await insertWorkspace(sql);
    const dir = spoolDir();
    const q = queue({ spoolDir: dir });
    for (let i = 0; i < 9; i++) q.enqueue(makeRecord(ws));
    // Valid for JavaScript, outside PostgreSQL's timestamptz range.
    const bad = makeRecord(ws, { created_at: "-010000-01-01T00:00:00.000Z" });
    q.enqueue(bad);
    await q.flush();
    expect(await rowCount(ws)).toBe(9);
    expect(await countedRequests(ws)).toBe(9);
    expect(q.stats()).toMatchObject({ rejected: 1, queued: 0 });
    const kept = readFileSync(join(dir, "rejected.ndjson"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(kept).toHaveLength(1);
    expect(kept[0].record.id).toBe(bad.id);
  });

  test("rejected records can be retried by renaming rejected.ndjson into the spool", async () => {
    const ws = await insertWorkspace(sql);
    const dir = spoolDir();
    const q = queue({ spoolDir: dir });
    // Refused today (timestamp out of range) …
    const bad = makeRecord(ws, { created_at: "-010000-01-01T00:00:00.000Z" });
    q.enqueue(bad);
    await q.flush();
    expect(q.stats().rejected).toBe(1);
    // … and after the cause is fixed (here: by editing the file), renamed for replay.
    const fixed = readFileSync(join(dir, "rejected.ndjson"), "utf8").replaceAll("-010000-01-01T00:00:00.000Z", "2025-01-01T00:00:00.000Z");
    writeFileSync(join(dir, "replay-manual.ndjson"), fixed);
    rmSync(join(dir, "rejected.ndjson"));
    const next = queue({ spoolDir: dir });
    await next.start();
    await next.flush();
    expect(await rowCount(ws)).toBe(1);
    expect(spoolFiles(dir)).toEqual([]);
  });

  test("text PostgreSQL cannot store (NUL, lone surrogates) and junk numbers are cleaned, not refused", async () => {
    const ws = await insertWorkspace(sql);
    const q = queue();
    const r = makeRecord(ws, {
      error_message: "a\u0000b\ud800c",
      latency_ms: Number.NaN,
      prompt_tokens: 12.7,
      completion_tokens: -3,
      cost_usd: Number.POSITIVE_INFINITY,
      created_at: "not a date",
    });
    q.enqueue(r);
    await q.flush();
    const [row] =
      await sql`select error_message, latency_ms, prompt_tokens, completion_tokens, cost_usd from request_logs where id = ${r.id}`;
    expect(row).toEqual({ error_message: "ab\ufffdc", latency_ms: 0, prompt_tokens: 13, completion_tokens: 0, cost_usd: null });
  });
});

describe("database unavailable", () => {
  test("records are kept in memory, then spilled to the spool, and all land exactly once when it returns", async () => {
    const ws = await insertWorkspace(sql);
    const dir = spoolDir();
    const target = switchableSql(await downSql());
    const q = queue({
      sql: target.sql,
      spoolDir: dir,
      batchSize: 100,
      maxMemoryRecords: 300,
      flushIntervalMs: 10,
      retryBaseMs: 5,
      retryMaxMs: 40,
    });
    const ids: string[] = [];
    for (let i = 0; i < 1000; i++) {
      const r = makeRecord(ws);
      ids.push(r.id);
      q.enqueue(r); // never throws, never waits
      if (i % 50 === 0) await Bun.sleep(5);
    }
    await waitFor("a spill", () => q.stats().spilled > 0);
    await waitFor("failed writes", () => q.stats().failures >= 2);
    const s = q.stats();
    expect(s.queued).toBeLessThanOrEqual(300 + 100);
    expect(s.written).toBe(0);
    expect(spoolFiles(dir).length).toBeGreaterThan(0);
    const spooled = readFileSync(join(dir, spoolFiles(dir)[0]), "utf8")
      .trim()
      .split("\n");
    expect(JSON.parse(spooled[0]).workspace_id).toBe(ws);

    target.use(sql); // the database is back
    await waitFor("every record stored", async () => (await rowCount(ws)) === 1000 && !q.stats().spool_pending && q.stats().queued === 0);
    expect(await countedRequests(ws)).toBe(1000);
    const [{ n }] = await sql<{ n: number }[]>`select count(*)::int as n from request_logs where id in ${sql(ids)}`;
    expect(n).toBe(1000);
    expect(spoolFiles(dir)).toEqual([]);
    expect(q.stats().consecutive_failures).toBe(0);
  });

  test("retries back off exponentially up to the cap, and the failure is reported in stats", async () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8].map((n) => backoffDelay(n, 100, 5_000, 0.5))).toEqual([100, 200, 400, 800, 1600, 3200, 5000, 5000]);
    expect(backoffDelay(3, 100, 5_000, 0)).toBe(320);
    expect(backoffDelay(3, 100, 5_000, 1)).toBe(480);
    expect(backoffDelay(40, 100, 5_000, 1)).toBe(5_000);
    const ws = await insertWorkspace(sql);
    const q = queue({ sql: await downSql(), flushIntervalMs: 1, retryBaseMs: 10, retryMaxMs: 20 });
    q.enqueue(makeRecord(ws));
    await waitFor("two failed attempts", () => q.stats().failures >= 2);
    expect(q.stats()).toMatchObject({ queued: 1, written: 0 });
    expect(q.stats().consecutive_failures).toBeGreaterThanOrEqual(2);
    expect(q.stats().last_error).toBeTruthy();
  });

  test("flush with the database down spills everything; the next start replays it exactly once", async () => {
    const ws = await insertWorkspace(sql);
    const dir = spoolDir();
    const first = queue({ sql: await downSql(), spoolDir: dir });
    const records = Array.from({ length: 250 }, () => makeRecord(ws));
    for (const r of records) first.enqueue(r);
    await first.flush({ timeoutMs: 300 });
    first.stop();
    expect(first.stats()).toMatchObject({ queued: 0, spilled: 250, written: 0 });
    expect(await rowCount(ws)).toBe(0);

    // A process restart: a new queue on a working database.
    const second = queue({ spoolDir: dir });
    await second.start();
    await waitFor("the spool replayed", async () => !second.stats().spool_pending && (await rowCount(ws)) === 250);
    expect(await countedRequests(ws)).toBe(250);
    expect(spoolFiles(dir)).toEqual([]);
    expect(second.stats().replayed).toBe(250);
  });

  test("flush rides out a brief outage with retries instead of spilling", async () => {
    const ws = await insertWorkspace(sql);
    const dir = spoolDir();
    const target = switchableSql(await downSql());
    const q = queue({ sql: target.sql, spoolDir: dir, retryBaseMs: 20, retryMaxMs: 50 });
    for (let i = 0; i < 30; i++) q.enqueue(makeRecord(ws));
    setTimeout(() => target.use(sql), 150);
    await q.flush({ timeoutMs: 5_000 });
    expect(q.stats().failures).toBeGreaterThan(0);
    expect(q.stats()).toMatchObject({ queued: 0, spilled: 0, written: 30 });
    expect(spoolFiles(dir)).toEqual([]);
  });

  test("a spool left by a crash (torn last line included) is replayed at start-up, once", async () => {
    const ws = await insertWorkspace(sql);
    const dir = spoolDir();
    mkdirSync(dir, { recursive: true });
    const records = Array.from({ length: 120 }, () => makeRecord(ws));
    // Some of them had already been committed before the crash.
    const q0 = queue();
    for (const r of records.slice(0, 20)) q0.enqueue(r);
    await q0.flush();
    const lines = records.map((r) => JSON.stringify(toRow(r)));
    writeFileSync(join(dir, "current.ndjson"), lines.slice(0, 70).join("\n") + "\n");
    writeFileSync(join(dir, "replay-000001700000000-000000.ndjson"), lines.slice(70).join("\n") + "\n" + '{"id":"torn","work');

    const q = queue({ spoolDir: dir, batchSize: 50 });
    await q.start();
    await q.flush();
    expect(await rowCount(ws)).toBe(120);
    expect(await countedRequests(ws)).toBe(120);
    expect(spoolFiles(dir)).toEqual([]);
    const rejected = readFileSync(join(dir, "rejected.ndjson"), "utf8");
    expect(rejected).toContain("torn");
    expect(q.stats()).toMatchObject({ duplicates: 20, written: 100 });
  });

  test("records enqueued after stop() go straight to the spool", async () => {
    const ws = await insertWorkspace(sql);
    const dir = spoolDir();
    const q = queue({ spoolDir: dir });
    await q.flush();
    q.stop();
    const late = makeRecord(ws);
    q.enqueue(late);
    expect(readFileSync(join(dir, "current.ndjson"), "utf8")).toContain(late.id);
    const next = queue({ spoolDir: dir });
    await next.start();
    await next.flush();
    expect(await rowCount(ws)).toBe(1);
  });

  test("flush on shutdown writes everything still in memory", async () => {
    const ws = await insertWorkspace(sql);
    const q = queue({ flushIntervalMs: 60_000, batchSize: 10_000 });
    for (let i = 0; i < 777; i++) q.enqueue(makeRecord(ws));
    expect(await rowCount(ws)).toBe(0);
    await q.flush();
    q.stop();
    expect(await rowCount(ws)).toBe(777);
    expect(q.stats().queued).toBe(0);
  });

  test.if(!!process.env.DATABASE_URL)("connections killed by the server mid-stream: every record lands exactly once", async () => {
    const ws = await insertWorkspace(sql);
    // Its own pool, so the backends killed are only the writer's.
    // fetch_types off: postgres.js leaves the rejection of its type query unhandled when a connection is killed while it runs.
    const own = postgres(db.url!, {
      max: 2,
      fetch_types: false,
      onnotice: () => {},
      connection: { application_name: "perpetuo-logs-kill" },
    });
    cleanup.push(() => own.end({ timeout: 1 }));
    const q = queue({ sql: own, batchSize: 50, flushIntervalMs: 5, retryBaseMs: 5, retryMaxMs: 50 });
    const total = 3000;
    const produce = (async () => {
      for (let i = 0; i < total; i++) {
        q.enqueue(makeRecord(ws));
        if (i % 100 === 0) await Bun.sleep(5);
      }
    })();
    for (let k = 0; k < 5; k++) {
      await Bun.sleep(20);
      await sql`select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'perpetuo-logs-kill'`;
    }
    await produce;
    await q.flush();
    expect(q.stats().queued).toBe(0);
    expect(await rowCount(ws)).toBe(total);
    expect(await countedRequests(ws)).toBe(total);
    expect([...(await counterMismatches(ws))]).toEqual([]);
  });
});

describe("bounds", () => {
  /** Log lines as parsed objects, to count what the queue said. */
  function captured() {
    const lines: { level: string; msg: string; [k: string]: unknown }[] = [];
    return {
      logger: createLogger("debug", (l) => lines.push(JSON.parse(l))),
      said: (msg: string) => lines.filter((l) => l.msg.startsWith(msg)),
    };
  }

  test("without a spool, memory holds maxMemoryRecords; the rest is dropped, counted and said once", async () => {
    const ws = await insertWorkspace(sql);
    const target = switchableSql(await downSql());
    const log = captured();
    const q = queue({ sql: target.sql, logger: log.logger, batchSize: 50, maxMemoryRecords: 200, retryBaseMs: 5, retryMaxMs: 20 });
    for (let i = 0; i < 500; i++) {
      q.enqueue(makeRecord(ws));
      if (i % 100 === 0) await Bun.sleep(5);
    }
    expect(q.stats()).toMatchObject({ queued: 200, discarded: 300, written: 0 });
    expect(log.said("log queue full")).toHaveLength(1);
    expect(log.said("log queue full")[0]).toMatchObject({ level: "error", reason: "there is no spool", max_memory_records: 200 });

    target.use(sql);
    await q.flush();
    expect(await rowCount(ws)).toBe(200);
    expect(q.stats()).toMatchObject({ queued: 0, discarded: 300, written: 200 });
    expect(log.said("log queue accepting records again")).toHaveLength(1);
    expect(log.said("log queue accepting records again")[0]).toMatchObject({ dropped: 300 });
  });

  test("the spool stops at maxSpoolBytes; then memory fills and the rest is dropped and counted, never silently", async () => {
    const ws = await insertWorkspace(sql);
    const dir = spoolDir();
    const target = switchableSql(await downSql());
    const log = captured();
    const maxSpoolBytes = 40_000;
    const q = queue({
      sql: target.sql,
      logger: log.logger,
      spoolDir: dir,
      batchSize: 50,
      maxMemoryRecords: 100,
      maxSpoolBytes,
      retryBaseMs: 5,
      retryMaxMs: 20,
    });
    const total = 1000;
    for (let i = 0; i < total; i++) {
      q.enqueue(makeRecord(ws));
      if (i % 25 === 0) await Bun.sleep(2);
    }
    await waitFor("the spool to be full", () => q.stats().discarded > 0);
    await Bun.sleep(20);
    const s = q.stats();
    const onDisk = spoolFiles(dir).reduce((n, f) => n + statSync(join(dir, f)).size, 0);
    expect(onDisk).toBeLessThanOrEqual(maxSpoolBytes);
    expect(s.spool_bytes).toBe(onDisk);
    expect(s.spilled).toBeGreaterThan(0);
    expect(s.queued).toBeLessThanOrEqual(100);
    // Every record is accounted for: in the spool, in memory, or counted as dropped.
    expect(s.spilled + s.queued + s.discarded).toBe(total);
    expect(log.said("log queue full")).toHaveLength(1);

    target.use(sql);
    await q.flush();
    expect(await rowCount(ws)).toBe(s.spilled + s.queued);
    expect(await countedRequests(ws)).toBe(s.spilled + s.queued);
    expect(q.stats()).toMatchObject({ spool_bytes: 0, spool_pending: false, discarded: s.discarded });
  });
});

describe("hot path", () => {
  test("enqueue returns before anything is written and never throws on odd input", async () => {
    const ws = await insertWorkspace(sql);
    const q = queue({ sql: await downSql() });
    const odd = { ...makeRecord(ws), id: "", attempts: "nope" } as unknown as RequestRecord;
    expect(() => q.enqueue(odd)).not.toThrow();
    expect(odd.id).not.toBe(""); // given an id so replays stay idempotent
    expect(q.stats().queued).toBe(1);
  });
});
