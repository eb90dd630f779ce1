import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import type { Sql } from "../src/db/client.ts";
import { ChangeBus, type ChangeEvent } from "../src/events.ts";
import { authenticateApiKey, hashApiKey, isApiKeyFormat, LastUsedTracker } from "../src/api-keys/service.ts";
import { testApp, type CallResult, type TestApp } from "./support/app.ts";

let t: TestApp;
const events: ChangeEvent[] = [];

beforeAll(async () => {
  const bus = new ChangeBus();
  bus.on((e) => events.push(e));
  t = await testApp({ events: bus });
});
afterAll(() => t.close());

/** The first 8-character stretch of `secret` found in `text`, or null. */
function leak(text: string, secret: string): string | null {
  for (let i = 0; i + 8 <= secret.length; i++) if (text.includes(secret.slice(i, i + 8))) return secret.slice(i, i + 8);
  return null;
}

async function owner() {
  const user = await t.signup();
  const ws = await t.workspace(user.token);
  return { ...user, ws, base: `/workspaces/${ws.id}/api-keys` };
}

async function mint(token: string, base: string, body: Record<string, unknown> = { name: "ci" }) {
  const r = await t.call("POST", base, { token, body });
  if (r.status !== 201) throw new Error(`create failed: ${r.status} ${r.text}`);
  return r.body as { id: string; key: string; prefix: string; name: string };
}

const inOneHour = () => new Date(Date.now() + 3600_000).toISOString();
const sha256 = (s: string) => createHash("sha256").update(s).digest("hex");

