/**
 * The request log writer alone: enqueues N realistic records (attempts, tags, tokens, bodies on a
 * share of them) into a LogQueue and waits until every row is committed. Reports the main thread's
 * CPU per 1,000 rows (what the writer takes from request handling; process.threadCpuUsage), the
 * whole process's CPU (includes the embedded database's worker thread) and rows/s.
 *
 *   bun bench/log-writer.ts [--rows 50000] [--rounds 3] [--bodies 0.3] [--rate 0] [--batch 500]
 *
 * DATABASE_URL set: a fresh database on that server (dropped at the end); unset: the embedded
 * database in memory. --rate N paces enqueues at N records/s (as a gateway would); 0 enqueues as
 * fast as the writer takes them. Profile with `bun --cpu-prof-md bench/log-writer.ts`.
 */
import postgres from "postgres";
import { openDatabase, type Database } from "../src/db/client.ts";
import { migrate } from "../src/db/migrate.ts";
import { LogQueue } from "../src/telemetry/log-queue.ts";
import type { RequestRecord } from "../src/telemetry/types.ts";

const args = process.argv.slice(2);
const arg = (name: string, fallback: number) => {
  const i = args.indexOf(`--${name}`);
  const v = i >= 0 ? Number(args[i + 1]) : NaN;
  return Number.isFinite(v) ? v : fallback;
};
const ROWS = arg("rows", 50_000);
const ROUNDS = arg("rounds", 3);
const BODY_SHARE = arg("bodies", 0.3);
const RATE = arg("rate", 0);
const BATCH = arg("batch", 500); // the app uses 100 on the embedded database (src/app.ts)

