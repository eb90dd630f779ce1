import { afterAll, beforeAll, expect, test } from "bun:test";
import postgres from "postgres";
import { createApp } from "../src/app.ts";
import { buildDeps } from "../src/deps.ts";
import { bridgeChangesOverPostgres } from "../src/gateway/cache.ts";
import { silentLogger } from "../src/logger.ts";
import { testApp, testConfig, type TestApp } from "./support/app.ts";
import { startMockUpstream, type MockUpstream } from "./support/mock-upstreams.ts";

// Two Perpetuo instances on one PostgreSQL server: a key revoked through one stops working on the
// other at once, carried by LISTEN/NOTIFY. Only meaningful against a real server.
const serverMode = !!process.env.DATABASE_URL;

let a: TestApp;
let mock: MockUpstream;
let other: { sql: postgres.Sql; handle: (r: Request) => Promise<Response>; stop: () => Promise<void> } | null = null;
let unbridgeA: (() => Promise<void>) | null = null;

beforeAll(async () => {
  if (!serverMode) return;
  a = await testApp();
  unbridgeA = await bridgeChangesOverPostgres(a.sql, a.deps.events, () => a.deps.gateway.cache.clear(), silentLogger);
  const sql = postgres(a.db.url!, { max: 4, onnotice: () => {} });
  const deps = buildDeps({ sql, config: testConfig(), logger: silentLogger });
  const unbridge = await bridgeChangesOverPostgres(sql, deps.events, () => deps.gateway.cache.clear(), silentLogger);
  const app = createApp(deps);
  other = {
    sql,
    handle: (r) => app.handle(r),
    async stop() {
      await unbridge();
      await deps.gateway.stop();
      deps.logQueue.stop();
      await sql.end();
    },
  };
  mock = await startMockUpstream("openai", { expectedKey: "sk-multi-0123456789" });
});

afterAll(async () => {
  if (!serverMode) return;
  await other?.stop();
  await unbridgeA?.();
  await mock.stop();
  await a.deps.gateway.stop();
  await a.close();
});

test.if(serverMode)("a key revoked on one instance is refused by another at once", async () => {
  const owner = await a.signup();
  const ws = await a.workspace(owner.token);
  await a.call("POST", `/workspaces/${ws.id}/providers`, {
    token: owner.token,
    body: { name: "up", type: "openai", base_url: mock.url, api_key: "sk-multi-0123456789" },
  });
  const created = await a.call("POST", `/workspaces/${ws.id}/api-keys`, { token: owner.token, body: { name: "k" } });
  const call = () =>
    other!.handle(
      new Request("http://localhost/v1/chat/completions", {
        method: "POST",
        headers: { authorization: `Bearer ${created.body.key}`, "content-type": "application/json" },
        body: JSON.stringify({ model: "m", messages: [{ role: "user", content: "x" }] }),
      }),
    );
  expect((await call()).status).toBe(200); // now cached on the other instance
  await a.call("POST", `/workspaces/${ws.id}/api-keys/${created.body.id}/revoke`, { token: owner.token });
  let status = 0;
  for (let i = 0; i < 30 && status !== 401; i++) {
    status = (await call()).status;
    if (status !== 401) await Bun.sleep(50);
  }
  expect(status).toBe(401);
});

test.if(serverMode)("a provider changed on one instance is used by another at once", async () => {
  const owner = await a.signup();
  const ws = await a.workspace(owner.token);
  const p = await a.call("POST", `/workspaces/${ws.id}/providers`, {
    token: owner.token,
    body: { name: "up", type: "openai", base_url: mock.url, api_key: "sk-multi-0123456789", models: ["one"] },
  });
  const created = await a.call("POST", `/workspaces/${ws.id}/api-keys`, { token: owner.token, body: { name: "k" } });
  const call = (model: string) =>
    other!.handle(
      new Request("http://localhost/v1/chat/completions", {
        method: "POST",
        headers: { authorization: `Bearer ${created.body.key}`, "content-type": "application/json" },
        body: JSON.stringify({ model, messages: [{ role: "user", content: "x" }] }),
      }),
    );
  expect((await call("two")).status).toBe(404);
  await a.call("PUT", `/workspaces/${ws.id}/providers/${p.body.id}`, { token: owner.token, body: { models: ["one", "two"] } });
  let status = 0;
  for (let i = 0; i < 30 && status !== 200; i++) {
    status = (await call("two")).status;
    if (status !== 200) await Bun.sleep(50);
  }
  expect(status).toBe(200);
});