describe("gateway API keys", () => {
  test("creating one answers 201 with the key, once, and its public fields", async () => {
    const o = await owner();
    const r = await t.call("POST", o.base, { token: o.token, body: { name: "  production  " } });
    expect(r.status).toBe(201);
    expect(r.body.key).toMatch(/^prp_[0-9A-Za-z]{43}$/);
    expect(r.body).toMatchObject({
      name: "production",
      prefix: r.body.key.slice(0, 10),
      created_by: { id: o.user.id, email: o.email },
      last_used_at: null,
      revoked_at: null,
      expires_at: null,
      status: "active",
    });
    expect(r.body.key_hash).toBeUndefined();
    expect(new Date(r.body.created_at).getTime()).toBeGreaterThan(Date.now() - 60_000);
  });

  test("the key is never shown again: list and GET carry only the prefix", async () => {
    const o = await owner();
    const k = await mint(o.token, o.base);
    const list = await t.call("GET", o.base, { token: o.token });
    const get = await t.call("GET", `${o.base}/${k.id}`, { token: o.token });
    for (const r of [list, get]) {
      expect(r.status).toBe(200);
      expect(leak(r.text, k.key.slice(10))).toBeNull();
      expect(r.text).not.toContain(k.key);
      expect(r.text).toContain(k.prefix);
      expect(r.text).not.toContain(hashApiKey(k.key));
    }
    expect(list.body.data).toHaveLength(1);
    expect(list.body.data[0]).toEqual(get.body);
    expect(Object.keys(get.body).sort()).toEqual(
      [
        ...["created_at", "created_by", "expires_at", "id", "last_used_at", "name", "prefix", "revoked_at", "status"],
        // Governance (issue 13).
        ...[
          "rpm_limit",
          "tpm_limit",
          "budget_usd",
          "budget_period",
          "allowed_models",
          "tags",
          "spend_usd",
          "spend_period",
          "budget_resets_at",
        ],
      ].sort(),
    );
  });

  test("two keys are never alike and the list shows the newest first", async () => {
    const o = await owner();
    const a = await mint(o.token, o.base, { name: "a" });
    const b = await mint(o.token, o.base, { name: "b" });
    expect(a.key).not.toBe(b.key);
    const list = await t.call("GET", o.base, { token: o.token });
    expect(list.body.data.map((k: { name: string }) => k.name)).toEqual(["b", "a"]);
  });

  test("the database stores the SHA-256 of the key and the prefix, never the key", async () => {
    const o = await owner();
    const k = await mint(o.token, o.base);
    const [row] = await t.sql`select k::text as text, key_hash, prefix from api_keys k where id = ${k.id}`;
    expect(row.key_hash).toBe(sha256(k.key));
    expect(row.prefix).toBe(k.key.slice(0, 10));
    expect(leak(row.text, k.key.slice(10))).toBeNull();
  });

  test("an expiry in the future is kept and shown", async () => {
    const o = await owner();
    const at = inOneHour();
    const k = await mint(o.token, o.base, { name: "temp", expires_at: at });
    const got = await t.call("GET", `${o.base}/${k.id}`, { token: o.token });
    expect(new Date(got.body.expires_at).getTime()).toBe(new Date(at).getTime());
    expect(got.body.status).toBe("active");
  });

  test.each([
    [{}, "name", "name is required"],
    [{ name: "" }, "name", "name must not be empty"],
    [{ name: "   " }, "name", "name must not be empty"],
    [{ name: "x".repeat(101) }, "name", "at most 100"],
    [{ name: 3 }, "name", "must be a string"],
    [{ name: "k", expires_at: "2001-01-01T00:00:00Z" }, "expires_at", "expires_at must be in the future"],
    [{ name: "k", expires_at: new Date(Date.now() - 1000).toISOString() }, "expires_at", "must be in the future"],
    [{ name: "k", expires_at: "tomorrow" }, "expires_at", "ISO 8601"],
    [{ name: "k", expires_at: "2030-02-31T00:00:00Z" }, "expires_at", "ISO 8601"],
    [{ name: "k", expires_at: 1893456000 }, "expires_at", "ISO 8601"],
  ])("%j → 422 on %s and no key is made", async (body, param, message) => {
    const o = await owner();
    const r = await t.call("POST", o.base, { token: o.token, body });
    expect(r.status).toBe(422);
    expect(r.body.error).toMatchObject({ param, code: "invalid_value" });
    expect(r.body.error.message).toContain(message);
    expect(r.text).not.toContain("prp_");
    const [{ n }] = await t.sql`select count(*)::int as n from api_keys where workspace_id = ${o.ws.id}`;
    expect(n).toBe(0);
  });

  test("expires_at: null means never", async () => {
    const o = await owner();
    const k = await mint(o.token, o.base, { name: "forever", expires_at: null });
    expect((await t.call("GET", `${o.base}/${k.id}`, { token: o.token })).body.expires_at).toBeNull();
  });

  test("an unknown key id is 404 on every key route", async () => {
    const o = await owner();
    for (const [method, path] of [
      ["GET", `${o.base}/nope`],
      ["POST", `${o.base}/nope/revoke`],
      ["DELETE", `${o.base}/nope`],
    ] as const) {
      const r = await t.call(method, path, { token: o.token });
      expect(`${method} ${path} ${r.status}`).toBe(`${method} ${path} 404`);
    }
  });

  test("requires a session, and a gateway key is not one", async () => {
    const o = await owner();
    const k = await mint(o.token, o.base);
    expect((await t.call("GET", o.base)).status).toBe(401);
    const r = await t.call("GET", o.base, { token: k.key });
    expect(r.status).toBe(401);
    expect(r.text).not.toContain(k.key);
  });
});