async function database(): Promise<{ db: Database; label: string; drop: () => Promise<void> }> {
  const serverUrl = process.env.DATABASE_URL;
  if (!serverUrl) {
    const db = await openDatabase({ databaseUrl: null, dataDir: null });
    return { db, label: "embedded (PGlite, in memory)", drop: async () => {} };
  }
  const name = `perpetuo_lw_${crypto.randomUUID().replaceAll("-", "").slice(0, 10)}`;
  const admin = postgres(serverUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name}`);
  const u = new URL(serverUrl);
  u.pathname = `/${name}`;
  const db = await openDatabase({ databaseUrl: u.toString(), dataDir: null });
  return {
    db,
    label: "PostgreSQL",
    drop: async () => {
      await admin.unsafe(`drop database if exists ${name} with (force)`);
      await admin.end();
    },
  };
}

const WORKSPACES = ["ws_a", "ws_b", "ws_c"];
const MODELS = ["gpt-4o-mini", "claude-3-5-haiku-latest", "gemini-2.0-flash", "llama-3.1-8b"];
const PROMPT = "Summarise the following support ticket in two sentences, keeping names and order numbers: ";
// Flat strings decoded from bytes, as `await request.text()` hands them to the gateway (a rope built
// here would be flattened inside the writer's JSON.stringify and charged to it). Half carry non-ASCII.
const flat = (s: string) => Buffer.from(s).toString();
const REQUEST_BODIES = Array.from({ length: 64 }, (_, k) =>
  flat(JSON.stringify({ messages: [{ role: "user", content: PROMPT + "ticket ".repeat(100 + k * 3) + (k % 2 ? "é ✓ 🚀" : "") }] })),
);
const RESPONSE_BODIES = Array.from({ length: 16 }, (_, k) =>
  flat(JSON.stringify({ choices: [{ message: { content: (k % 2 ? "Résumé: " : "Summary: ") + "words ".repeat(40 + k * 5) } }] })),
);

/** Deterministic (seeded) so every round and every run writes the same bytes. */
function records(n: number, seed: number): RequestRecord[] {
  let s = seed;
  const rnd = () => (s = (s * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  const out: RequestRecord[] = [];
  const start = Date.parse("2026-01-15T00:00:00Z");
  for (let i = 0; i < n; i++) {
    const model = MODELS[i % MODELS.length]!;
    const failedFirst = rnd() < 0.05;
    const ok = rnd() > 0.02;
    const prompt = 200 + Math.floor(rnd() * 3000);
    const completion = Math.floor(rnd() * 800);
    const bodies = rnd() < BODY_SHARE;
    const attempt = (p: string, status: number | null, error: string | null) => ({
      provider_id: p,
      provider_name: `Provider ${p}`,
      provider_type: "openai",
      model,
      status,
      error_class: error,
      message: error ? "upstream returned 503: overloaded, try again" : null,
      latency_ms: 100 + Math.floor(rnd() * 900),
    });
    out.push({
      id: `lw${seed}r${i}`, // not createId(): its cost would dwarf the writer's in the profile
      request_id: `req_${seed}_${i}`,
      workspace_id: WORKSPACES[i % WORKSPACES.length]!,
      api_key_id: `key_${i % 40}`,
      provider_id: "prov_a",
      provider_name: "Provider prov_a",
      provider_type: "openai",
      model_requested: model,
      model_used: model,
      endpoint: i % 10 === 0 ? "embeddings" : "chat",
      stream: i % 2 === 0,
      status: ok ? 200 : 502,
      error_class: ok ? null : "server",
      error_message: ok ? null : "every provider failed: upstream returned 502",
      latency_ms: 150 + Math.floor(rnd() * 2000),
      ttft_ms: i % 2 === 0 ? 80 + Math.floor(rnd() * 400) : null,
      prompt_tokens: prompt,
      completion_tokens: completion,
      cached_tokens: Math.floor(prompt * rnd() * 0.5),
      reasoning_tokens: 0,
      usage_estimated: false,
      cost_usd: i % 7 === 0 ? null : prompt * 0.00000015 + completion * 0.0000006,
      attempts: failedFirst ? [attempt("prov_b", 503, "server"), attempt("prov_a", 200, null)] : [attempt("prov_a", 200, null)],
      request_body: bodies ? REQUEST_BODIES[i % REQUEST_BODIES.length]! : null,
      response_body: bodies ? RESPONSE_BODIES[i % RESPONSE_BODIES.length]! : null,
      created_at: new Date(start + i * 50).toISOString(),
      tags: i % 3 === 0 ? ["team:search", "env:prod"] : null,
    });
  }
  return out;
}

const cpu = () => {
  const t = process.threadCpuUsage();
  const p = process.cpuUsage();
  return { thread: (t.user + t.system) / 1000, process: (p.user + p.system) / 1000 };
};

async function round(db: Database, n: number, seed: number) {
  const list = records(n, seed);
  // Generous write timeouts: the embedded database on a busy machine can take seconds per batch, and a
  // timed-out write is retried (stored once, but its CPU counted twice).
  const queue = new LogQueue({ sql: db.sql, batchSize: BATCH, flushIntervalMs: 200, maxMemoryRecords: 10_000, writeTimeoutMs: 300_000 });
  Bun.gc(true);
  const c0 = cpu();
  const t0 = performance.now();
  const step = RATE > 0 ? Math.max(1, Math.round(RATE / 100)) : BATCH;
  let wake = () => {};
  queue.onStored(() => wake());
  for (let i = 0; i < list.length; i += step) {
    // Keep what is held within the memory bound (no spool here): wait for a commit, as load would (no polling: its CPU would count).
    while (queue.stats().queued + step > 10_000) await new Promise<void>((resolve) => (wake = resolve));
    for (const r of list.slice(i, i + step)) queue.enqueue(r);
    if (RATE > 0) {
      const due = t0 + ((i + step) / RATE) * 1000;
      const wait = due - performance.now();
      if (wait > 0) await Bun.sleep(wait);
    } else await Bun.sleep(0);
  }
  await queue.flush({ timeoutMs: 600_000 });
  const wall = performance.now() - t0;
  const c1 = cpu();
  queue.stop();
  const st = queue.stats();
  if (st.written !== n) throw new Error(`written ${st.written} of ${n} (stats: ${JSON.stringify(st)})`);
  return { wall, thread: c1.thread - c0.thread, process: c1.process - c0.process };
}

const { db, label, drop } = await database();
try {
  await migrate(db.sql);
  for (const ws of WORKSPACES) await db.sql`insert into workspaces (id, name) values (${ws}, ${ws})`;
  await round(db, 5_000, 1); // warm: JIT, plans, connections
  const results: Awaited<ReturnType<typeof round>>[] = [];
  for (let r = 0; r < ROUNDS; r++) results.push(await round(db, ROWS, 100 + r));
  const [rows] = await db.sql<{ n: number }[]>`select count(*)::int as n from request_logs`;
  const expected = 5_000 + ROWS * ROUNDS;
  if (rows!.n !== expected) throw new Error(`request_logs holds ${rows!.n} rows, expected ${expected}`);
  const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const per1k = (ms: number) => (ms / ROWS) * 1000;
  console.log(
    `log writer, ${label}: ${ROUNDS} rounds × ${ROWS} rows, batch ${BATCH}, bodies on ${BODY_SHARE * 100}%` +
      (RATE ? `, paced at ${RATE}/s` : ", unpaced"),
  );
  console.log("| round | rows/s | main-thread CPU ms / 1k rows | process CPU ms / 1k rows |");
  console.log("|---|---|---|---|");
  results.forEach((r, i) =>
    console.log(`| ${i + 1} | ${Math.round(ROWS / (r.wall / 1000))} | ${per1k(r.thread).toFixed(1)} | ${per1k(r.process).toFixed(1)} |`),
  );
  console.log(
    `| median | ${Math.round(median(results.map((r) => ROWS / (r.wall / 1000))))} | ` +
      `${median(results.map((r) => per1k(r.thread))).toFixed(1)} | ${median(results.map((r) => per1k(r.process))).toFixed(1)} |`,
  );
} finally {
  await db.close();
  await drop();
}
