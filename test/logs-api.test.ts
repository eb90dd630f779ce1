import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { testApp, type TestApp } from "./support/app.ts";
import { fastId, makeRecord } from "./support/logs.ts";
import { countLogs } from "../src/logs/service.ts";
import { bodyForLog, LOG_BODY_LIMIT } from "../src/telemetry/content.ts";
import type { RequestRecord } from "../src/telemetry/types.ts";

let t: TestApp;
let owner: Awaited<ReturnType<TestApp["signup"]>>;
let ws: { id: string };
/** The 60 rows of the main workspace, newest first (as the API must return them). */
let all: RequestRecord[];

const BASE = Date.parse("2025-05-10T12:00:00.000Z");
const at = (minutes: number) => new Date(BASE + minutes * 60_000).toISOString();

async function store(records: RequestRecord[]) {
  for (const r of records) t.deps.logQueue.enqueue(r);
  await t.deps.logQueue.flush();
}

const get = (path: string, token = owner.token) => t.call("GET", path, { token });
const ids = (items: { id: string }[]) => items.map((i) => i.id);

beforeAll(async () => {
  t = await testApp();
  owner = await t.signup();
  ws = await t.workspace(owner.token);
  // 60 requests, one every 30 minutes from BASE: every 4th failed (and a few streams broke), two providers (the third answered by
  // none), three models, two keys; timestamps spread over two UTC days.
  all = Array.from({ length: 60 }, (_, i) =>
    makeRecord(ws.id, {
      created_at: at(i * 30),
      status: i % 4 === 0 ? 502 : 200,
      // A stream cut after its first byte: the client saw 200, the request still failed.
      error_class: i % 4 === 0 ? "server" : i % 7 === 3 ? "stream" : null,
      error_message: i % 4 === 0 ? "upstream failed" : null,
      provider_id: i % 3 === 2 ? null : i % 3 === 0 ? "prov_a" : "prov_b",
      model_requested: ["gpt-4o", "claude-sonnet-4-5", "gemini-2.5-flash"][i % 3 === 2 ? 2 : i % 2],
      api_key_id: i % 5 === 0 ? "key_rare" : "key_main",
      request_body: `{"i":${i}}`,
      response_body: null,
    }),
  );
  await store(all);
  all.reverse();
});
afterAll(() => t.close());

describe("listing", () => {
  test("newest first, 50 by default, without bodies or attempt trails", async () => {
    const r = await get(`/workspaces/${ws.id}/logs`);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ page: 1, limit: 50, has_more: true, total: 60, total_is_estimate: false });
    expect(ids(r.body.items)).toEqual(ids(all.slice(0, 50)));
    const item = r.body.items[0];
    expect(item).not.toHaveProperty("request_body");
    expect(item).not.toHaveProperty("response_body");
    expect(item).not.toHaveProperty("attempts");
    expect(item).toMatchObject({ attempt_count: 1, model_requested: all[0].model_requested, created_at: all[0].created_at });
    expect(typeof item.cost_usd).toBe("number");
  });

  test("page numbers walk the list and end with has_more false", async () => {
    const p2 = await get(`/workspaces/${ws.id}/logs?page=2&limit=25`);
    expect(ids(p2.body.items)).toEqual(ids(all.slice(25, 50)));
    expect(p2.body.has_more).toBe(true);
    const p3 = await get(`/workspaces/${ws.id}/logs?page=3&limit=25`);
    expect(ids(p3.body.items)).toEqual(ids(all.slice(50)));
    expect(p3.body).toMatchObject({ has_more: false, next_cursor: null });
    const p9 = await get(`/workspaces/${ws.id}/logs?page=9&limit=25`);
    expect(p9.body).toMatchObject({ items: [], has_more: false, total: 60 });
  });

  test("next_cursor walks every row exactly once, in order", async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const r: Awaited<ReturnType<typeof get>> = await get(`/workspaces/${ws.id}/logs?limit=7${cursor ? `&cursor=${cursor}` : ""}`);
      expect(r.status).toBe(200);
      seen.push(...ids(r.body.items));
      cursor = r.body.next_cursor;
    } while (cursor);
    expect(seen).toEqual(ids(all));
  });

  test("a cursor keeps its place while new rows arrive", async () => {
    const other = await t.workspace(owner.token, "busy");
    const old = Array.from({ length: 20 }, (_, i) => makeRecord(other.id, { created_at: at(-1000 + i) })).reverse();
    await store(old);
    const first = await get(`/workspaces/${other.id}/logs?limit=8`);
    expect(ids(first.body.items)).toEqual(ids(old.slice(0, 8)));
    // Ten newer requests land between the two page loads.
    await store(Array.from({ length: 10 }, (_, i) => makeRecord(other.id, { created_at: at(i) })));
    const second = await get(`/workspaces/${other.id}/logs?limit=8&cursor=${first.body.next_cursor}`);
    expect(ids(second.body.items)).toEqual(ids(old.slice(8, 16)));
    expect(second.body.total).toBe(30);
  });

  test("rows with the same timestamp are ordered by id and none is lost across pages", async () => {
    const other = await t.workspace(owner.token, "same instant");
    const same = Array.from({ length: 9 }, () => makeRecord(other.id, { created_at: at(5) }));
    await store(same);
    const expected = [...same]
      .map((r) => r.id)
      .sort()
      .reverse();
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const r: Awaited<ReturnType<typeof get>> = await get(`/workspaces/${other.id}/logs?limit=2${cursor ? `&cursor=${cursor}` : ""}`);
      seen.push(...ids(r.body.items));
      cursor = r.body.next_cursor;
    } while (cursor);
    expect(seen).toEqual(expected);
  });

  test("with a cursor, page is ignored", async () => {
    const first = await get(`/workspaces/${ws.id}/logs?limit=10`);
    const r = await get(`/workspaces/${ws.id}/logs?limit=10&page=5&cursor=${first.body.next_cursor}`);
    expect(ids(r.body.items)).toEqual(ids(all.slice(10, 20)));
  });
});