describe("authenticateApiKey", () => {
  test("finds a valid key by its hash and returns what the gateway needs", async () => {
    const o = await owner();
    const at = inOneHour();
    const k = await mint(o.token, o.base, { name: "gw", expires_at: at });
    const auth = await authenticateApiKey(t.sql, k.key);
    expect(auth).toEqual({
      id: k.id,
      workspace_id: o.ws.id,
      name: "gw",
      expires_at: new Date(at),
      limits: { rpm: null, tpm: null, budget: null },
      allowed_models: [],
      tags: [],
    });
  });

  test("a well-formed but unknown key, or one differing in a character, is rejected", async () => {
    const o = await owner();
    const k = await mint(o.token, o.base);
    const last = k.key.at(-1) === "a" ? "b" : "a";
    expect(await authenticateApiKey(t.sql, k.key.slice(0, -1) + last)).toBeNull();
    expect(await authenticateApiKey(t.sql, `prp_${"A".repeat(43)}`)).toBeNull();
  });

  test.each([
    [""],
    ["prp_"],
    ["prp_short"],
    ["sk-1234567890abcdef1234567890abcdef1234567890"],
    [`prp_${"a".repeat(42)}`],
    [`prp_${"a".repeat(42)}-`],
    [`PRP_${"a".repeat(43)}`],
    [`prp_${"a".repeat(43)}\n`],
    [`prp_${"a".repeat(200)}`],
  ])("rejects the malformed %j without touching the database", async (token) => {
    const boom = (() => {
      throw new Error("the database was queried");
    }) as unknown as Sql;
    expect(isApiKeyFormat(token)).toBe(false);
    expect(await authenticateApiKey(boom, token)).toBeNull();
  });

  test("a revoked key is rejected", async () => {
    const o = await owner();
    const k = await mint(o.token, o.base);
    await t.call("POST", `${o.base}/${k.id}/revoke`, { token: o.token });
    expect(await authenticateApiKey(t.sql, k.key)).toBeNull();
  });

  test("an expired key is rejected", async () => {
    const o = await owner();
    const k = await mint(o.token, o.base, { name: "soon", expires_at: inOneHour() });
    expect(await authenticateApiKey(t.sql, k.key)).not.toBeNull();
    expect(await authenticateApiKey(t.sql, k.key, new Date(Date.now() + 2 * 3600_000))).toBeNull();
    await t.sql`update api_keys set expires_at = now() - interval '1 second' where id = ${k.id}`;
    expect(await authenticateApiKey(t.sql, k.key)).toBeNull();
    const list = await t.call("GET", o.base, { token: o.token });
    expect(list.body.data[0].status).toBe("expired");
  });

  test("a deleted key is rejected", async () => {
    const o = await owner();
    const k = await mint(o.token, o.base);
    await t.call("DELETE", `${o.base}/${k.id}`, { token: o.token });
    expect(await authenticateApiKey(t.sql, k.key)).toBeNull();
  });
});

describe("revoking and deleting", () => {
  test("revoke marks the key revoked, keeps it listed, and is idempotent", async () => {
    const o = await owner();
    const k = await mint(o.token, o.base);
    const r = await t.call("POST", `${o.base}/${k.id}/revoke`, { token: o.token });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ id: k.id, status: "revoked" });
    expect(r.body.revoked_at).toBeString();
    const again = await t.call("POST", `${o.base}/${k.id}/revoke`, { token: o.token });
    expect(again.body.revoked_at).toBe(r.body.revoked_at);
    const list = await t.call("GET", o.base, { token: o.token });
    expect(list.body.data.map((x: { status: string }) => x.status)).toEqual(["revoked"]);
  });

  test("delete removes the key for good; a second delete is 404", async () => {
    const o = await owner();
    const k = await mint(o.token, o.base);
    const del = await t.call("DELETE", `${o.base}/${k.id}`, { token: o.token });
    expect(del.status).toBe(204);
    expect((await t.call("GET", o.base, { token: o.token })).body.data).toEqual([]);
    expect((await t.call("DELETE", `${o.base}/${k.id}`, { token: o.token })).status).toBe(404);
    expect((await t.sql`select 1 from api_keys where id = ${k.id}`).length).toBe(0);
  });

  test("create, revoke and delete publish the key's hash to the change bus; failures publish nothing", async () => {
    const o = await owner();
    const mine = () => events.filter((e) => e.workspace_id === o.ws.id);
    const k = await mint(o.token, o.base);
    const hash = sha256(k.key);
    await t.call("POST", `${o.base}/${k.id}/revoke`, { token: o.token });
    await t.call("DELETE", `${o.base}/${k.id}`, { token: o.token });
    await t.call("DELETE", `${o.base}/${k.id}`, { token: o.token });
    await t.call("POST", o.base, { token: o.token, body: { name: "" } });
    expect(mine()).toEqual([
      { type: "api_key", workspace_id: o.ws.id, key_hash: hash },
      { type: "api_key", workspace_id: o.ws.id, key_hash: hash },
      { type: "api_key", workspace_id: o.ws.id, key_hash: hash },
    ]);
  });
});

