import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { migrations } from "../src/db/migrations.ts";
import { startMockUpstream, type MockUpstream } from "./support/mock-upstreams.ts";
import { apiClient, chat, privateDatabase, startServer, type ServerProcess } from "./support/processes.ts";

// Two real server processes on one PostgreSQL database, as in a deployment with two replicas:
// they start together on an empty database, each sees the other's changes to keys and providers
// within a second (LISTEN/NOTIFY), and usage counted through both is exact. test/gateway-instances
// covers the same caches in-process; this file runs the real start-up and shutdown.
const serverUrl = process.env.DATABASE_URL;
if (!serverUrl) console.warn("two-instances.test.ts: skipped, it needs DATABASE_URL (a PostgreSQL server)");

const HONOUR_WITHIN_MS = 1000;
let db: { url: string; drop(): Promise<void> };
let sql: postgres.Sql;
let a: ServerProcess;
let b: ServerProcess;
let dirs: string[] = [];
const mocks: MockUpstream[] = [];
let owner = "";
let wsId = "";

beforeAll(async () => {
  if (!serverUrl) return;
  db = await privateDatabase(serverUrl, "perpetuo_two");
  dirs = [0, 1].map(() => mkdtempSync(join(tmpdir(), "perpetuo-two-")));
  // Started together on an empty database: both run the migrations at once.
  [a, b] = await Promise.all(dirs.map((d) => startServer({ DATA_DIR: d, DATABASE_URL: db.url })));
  sql = postgres(db.url, { max: 2, onnotice: () => {} });
  const api = apiClient(a.base);
  owner = (await api("POST", "/auth/signup", { email: "two@example.com", password: "two instances pw" })).token;
  wsId = (await api("POST", "/workspaces", { name: "two" }, owner)).id;
}, 180_000);

