/**
 * Request-log listing at depth: fills a fresh database on the DATABASE_URL server with 1,000,000
 * log rows for one workspace (plus 200,000 for a neighbour), then times the real service function
 * (listLogs: page query + total) for unfiltered, deep, keyset and filtered pages; then what each
 * optional index buys (dropped inside a rolled-back transaction), and the queue's write rate.
 *
 *   DATABASE_URL=postgres://… bun bench/logs-pagination.ts [--rows 1000000] [--keep]
 */
import postgres from "postgres";
import { migrate } from "../src/db/migrate.ts";
import type { Sql } from "../src/db/client.ts";
import { countLogs, listLogs, type LogListOptions } from "../src/logs/service.ts";
import { decodeCursor } from "../src/logs/model.ts";
import { LogQueue } from "../src/telemetry/log-queue.ts";
import type { RequestRecord } from "../src/telemetry/types.ts";

const args = process.argv.slice(2);
const ROWS = Number(args[args.indexOf("--rows") + 1]) || 1_000_000;
const KEEP = args.includes("--keep");
const serverUrl = process.env.DATABASE_URL;
if (!serverUrl) {
  console.error("set DATABASE_URL to a PostgreSQL server (a database is created and dropped on it)");
  process.exit(2);
}

const dbName = `perpetuo_bench_${crypto.randomUUID().replaceAll("-", "").slice(0, 10)}`;
const admin = postgres(serverUrl, { max: 1, onnotice: () => {} });
await admin.unsafe(`create database ${dbName}`);
const url = new URL(serverUrl);
url.pathname = `/${dbName}`;
const sql: Sql = postgres(url.toString(), { max: 4, onnotice: () => {} });

const WS = "ws_bench";
const NEIGHBOUR = "ws_neighbour";
const ms = (t: number) => `${t.toFixed(t < 10 ? 2 : 1)} ms`;

async function fill(workspace: string, rows: number, seed: number) {
  // Newest row first: one every 2.5 s going back from 2026-01-31 (1M rows ≈ 29 days).
  // 1 % of traffic on a rare provider, 0.1 % on a rare model, 0.02 % on a rare key, ~4 % errors.
  await sql`
    insert into request_logs (
      id, request_id, workspace_id, api_key_id, provider_id, provider_name, provider_type, model_requested,
      model_used, stream, status, error_class, error_message, latency_ms, ttft_ms, prompt_tokens,
      completion_tokens, cached_tokens, reasoning_tokens, usage_estimated, cost_usd, attempts, created_at)
    select
      md5(${seed}::text || g::text),
      'req_' || g,
      ${workspace},
      case when g % 5000 = 3 then 'key_rare' else 'key_' || (g % 50) end,
      case when g % 100 = 0 then 'prov_rare' when g % 3 = 0 then 'prov_b' else 'prov_a' end,
      case when g % 100 = 0 then 'Rare' when g % 3 = 0 then 'B' else 'A' end,
      'openai',
      case when g % 1000 = 7 then 'model-rare' else 'model-' || (g % 20) end,
      'model-' || (g % 20),
      g % 2 = 0,
      case when g % 33 = 0 then 502 when g % 97 = 0 then 429 else 200 end,
      case when g % 33 = 0 then 'server' when g % 97 = 0 then 'rate_limit' end,
      case when g % 33 = 0 then 'upstream returned 502' when g % 97 = 0 then 'rate limited' end,
      50 + g % 3000,
      case when g % 2 = 0 then 20 + g % 400 end,
      g % 4000, g % 800, g % 300, 0, false,
      (g % 4000) * 0.0000025 + (g % 800) * 0.00001,
      jsonb_build_array(jsonb_build_object('provider_id', 'prov_a', 'provider_name', 'A', 'provider_type', 'openai',
        'model', 'model-1', 'status', 200, 'error_class', null, 'message', null, 'latency_ms', 100)),
      timestamptz '2026-01-31T00:00:00Z' - g * interval '2.5 seconds'
    from generate_series(1, ${rows}::int) g`;
}

async function time(fn: () => Promise<unknown>, runs = 9): Promise<{ median: number; min: number; max: number }> {
  await fn(); // warm: plan cache, buffers
  const ts: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await fn();
    ts.push(performance.now() - t);
  }
  ts.sort((a, b) => a - b);
  return { median: ts[Math.floor(ts.length / 2)], min: ts[0], max: ts[ts.length - 1] };
}

const results: { case: string; median: string; min: string; max: string; rows: number; total: string }[] = [];
async function bench(name: string, opts: LogListOptions) {
  let last: Awaited<ReturnType<typeof listLogs>> | null = null;
  const r = await time(async () => {
    last = await listLogs(sql, WS, opts);
  });
  const l = last!;
  results.push({
    case: name,
    median: ms(r.median),
    min: ms(r.min),
    max: ms(r.max),
    rows: l.items.length,
    total: `${l.total}${l.total_is_estimate ? " (est.)" : ""}`,
  });
  return l;
}

