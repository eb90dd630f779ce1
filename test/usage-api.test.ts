import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { testApp, type TestApp } from "./support/app.ts";
import { makeRecord } from "./support/logs.ts";
import { usageRange } from "../src/usage/service.ts";
import type { RequestRecord } from "../src/telemetry/types.ts";

let t: TestApp;
let owner: Awaited<ReturnType<TestApp["signup"]>>;
let ws: { id: string };

async function store(records: RequestRecord[]) {
  for (const r of records) t.deps.logQueue.enqueue(r);
  await t.deps.logQueue.flush();
}
const get = (path: string, token = owner.token) => t.call("GET", path, { token });

beforeAll(async () => {
  t = await testApp();
  owner = await t.signup();
  ws = await t.workspace(owner.token);
  await t.sql`insert into provider_keys (id, workspace_id, name, type, priority) values ('prov_a', ${ws.id}, 'Primary OpenAI', 'openai', 1)`;
  await store([
    // 2025-04-01: two OpenAI requests (one cached), one failure nobody answered.
    makeRecord(ws.id, {
      created_at: "2025-04-01T00:00:00.000Z",
      provider_id: "prov_a",
      model_used: "gpt-4o",
      prompt_tokens: 100,
      completion_tokens: 10,
      cached_tokens: 40,
      cost_usd: 0.1,
    }),
    makeRecord(ws.id, {
      created_at: "2025-04-01T23:59:59.999Z",
      provider_id: "prov_a",
      model_used: "gpt-4o",
      prompt_tokens: 200,
      completion_tokens: 20,
      cost_usd: 0.2,
    }),
    makeRecord(ws.id, {
      created_at: "2025-04-01T12:00:00.000Z",
      provider_id: null,
      model_requested: "gpt-5",
      model_used: null,
      status: 503,
      error_class: "no_provider",
      prompt_tokens: 0,
      completion_tokens: 0,
      cost_usd: null,
    }),
    // 2025-04-03: an Anthropic request with reasoning, and one on a model without a price.
    makeRecord(ws.id, {
      created_at: "2025-04-03T08:00:00.000Z",
      provider_id: "prov_b",
      model_used: "claude-sonnet-4-5",
      prompt_tokens: 1000,
      completion_tokens: 500,
      reasoning_tokens: 300,
      cost_usd: 0.0105,
    }),
    makeRecord(ws.id, {
      created_at: "2025-04-03T09:00:00.000Z",
      provider_id: "prov_b",
      model_used: "my-finetune",
      prompt_tokens: 7,
      completion_tokens: 3,
      cost_usd: null,
    }),
    // Just outside the range asked for below.
    makeRecord(ws.id, {
      created_at: "2025-04-04T00:00:00.000Z",
      provider_id: "prov_a",
      model_used: "gpt-4o",
      prompt_tokens: 5,
      completion_tokens: 5,
      cost_usd: 5,
    }),
    makeRecord(ws.id, {
      created_at: "2025-03-31T23:59:59.999Z",
      provider_id: "prov_a",
      model_used: "gpt-4o",
      prompt_tokens: 5,
      completion_tokens: 5,
      cost_usd: 5,
    }),
  ]);
});
afterAll(() => t.close());

const zero = {
  requests: 0,
  errors: 0,
  prompt_tokens: 0,
  completion_tokens: 0,
  cached_tokens: 0,
  reasoning_tokens: 0,
  cost_usd: 0,
  unpriced_requests: 0,
};

describe("summary", () => {
  test("totals and every day of the range, zeros filled, both ends inclusive", async () => {
    const r = await get(`/workspaces/${ws.id}/usage?from=2025-04-01&to=2025-04-03`);
    expect(r.status).toBe(200);
    expect(r.body.from).toBe("2025-04-01");
    expect(r.body.to).toBe("2025-04-03");
    expect(r.body.totals).toEqual({
      requests: 5,
      errors: 1,
      prompt_tokens: 1307,
      completion_tokens: 533,
      cached_tokens: 40,
      reasoning_tokens: 300,
      cost_usd: 0.3105,
      unpriced_requests: 1,
    });
    expect(r.body.days).toEqual([
      {
        day: "2025-04-01",
        requests: 3,
        errors: 1,
        prompt_tokens: 300,
        completion_tokens: 30,
        cached_tokens: 40,
        reasoning_tokens: 0,
        cost_usd: 0.3,
        unpriced_requests: 0,
      },
      { day: "2025-04-02", ...zero },
      {
        day: "2025-04-03",
        requests: 2,
        errors: 0,
        prompt_tokens: 1007,
        completion_tokens: 503,
        cached_tokens: 0,
        reasoning_tokens: 300,
        cost_usd: 0.0105,
        unpriced_requests: 1,
      },
    ]);
  });

  test("cost sums are exact decimals, not float sums", async () => {
    // 0.1 + 0.2 is 0.30000000000000004 in floating point; the counters add numerics.
    const r = await get(`/workspaces/${ws.id}/usage?from=2025-04-01&to=2025-04-01`);
    expect(r.body.totals.cost_usd).toBe(0.3);
  });

  test("defaults to the last 30 days through today (UTC)", async () => {
    const r = await get(`/workspaces/${ws.id}/usage`);
    expect(r.status).toBe(200);
    const today = new Date().toISOString().slice(0, 10);
    expect(r.body.to).toBe(today);
    expect(r.body.days).toHaveLength(30);
    expect(r.body.days[29].day).toBe(today);
    expect(r.body.totals).toEqual(zero);
  });

  test("a date-time is taken as its UTC day", async () => {
    const r = await get(`/workspaces/${ws.id}/usage?from=2025-04-03T23:00:00-05:00&to=2025-04-04T01:00:00Z`);
    expect(r.body).toMatchObject({ from: "2025-04-04", to: "2025-04-04" });
  });

  test("the counters outlive the logs they summarise", async () => {
    const other = await t.workspace(owner.token, "pruned");
    await store([makeRecord(other.id, { created_at: "2025-04-02T10:00:00.000Z", cost_usd: 1.5 })]);
    await t.sql`delete from request_logs where workspace_id = ${other.id}`;
    const r = await get(`/workspaces/${other.id}/usage?from=2025-04-02&to=2025-04-02`);
    expect(r.body.totals).toMatchObject({ requests: 1, cost_usd: 1.5 });
  });
});