const isError = (r: RequestRecord) => r.status >= 400 || r.error_class !== null;

describe("filters", () => {
  test.each([
    ["status=error", (r: RequestRecord) => isError(r)],
    ["status=ok", (r: RequestRecord) => !isError(r)],
    ["provider=prov_a", (r: RequestRecord) => r.provider_id === "prov_a"],
    ["model=claude-sonnet-4-5", (r: RequestRecord) => r.model_requested === "claude-sonnet-4-5"],
    ["key=key_rare", (r: RequestRecord) => r.api_key_id === "key_rare"],
    ["from=2025-05-11", (r: RequestRecord) => r.created_at >= "2025-05-11"],
    ["to=2025-05-10", (r: RequestRecord) => r.created_at < "2025-05-11"],
    [
      "from=2025-05-10T20:00:00Z&to=2025-05-11T02:00:00Z",
      (r: RequestRecord) => r.created_at >= "2025-05-10T20:00:00.000Z" && r.created_at < "2025-05-11T02:00:00.000Z",
    ],
    ["from=2025-05-10T22:00:00%2B02:00", (r: RequestRecord) => r.created_at >= "2025-05-10T20:00:00.000Z"],
    [
      "status=error&provider=prov_b&key=key_main",
      (r: RequestRecord) => isError(r) && r.provider_id === "prov_b" && r.api_key_id === "key_main",
    ],
    ["model=no-such-model", () => false],
  ])("%s", async (query, keep) => {
    const want = all.filter(keep);
    const r = await get(`/workspaces/${ws.id}/logs?limit=200&${query}`);
    expect(r.status).toBe(200);
    expect(ids(r.body.items)).toEqual(ids(want));
    expect(r.body.total).toBe(want.length);
    // The same filter through cursor pages gives the same rows.
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const p: Awaited<ReturnType<typeof get>> = await get(
        `/workspaces/${ws.id}/logs?limit=4&${query}${cursor ? `&cursor=${cursor}` : ""}`,
      );
      seen.push(...ids(p.body.items));
      cursor = p.body.next_cursor;
    } while (cursor);
    expect(seen).toEqual(ids(want));
  });

  test("the time filters combine with the error filter", async () => {
    const r = await get(`/workspaces/${ws.id}/logs?status=error&from=2025-05-11`);
    expect(ids(r.body.items)).toEqual(ids(all.filter((x) => isError(x) && x.created_at >= "2025-05-11")));
  });
});

