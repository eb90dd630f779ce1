import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { gatewayHarness, type GatewayHarness } from "./support/gateway.ts";
import type { MockUpstream } from "./support/mock-upstreams.ts";
import { Governance } from "../src/governance/admit.ts";
import { authenticateApiKey } from "../src/api-keys/service.ts";
import { ApiError } from "../src/http/errors.ts";

// Budgets, per-key usage counters and tags, through the real HTTP surface. gpt-4o-mini costs
// $0.15 / $0.60 per million tokens; the mock reports 1,000 + 1,000 tokens: $0.00075 a request.
const COST = 0.00075;
let h: GatewayHarness;
let mock: MockUpstream;

beforeAll(async () => {
  h = await gatewayHarness({ governance: { syncIntervalMs: 0 } });
  mock = (await h.addProvider("openai", {}, { behaviour: { usage: { prompt: 1000, completion: 1000 } } })).mock!;
  // The first embedded database of a test process is built from scratch (initdb), which takes a while.
}, 120_000);
afterAll(() => h.close());
beforeEach(() => mock.reset());

const messages = [{ role: "user" as const, content: "hi" }];
const nextUtcMidnight = () => {
  const d = new Date();
  return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 1)).toISOString();
};

async function chat(key: string, over: Record<string, unknown> = {}) {
  const res = await fetch(`${h.base}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify({ model: "gpt-4o-mini", messages, ...over }),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, body: text.startsWith("{") ? JSON.parse(text) : null };
}

async function keyBudget(keyId: string, usd: number | null, period: string | null = usd === null ? null : "day") {
  await h.t.sql`update api_keys set budget_usd = ${usd}, budget_period = ${period} where id = ${keyId}`;
  h.t.deps.events.emit({ type: "api_key", workspace_id: h.ws.id });
}

async function workspaceBudget(usd: number | null, period: string | null = usd === null ? null : "month") {
  await h.t.sql`update workspaces set budget_usd = ${usd}, budget_period = ${period} where id = ${h.ws.id}`;
  h.t.deps.events.emit({ type: "workspace", workspace_id: h.ws.id });
}

describe("key budgets", () => {
  test("requests are admitted while spend is below the budget; the one after the crossing is refused with when it resets", async () => {
    const k = await h.createKey("budget");
    await keyBudget(k.id, 0.001);
    expect((await chat(k.key)).status).toBe(200); // spent 0
    expect((await chat(k.key)).status).toBe(200); // spent 0.00075 < 0.001; crosses to 0.0015
    const refused = await chat(k.key);
    expect(refused.status).toBe(429);
    expect(refused.body.error.code).toBe("budget_exceeded");
    expect(refused.body.error.message).toBe(
      `budget exceeded: this API key's budget of $0.0010 per day (UTC) is spent ($0.0015 used); it resets at ${nextUtcMidnight()}`,
    );
    expect(mock.chatRequests().length).toBe(2);
  });

  test("the stream that crosses the budget completes; the next request is refused", async () => {
    const k = await h.createKey("budget-stream");
    await keyBudget(k.id, 0.0005);
    const crossing = await chat(k.key, { stream: true });
    expect(crossing.status).toBe(200);
    expect(crossing.text).toContain("data: [DONE]");
    expect(crossing.text).not.toContain('"error"');
    const next = await chat(k.key, { stream: true });
    expect(next.status).toBe(429);
    expect(next.body.error.code).toBe("budget_exceeded");
    expect(mock.chatRequests().length).toBe(1);
  });

  test("spend another instance counted in usage_key_daily is refused here after the next sync; a total budget never resets", async () => {
    const k = await h.createKey("budget-total");
    await keyBudget(k.id, 1, "total");
    expect((await chat(k.key)).status).toBe(200);
    await h.t.sql`insert into usage_key_daily (workspace_id, day, api_key_id, requests, cost_usd)
      values (${h.ws.id}, '2020-01-01', ${k.id}, 1, 2)`;
    await h.t.deps.gateway.governance.governor.sync();
    const refused = await chat(k.key);
    expect(refused.status).toBe(429);
    expect(refused.body.error.message).toContain("this API key's budget of $1.00 in total is spent");
    expect(refused.body.error.message).toContain("it resets never");
  });

  test("a restarted instance reads the spend before its first admission", async () => {
    const k = await h.createKey("budget-restart");
    await keyBudget(k.id, 0.0005);
    expect((await chat(k.key)).status).toBe(200);
    await h.t.deps.logQueue.flush();
    // A new process: nothing in memory, only what the database holds.
    const restarted = new Governance(h.t.sql, { unpricedModels: "allow", syncIntervalMs: 0 });
    const key = (await authenticateApiKey(h.t.sql, k.key))!;
    const err = await restarted
      .admit(key, { providers: [], logContent: false }, { model: "gpt-4o-mini", estimatedTokens: 10, requestId: "r1" })
      .catch((e) => e);
    await restarted.stop();
    expect(err).toBeInstanceOf(ApiError);
    expect(err.code).toBe("budget_exceeded");
  });
});

