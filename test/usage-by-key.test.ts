/**
 * Usage per gateway key (GET /workspaces/:id/usage/by-key, from usage_key_daily) and the logs'
 * tag filter and key name (GET /workspaces/:id/logs). Counters and log tags are seeded with SQL:
 * the log writer fills them in production.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { testApp, type TestApp } from "./support/app.ts";
import { makeRecord } from "./support/logs.ts";
import type { RequestRecord } from "../src/telemetry/types.ts";

let t: TestApp;
let owner: Awaited<ReturnType<TestApp["signup"]>>;
let ws: { id: string };
let keys: Record<"search" | "batch" | "gone", { id: string; prefix: string }>;

const get = (path: string, token = owner.token) => t.call("GET", path, { token });

async function mint(name: string, extra: Record<string, unknown> = {}) {
  const r = await t.call("POST", `/workspaces/${ws.id}/api-keys`, { token: owner.token, body: { name, ...extra } });
  if (r.status !== 201) throw new Error(`${r.status} ${r.text}`);
  return r.body as { id: string; prefix: string };
}

async function seed(
  keyId: string,
  day: string,
  row: { requests: number; errors?: number; prompt?: number; completion?: number; cost: number; unpriced?: number },
  workspaceId = ws.id,
) {
  await t.sql`
    insert into usage_key_daily (workspace_id, day, api_key_id, requests, errors, prompt_tokens, completion_tokens, cost_usd, unpriced_requests)
    values (${workspaceId}, ${day}::date, ${keyId}, ${row.requests}, ${row.errors ?? 0}, ${row.prompt ?? 0}, ${row.completion ?? 0}, ${row.cost}, ${row.unpriced ?? 0})`;
}

/** Log rows through the real writer, then the tags the enforcement side copies onto them. */
async function storeLogs(rows: { record: RequestRecord; tags: string[] | null }[]) {
  for (const r of rows) t.deps.logQueue.enqueue(r.record);
  await t.deps.logQueue.flush();
  for (const r of rows)
    await t.sql`update request_logs set tags = ${r.tags === null ? null : t.sql.array(r.tags)}::text[] where id = ${r.record.id}`;
}

beforeAll(async () => {
  t = await testApp();
  owner = await t.signup();
  ws = await t.workspace(owner.token);
  keys = { search: await mint("search", { tags: ["team:search"] }), batch: await mint("batch"), gone: await mint("gone") };
  await t.call("POST", `/workspaces/${ws.id}/api-keys/${keys.batch.id}/revoke`, { token: owner.token });
  await seed(keys.search.id, "2025-04-01", { requests: 3, errors: 1, prompt: 300, completion: 30, cost: 0.1 });
  await seed(keys.search.id, "2025-04-02", { requests: 2, prompt: 200, completion: 20, cost: 0.2, unpriced: 1 });
  await seed(keys.batch.id, "2025-04-02", { requests: 10, prompt: 1000, completion: 500, cost: 1.5 });
  await seed(keys.gone.id, "2025-04-03", { requests: 1, cost: 0.01 });
  // Outside the range, and another workspace's row.
  await seed(keys.search.id, "2025-04-04", { requests: 50, cost: 50 });
  const other = await t.workspace(owner.token, "Other");
  await seed(keys.search.id, "2025-04-02", { requests: 70, cost: 70 }, other.id);
  await t.call("DELETE", `/workspaces/${ws.id}/api-keys/${keys.gone.id}`, { token: owner.token });
});
afterAll(() => t.close());

describe("GET /workspaces/:id/usage/by-key", () => {
  test("sums each key's days in the range, most expensive first, with name, prefix and state", async () => {
    const r = await get(`/workspaces/${ws.id}/usage/by-key?from=2025-04-01&to=2025-04-03`);
    expect(r.status).toBe(200);
    expect(r.body.from).toBe("2025-04-01");
    expect(r.body.to).toBe("2025-04-03");
    expect(r.body.data).toEqual([
      {
        api_key_id: keys.batch.id,
        name: "batch",
        prefix: keys.batch.prefix,
        revoked: true,
        deleted: false,
        requests: 10,
        errors: 0,
        prompt_tokens: 1000,
        completion_tokens: 500,
        cost_usd: 1.5,
        unpriced_requests: 0,
      },
      // 0.1 + 0.2 summed as numerics: exactly 0.3.
      {
        api_key_id: keys.search.id,
        name: "search",
        prefix: keys.search.prefix,
        revoked: false,
        deleted: false,
        requests: 5,
        errors: 1,
        prompt_tokens: 500,
        completion_tokens: 50,
        cost_usd: 0.3,
        unpriced_requests: 1,
      },
      {
        api_key_id: keys.gone.id,
        name: null,
        prefix: null,
        revoked: false,
        deleted: true,
        requests: 1,
        errors: 0,
        prompt_tokens: 0,
        completion_tokens: 0,
        cost_usd: 0.01,
        unpriced_requests: 0,
      },
    ]);
  });

  test("follows the usage routes' query conventions: defaults, a bad date and a reversed range are 422", async () => {
    const none = await get(`/workspaces/${ws.id}/usage/by-key`);
    expect(none.status).toBe(200);
    expect(none.body.to).toBe(new Date().toISOString().slice(0, 10));
    expect(none.body.data).toEqual([]);
    const bad = await get(`/workspaces/${ws.id}/usage/by-key?from=2025-02-30`);
    expect(bad.status).toBe(422);
    expect(bad.body.error.param).toBe("from");
    const reversed = await get(`/workspaces/${ws.id}/usage/by-key?from=2025-04-03&to=2025-04-01`);
    expect(reversed.status).toBe(422);
  });

  test("any member may read it; another workspace's user gets 404", async () => {
    const member = await t.member(ws.id);
    expect((await get(`/workspaces/${ws.id}/usage/by-key?from=2025-04-01&to=2025-04-03`, member.token)).body.data).toHaveLength(3);
    const stranger = await t.signup();
    expect((await get(`/workspaces/${ws.id}/usage/by-key`, stranger.token)).status).toBe(404);
  });
});

