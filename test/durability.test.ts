import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import OpenAI from "openai";
import { createApp } from "../src/app.ts";
import { buildDeps, type AppDeps } from "../src/deps.ts";
import { openDatabase, type Database } from "../src/db/client.ts";
import { migrate } from "../src/db/migrate.ts";
import { createLogger } from "../src/logger.ts";
import { LogQueue } from "../src/telemetry/log-queue.ts";
import { costFor } from "../src/telemetry/pricing.ts";
import prices from "../src/telemetry/prices.json" with { type: "json" };
import { testConfig } from "./support/app.ts";
import { startMockUpstream, type MockUpstream } from "./support/mock-upstreams.ts";

// The "done when": a burst of requests of every kind through the gateway, with PostgreSQL
// stopped and started again in the middle, ends with one log row per request, counters equal to
// the logs, and costs from the price table. It needs a PostgreSQL server of its own to stop, so
// it runs wherever the server binaries are (always in CI).
const root = join(import.meta.dir, "..");
const pgBinaries = existsSync("/usr/lib/postgresql") && readdirSync("/usr/lib/postgresql").length > 0;
if (!pgBinaries && process.env.CI) throw new Error("PostgreSQL server binaries are required in CI");

let dir = "";
let db: Database;
let deps: AppDeps;
let server: { stop(): Promise<void> | void } | null = null;
let base = "";
const mocks: MockUpstream[] = [];
const logs: string[] = [];

async function pg(...args: string[]) {
  const p = Bun.spawn([join(root, ".ci/pg-server"), ...args], { stdout: "pipe", stderr: "pipe" });
  const out = await new Response(p.stdout).text();
  if ((await p.exited) !== 0) throw new Error(`pg-server ${args.join(" ")}: ${await new Response(p.stderr).text()}`);
  return out;
}

beforeAll(async () => {
  if (!pgBinaries) return;
  const env = await pg("start");
  const url = /DATABASE_URL=(\S+)/.exec(env)![1];
  dir = /PG_TEST_DIR=(\S+)/.exec(env)![1];
  db = await openDatabase({ databaseUrl: url, dataDir: null });
  await migrate(db.sql);
  const logger = createLogger("debug", (l) => logs.push(l));
  const spoolDir = join(mkdtempSync(join(tmpdir(), "perpetuo-durable-")), "spool");
  const logQueue = new LogQueue({ sql: db.sql, logger, spoolDir, maxMemoryRecords: 200, retryMaxMs: 300, writeTimeoutMs: 2_000 });
  deps = buildDeps({ sql: db.sql, config: testConfig(), logger, logQueue, passwordOptions: { memoryCost: 1024, timeCost: 1 } });
  const app = createApp(deps).listen({ port: 0, hostname: "127.0.0.1" });
  server = { stop: async () => void (await app.stop(true)) };
  base = `http://127.0.0.1:${app.server!.port}`;
});

afterAll(async () => {
  if (!pgBinaries) return;
  await server?.stop();
  await Promise.all(mocks.map((m) => m.stop()));
  await deps.gateway.stop().catch(() => {});
  deps.logQueue.stop();
  await db.close();
  await pg("stop", dir);
});

