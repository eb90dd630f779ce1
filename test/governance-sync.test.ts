import { afterAll, beforeAll, expect, test } from "bun:test";
import { testDatabase } from "./support/db.ts";
import { insertWorkspace, makeRecord } from "./support/logs.ts";
import { insertLogs, toRow } from "../src/telemetry/log-rows.ts";
import { Governor, type Scope } from "../src/governance/governor.ts";
import type { Sql } from "../src/db/client.ts";

// Two governors on one database stand for two instances, with syncs made by hand: what each
// knows between syncs, and what the shared counters hold after them.
let db: Awaited<ReturnType<typeof testDatabase>>;
let sql: Sql;
let ws = "";
const now = Date.UTC(2031, 5, 1, 10, 0, 5);
const govs: Governor[] = [];

beforeAll(async () => {
  db = await testDatabase();
  sql = db.sql;
  ws = await insertWorkspace(sql);
}, 120_000);
afterAll(async () => {
  await Promise.all(govs.map((g) => g.stop()));
  await db.close();
});

function governor(clock: () => number = () => now) {
  const g = new Governor(sql, { syncIntervalMs: 0, now: clock });
  govs.push(g);
  return g;
}

const keyScope = (id: string, limits: Partial<Scope["limits"]>): Scope => ({
  kind: "key",
  id: `key:${id}`,
  workspace_id: ws,
  key_id: id,
  limits: { rpm: null, tpm: null, budget: null, ...limits },
});

let n = 0;
const admitted = async (g: Governor, s: Scope, tokens = 0) => (await g.admit([s], tokens, `r${++n}`)).ok;

test("between syncs an instance knows only its own admissions; after both sync, the other's count is refused", async () => {
  const a = governor();
  const b = governor();
  const s = keyScope("k-sync", { rpm: 3 });
  for (let i = 0; i < 3; i++) expect(await admitted(a, s)).toBe(true);
  expect(await admitted(a, s)).toBe(false);
  // B loaded the scope before A's increments reached the database: it may admit up to A's unsynced traffic.
  expect(await admitted(b, s)).toBe(true);
  await a.sync();
  await b.sync();
  expect(await admitted(b, s)).toBe(false);
  await a.sync();
  expect(await admitted(a, s)).toBe(false);
  const [row] = await sql<{ requests: string }[]>`select requests from rate_windows where scope = 'key:k-sync'`;
  expect(Number(row.requests)).toBe(4); // exactly what the two admitted together
});

test("a scope an instance sees first is read from the database before its first admission", async () => {
  const a = governor();
  const s = keyScope("k-first", { rpm: 2 });
  expect(await admitted(a, s)).toBe(true);
  expect(await admitted(a, s)).toBe(true);
  await a.sync();
  const late = governor();
  expect(await admitted(late, s)).toBe(false);
});

test("settling replaces the token estimate, even downwards, in the minute it was admitted", async () => {
  const g = governor();
  const s = keyScope("k-settle", { tpm: 100 });
  expect((await g.admit([s], 90, "key-settle req-1")).ok).toBe(true);
  expect(await admitted(g, s, 20)).toBe(false);
  g.settle({ id: "log-1", reservationId: "key-settle req-1", scopes: [s.id], tokens: 30, cost: 0 });
  expect(await admitted(g, s, 70)).toBe(true);
  await g.sync();
  const [row] = await sql<{ tokens: string }[]>`select tokens from rate_windows where scope = 'key:k-settle'`;
  expect(Number(row.tokens)).toBe(100);
});

test("spend settled here counts at once, and once the log row is stored and read, exactly once", async () => {
  const g = governor(() => Date.now());
  const s = keyScope("k-spend", { budget: { usd: 1, period: "day" } });
  expect(await admitted(g, s)).toBe(true);
  g.settle({ id: "row-1", reservationId: "x", scopes: [s.id], tokens: 10, cost: 0.6 });
  expect(await admitted(g, s)).toBe(true); // 0.6 < 1
  g.settle({ id: "row-2", reservationId: "y", scopes: [s.id], tokens: 10, cost: 0.6 });
  expect(await admitted(g, s)).toBe(false); // 1.2
  // The log writer commits both rows (usage_key_daily) and says so; the next sync reads them.
  await sql`insert into usage_key_daily (workspace_id, day, api_key_id, requests, cost_usd)
    values (${ws}, (now() at time zone 'UTC')::date, 'k-spend', 2, 1.2)`;
  g.stored(["row-1", "row-2"]);
  await Bun.sleep(2);
  await g.sync();
  const refused = await g.admit([s], 0, "z");
  expect(refused.ok).toBe(false);
  if (refused.ok || !("budget" in refused)) throw new Error("expected a budget refusal");
  expect(refused.budget.spent).toBeCloseTo(1.2, 10);
});

test("the log writer counts usage_key_daily once per stored row: a replayed batch adds nothing, rows without a key are left out", async () => {
  const rows = [
    makeRecord(ws, { api_key_id: "k-count", prompt_tokens: 7, completion_tokens: 3, cost_usd: 0.5 }),
    makeRecord(ws, {
      api_key_id: "k-count",
      status: 429,
      error_class: "rate_limit_exceeded",
      prompt_tokens: 0,
      completion_tokens: 0,
      cost_usd: 0,
    }),
    makeRecord(ws, { api_key_id: null }),
  ].map(toRow);
  await insertLogs(sql, rows);
  await insertLogs(sql, rows); // a replay of the same records (spool, retry after a timeout)
  const counted =
    await sql`select api_key_id, requests::int, errors::int, prompt_tokens::int, completion_tokens::int, cost_usd::float8 as cost
    from usage_key_daily where workspace_id = ${ws} and api_key_id <> 'k-spend'`;
  expect([...counted]).toEqual([{ api_key_id: "k-count", requests: 2, errors: 1, prompt_tokens: 7, completion_tokens: 3, cost: 0.5 }]);
});