describe("total", () => {
  test("is exact up to the limit, then an estimate flagged as such", async () => {
    expect(await countLogs(t.sql, ws.id, {}, 100)).toEqual({ total: 60, estimated: false });
    const est = await countLogs(t.sql, ws.id, {}, 10);
    expect(est.estimated).toBe(true);
    expect(est.total).toBeGreaterThan(10);
  });
});

// Rows these tests store go to workspaces of their own: the 60-row workspace must stay as the listing and filter tests expect.
describe("one log", () => {
  test("has its attempt trail and stored bodies, with the truncation limit", async () => {
    const long = "x".repeat(LOG_BODY_LIMIT + 10);
    const own = await t.workspace(owner.token, "one log");
    const r = makeRecord(own.id, {
      created_at: at(-5000),
      attempts: [
        {
          provider_id: "prov_a",
          provider_name: "OpenAI",
          provider_type: "openai",
          model: "gpt-4o",
          status: 429,
          error_class: "rate_limit",
          message: "slow down",
          latency_ms: 40,
        },
        {
          provider_id: "prov_b",
          provider_name: "Claude",
          provider_type: "anthropic",
          model: "claude-sonnet-4-5",
          status: 200,
          error_class: null,
          message: null,
          latency_ms: 900,
        },
      ],
      request_body: bodyForLog('{"model":"gpt-4o"}'),
      response_body: bodyForLog(long),
    });
    await store([r]);
    const got = await get(`/workspaces/${own.id}/logs/${r.id}`);
    expect(got.status).toBe(200);
    expect(got.body.attempts).toEqual(r.attempts);
    expect(got.body).toMatchObject({
      id: r.id,
      request_body: '{"model":"gpt-4o"}',
      request_body_truncated: false,
      response_body_truncated: true,
      body_limit_chars: LOG_BODY_LIMIT,
    });
    expect(got.body.response_body.startsWith("x".repeat(LOG_BODY_LIMIT))).toBe(true);
    expect(got.body.response_body).toContain(`truncated: ${LOG_BODY_LIMIT + 10} characters`);
  });

  test("bodies are null when content logging was off", async () => {
    const own = await t.workspace(owner.token, "no content");
    const r = makeRecord(own.id, { created_at: at(-6000) });
    await store([r]);
    const got = await get(`/workspaces/${own.id}/logs/${r.id}`);
    expect(got.body).toMatchObject({ request_body: null, response_body: null, request_body_truncated: false });
  });

  test("an unknown id, or one from another workspace, is a 404", async () => {
    expect((await get(`/workspaces/${ws.id}/logs/${fastId()}`)).status).toBe(404);
    const mine = await t.workspace(owner.token, "mine too");
    const elsewhere = makeRecord(mine.id);
    await store([elsewhere]);
    const r = await get(`/workspaces/${ws.id}/logs/${elsewhere.id}`);
    expect(r.status).toBe(404);
    expect(r.body.error.message).toBe("log not found");
  });
});

describe("access", () => {
  test("a non-member gets 404 on every logs route and learns nothing", async () => {
    const bob = await t.signup();
    for (const path of [`/workspaces/${ws.id}/logs`, `/workspaces/${ws.id}/logs/${all[0].id}`, `/workspaces/${ws.id}/logs?status=error`]) {
      const r = await get(path, bob.token);
      expect(r.status).toBe(404);
      expect(r.text).not.toContain(all[0].id);
    }
  });

  test("a plain member may read the logs", async () => {
    const carol = await t.member(ws.id);
    expect((await get(`/workspaces/${ws.id}/logs?limit=1`, carol.token)).status).toBe(200);
    expect((await get(`/workspaces/${ws.id}/logs/${all[0].id}`, carol.token)).status).toBe(200);
  });

  test("requires a session", async () => {
    expect((await t.call("GET", `/workspaces/${ws.id}/logs`)).status).toBe(401);
  });
});