test.if(pgBinaries)("a burst with the database restarted midway logs every request once and counts it exactly", async () => {
  const json = async (path: string, body: unknown, token?: string) => {
    const r = await fetch(base + path, {
      method: "POST",
      headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    });
    if (r.status >= 300) throw new Error(`${path} ${r.status} ${await r.text()}`);
    return (await r.json()) as Record<string, any>;
  };
  const { token } = await json("/auth/signup", { email: "durable@example.com", password: "durable password" });
  const ws = await json("/workspaces", { name: "durable" }, token);
  const add = async (kind: "openai" | "anthropic" | "gemini", body: Record<string, unknown>, behaviour = {}) => {
    const m = await startMockUpstream(kind, { behaviour });
    mocks.push(m);
    return json(`/workspaces/${ws.id}/providers`, { type: kind, base_url: m.url, api_key: `sk-${kind}-durable-key-000`, ...body }, token);
  };
  await add("openai", { name: "broken", priority: 1, models: ["gpt-4o"] }, { status: 500 });
  await add(
    "openai",
    { name: "oa", priority: 2, models: ["gpt-4o", "gpt-4o-mini"] },
    { usage: { prompt: 100, completion: 20, cacheRead: 40 } },
  );
  await add(
    "anthropic",
    { name: "an", priority: 3, models: ["claude-sonnet-4-5"] },
    { usage: { prompt: 200, completion: 50, cacheRead: 100, cacheCreation: 50 } },
  );
  await add("gemini", { name: "ge", priority: 4, models: ["gemini-2.5-flash"] }, { usage: { prompt: 30, completion: 12, reasoning: 4 } });
  const { key } = await json(`/workspaces/${ws.id}/api-keys`, { name: "burst" }, token);
  const client = new OpenAI({ apiKey: key, baseURL: `${base}/v1`, maxRetries: 0 });

  const kinds = [
    { model: "gpt-4o-mini", stream: false, ok: true },
    { model: "gpt-4o", stream: true, ok: true }, // falls back from "broken"
    { model: "claude-sonnet-4-5", stream: false, ok: true },
    { model: "claude-sonnet-4-5", stream: true, ok: true },
    { model: "gemini-2.5-flash", stream: true, ok: true },
    { model: "gemini-2.5-flash", stream: false, ok: true },
    { model: "no-such-model", stream: false, ok: false },
  ];
  const N = 700;
  let done = 0;
  const statuses: number[] = [];
  // What went wrong with a request that should have been answered, so a failure can be told apart
  // from the outage it tests (a rare 598 of 600 was seen on loaded machines).
  const unexpected: string[] = [];
  const one = async (i: number) => {
    const k = kinds[i % kinds.length];
    try {
      if (k.stream) {
        const s = await client.chat.completions.create({
          model: k.model,
          stream: true,
          stream_options: { include_usage: true },
          messages: [{ role: "user", content: `n${i}` }],
        });
        for await (const _ of s);
      } else {
        await client.chat.completions.create({ model: k.model, messages: [{ role: "user", content: `n${i}` }] });
      }
      statuses.push(200);
    } catch (e) {
      const status = (e as { status?: number }).status ?? -1;
      statuses.push(status);
      if (k.ok) unexpected.push(`#${i} ${k.model}${k.stream ? " stream" : ""} after ${done} done: ${status} ${(e as Error).message}`);
    }
    done++;
  };
  const restart = (async () => {
    while (done < N / 3) await Bun.sleep(10);
    await pg("down", dir);
    while (done < (2 * N) / 3) await Bun.sleep(10);
    await Bun.sleep(300);
    await pg("up", dir);
  })();
  let next = 0;
  await Promise.all(
    Array.from({ length: 25 }, async () => {
      while (next < N) await one(next++);
    }),
  );
  await restart;

  // Every request was answered while the database was away.
  expect(unexpected).toEqual([]);
  expect(statuses.filter((s) => s === 200).length).toBe((N / kinds.length) * 6);
  expect(statuses.filter((s) => s === 404).length).toBe(N / kinds.length);
  expect(logs.some((l) => l.includes("spool") || l.includes("retry") || l.includes("failed"))).toBe(true);

  for (let i = 0; i < 100 && deps.logQueue.stats().queued > 0; i++) await deps.logQueue.flush();
  await deps.logQueue.flush();
  const sql = db.sql;
  const [{ n }] = await sql`select count(*)::int as n from request_logs`;
  expect(n).toBe(N);
  const [{ ids }] = await sql`select count(distinct request_id)::int as ids from request_logs`;
  expect(ids).toBe(N);

  // Counters equal the logs, per key.
  const fromLogs = await sql`
    select coalesce(provider_id, '') as provider_id, model_requested as model, count(*)::int as requests,
           sum(prompt_tokens)::int as prompt, sum(completion_tokens)::int as completion, sum(cost_usd)::numeric as cost
    from request_logs group by 1, 2 order by 1, 2`;
  const fromCounters = await sql`
    select provider_id, model, sum(requests)::int as requests, sum(prompt_tokens)::int as prompt,
           sum(completion_tokens)::int as completion, sum(cost_usd)::numeric as cost
    from usage_daily group by 1, 2 order by 1, 2`;
  expect(fromCounters.map((r) => ({ ...r, cost: Number(r.cost) }))).toEqual(fromLogs.map((r) => ({ ...r, cost: Number(r.cost) })));

  // Costs come from the price table: check one row of each answered model against prices.json.
  const table = prices.models as Record<string, { input: number; output: number; cached_input?: number; cache_write?: number }>;
  const row = async (model: string) => (await sql`select * from request_logs where model_requested = ${model} and status = 200 limit 1`)[0];
  const mini = await row("gpt-4o-mini");
  expect(mini.prompt_tokens).toBe(100);
  expect(mini.cached_tokens).toBe(40);
  expect(Number(mini.cost_usd)).toBeCloseTo(
    (60 * table["gpt-4o-mini"].input + 40 * table["gpt-4o-mini"].cached_input! + 20 * table["gpt-4o-mini"].output) / 1e6,
    12,
  );
  const claude = await row("claude-sonnet-4-5");
  expect(Number(claude.cost_usd)).toBeCloseTo(
    costFor("claude-sonnet-4-5", { prompt_tokens: 200, completion_tokens: 50, cached_tokens: 100, cache_creation_tokens: 50 })!,
    12,
  );
  const s45 = table["claude-sonnet-4-5"];
  expect(Number(claude.cost_usd)).toBeCloseTo(
    (50 * s45.input + 100 * s45.cached_input! + 50 * s45.cache_write! + 50 * s45.output) / 1e6,
    12,
  );
  const gem = await row("gemini-2.5-flash");
  expect(gem.completion_tokens).toBe(12);
  expect(Number(gem.cost_usd)).toBeCloseTo((30 * table["gemini-2.5-flash"].input + 12 * table["gemini-2.5-flash"].output) / 1e6, 12);
  // A fallen-back request carries both attempts (later ones skip "broken" while it cools down).
  const fell = (await sql`select attempts from request_logs where model_requested = 'gpt-4o' order by created_at limit 1`)[0];
  expect(fell.attempts.map((a: { provider_name: string }) => a.provider_name)).toEqual(["broken", "oa"]);
  expect(fell.attempts[0]).toMatchObject({ status: 500, error_class: "server" });
});
