/**
 * Governance through the JSON API (issue 13): limits, budgets, allow-lists and tags on gateway
 * keys (create and PATCH), the workspace's limits in its settings, and the spend both report.
 * Spend comes from usage_key_daily / usage_daily rows seeded here with SQL (the log writer fills
 * them in production).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { ChangeBus, type ChangeEvent } from "../src/events.ts";
import { hashApiKey, listApiKeys } from "../src/api-keys/service.ts";
import { mergeLimits, NO_LIMITS } from "../src/api-keys/limits.ts";
import { spendPeriod } from "../src/usage/period.ts";
import { testApp, type TestApp } from "./support/app.ts";

let t: TestApp;
const events: ChangeEvent[] = [];

beforeAll(async () => {
  const bus = new ChangeBus();
  bus.on((e) => events.push(e));
  t = await testApp({ events: bus });
});
afterAll(() => t.close());

async function owner() {
  const user = await t.signup();
  const ws = await t.workspace(user.token);
  return { ...user, ws, base: `/workspaces/${ws.id}/api-keys` };
}

async function mint(token: string, base: string, body: Record<string, unknown> = { name: "ci" }) {
  const r = await t.call("POST", base, { token, body });
  if (r.status !== 201) throw new Error(`create failed: ${r.status} ${r.text}`);
  return r.body as { id: string; key: string } & Record<string, unknown>;
}

const today = () => new Date().toISOString().slice(0, 10);
const daysAgo = (n: number) => new Date(Date.now() - n * 86_400_000).toISOString().slice(0, 10);

async function seedKeyDay(workspaceId: string, keyId: string, day: string, cost: number, requests = 1) {
  await t.sql`
    insert into usage_key_daily (workspace_id, day, api_key_id, requests, cost_usd)
    values (${workspaceId}, ${day}::date, ${keyId}, ${requests}, ${cost})`;
}

describe("creating a key with limits", () => {
  test("stores every governance field and returns it, with zero spend this month", async () => {
    const o = await owner();
    const k = await mint(o.token, o.base, {
      name: "search",
      rpm_limit: 60,
      tpm_limit: 100_000,
      budget_usd: 25.5,
      budget_period: "month",
      allowed_models: ["gpt-4o*", "claude-*", "gpt-4o*"],
      tags: ["team:search", " env:prod "],
    });
    expect(k).toMatchObject({
      rpm_limit: 60,
      tpm_limit: 100_000,
      budget_usd: 25.5,
      budget_period: "month",
      allowed_models: ["gpt-4o*", "claude-*"],
      tags: ["team:search", "env:prod"],
      spend_usd: 0,
      spend_period: "month",
      last_used_at: null,
    });
    expect(k.budget_resets_at).toBe(spendPeriod("month").resets_at!.toISOString());
    const [row] =
      await t.sql`select rpm_limit, tpm_limit, budget_usd::text as budget, budget_period, allowed_models, tags from api_keys where id = ${k.id}`;
    expect(row).toEqual({
      rpm_limit: 60,
      tpm_limit: 100_000,
      budget: "25.5",
      budget_period: "month",
      allowed_models: ["gpt-4o*", "claude-*"],
      tags: ["team:search", "env:prod"],
    });
  });

  test("without limits a key has none: nulls, empty lists, this month's spend and no reset", async () => {
    const o = await owner();
    const k = await mint(o.token, o.base);
    expect(k).toMatchObject({
      rpm_limit: null,
      tpm_limit: null,
      budget_usd: null,
      budget_period: null,
      allowed_models: [],
      tags: [],
      spend_usd: 0,
      spend_period: "month",
      budget_resets_at: null,
    });
  });

  test.each([
    [{ rpm_limit: 0 }, "rpm_limit"],
    [{ rpm_limit: 1.5 }, "rpm_limit"],
    [{ rpm_limit: "60" }, "rpm_limit"],
    [{ tpm_limit: -1 }, "tpm_limit"],
    [{ tpm_limit: 3_000_000_000 }, "tpm_limit"],
    [{ budget_usd: 0, budget_period: "day" }, "budget_usd"],
    [{ budget_usd: "10", budget_period: "day" }, "budget_usd"],
    [{ budget_usd: 10, budget_period: "week" }, "budget_period"],
    [{ budget_usd: 10 }, "budget_period"],
    [{ budget_period: "month" }, "budget_usd"],
    [{ allowed_models: "gpt-4o" }, "allowed_models"],
    [{ allowed_models: [""] }, "allowed_models[0]"],
    [{ allowed_models: ["gpt-4o", "gpt 4o"] }, "allowed_models[1]"],
    [{ allowed_models: ["x".repeat(201)] }, "allowed_models[0]"],
    [{ allowed_models: Array.from({ length: 101 }, (_, i) => `m${i}`) }, "allowed_models"],
    [{ tags: ["a,b"] }, "tags[0]"],
    [{ tags: ["ok", "bell\u0007"] }, "tags[1]"],
    [{ tags: ["x".repeat(65)] }, "tags[0]"],
    [{ tags: ["  "] }, "tags[0]"],
    [{ tags: Array.from({ length: 21 }, (_, i) => `t${i}`) }, "tags"],
  ])("refuses %j with 422 naming %s, and creates nothing", async (extra, param) => {
    const o = await owner();
    const r = await t.call("POST", o.base, { token: o.token, body: { name: "bad", ...extra } });
    expect(r.status).toBe(422);
    expect(r.body.error.param).toBe(param);
    expect(r.body.error.message).toContain(param.replace(/\[\d+\]$/, ""));
    expect((await t.call("GET", o.base, { token: o.token })).body.data).toEqual([]);
  });
});

describe("PATCH /workspaces/:id/api-keys/:kid", () => {
  test("changes only what is given, and tells the gateway's cache with the key's hash", async () => {
    const o = await owner();
    const k = await mint(o.token, o.base, { name: "a", rpm_limit: 10, tags: ["team:a"] });
    events.length = 0;
    const r = await t.call("PATCH", `${o.base}/${k.id}`, { token: o.token, body: { tpm_limit: 5000, allowed_models: ["gpt-4o-mini"] } });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({
      id: k.id,
      name: "a",
      rpm_limit: 10,
      tpm_limit: 5000,
      allowed_models: ["gpt-4o-mini"],
      tags: ["team:a"],
    });
    expect(events).toEqual([{ type: "api_key", workspace_id: o.ws.id, key_hash: hashApiKey(k.key) }]);
    expect((await t.call("GET", `${o.base}/${k.id}`, { token: o.token })).body).toEqual(r.body);
  });

  test("null clears a limit, the allow-list and the tags; a budget is set and cleared as a pair", async () => {
    const o = await owner();
    const k = await mint(o.token, o.base, {
      name: "b",
      rpm_limit: 10,
      tpm_limit: 20,
      allowed_models: ["a*"],
      tags: ["x"],
      budget_usd: 5,
      budget_period: "day",
    });
    const amount = await t.call("PATCH", `${o.base}/${k.id}`, { token: o.token, body: { budget_usd: 7 } });
    expect(amount.body).toMatchObject({ budget_usd: 7, budget_period: "day" });
    const r = await t.call("PATCH", `${o.base}/${k.id}`, {
      token: o.token,
      body: { rpm_limit: null, allowed_models: null, tags: [], budget_usd: null },
    });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({
      rpm_limit: null,
      tpm_limit: 20,
      allowed_models: [],
      tags: [],
      budget_usd: null,
      budget_period: null,
      budget_resets_at: null,
    });
  });

  test("half a budget is refused with 422 naming the missing half, and nothing changes", async () => {
    const o = await owner();
    const k = await mint(o.token, o.base, { name: "c" });
    const r = await t.call("PATCH", `${o.base}/${k.id}`, { token: o.token, body: { budget_usd: 3, name: "renamed" } });
    expect(r.status).toBe(422);
    expect(r.body.error.param).toBe("budget_period");
    const mixed = await t.call("PATCH", `${o.base}/${k.id}`, { token: o.token, body: { budget_usd: null, budget_period: "day" } });
    expect(mixed.status).toBe(422);
    expect(mixed.body.error.param).toBe("budget_usd");
    expect((await t.call("GET", `${o.base}/${k.id}`, { token: o.token })).body).toMatchObject({ name: "c", budget_usd: null });
  });

  test("validation errors name the field (422)", async () => {
    const o = await owner();
    const k = await mint(o.token, o.base);
    for (const [body, param] of [
      [{ name: "" }, "name"],
      [{ rpm_limit: 0 }, "rpm_limit"],
      [{ tags: ["a,b"] }, "tags[0]"],
      [{ budget_period: "year" }, "budget_period"],
    ] as const) {
      const r = await t.call("PATCH", `${o.base}/${k.id}`, { token: o.token, body });
      expect({ body, status: r.status, param: r.body.error?.param }).toEqual({ body, status: 422, param });
    }
  });

  test("a plain member may read limits but not change them; another workspace's user gets 404", async () => {
    const o = await owner();
    const k = await mint(o.token, o.base, { name: "guarded", rpm_limit: 5 });
    const member = await t.member(o.ws.id, "member");
    const admin = await t.member(o.ws.id, "admin");
    const stranger = await t.signup();
    expect((await t.call("GET", `${o.base}/${k.id}`, { token: member.token })).body.rpm_limit).toBe(5);
    expect((await t.call("PATCH", `${o.base}/${k.id}`, { token: member.token, body: { rpm_limit: 500 } })).status).toBe(403);
    expect((await t.call("POST", o.base, { token: member.token, body: { name: "mine", rpm_limit: 1 } })).status).toBe(403);
    expect((await t.call("PATCH", `${o.base}/${k.id}`, { token: stranger.token, body: { rpm_limit: 500 } })).status).toBe(404);
    expect((await t.call("PATCH", `${o.base}/${k.id}`, { token: admin.token, body: { rpm_limit: 6 } })).status).toBe(200);
    const [row] = await t.sql`select rpm_limit from api_keys where id = ${k.id}`;
    expect(row.rpm_limit).toBe(6);
  });

  test("an unknown key, or another workspace's key, is 404", async () => {
    const a = await owner();
    const b = await owner();
    const kb = await mint(b.token, b.base);
    expect((await t.call("PATCH", `${a.base}/nope`, { token: a.token, body: { rpm_limit: 1 } })).status).toBe(404);
    expect((await t.call("PATCH", `${a.base}/${kb.id}`, { token: a.token, body: { rpm_limit: 1 } })).status).toBe(404);
  });
});

describe("spend", () => {
  test("a daily budget counts today's rows only; a monthly one the month; a total one everything", async () => {
    const o = await owner();
    const day = await mint(o.token, o.base, { name: "day", budget_usd: 10, budget_period: "day" });
    const month = await mint(o.token, o.base, { name: "month", budget_usd: 10, budget_period: "month" });
    const total = await mint(o.token, o.base, { name: "total", budget_usd: 10, budget_period: "total" });
    const none = await mint(o.token, o.base, { name: "none" });
    const now = new Date();
    const monthStart = spendPeriod("month", now).since!;
    const lastMonth = new Date(Date.parse(`${monthStart}T00:00:00Z`) - 86_400_000).toISOString().slice(0, 10);
    const earlierThisMonth = today() === monthStart ? null : monthStart;
    for (const k of [day, month, total, none]) {
      await seedKeyDay(o.ws.id, k.id, today(), 1.25);
      if (earlierThisMonth) await seedKeyDay(o.ws.id, k.id, earlierThisMonth, 2);
      await seedKeyDay(o.ws.id, k.id, lastMonth, 4);
    }
    // Another workspace's row under the same key id is not counted.
    const other = await owner();
    await seedKeyDay(other.ws.id, day.id, today(), 100);
    const list = (await t.call("GET", o.base, { token: o.token })).body.data as {
      name: string;
      spend_usd: number;
      budget_resets_at: string | null;
    }[];
    const spend = Object.fromEntries(list.map((k) => [k.name, k.spend_usd]));
    const thisMonth = 1.25 + (earlierThisMonth ? 2 : 0);
    expect(spend).toEqual({ day: 1.25, month: thisMonth, total: thisMonth + 4, none: thisMonth });
    const resets = Object.fromEntries(list.map((k) => [k.name, k.budget_resets_at]));
    expect(resets).toEqual({
      day: spendPeriod("day", now).resets_at!.toISOString(),
      month: spendPeriod("month", now).resets_at!.toISOString(),
      total: null,
      none: null,
    });
  });

  test("the period bounds are UTC calendar days and months (pure)", () => {
    const at = new Date("2026-01-31T23:30:00Z");
    expect(spendPeriod("day", at)).toEqual({ period: "day", since: "2026-01-31", resets_at: new Date("2026-02-01T00:00:00Z") });
    expect(spendPeriod("month", at)).toEqual({ period: "month", since: "2026-01-01", resets_at: new Date("2026-02-01T00:00:00Z") });
    expect(spendPeriod("month", new Date("2026-12-15T00:00:00Z")).resets_at).toEqual(new Date("2027-01-01T00:00:00Z"));
    expect(spendPeriod("total", at)).toEqual({ period: "total", since: null, resets_at: null });
    expect(spendPeriod(null, at)).toEqual({ period: "month", since: "2026-01-01", resets_at: null });
  });

  test("listApiKeys computes spend for the period around `now`", async () => {
    const o = await owner();
    const k = await mint(o.token, o.base, { name: "pinned", budget_usd: 1, budget_period: "day" });
    await seedKeyDay(o.ws.id, k.id, "2025-03-02", 0.5);
    await seedKeyDay(o.ws.id, k.id, "2025-03-03", 0.25);
    const [view] = await listApiKeys(t.sql, o.ws.id, new Date("2025-03-03T12:00:00Z"));
    expect(view).toMatchObject({ spend_usd: 0.25, spend_period: "day", budget_resets_at: new Date("2025-03-04T00:00:00Z") });
  });

  test("mergeLimits keeps the stored half of a budget and clears both with one null (pure)", () => {
    const stored = { ...NO_LIMITS, budget_usd: 5, budget_period: "day" as const };
    expect(mergeLimits(stored, { budget_usd: 9 })).toEqual({ value: { ...stored, budget_usd: 9 } });
    expect(mergeLimits(stored, { budget_period: null })).toEqual({ value: NO_LIMITS });
    expect(mergeLimits(NO_LIMITS, { budget_usd: 9 })).toMatchObject({ param: "budget_period" });
    expect(mergeLimits(NO_LIMITS, { budget_period: "total" })).toMatchObject({ param: "budget_usd" });
  });
});

describe("workspace limits in the settings API", () => {
  test("defaults to no limits, with this month's spend from usage_daily", async () => {
    const o = await owner();
    await t.sql`insert into usage_daily (workspace_id, day, provider_id, model, requests, cost_usd) values (${o.ws.id}, ${today()}::date, 'p', 'm', 3, 0.75)`;
    await t.sql`insert into usage_daily (workspace_id, day, provider_id, model, requests, cost_usd) values (${o.ws.id}, ${daysAgo(400)}::date, 'p', 'm', 3, 9)`;
    const r = await t.call("GET", `/workspaces/${o.ws.id}/settings`, { token: o.token });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({
      retention_days: 30,
      log_content: false,
      rpm_limit: null,
      tpm_limit: null,
      budget_usd: null,
      budget_period: null,
      spend_usd: 0.75,
      spend_period: "month",
      budget_resets_at: null,
    });
  });

  test("an admin sets and clears them; the change is announced once; the spend follows the period", async () => {
    const o = await owner();
    const admin = await t.member(o.ws.id, "admin");
    await t.sql`insert into usage_daily (workspace_id, day, provider_id, model, requests, cost_usd) values (${o.ws.id}, ${daysAgo(400)}::date, 'p', 'm', 3, 9)`;
    events.length = 0;
    const url = `/workspaces/${o.ws.id}/settings`;
    const r = await t.call("PUT", url, {
      token: admin.token,
      body: { rpm_limit: 600, tpm_limit: 1_000_000, budget_usd: 100, budget_period: "total" },
    });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({
      retention_days: 30,
      rpm_limit: 600,
      tpm_limit: 1_000_000,
      budget_usd: 100,
      budget_period: "total",
      spend_usd: 9,
      spend_period: "total",
      budget_resets_at: null,
    });
    expect(events).toEqual([{ type: "workspace", workspace_id: o.ws.id }]);
    const same = await t.call("PUT", url, { token: admin.token, body: { rpm_limit: 600 } });
    expect(same.status).toBe(200);
    expect(events).toHaveLength(1);
    const cleared = await t.call("PUT", url, { token: admin.token, body: { rpm_limit: null, budget_period: null } });
    expect(cleared.body).toMatchObject({
      rpm_limit: null,
      tpm_limit: 1_000_000,
      budget_usd: null,
      budget_period: null,
      spend_period: "month",
      spend_usd: 0,
    });
    expect(events).toHaveLength(2);
  });

  test("a plain member cannot change them (403), a stranger gets 404, bad values 422 naming the field", async () => {
    const o = await owner();
    const member = await t.member(o.ws.id, "member");
    const stranger = await t.signup();
    const url = `/workspaces/${o.ws.id}/settings`;
    expect((await t.call("PUT", url, { token: member.token, body: { rpm_limit: 5 } })).status).toBe(403);
    expect((await t.call("PUT", url, { token: stranger.token, body: { rpm_limit: 5 } })).status).toBe(404);
    for (const [body, param] of [
      [{ rpm_limit: 0 }, "rpm_limit"],
      [{ tpm_limit: "many" }, "tpm_limit"],
      [{ budget_usd: 5 }, "budget_period"],
      [{ budget_usd: 5, budget_period: "fortnight" }, "budget_period"],
      [{ budget_usd: -5, budget_period: "day" }, "budget_usd"],
    ] as const) {
      const r = await t.call("PUT", url, { token: o.token, body });
      expect({ body, status: r.status, param: r.body.error?.param }).toEqual({ body, status: 422, param });
    }
    const [row] = await t.sql`select rpm_limit, tpm_limit, budget_usd, budget_period from workspaces where id = ${o.ws.id}`;
    expect(row).toEqual({ rpm_limit: null, tpm_limit: null, budget_usd: null, budget_period: null });
  });

  test("a half budget in a PUT that also changes retention stores neither", async () => {
    const o = await owner();
    const r = await t.call("PUT", `/workspaces/${o.ws.id}/settings`, { token: o.token, body: { retention_days: 9, budget_usd: 5 } });
    expect(r.status).toBe(422);
    expect((await t.call("GET", `/workspaces/${o.ws.id}/settings`, { token: o.token })).body.retention_days).toBe(30);
  });
});