describe("validation", () => {
  test("blank parameters, as a form sends them, mean absent", async () => {
    const r = await get(`/workspaces/${ws.id}/logs?page=&limit=&status=&provider=&model=&key=&from=&to=&cursor=`);
    expect(r.status).toBe(200);
    const plain = await get(`/workspaces/${ws.id}/logs`);
    expect(r.body).toEqual(plain.body);
    expect(r.body).toMatchObject({ page: 1, limit: 50 });
  });

  test("a repeated parameter is a 422, not a 500", async () => {
    const r = await get(`/workspaces/${ws.id}/logs?status=ok&status=error`);
    expect(r.status).toBe(422);
    expect(r.body.error.param).toBe("status");
  });

  test.each([
    ["limit=0", "limit", "from 1 to 200"],
    ["limit=201", "limit", "from 1 to 200"],
    ["limit=ten", "limit", "whole number"],
    ["page=0", "page", "from 1 to 10000"],
    ["page=1.5", "page", "whole number"],
    ["status=failed", "status", "ok or error"],
    ["from=yesterday", "from", "ISO date"],
    ["to=2025-02-30", "to", "ISO date"],
    ["cursor=not-a-cursor", "cursor", "next_cursor"],
    [`model=${"m".repeat(301)}`, "model", "at most 300"],
    ["from=2025-05-12&to=2025-05-11", "from", "before to"],
    ["request_id=has%20space", "request_id", "must be a request id"],
    ["request_id=a%2Fb", "request_id", "must be a request id"],
    [`request_id=${"r".repeat(129)}`, "request_id", "1 to 128"],
  ])("%s is a 422 naming %s", async (query, param, message) => {
    const r = await get(`/workspaces/${ws.id}/logs?${query}`);
    expect(r.status).toBe(422);
    expect(r.body.error.param).toBe(param);
    expect(r.body.error.message).toContain(message);
  });
});

describe("request_id filter (x-request-id)", () => {
  test("finds exactly the row of that request", async () => {
    const target = all[17];
    const r = await get(`/workspaces/${ws.id}/logs?request_id=${target.request_id}`);
    expect(r.status).toBe(200);
    expect(ids(r.body.items)).toEqual([target.id]);
    expect(r.body.items[0].request_id).toBe(target.request_id);
    expect(r.body.total).toBe(1);
  });

  test("combines with the other filters (all must match)", async () => {
    const failed = all.find((x) => isError(x))!;
    const ok = all.find((x) => !isError(x))!;
    expect(ids((await get(`/workspaces/${ws.id}/logs?request_id=${failed.request_id}&status=error`)).body.items)).toEqual([failed.id]);
    expect((await get(`/workspaces/${ws.id}/logs?request_id=${ok.request_id}&status=error`)).body.items).toEqual([]);
    const other = failed.api_key_id === "key_main" ? "key_rare" : "key_main";
    expect((await get(`/workspaces/${ws.id}/logs?request_id=${failed.request_id}&key=${other}`)).body.items).toEqual([]);
    expect(
      ids(
        (await get(`/workspaces/${ws.id}/logs?request_id=${failed.request_id}&key=${failed.api_key_id}&model=${failed.model_requested}`))
          .body.items,
      ),
    ).toEqual([failed.id]);
  });

  test("is exact: no prefix, no case folding, no other workspace's rows", async () => {
    const mine = await t.workspace(owner.token);
    const theirs = await t.workspace(owner.token);
    // A client may send its own x-request-id, and reuse it (retries): every row with it matches.
    const shared = [0, 1].map((i) => makeRecord(mine.id, { request_id: "client-trace:42", created_at: at(i) }));
    await store([
      ...shared,
      makeRecord(mine.id, { request_id: "client-trace:421", created_at: at(5) }),
      makeRecord(theirs.id, { request_id: "client-trace:42", created_at: at(6) }),
    ]);
    const r = await get(`/workspaces/${mine.id}/logs?request_id=client-trace:42`);
    expect(r.status).toBe(200);
    expect(ids(r.body.items).sort()).toEqual(ids(shared).sort());
    expect((await get(`/workspaces/${mine.id}/logs?request_id=client-trace:4`)).body.items).toEqual([]);
    expect((await get(`/workspaces/${mine.id}/logs?request_id=CLIENT-TRACE:42`)).body.items).toEqual([]);
    // Surrounding blanks (a pasted id) are trimmed.
    expect((await get(`/workspaces/${mine.id}/logs?request_id=%20client-trace:42%20`)).body.total).toBe(2);
  });
});