describe("roles and isolation", () => {
  const routes = (base: string, kid: string) =>
    [
      ["GET", base, undefined],
      ["POST", base, { name: "intruder" }],
      ["GET", `${base}/${kid}`, undefined],
      ["POST", `${base}/${kid}/revoke`, undefined],
      ["DELETE", `${base}/${kid}`, undefined],
    ] as const;

  test("a non-member gets 404 on every key route and nothing changes", async () => {
    const o = await owner();
    const k = await mint(o.token, o.base, { name: "private-key-name" });
    const outsider = await t.signup();
    const before = await t.sql`select * from api_keys where workspace_id = ${o.ws.id}`;
    for (const [method, path, body] of routes(o.base, k.id)) {
      const r = await t.call(method, path, { token: outsider.token, body });
      expect(`${method} ${path} ${r.status}`).toBe(`${method} ${path} 404`);
      expect(r.text).not.toContain("private-key-name");
      expect(r.text).not.toContain("prp_");
    }
    expect(await t.sql`select * from api_keys where workspace_id = ${o.ws.id}`).toEqual(before);
    expect(await authenticateApiKey(t.sql, k.key)).not.toBeNull();
  });

  test("an admin of another workspace cannot reach this one's keys through their own workspace", async () => {
    const o = await owner();
    const k = await mint(o.token, o.base);
    const other = await owner();
    for (const [method, path, body] of routes(other.base, k.id).slice(2)) {
      const r = await t.call(method, path, { token: other.token, body });
      expect(`${method} ${path} ${r.status}`).toBe(`${method} ${path} 404`);
    }
    expect(await authenticateApiKey(t.sql, k.key)).not.toBeNull();
  });

  test("a member may list and read keys but not create, revoke or delete them", async () => {
    const o = await owner();
    const k = await mint(o.token, o.base);
    const member = await t.member(o.ws.id, "member");
    const before = await t.sql`select * from api_keys where workspace_id = ${o.ws.id}`;
    const expected = [200, 403, 200, 403, 403];
    const got: number[] = [];
    for (const [method, path, body] of routes(o.base, k.id)) got.push((await t.call(method, path, { token: member.token, body })).status);
    expect(got).toEqual(expected);
    expect(await t.sql`select * from api_keys where workspace_id = ${o.ws.id}`).toEqual(before);
  });

  test("an admin may mint and revoke keys, recorded as the creator", async () => {
    const o = await owner();
    const admin = await t.member(o.ws.id, "admin");
    const k = await mint(admin.token, o.base);
    const got = await t.call("GET", `${o.base}/${k.id}`, { token: o.token });
    expect(got.body.created_by).toEqual({ id: admin.user.id, email: admin.email });
    expect((await t.call("POST", `${o.base}/${k.id}/revoke`, { token: admin.token })).status).toBe(200);
  });
});