/** The cursor that continues after `offset` rows: read the row at offset-1 and encode it. */
async function cursorAt(opts: LogListOptions, offset: number): Promise<string> {
  const page = await listLogs(sql, WS, { ...opts, limit: 1, page: offset });
  const row = page.items[0];
  const [c] = await sql<{ at: string }[]>`
    select to_char(created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as at from request_logs where id = ${row.id}`;
  return Buffer.from(`${c.at}|${row.id}`).toString("base64url");
}

try {
  await migrate(sql);
  await sql`insert into workspaces (id, name) values (${WS}, 'bench'), (${NEIGHBOUR}, 'neighbour')`;

  // Bulk load without the secondary indexes, then build them from their migration definitions.
  const defs = await sql<{ indexname: string; indexdef: string }[]>`
    select indexname, indexdef from pg_indexes where tablename = 'request_logs' and indexname <> 'request_logs_pkey'`;
  for (const d of defs) await sql.unsafe(`drop index ${d.indexname}`);
  let t = performance.now();
  await fill(WS, ROWS, 1);
  await fill(NEIGHBOUR, Math.round(ROWS / 5), 2);
  const loadMs = performance.now() - t;
  t = performance.now();
  for (const d of defs) await sql.unsafe(d.indexdef);
  const indexMs = performance.now() - t;
  await sql.unsafe("vacuum analyze request_logs");
  console.log(
    `loaded ${ROWS.toLocaleString()} + ${Math.round(ROWS / 5).toLocaleString()} rows in ${(loadMs / 1000).toFixed(1)} s; secondary indexes built in ${(indexMs / 1000).toFixed(1)} s`,
  );

  const sizes = await sql<{ name: string; size: string }[]>`
    select c.relname as name, pg_size_pretty(pg_relation_size(c.oid)) as size
    from pg_class c where c.relname like 'request_logs%' order by pg_relation_size(c.oid) desc`;
  console.log(`sizes: ${sizes.map((s) => `${s.name} ${s.size}`).join(", ")}`);
  const [v] = await sql`select version()`;
  console.log(`${v.version}\n`);

  const last24 = { from: new Date("2026-01-30T00:00:00Z"), to: new Date("2026-01-31T00:00:00Z") };
  const day20 = { from: new Date("2026-01-11T00:00:00Z"), to: new Date("2026-01-12T00:00:00Z") };
  await bench("page 1 (limit 50)", { page: 1 });
  await bench("page 10", { page: 10 });
  await bench("page 100 (offset 4,950)", { page: 100 });
  await bench("page 1000 (offset 49,950)", { page: 1000 });
  await bench("page 1000 via cursor", { cursor: decodeCursor(await cursorAt({}, 49_950)) });
  await bench("row 900,000 via cursor", { cursor: decodeCursor(await cursorAt({}, Math.round(ROWS * 0.9))) });
  await bench("limit 200, page 1", { limit: 200 });
  await bench("status=error, page 1", { status: "error" });
  await bench("status=error, page 100", { status: "error", page: 100 });
  await bench("status=ok, page 1", { status: "ok" });
  await bench("provider=prov_a (66 %), page 1", { provider: "prov_a" });
  await bench("provider=prov_rare (1 %), page 1", { provider: "prov_rare" });
  await bench("provider=prov_rare, page 100", { provider: "prov_rare", page: 100 });
  await bench("model=model-3 (5 %), page 1", { model: "model-3" });
  await bench("model=model-rare (0.1 %), page 1", { model: "model-rare" });
  await bench("key=key_7 (2 %), page 1", { key: "key_7" });
  await bench("key=key_rare (0.02 %), page 1", { key: "key_rare" });
  await bench("key=unknown (0 rows)", { key: "key_nobody" });
  await bench("last day (from/to), page 1", last24);
  await bench("a day 20 days back, page 1", day20);
  await bench("a day 20 days back, page 50", { ...day20, page: 50 });
  await bench("error + prov_b + last day", { status: "error", provider: "prov_b", ...last24 });
  await bench("error + key_7, page 1", { status: "error", key: "key_7" });
  console.table(results);

  const counts: Record<string, string> = {};
  for (const [name, f] of [
    ["all rows", {}],
    ["status=error", { status: "error" as const }],
    ["provider=prov_rare", { provider: "prov_rare" }],
    ["key=key_rare", { key: "key_rare" }],
  ] as const) {
    const r = await time(() => countLogs(sql, WS, f));
    counts[name] = ms(r.median);
  }
  console.log("countLogs alone (exact ≤ 10,000, else planner estimate):", counts);

  const plans: Record<string, string> = {};
  for (const [name, opts] of [
    ["cursor", { cursor: decodeCursor(await cursorAt({}, 49_950)) }],
    ["error", { status: "error" as const }],
    ["key", { key: "key_rare" }],
    ["provider", { provider: "prov_rare" }],
    ["model", { model: "model-rare" }],
  ] as const) {
    const c = (opts as LogListOptions).cursor;
    const f = opts as LogListOptions;
    const plan = await sql`
      explain select id from request_logs
      where workspace_id = ${WS}
        ${f.status === "error" ? sql`and (status >= 400 or error_class is not null)` : sql``}
        ${f.key ? sql`and api_key_id = ${f.key}` : sql``}
        ${f.provider ? sql`and provider_id = ${f.provider}` : sql``}
        ${f.model ? sql`and model_requested = ${f.model}` : sql``}
        ${c ? sql`and (created_at, id) < (${c.at}::timestamptz, ${c.id})` : sql``}
      order by created_at desc, id desc limit 51`;
    plans[name] = plan
      .map((p) => p["QUERY PLAN"] as string)
      .find((l) => /Index|Scan/.test(l))!
      .trim();
  }
  console.log("plans:", plans);

  // What each optional index buys: drop it in a transaction, time its filter, roll back.
  const ablation: Record<string, string> = {};
  for (const [index, opts] of [
    ["request_logs_errors", { status: "error" as const, page: 100 }],
    ["request_logs_key", { key: "key_rare" }],
    ["request_logs_provider", { provider: "prov_rare" }],
    ["request_logs_model", { model: "model-rare" }],
  ] as const) {
    await sql
      .begin(async (tx) => {
        await tx.unsafe(`drop index ${index}`);
        const r = await time(() => listLogs(tx as unknown as Sql, WS, opts), 3);
        ablation[`without ${index}`] = ms(r.median);
        throw new Error("rollback");
      })
      .catch((e) => {
        if ((e as Error).message !== "rollback") throw e;
      });
  }
  console.log("without the index (median of 3):", ablation);

  // Write cost of the secondary indexes: 50,000 rows by one insert, with and without them (rolled back).
  const insertCost: Record<string, string> = {};
  for (const keep of [true, false]) {
    await sql
      .begin(async (tx) => {
        if (!keep) for (const d of defs.filter((x) => x.indexname !== "request_logs_recent")) await tx.unsafe(`drop index ${d.indexname}`);
        const t0 = performance.now();
        await tx`
          insert into request_logs (id, request_id, workspace_id, api_key_id, provider_id, model_requested, status, error_class, latency_ms, created_at)
          select 'ins' || g, 'r', ${WS}, 'key_' || (g % 50), case when g % 3 = 0 then 'prov_b' else 'prov_a' end, 'model-' || (g % 20),
                 case when g % 33 = 0 then 502 else 200 end, case when g % 33 = 0 then 'server' end, 100, now()
          from generate_series(1, 50000) g`;
        insertCost[keep ? "all indexes" : "pkey + recent only"] =
          `${Math.round(50_000 / ((performance.now() - t0) / 1000)).toLocaleString()} rows/s`;
        throw new Error("rollback");
      })
      .catch((e) => {
        if ((e as Error).message !== "rollback") throw e;
      });
  }
  console.log("bulk insert of 50,000 rows:", insertCost);

  // The queue end to end: 100,000 records through enqueue → batches → insert + counters.
  const queue = new LogQueue({ sql });
  const now = Date.now();
  const records: RequestRecord[] = Array.from({ length: 100_000 }, (_, i) => ({
    id: `q${i}_${now}`,
    request_id: `r${i}`,
    workspace_id: WS,
    api_key_id: `key_${i % 50}`,
    provider_id: i % 3 ? "prov_a" : "prov_b",
    provider_name: "A",
    provider_type: "openai",
    model_requested: `model-${i % 20}`,
    model_used: `model-${i % 20}`,
    stream: false,
    status: i % 33 ? 200 : 502,
    error_class: i % 33 ? null : "server",
    error_message: null,
    latency_ms: 100,
    ttft_ms: null,
    prompt_tokens: 100,
    completion_tokens: 20,
    cached_tokens: 0,
    reasoning_tokens: 0,
    usage_estimated: false,
    cost_usd: 0.00045,
    attempts: [
      {
        provider_id: "prov_a",
        provider_name: "A",
        provider_type: "openai",
        model: "m",
        status: 200,
        error_class: null,
        message: null,
        latency_ms: 90,
      },
    ],
    request_body: null,
    response_body: null,
    created_at: new Date(now - i).toISOString(),
  }));
  const e0 = performance.now();
  for (const r of records) queue.enqueue(r);
  const enqueueMs = performance.now() - e0;
  const w0 = performance.now();
  await queue.flush({ timeoutMs: 600_000 });
  const writeMs = performance.now() - w0;
  queue.stop();
  console.log(
    `LogQueue: 100,000 enqueues in ${ms(enqueueMs)} (${((enqueueMs * 1000) / 100_000).toFixed(2)} µs each); ` +
      `written (500-row statements, logs + counters) in ${(writeMs / 1000).toFixed(2)} s = ${Math.round(100_000 / (writeMs / 1000)).toLocaleString()} rows/s; ` +
      `stats ${JSON.stringify({ written: queue.stats().written, failures: queue.stats().failures })}`,
  );
} finally {
  await sql.end({ timeout: 5 });
  if (!KEEP) await admin.unsafe(`drop database if exists ${dbName} with (force)`);
  else console.log(`kept database ${dbName}`);
  await admin.end();
}
