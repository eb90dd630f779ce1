import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { ChangeBus } from "../src/events.ts";
import { GatewayCache, type GatewayKey, type WorkspaceRuntime } from "../src/gateway/cache.ts";
import { testApp, type TestApp } from "./support/app.ts";

const TOKEN = "prp_" + "a".repeat(43);
const HASH = createHash("sha256").update(TOKEN).digest("hex");
const KEY: GatewayKey = { id: "k1", workspace_id: "w1", name: "k", expires_at: null };

/** A key lookup that reads the database's state at once but answers only when released, like a slow query. */
function slowLookup() {
  let revoked = false;
  let calls = 0;
  const gates: (() => void)[] = [];
  const loaders = {
    async authenticate(): Promise<GatewayKey | null> {
      calls++;
      const seen = revoked ? null : KEY;
      await new Promise<void>((r) => gates.push(r));
      return seen;
    },
    workspace: async (): Promise<WorkspaceRuntime> => ({ providers: [], logContent: false }),
  };
  return {
    loaders,
    revoke: () => (revoked = true),
    calls: () => calls,
    /** Lets every waiting lookup answer, and the ones they start next, until none is left. */
    async releaseAll() {
      for (let i = 0; i < 20; i++) {
        await Bun.sleep(1);
        while (gates.length) gates.shift()!();
      }
    },
  };
}

describe("the gateway key cache", () => {
  test("a key revoked while its lookup is in flight is not cached as active", async () => {
    const bus = new ChangeBus();
    const db = slowLookup();
    const cache = new GatewayCache(db.loaders, bus);
    const first = cache.authenticate(TOKEN);
    await Bun.sleep(1);
    // The lookup has read the row; the revocation commits and is announced before it answers.
    db.revoke();
    bus.emit({ type: "api_key", workspace_id: "w1", key_hash: HASH });
    await db.releaseAll();
    expect(await first).toBeNull();
    const second = cache.authenticate(TOKEN);
    await db.releaseAll();
    expect(await second).toBeNull();
    cache.close();
  });

  test("a lookup with no invalidation meanwhile is cached", async () => {
    const bus = new ChangeBus();
    const db = slowLookup();
    const cache = new GatewayCache(db.loaders, bus);
    const first = cache.authenticate(TOKEN);
    await db.releaseAll();
    expect(await first).toEqual(KEY);
    expect(await cache.authenticate(TOKEN)).toEqual(KEY);
    expect(db.calls()).toBe(1);
    cache.close();
  });
});

describe("the gateway while its database is down", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await testApp();
  }, 90_000);
  afterAll(() => t.close());

  test("an unknown gateway key is answered 503 in OpenAI's error shape, not 500", async () => {
    await t.sql.end();
    const r = await t.call("POST", "/v1/chat/completions", {
      headers: { authorization: `Bearer ${TOKEN}` },
      body: { model: "gpt-4o-mini", messages: [{ role: "user", content: "hi" }] },
    });
    expect(r.status).toBe(503);
    expect(r.headers.get("retry-after")).toBe("1");
    expect(r.body).toEqual({
      error: {
        message: "the gateway cannot reach its database right now; retry shortly",
        type: "server_error",
        param: null,
        code: "service_unavailable",
      },
    });
  });
});