describe("breakdowns", () => {
  test("by provider: entries by cost, names of existing entries, null for requests no provider answered", async () => {
    const r = await get(`/workspaces/${ws.id}/usage/by-provider?from=2025-04-01&to=2025-04-03`);
    expect(r.status).toBe(200);
    expect(r.body.data).toEqual([
      {
        provider_id: "prov_a",
        provider_name: "Primary OpenAI",
        requests: 2,
        errors: 0,
        prompt_tokens: 300,
        completion_tokens: 30,
        cached_tokens: 40,
        reasoning_tokens: 0,
        cost_usd: 0.3,
        unpriced_requests: 0,
      },
      {
        provider_id: "prov_b",
        provider_name: null,
        requests: 2,
        errors: 0,
        prompt_tokens: 1007,
        completion_tokens: 503,
        cached_tokens: 0,
        reasoning_tokens: 300,
        cost_usd: 0.0105,
        unpriced_requests: 1,
      },
      {
        provider_id: null,
        provider_name: null,
        requests: 1,
        errors: 1,
        prompt_tokens: 0,
        completion_tokens: 0,
        cached_tokens: 0,
        reasoning_tokens: 0,
        cost_usd: 0,
        unpriced_requests: 0,
      },
    ]);
  });

  test("by model: the model that answered, else the one requested", async () => {
    const r = await get(`/workspaces/${ws.id}/usage/by-model?from=2025-04-01&to=2025-04-03`);
    expect(r.body.data.map((d: { model: string; requests: number }) => [d.model, d.requests])).toEqual([
      ["gpt-4o", 2],
      ["claude-sonnet-4-5", 1],
      ["gpt-5", 1],
      ["my-finetune", 1],
    ]);
    expect(r.body.data[3]).toMatchObject({ cost_usd: 0, unpriced_requests: 1 });
  });
});

describe("range rules", () => {
  test("only from: 30 days from it, not past today; only to: the 30 days ending there", () => {
    const now = new Date("2025-06-15T10:00:00Z");
    expect(usageRange({ from: "2025-04-01" }, now)).toEqual({ from: "2025-04-01", to: "2025-04-30" });
    expect(usageRange({ from: "2025-06-10" }, now)).toEqual({ from: "2025-06-10", to: "2025-06-15" });
    expect(usageRange({ to: "2025-03-30" }, now)).toEqual({ from: "2025-03-01", to: "2025-03-30" });
    expect(usageRange({}, now)).toEqual({ from: "2025-05-17", to: "2025-06-15" });
    expect(usageRange({ from: "2024-01-01", to: "2024-12-31" }, now)).toEqual({ from: "2024-01-01", to: "2024-12-31" });
  });

  test.each([
    ["from=2025-04-03&to=2025-04-01", "from", "must not be after to"],
    ["from=2024-01-01&to=2025-01-01", "from", "at most 366 days"],
    ["from=april", "from", "ISO date"],
    ["to=2025-13-01", "to", "ISO date"],
  ])("%s is a 422 naming %s", async (query, param, message) => {
    for (const path of ["usage", "usage/by-provider", "usage/by-model"]) {
      const r = await get(`/workspaces/${ws.id}/${path}?${query}`);
      expect(r.status).toBe(422);
      expect(r.body.error.param).toBe(param);
      expect(r.body.error.message).toContain(message);
    }
  });
});

describe("access", () => {
  test("a non-member gets 404 on every usage route", async () => {
    const bob = await t.signup();
    for (const path of ["usage", "usage/by-provider", "usage/by-model"]) {
      const r = await get(`/workspaces/${ws.id}/${path}?from=2025-04-01&to=2025-04-03`, bob.token);
      expect(r.status).toBe(404);
      expect(r.text).not.toContain("prov_a");
    }
  });

  test("a plain member may read usage", async () => {
    const carol = await t.member(ws.id);
    for (const path of ["usage", "usage/by-provider", "usage/by-model"]) {
      expect((await get(`/workspaces/${ws.id}/${path}`, carol.token)).status).toBe(200);
    }
  });
});