describe("LastUsedTracker", () => {
  async function keyIds(n: number) {
    const o = await owner();
    const ids: string[] = [];
    for (let i = 0; i < n; i++) ids.push((await mint(o.token, o.base, { name: `k${i}` })).id);
    return ids;
  }
  const lastUsed = async (id: string) => {
    const [row] = await t.sql`select last_used_at from api_keys where id = ${id}`;
    return row.last_used_at ? (row.last_used_at as Date).getTime() : null;
  };

  test("touches are coalesced: two touches give one write, and a key is written at most once a minute", async () => {
    const [id] = await keyIds(1);
    let now = Date.parse("2030-01-01T00:00:00Z");
    const tracker = new LastUsedTracker(t.sql, { now: () => now, tickMs: 0 });
    tracker.touch(id);
    now += 1000;
    tracker.touch(id);
    expect(await lastUsed(id)).toBeNull();
    expect(await tracker.flush()).toBe(1);
    expect(await lastUsed(id)).toBe(Date.parse("2030-01-01T00:00:01Z"));
    expect(await tracker.flush()).toBe(0);

    now += 30_000;
    tracker.touch(id);
    expect(await tracker.flush()).toBe(0);
    expect(await lastUsed(id)).toBe(Date.parse("2030-01-01T00:00:01Z"));

    now += 30_000;
    expect(await tracker.flush()).toBe(1);
    expect(await lastUsed(id)).toBe(Date.parse("2030-01-01T00:00:31Z"));
  });

  test("one flush writes every due key in one go", async () => {
    const ids = await keyIds(3);
    const now = Date.parse("2031-06-01T12:00:00Z");
    const tracker = new LastUsedTracker(t.sql, { now: () => now, tickMs: 0 });
    for (const id of ids) tracker.touch(id);
    expect(await tracker.flush()).toBe(3);
    for (const id of ids) expect(await lastUsed(id)).toBe(now);
  });

  test("stop() writes what is pending even inside the minute", async () => {
    const [id] = await keyIds(1);
    let now = Date.parse("2032-01-01T00:00:00Z");
    const tracker = new LastUsedTracker(t.sql, { now: () => now, tickMs: 0 });
    tracker.touch(id);
    await tracker.flush();
    now += 5000;
    tracker.touch(id);
    await tracker.stop();
    expect(await lastUsed(id)).toBe(now);
  });

  test("last_used_at never moves backwards", async () => {
    const [id] = await keyIds(1);
    const late = new LastUsedTracker(t.sql, { now: () => Date.parse("2033-01-01T00:00:10Z"), tickMs: 0 });
    const early = new LastUsedTracker(t.sql, { now: () => Date.parse("2033-01-01T00:00:00Z"), tickMs: 0 });
    late.touch(id);
    await late.flush();
    early.touch(id);
    await early.flush();
    expect(await lastUsed(id)).toBe(Date.parse("2033-01-01T00:00:10Z"));
  });

  test("the timer flushes on its own and the listing shows it", async () => {
    const o = await owner();
    const k = await mint(o.token, o.base);
    const tracker = new LastUsedTracker(t.sql, { tickMs: 20 });
    try {
      tracker.touch(k.id);
      for (let i = 0; i < 100 && (await lastUsed(k.id)) === null; i++) await Bun.sleep(20);
      expect(await lastUsed(k.id)).not.toBeNull();
      const got = await t.call("GET", `${o.base}/${k.id}`, { token: o.token });
      expect(got.body.last_used_at).toBeString();
    } finally {
      await tracker.stop();
    }
  });

  test("a failed write keeps the uses for the next flush", async () => {
    const [id] = await keyIds(1);
    let fail = true;
    const flaky = ((...args: Parameters<Sql>) => {
      if (fail) return Promise.reject(new Error("connection lost"));
      return (t.sql as unknown as (...a: unknown[]) => unknown)(...args);
    }) as unknown as Sql;
    (flaky as unknown as { array: Sql["array"] }).array = t.sql.array.bind(t.sql);
    const tracker = new LastUsedTracker(flaky, { now: () => Date.parse("2034-01-01T00:00:00Z"), tickMs: 0 });
    tracker.touch(id);
    await expect(tracker.flush()).rejects.toThrow("connection lost");
    fail = false;
    expect(await tracker.flush()).toBe(1);
    expect(await lastUsed(id)).toBe(Date.parse("2034-01-01T00:00:00Z"));
  });
});

describe("secrets never leave", () => {
  test("the key appears in its creation response only: no other response, no log line", async () => {
    const o = await owner();
    const responses: CallResult[] = [];
    const created = await t.call("POST", o.base, { token: o.token, body: { name: "watch" } });
    const key: string = created.body.key;
    const id: string = created.body.id;
    responses.push(await t.call("GET", o.base, { token: o.token }));
    responses.push(await t.call("GET", `${o.base}/${id}`, { token: o.token }));
    responses.push(await t.call("POST", `${o.base}/${id}/revoke`, { token: o.token }));
    responses.push(await t.call("GET", "/auth/me", { token: o.token }));
    responses.push(await t.call("GET", `/workspaces/${o.ws.id}`, { token: key }));
    responses.push(await t.call("DELETE", `${o.base}/${id}`, { token: o.token }));
    const secretPart = key.slice(10);
    for (const r of responses) expect(leak(r.text, secretPart)).toBeNull();
    for (const line of t.logs) expect(leak(line, secretPart)).toBeNull();
    expect(t.logs.some((l) => l.includes("api key created") && l.includes(id))).toBe(true);
  });
});