describe("logs: tags and key names", () => {
  let ids: Record<string, string>;
  beforeAll(async () => {
    const logWs = await t.workspace(owner.token, "Logs");
    const k = async (name: string) =>
      (await t.call("POST", `/workspaces/${logWs.id}/api-keys`, { token: owner.token, body: { name } })).body.id as string;
    const [searchKey, otherKey, deletedKey] = [await k("search <b>"), await k("other"), await k("deleted")];
    const at = (m: number) => new Date(Date.parse("2025-05-01T00:00:00Z") + m * 60_000).toISOString();
    const rows = [
      { name: "tagged", record: makeRecord(logWs.id, { api_key_id: searchKey, created_at: at(1) }), tags: ["team:search", "env:prod"] },
      { name: "prefix", record: makeRecord(logWs.id, { api_key_id: otherKey, created_at: at(2) }), tags: ["team:searchers"] },
      { name: "untagged", record: makeRecord(logWs.id, { api_key_id: otherKey, created_at: at(3) }), tags: null },
      { name: "deleted", record: makeRecord(logWs.id, { api_key_id: deletedKey, created_at: at(4) }), tags: ["team:search"] },
      { name: "keyless", record: makeRecord(logWs.id, { api_key_id: null, created_at: at(5) }), tags: null },
    ];
    await storeLogs(rows);
    await t.call("DELETE", `/workspaces/${logWs.id}/api-keys/${deletedKey}`, { token: owner.token });
    ids = Object.fromEntries(rows.map((r) => [r.name, r.record.id]));
    ids.ws = logWs.id;
  });

  test("?tag= keeps the rows whose tags contain exactly that tag", async () => {
    const r = await get(`/workspaces/${ids.ws}/logs?tag=team:search`);
    expect(r.status).toBe(200);
    expect(r.body.items.map((i: { id: string }) => i.id)).toEqual([ids.deleted, ids.tagged]);
    expect(r.body.total).toBe(2);
    const env = await get(`/workspaces/${ids.ws}/logs?tag=${encodeURIComponent("env:prod")}`);
    expect(env.body.items.map((i: { id: string }) => i.id)).toEqual([ids.tagged]);
    expect((await get(`/workspaces/${ids.ws}/logs?tag=nothing`)).body.items).toEqual([]);
  });

  test("a tag longer than 64 characters is 422 naming the query parameter", async () => {
    const r = await get(`/workspaces/${ids.ws}/logs?tag=${"x".repeat(65)}`);
    expect(r.status).toBe(422);
    expect(r.body.error.param).toBe("tag");
  });

  test("list and detail rows carry tags (empty when none) and the key's current name (null when deleted or keyless)", async () => {
    const r = await get(`/workspaces/${ids.ws}/logs`);
    const byId = Object.fromEntries(
      r.body.items.map((i: { id: string; tags: string[]; api_key_name: string | null }) => [
        i.id,
        { tags: i.tags, api_key_name: i.api_key_name },
      ]),
    );
    expect(byId).toEqual({
      [ids.tagged]: { tags: ["team:search", "env:prod"], api_key_name: "search <b>" },
      [ids.prefix]: { tags: ["team:searchers"], api_key_name: "other" },
      [ids.untagged]: { tags: [], api_key_name: "other" },
      [ids.deleted]: { tags: ["team:search"], api_key_name: null },
      [ids.keyless]: { tags: [], api_key_name: null },
    });
    const detail = await get(`/workspaces/${ids.ws}/logs/${ids.tagged}`);
    expect(detail.body).toMatchObject({ tags: ["team:search", "env:prod"], api_key_name: "search <b>" });
    const gone = await get(`/workspaces/${ids.ws}/logs/${ids.deleted}`);
    expect(gone.body).toMatchObject({ tags: ["team:search"], api_key_name: null });
  });
});