afterAll(async () => {
  if (!serverUrl) return;
  await Promise.all([a, b].map((s) => s?.kill("SIGKILL")));
  await Promise.all(mocks.map((m) => m.stop()));
  await sql?.end();
  await db?.drop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function mock(key: string, text?: string) {
  const m = await startMockUpstream("openai", { expectedKey: key, behaviour: text ? { text } : {} });
  mocks.push(m);
  return m;
}

/** Polls `check` until it holds; the time it took, or throws after `limitMs`. */
async function honoured(what: string, check: () => Promise<boolean>, limitMs = HONOUR_WITHIN_MS): Promise<number> {
  const start = performance.now();
  for (;;) {
    if (await check()) return performance.now() - start;
    if (performance.now() - start > limitMs) throw new Error(`${what}: not honoured within ${limitMs} ms`);
    await Bun.sleep(10);
  }
}

test.if(!!serverUrl)("two instances started together on an empty database apply each migration exactly once", async () => {
  const rows = await sql<
    { version: number; n: number }[]
  >`select version, count(*)::int as n from schema_migrations group by version order by version`;
  expect(rows.map((r) => r.version)).toEqual(migrations.map((m) => m.version));
  expect(rows.every((r) => r.n === 1)).toBe(true);
  expect(a.output()).not.toMatch(/failed to start|error/i);
  expect(b.output()).not.toMatch(/failed to start|error/i);
});

test.if(!!serverUrl)("a key revoked through one instance is refused by the other within 1 s", async () => {
  const api = apiClient(a.base);
  const up = await mock("sk-two-revoke-0123456789");
  await api(
    "POST",
    `/workspaces/${wsId}/providers`,
    { name: "revoke-up", type: "openai", base_url: up.url, api_key: "sk-two-revoke-0123456789", models: ["revoke-model"] },
    owner,
  );
  const created = await api("POST", `/workspaces/${wsId}/api-keys`, { name: "revoke me" }, owner);
  // Cached as active on B first, so only the invalidation can make B refuse it.
  expect((await chat(b.base, created.key, "revoke-model")).status).toBe(200);
  expect((await chat(b.base, created.key, "revoke-model")).status).toBe(200);
  await api("POST", `/workspaces/${wsId}/api-keys/${created.id}/revoke`, undefined, owner);
  const ms = await honoured(
    "revocation on the other instance",
    async () => (await chat(b.base, created.key, "revoke-model")).status === 401,
  );
  console.log(`two instances: a revocation through A was honoured by B after ${ms.toFixed(0)} ms`);
  // And it stays refused on both.
  expect((await chat(b.base, created.key, "revoke-model")).status).toBe(401);
  expect((await chat(a.base, created.key, "revoke-model")).status).toBe(401);
});

test.if(!!serverUrl)("a provider disabled or moved through one instance is honoured by the other within 1 s", async () => {
  const api = apiClient(b.base); // edits through B this time, observed on A
  const first = await mock("sk-two-move-0123456789", "from the first server");
  const second = await mock("sk-two-move-0123456789", "from the second server");
  const p = await api(
    "POST",
    `/workspaces/${wsId}/providers`,
    { name: "move-up", type: "openai", base_url: first.url, api_key: "sk-two-move-0123456789", models: ["move-model"] },
    owner,
  );
  const { key } = await api("POST", `/workspaces/${wsId}/api-keys`, { name: "mover" }, owner);
  const answer = async () => {
    const r = await chat(a.base, key, "move-model");
    return r.status === 200 ? (JSON.parse(r.text).choices[0].message.content as string) : r.status;
  };
  expect(await answer()).toBe("from the first server");

  await api("PUT", `/workspaces/${wsId}/providers/${p.id}`, { enabled: false }, owner);
  await honoured("a disabled provider on the other instance", async () => (await answer()) === 404);

  await api("PUT", `/workspaces/${wsId}/providers/${p.id}`, { enabled: true }, owner);
  await honoured("a re-enabled provider on the other instance", async () => (await answer()) === "from the first server");

  // A moved base_url may require the key again (issue 11, item 4): send it along.
  await api("PUT", `/workspaces/${wsId}/providers/${p.id}`, { base_url: second.url, api_key: "sk-two-move-0123456789" }, owner);
  await honoured("a new base_url on the other instance", async () => (await answer()) === "from the second server");
  const before = first.chatRequests().length;
  expect(await answer()).toBe("from the second server");
  expect(first.chatRequests().length).toBe(before);
});

test.if(!!serverUrl)(
  "usage counted through both instances is exact: requests sent = log rows = counters",
  async () => {
    const api = apiClient(a.base);
    const up = await mock("sk-two-usage-0123456789");
    await api(
      "POST",
      `/workspaces/${wsId}/providers`,
      { name: "usage-up", type: "openai", base_url: up.url, api_key: "sk-two-usage-0123456789", models: ["usage-model"] },
      owner,
    );
    const { key, id: keyId } = await api("POST", `/workspaces/${wsId}/api-keys`, { name: "usage" }, owner);
    const N = 400;
    let next = 0;
    let ok = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < N) {
          const i = next++;
          if ((await chat(i % 2 ? a.base : b.base, key, "usage-model", i % 4 < 2)).ok) ok++;
        }
      }),
    );
    expect(ok).toBe(N);
    // SIGTERM writes what each instance still holds in memory.
    expect(await a.kill("SIGTERM")).toBe(0);
    expect(await b.kill("SIGTERM")).toBe(0);

    const [logs] =
      await sql`select count(*)::int as n, count(distinct request_id)::int as ids, sum(prompt_tokens)::int as prompt, sum(completion_tokens)::int as completion
                           from request_logs where api_key_id = ${keyId}`;
    expect(logs).toEqual({ n: N, ids: N, prompt: N * 10, completion: N * 5 });
    const [counters] =
      await sql`select sum(requests)::int as n, sum(prompt_tokens)::int as prompt, sum(completion_tokens)::int as completion
                               from usage_daily where workspace_id = ${wsId} and model = 'usage-model'`;
    expect(counters).toEqual({ n: N, prompt: N * 10, completion: N * 5 });
    // And over the whole database, counters equal logs.
    const [all] =
      await sql`select (select count(*)::int from request_logs) as logs, (select sum(requests)::int from usage_daily) as counted`;
    expect(all.counted).toBe(all.logs);
  },
  120_000,
);
