import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { startMockUpstream, type MockUpstream } from "./support/mock-upstreams.ts";
import { apiClient, chat, privateDatabase, startServer, type ServerProcess } from "./support/processes.ts";

// Rate limits and budgets across two real server processes that share one PostgreSQL database and
// nothing else. Each instance syncs every 500 ms (src/governance/governor.ts): what one admits is
// counted by the other within two sync intervals, so the overshoot is bounded by what the other
// instance admits in that time, and a single instance never exceeds a limit on its own.
const serverUrl = process.env.DATABASE_URL;
if (!serverUrl) console.warn("governance-instances.test.ts: skipped, it needs DATABASE_URL (a PostgreSQL server)");

const SYNC_MS = 500;
/** Two sync intervals and a margin for the statement and a busy machine. */
const SETTLE_MS = 2 * SYNC_MS + 700;
const KEY = "sk-gov-two-0123456789abcdef";
let db: { url: string; drop(): Promise<void> };
let sql: postgres.Sql;
let a: ServerProcess;
let b: ServerProcess;
let dirs: string[] = [];
let up: MockUpstream;
let owner = "";
let wsId = "";

beforeAll(async () => {
  if (!serverUrl) return;
  db = await privateDatabase(serverUrl, "perpetuo_gov");
  dirs = [0, 1].map(() => mkdtempSync(join(tmpdir(), "perpetuo-gov-")));
  [a, b] = await Promise.all(dirs.map((d) => startServer({ DATA_DIR: d, DATABASE_URL: db.url })));
  sql = postgres(db.url, { max: 2, onnotice: () => {} });
  const api = apiClient(a.base);
  owner = (await api("POST", "/auth/signup", { email: "gov@example.com", password: "governance two pw" })).token;
  wsId = (await api("POST", "/workspaces", { name: "gov" }, owner)).id;
  // $0.15 + $0.60 per million tokens: $0.00075 a request.
  up = await startMockUpstream("openai", { expectedKey: KEY, behaviour: { usage: { prompt: 1000, completion: 1000 } } });
  await api("POST", `/workspaces/${wsId}/providers`, { name: "up", type: "openai", base_url: up.url, api_key: KEY }, owner);
}, 180_000);

afterAll(async () => {
  if (!serverUrl) return;
  await Promise.all([a, b].map((s) => s?.kill("SIGKILL")));
  await up?.stop();
  await sql?.end();
  await db?.drop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A new key with limits set before any instance has seen it. */
async function limitedKey(set: { rpm?: number; budget?: number }): Promise<{ id: string; key: string }> {
  const k = await apiClient(a.base)("POST", `/workspaces/${wsId}/api-keys`, { name: "limited" }, owner);
  await sql`update api_keys set rpm_limit = ${set.rpm ?? null}, budget_usd = ${set.budget ?? null},
    budget_period = ${set.budget ? "day" : null} where id = ${k.id}`;
  return { id: k.id, key: k.key };
}

/** Windows are UTC minutes: start a test early enough in one that it cannot cross into the next. */
async function earlyInMinute(): Promise<void> {
  const into = Date.now() % 60_000;
  if (into > 40_000) await Bun.sleep(60_000 - into + 500);
}

test.if(!!serverUrl)(
  "requests admitted by one instance are counted by the other within two sync intervals",
  async () => {
    await earlyInMinute();
    const k = await limitedKey({ rpm: 6 });
    for (let i = 0; i < 6; i++) expect((await chat(a.base, k.key, "gpt-4o-mini")).status).toBe(200);
    await Bun.sleep(SETTLE_MS);
    const other = await chat(b.base, k.key, "gpt-4o-mini");
    expect(other.status).toBe(429);
    expect(JSON.parse(other.text).error.code).toBe("rate_limit_exceeded");
    expect((await chat(a.base, k.key, "gpt-4o-mini")).status).toBe(429);
  },
  90_000,
);

test.if(!!serverUrl)(
  "under load on both at once the overshoot is bounded, the shared count is exact, and both refuse after the sync",
  async () => {
    await earlyInMinute();
    const limit = 10;
    const k = await limitedKey({ rpm: limit });
    const burst = (base: string) => Promise.all(Array.from({ length: 15 }, () => chat(base, k.key, "gpt-4o-mini")));
    const [atA, atB] = await Promise.all([burst(a.base), burst(b.base)]);
    const okA = atA.filter((r) => r.status === 200).length;
    const okB = atB.filter((r) => r.status === 200).length;
    // Each instance alone is exact; together they exceed the limit by at most what the other admitted
    // before the next sync, which within one burst is at most its own share.
    expect(okA).toBeLessThanOrEqual(limit);
    expect(okB).toBeLessThanOrEqual(limit);
    expect(okA + okB).toBeGreaterThanOrEqual(limit);
    expect([...atA, ...atB].every((r) => r.status === 200 || r.status === 429)).toBe(true);
    await Bun.sleep(SETTLE_MS);
    const [{ requests }] = await sql<{ requests: number }[]>`
    select coalesce(sum(requests), 0)::int as requests from rate_windows where scope = ${`key:${k.id}`}`;
    expect(requests).toBe(okA + okB);
    expect((await chat(a.base, k.key, "gpt-4o-mini")).status).toBe(429);
    expect((await chat(b.base, k.key, "gpt-4o-mini")).status).toBe(429);
  },
  90_000,
);

test.if(!!serverUrl)(
  "a budget spent through one instance is refused by the other once the spend is written and synced",
  async () => {
    const k = await limitedKey({ budget: 0.001 });
    const before = up.chatRequests().length;
    expect((await chat(a.base, k.key, "gpt-4o-mini")).status).toBe(200);
    expect((await chat(a.base, k.key, "gpt-4o-mini")).status).toBe(200);
    const refusedHere = await chat(a.base, k.key, "gpt-4o-mini");
    expect(refusedHere.status).toBe(429);
    // The log writer commits within ~200 ms; the other instance reads the counters at its next sync.
    await Bun.sleep(SETTLE_MS + 300);
    const refusedThere = await chat(b.base, k.key, "gpt-4o-mini");
    expect(refusedThere.status).toBe(429);
    expect(JSON.parse(refusedThere.text).error.code).toBe("budget_exceeded");
    expect(up.chatRequests().length - before).toBe(2);
  },
  90_000,
);

test.if(!!serverUrl)(
  "a limit set on a key another instance has cached is enforced there once the change is announced",
  async () => {
    const k = await limitedKey({});
    const call = () =>
      fetch(`${b.base}/v1/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${k.key}`, "content-type": "application/json" },
        body: JSON.stringify({ model: "gpt-4o-mini", messages: [{ role: "user", content: "hi" }] }),
      });
    const before = await call();
    await before.text();
    expect(before.headers.get("x-ratelimit-limit-requests")).toBeNull();
    // What the management API does: change the row, then announce it (as for a revocation).
    await sql`update api_keys set rpm_limit = 100 where id = ${k.id}`;
    await sql`select pg_notify('perpetuo_changes', ${JSON.stringify({ type: "api_key", workspace_id: wsId })})`;
    const until = Date.now() + 2_000;
    let limit: string | null = null;
    while (limit === null && Date.now() < until) {
      const r = await call();
      await r.text();
      limit = r.headers.get("x-ratelimit-limit-requests");
      if (limit === null) await Bun.sleep(20);
    }
    expect(limit).toBe("100");
  },
  30_000,
);