describe("workspace budgets", () => {
  test("spend in usage_daily refuses every key of the workspace, naming the workspace's budget", async () => {
    const a = await h.createKey("ws-budget-a");
    const b = await h.createKey("ws-budget-b");
    await workspaceBudget(50);
    try {
      expect((await chat(a.key)).status).toBe(200);
      await h.t.sql`insert into usage_daily (workspace_id, day, provider_id, model, requests, cost_usd)
        values (${h.ws.id}, (now() at time zone 'UTC')::date, 'elsewhere', 'gpt-4o', 1, 60)`;
      await h.t.deps.gateway.governance.governor.sync();
      for (const k of [a, b]) {
        const r = await chat(k.key);
        expect(r.status).toBe(429);
        expect(r.body.error.message).toContain("this workspace's budget of $50.00 per month (UTC) is spent");
      }
    } finally {
      await workspaceBudget(null);
      await h.t.sql`delete from usage_daily where provider_id = 'elsewhere'`;
    }
  });
});

describe("unpriced models", () => {
  test("UNPRICED_MODELS=allow (the default) serves a model without a price under a budget", async () => {
    const k = await h.createKey("unpriced-allow");
    await keyBudget(k.id, 5);
    expect((await chat(k.key, { model: "house-model-7" })).status).toBe(200);
  });

  test("UNPRICED_MODELS=refuse refuses a model without a price only where a budget applies", async () => {
    const r = await gatewayHarness({ config: { unpricedModels: "refuse" }, governance: { syncIntervalMs: 0 } });
    try {
      const up = (await r.addProvider("openai")).mock!;
      const budgeted = await r.createKey("budgeted");
      await r.t.sql`update api_keys set budget_usd = 5, budget_period = 'month' where id = ${budgeted.id}`;
      r.t.deps.events.emit({ type: "api_key", workspace_id: r.ws.id });
      const call = (key: string, model: string) =>
        fetch(`${r.base}/v1/chat/completions`, {
          method: "POST",
          headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
          body: JSON.stringify({ model, messages }),
        });
      const refused = await call(budgeted.key, "house-model-7");
      expect(refused.status).toBe(403);
      const body = await refused.json();
      expect(body.error).toMatchObject({ code: "unpriced_model", param: "model" });
      expect(body.error.message).toContain("has no known price");
      expect(up.chatRequests().length).toBe(0);
      expect((await call(budgeted.key, "gpt-4o-mini")).status).toBe(200);
      expect((await call(r.key, "house-model-7")).status).toBe(200);
    } finally {
      await r.close();
    }
  });
});

describe("usage per key and tags", () => {
  test("usage_key_daily equals the log rows of each key, refusals counted as errors", async () => {
    const a = await h.createKey("count-a");
    const b = await h.createKey("count-b");
    await h.t.sql`update api_keys set allowed_models = '{gpt-4o-mini}' where id = ${b.id}`;
    h.t.deps.events.emit({ type: "api_key", workspace_id: h.ws.id });
    for (let i = 0; i < 3; i++) expect((await chat(a.key)).status).toBe(200);
    expect((await chat(b.key, { stream: true, stream_options: { include_usage: true } })).status).toBe(200);
    expect((await chat(b.key, { model: "o3" })).status).toBe(403);
    await h.t.deps.logQueue.flush();
    const fromLogs = await h.t.sql`
      select api_key_id, count(*)::int as requests, count(*) filter (where status >= 400)::int as errors,
             sum(prompt_tokens)::int as prompt_tokens, sum(completion_tokens)::int as completion_tokens, sum(cost_usd)::float8 as cost
      from request_logs where api_key_id in (${a.id}, ${b.id}) group by api_key_id order by api_key_id`;
    const counted = await h.t.sql`
      select api_key_id, sum(requests)::int as requests, sum(errors)::int as errors,
             sum(prompt_tokens)::int as prompt_tokens, sum(completion_tokens)::int as completion_tokens, sum(cost_usd)::float8 as cost
      from usage_key_daily where api_key_id in (${a.id}, ${b.id}) group by api_key_id order by api_key_id`;
    expect(counted).toEqual(fromLogs);
    const byKey = Object.fromEntries(counted.map((r: any) => [r.api_key_id, r]));
    expect(byKey[a.id]).toMatchObject({ requests: 3, errors: 0, prompt_tokens: 3000 });
    expect(byKey[b.id]).toMatchObject({ requests: 2, errors: 1 });
    expect(byKey[a.id].cost).toBeCloseTo(3 * COST, 10);
  });

  test("the key's tags are copied onto each of its log rows; a key without tags leaves them null", async () => {
    const tagged = await h.createKey("tagged");
    const plain = await h.createKey("plain");
    await h.t.sql`update api_keys set tags = '{team:search,env:prod}' where id = ${tagged.id}`;
    h.t.deps.events.emit({ type: "api_key", workspace_id: h.ws.id });
    expect((await chat(tagged.key)).status).toBe(200);
    expect((await chat(tagged.key, { model: "" })).status).toBe(400);
    expect((await chat(plain.key)).status).toBe(200);
    await h.t.deps.logQueue.flush();
    const rows = await h.t.sql<{ api_key_id: string; tags: string[] | null }[]>`
      select api_key_id, tags from request_logs where api_key_id in (${tagged.id}, ${plain.id})`;
    expect(rows.filter((r) => r.api_key_id === tagged.id).map((r) => r.tags)).toEqual([
      ["team:search", "env:prod"],
      ["team:search", "env:prod"],
    ]);
    expect(rows.filter((r) => r.api_key_id === plain.id).map((r) => r.tags)).toEqual([null]);
  });
});
