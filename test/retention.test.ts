import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { testApp, type TestApp } from "./support/app.ts";
import { countingSql, makeRecord, waitFor } from "./support/logs.ts";
import { runRetention, startRetention } from "../src/telemetry/retention.ts";
import type { ChangeEvent } from "../src/events.ts";
import type { RequestRecord } from "../src/telemetry/types.ts";

let t: TestApp;
let owner: Awaited<ReturnType<TestApp["signup"]>>;

const DAY = 86_400_000;
const daysAgo = (d: number, extraMs = 0) => new Date(Date.now() - d * DAY - extraMs).toISOString();

async function store(records: RequestRecord[]) {
  for (const r of records) t.deps.logQueue.enqueue(r);
  await t.deps.logQueue.flush();
}

async function logIds(ws: string): Promise<string[]> {
  return (await t.sql<{ id: string }[]>`select id from request_logs where workspace_id = ${ws} order by id`).map((r) => r.id);
}

async function counters(ws: string) {
  return t.sql`select day, provider_id, model, requests, cost_usd from usage_daily where workspace_id = ${ws} order by day, provider_id, model`;
}

/** A workspace with logs at the given ages (days), and the ids of those that must survive `keepDays`. */
async function workspaceWithLogs(name: string, ages: number[], keepDays: number) {
  const ws = await t.workspace(owner.token, name);
  const records = ages.map((age) => makeRecord(ws.id, { created_at: daysAgo(age, 60_000) }));
  await store(records);
  const survivors = records
    .filter((_, i) => ages[i] < keepDays)
    .map((r) => r.id)
    .sort();
  return { ws, survivors };
}

beforeAll(async () => {
  t = await testApp();
  owner = await t.signup();
});
afterAll(() => t.close());

describe("retention job", () => {
  test("deletes only logs older than each workspace's retention and keeps the counters", async () => {
    const std = await workspaceWithLogs("default 30", [0, 1, 29, 30, 31, 400], 30);
    const week = await workspaceWithLogs("7 days", [0, 6, 7, 8, 29], 7);
    await t.sql`update workspaces set settings = settings || '{"retention_days": 7}' where id = ${week.ws.id}`;
    const long = await workspaceWithLogs("long", [0, 31, 364], 365);
    await t.sql`update workspaces set settings = settings || '{"retention_days": 365}' where id = ${long.ws.id}`;
    const before = [await counters(std.ws.id), await counters(week.ws.id), await counters(long.ws.id)];

    const result = await runRetention(t.sql);
    expect(result.deleted).toBe(3 + 3);
    expect(await logIds(std.ws.id)).toEqual(std.survivors);
    expect(await logIds(week.ws.id)).toEqual(week.survivors);
    expect(await logIds(long.ws.id)).toEqual(long.survivors);
    expect([await counters(std.ws.id), await counters(week.ws.id), await counters(long.ws.id)]).toEqual(before);

    // Nothing left to do: a second run deletes nothing.
    expect((await runRetention(t.sql)).deleted).toBe(0);
  });

  test("deletes in small batches, one short statement each", async () => {
    const { ws, survivors } = await workspaceWithLogs("batched", [...Array(10).fill(40), 1], 30);
    const counted = countingSql(t.sql);
    const result = await runRetention(counted.sql, { batchSize: 3, pauseMs: 0 });
    expect(result.deleted).toBe(10);
    expect(await logIds(ws.id)).toEqual(survivors);
    // One query to find workspaces, then ceil(10/3) = 4 deletes (the last one short).
    expect(counted.statements()).toBe(1 + 4);
  });

  test("a retention setting that is not a number falls back to 30 days", async () => {
    const { ws, survivors } = await workspaceWithLogs("odd setting", [10, 45], 30);
    await t.sql`update workspaces set settings = settings || '{"retention_days": "soon"}' where id = ${ws.id}`;
    await runRetention(t.sql);
    expect(await logIds(ws.id)).toEqual(survivors);
  });

  test("the periodic job runs on its own and stops cleanly", async () => {
    const { ws, survivors } = await workspaceWithLogs("periodic", [2, 50], 30);
    const job = startRetention(t.sql, { firstRunMs: 5, intervalMs: 60_000 });
    await waitFor("the first run", async () => (await logIds(ws.id)).length === 1);
    await job.stop();
    expect(await logIds(ws.id)).toEqual(survivors);
  });
});

describe("workspace deletion", () => {
  test("deletes the workspace's logs and counters with it", async () => {
    const { ws } = await workspaceWithLogs("doomed", [0, 1, 2], 30);
    const keep = await workspaceWithLogs("kept", [0], 30);
    expect((await counters(ws.id)).length).toBeGreaterThan(0);
    await t.sql`delete from workspaces where id = ${ws.id}`;
    expect(await logIds(ws.id)).toEqual([]);
    expect([...(await counters(ws.id))]).toEqual([]);
    expect(await logIds(keep.ws.id)).toEqual(keep.survivors);
  });
});

describe("workspace settings", () => {
  test("read the defaults, change them as admin, and the change is announced once", async () => {
    const ws = await t.workspace(owner.token, "settings");
    const events: ChangeEvent[] = [];
    const off = t.deps.events.on((e) => events.push(e));
    try {
      const got = await t.call("GET", `/workspaces/${ws.id}/settings`, { token: owner.token });
      expect(got.status).toBe(200);
      // The settings also carry the workspace's limits and spend (issue 13; key-limits-api.test.ts).
      expect(got.body).toMatchObject({ retention_days: 30, log_content: false });
      const put = await t.call("PUT", `/workspaces/${ws.id}/settings`, {
        token: owner.token,
        body: { retention_days: 7, log_content: true },
      });
      expect(put.status).toBe(200);
      expect(put.body).toMatchObject({ retention_days: 7, log_content: true });
      expect(events).toEqual([{ type: "workspace", workspace_id: ws.id }]);
      // A partial update keeps the other field; an update that changes nothing announces nothing.
      const partial = await t.call("PUT", `/workspaces/${ws.id}/settings`, { token: owner.token, body: { log_content: true } });
      expect(partial.body).toMatchObject({ retention_days: 7, log_content: true });
      expect(events).toHaveLength(1);
      expect((await t.call("GET", `/workspaces/${ws.id}`, { token: owner.token })).body.settings).toEqual({
        retention_days: 7,
        log_content: true,
      });
    } finally {
      off();
    }
  });

  test("the retention job follows a setting changed through the API", async () => {
    const { ws } = await workspaceWithLogs("follows", [3, 10], 30);
    await t.call("PUT", `/workspaces/${ws.id}/settings`, { token: owner.token, body: { retention_days: 5 } });
    await runRetention(t.sql);
    expect(await logIds(ws.id)).toHaveLength(1);
  });

  test("a plain member may read but not change them; a non-member gets 404", async () => {
    const ws = await t.workspace(owner.token, "guarded");
    const carol = await t.signup();
    const bob = await t.signup();
    await t.sql`insert into workspace_members (workspace_id, user_id, role) values (${ws.id}, ${carol.user.id}, 'member')`;
    expect((await t.call("GET", `/workspaces/${ws.id}/settings`, { token: carol.token })).status).toBe(200);
    expect((await t.call("PUT", `/workspaces/${ws.id}/settings`, { token: carol.token, body: { log_content: true } })).status).toBe(403);
    expect((await t.call("GET", `/workspaces/${ws.id}/settings`, { token: bob.token })).status).toBe(404);
    expect((await t.call("PUT", `/workspaces/${ws.id}/settings`, { token: bob.token, body: { log_content: true } })).status).toBe(404);
    const [row] = await t.sql`select settings from workspaces where id = ${ws.id}`;
    expect(row.settings.log_content).toBe(false);
  });

  test.each([
    [{ retention_days: 0 }, "retention_days"],
    [{ retention_days: 3651 }, "retention_days"],
    [{ retention_days: 1.5 }, "retention_days"],
    [{ retention_days: "30" }, "retention_days"],
    [{ log_content: "yes" }, "log_content"],
  ])("rejects %j with 422 naming the field", async (body, param) => {
    const ws = await t.workspace(owner.token, "invalid settings");
    const r = await t.call("PUT", `/workspaces/${ws.id}/settings`, { token: owner.token, body });
    expect(r.status).toBe(422);
    expect(r.body.error.param).toBe(param);
    expect((await t.call("GET", `/workspaces/${ws.id}/settings`, { token: owner.token })).body).toMatchObject({
      retention_days: 30,
      log_content: false,
    });
  });

  test("accepts the bounds 1 and 3650", async () => {
    const ws = await t.workspace(owner.token, "bounds");
    for (const days of [1, 3650]) {
      const r = await t.call("PUT", `/workspaces/${ws.id}/settings`, { token: owner.token, body: { retention_days: days } });
      expect(r.body.retention_days).toBe(days);
    }
  });
});
