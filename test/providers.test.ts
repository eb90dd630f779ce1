import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { randomBase62 } from "../src/crypto.ts";
import { ChangeBus, type ChangeEvent } from "../src/events.ts";
import { adapterFor } from "../src/adapters/index.ts";
import { PROVIDER_CATALOG, PROVIDER_TYPES } from "../src/providers/catalog.ts";
import { createKeyring, KeyringError } from "../src/providers/keyring.ts";
import { loadProviderConfigs } from "../src/providers/service.ts";
import type { ProviderConfig } from "../src/providers/model.ts";
import { scrubUpstreamMessage, testProviderConnection } from "../src/providers/connection-test.ts";
import { startMockUpstream, type MockUpstream } from "./support/mock-upstreams.ts";
import { createUpstreamFetch } from "../src/net/fetch.ts";
import { echoOfKey, leakedRun } from "./support/leaks.ts";
import { testApp, TEST_SECRET, type CallResult, type TestApp } from "./support/app.ts";

let t: TestApp;
const events: ChangeEvent[] = [];
const keyring = createKeyring({ secret: TEST_SECRET, previousSecrets: [] });
let openai: MockUpstream;
const OPENAI_KEY = `sk-proj-${randomBase62(32)}`;

beforeAll(async () => {
  const bus = new ChangeBus();
  bus.on((e) => events.push(e));
  t = await testApp({ events: bus });
  openai = await startMockUpstream("openai", { expectedKey: OPENAI_KEY, models: ["gpt-4o-mini", "gpt-4o", "o3"] });
});
afterAll(async () => {
  await openai.stop();
  await t.close();
});

const newKey = (prefix = "sk-test-") => `${prefix}${randomBase62(24)}`;

/** The first 8-character stretch of `secret` found in `text`, or null. */
function leak(text: string, secret: string): string | null {
  for (let i = 0; i + 8 <= secret.length; i++) if (text.includes(secret.slice(i, i + 8))) return secret.slice(i, i + 8);
  return null;
}

async function owner() {
  const user = await t.signup();
  const ws = await t.workspace(user.token);
  return { ...user, ws, base: `/workspaces/${ws.id}/providers` };
}

async function create(token: string, base: string, body: Record<string, unknown>) {
  const r = await t.call("POST", base, { token, body });
  if (r.status !== 201) throw new Error(`create failed: ${r.status} ${r.text}`);
  return r.body as { id: string; name: string; priority: number; key_last4: string | null };
}

const rawRow = async (id: string) => (await t.sql`select * from provider_keys where id = ${id}`)[0];

describe("provider entries", () => {
  test("creating one answers 201 with the type's defaults and only the last 4 characters of the key", async () => {
    const o = await owner();
    const key = newKey();
    const r = await t.call("POST", o.base, { token: o.token, body: { name: "openai-main", type: "openai", api_key: key } });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({
      name: "openai-main",
      type: "openai",
      label: "OpenAI",
      format: "openai",
      base_url: "https://api.openai.com/v1",
      base_url_is_default: true,
      has_key: true,
      key_last4: key.slice(-4),
      key_hint: `••••${key.slice(-4)}`,
      priority: 10,
      enabled: true,
      models: [],
      model_map: {},
      timeout_ms: 60000,
      pricing: {},
    });
    expect(r.body.id).toBeString();
    expect(r.body.api_key).toBeUndefined();
    expect(leak(r.text, key)).toBeNull();
  });

  test("every field is stored as given and read back by GET and the list", async () => {
    const o = await owner();
    const body = {
      name: "vllm.local_1",
      type: "openai_compatible",
      base_url: "http://10.0.0.5:8000/v1/",
      priority: 7,
      enabled: false,
      models: ["llama-*", "qwen2.5:7b"],
      model_map: { fast: "llama-3.1-8b", "gpt-4": "llama-3.1-70b" },
      timeout_ms: 120000,
      pricing: { "llama-*": { input: 0.1, output: 0.2 }, "qwen2.5:7b": { input: 0, output: 0, cached_input: 0 } },
    };
    const created = await create(o.token, o.base, body);
    const expected = {
      ...body,
      base_url: "http://10.0.0.5:8000/v1",
      base_url_is_default: false,
      has_key: false,
      key_last4: null,
      key_hint: null,
    };
    const got = await t.call("GET", `${o.base}/${created.id}`, { token: o.token });
    expect(got.status).toBe(200);
    expect(got.body).toMatchObject(expected);
    const list = await t.call("GET", o.base, { token: o.token });
    expect(list.body.data).toHaveLength(1);
    expect(list.body.data[0]).toMatchObject(expected);
  });

  test("each type gets its documented default base URL", async () => {
    const o = await owner();
    const expected: Record<string, string> = {
      openai: "https://api.openai.com/v1",
      anthropic: "https://api.anthropic.com",
      gemini: "https://generativelanguage.googleapis.com",
      groq: "https://api.groq.com/openai/v1",
      mistral: "https://api.mistral.ai/v1",
      openrouter: "https://openrouter.ai/api/v1",
      together: "https://api.together.xyz/v1",
      deepseek: "https://api.deepseek.com/v1",
      ollama: "http://localhost:11434/v1",
    };
    for (const [type, url] of Object.entries(expected)) {
      const r = await t.call("POST", o.base, {
        token: o.token,
        body: { name: `p-${type}`, type, api_key: type === "ollama" ? undefined : newKey() },
      });
      expect(r.status).toBe(201);
      expect(r.body.base_url).toBe(url);
    }
  });

  test("the catalog has one entry per type and an adapter of its format for each", () => {
    expect(Object.keys(PROVIDER_CATALOG).sort()).toEqual([...PROVIDER_TYPES].sort());
    for (const type of PROVIDER_TYPES) {
      expect(PROVIDER_CATALOG[type].defaultBaseUrl === null || /^https?:\/\//.test(PROVIDER_CATALOG[type].defaultBaseUrl!)).toBe(true);
      expect(adapterFor(type).format).toBe(PROVIDER_CATALOG[type].format);
    }
    expect(PROVIDER_CATALOG.ollama.keyRequired).toBe(false);
    expect(PROVIDER_CATALOG.openai_compatible.keyRequired).toBe(false);
    expect(PROVIDER_CATALOG.openai_compatible.defaultBaseUrl).toBeNull();
  });

  test("priority defaults to 10 after the highest so far", async () => {
    const o = await owner();
    const a = await create(o.token, o.base, { name: "a", type: "ollama" });
    const b = await create(o.token, o.base, { name: "b", type: "ollama" });
    const c = await create(o.token, o.base, { name: "c", type: "ollama", priority: 5 });
    const d = await create(o.token, o.base, { name: "d", type: "ollama" });
    expect([a.priority, b.priority, c.priority, d.priority]).toEqual([10, 20, 5, 30]);
    const list = await t.call("GET", o.base, { token: o.token });
    expect(list.body.data.map((p: { name: string }) => p.name)).toEqual(["c", "a", "b", "d"]);
  });

  test("a key shorter than 12 characters shows none of its characters", async () => {
    const o = await owner();
    const r = await t.call("POST", o.base, {
      token: o.token,
      body: { name: "short", type: "openai_compatible", base_url: "http://127.0.0.1:1/v1", api_key: "abc12345" },
    });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ has_key: true, key_last4: null, key_hint: "••••" });
    expect(r.text).not.toContain("2345");
  });

  test("a blank api_key counts as not given", async () => {
    const o = await owner();
    const ok = await t.call("POST", o.base, { token: o.token, body: { name: "ol", type: "ollama", api_key: "  " } });
    expect(ok.status).toBe(201);
    expect(ok.body.has_key).toBe(false);
    const bad = await t.call("POST", o.base, { token: o.token, body: { name: "oa", type: "openai", api_key: "" } });
    expect(bad.status).toBe(422);
    expect(bad.body.error).toMatchObject({ param: "api_key", message: "api_key is required for type openai" });
  });

  test("a duplicate name is 409 on name, regardless of case, and fine in another workspace", async () => {
    const o = await owner();
    await create(o.token, o.base, { name: "Main", type: "ollama" });
    const dup = await t.call("POST", o.base, { token: o.token, body: { name: "main", type: "ollama" } });
    expect(dup.status).toBe(409);
    expect(dup.body.error).toMatchObject({ param: "name", type: "conflict_error" });
    const other = await owner();
    expect((await t.call("POST", other.base, { token: other.token, body: { name: "main", type: "ollama" } })).status).toBe(201);
  });

  test("renaming onto another entry's name is 409 and changes nothing", async () => {
    const o = await owner();
    await create(o.token, o.base, { name: "one", type: "ollama" });
    const two = await create(o.token, o.base, { name: "two", type: "ollama" });
    const r = await t.call("PUT", `${o.base}/${two.id}`, { token: o.token, body: { name: "ONE", priority: 99 } });
    expect(r.status).toBe(409);
    expect(r.body.error.param).toBe("name");
    expect((await rawRow(two.id)).priority).toBe(20);
  });

  test("a workspace holds at most 50 providers", async () => {
    const o = await owner();
    for (let i = 0; i < 50; i++) await create(o.token, o.base, { name: `p${i}`, type: "ollama" });
    const r = await t.call("POST", o.base, { token: o.token, body: { name: "p50", type: "ollama" } });
    expect(r.status).toBe(409);
    expect(r.body.error.code).toBe("limit_reached");
    const [{ n }] = await t.sql`select count(*)::int as n from provider_keys where workspace_id = ${o.ws.id}`;
    expect(n).toBe(50);
  });

  test("DELETE removes the entry; a second DELETE and a GET are 404", async () => {
    const o = await owner();
    const p = await create(o.token, o.base, { name: "gone", type: "ollama" });
    const del = await t.call("DELETE", `${o.base}/${p.id}`, { token: o.token });
    expect(del.status).toBe(204);
    expect(del.text).toBe("");
    expect((await t.call("GET", `${o.base}/${p.id}`, { token: o.token })).status).toBe(404);
    expect((await t.call("DELETE", `${o.base}/${p.id}`, { token: o.token })).status).toBe(404);
    expect((await t.call("GET", o.base, { token: o.token })).body.data).toEqual([]);
  });

  test("an unknown provider id is 404 on every provider route", async () => {
    const o = await owner();
    for (const [method, path, body] of [
      ["GET", `${o.base}/nope`, undefined],
      ["PUT", `${o.base}/nope`, { enabled: false }],
      ["DELETE", `${o.base}/nope`, undefined],
      ["POST", `${o.base}/nope/test`, undefined],
    ] as const) {
      const r = await t.call(method, path, { token: o.token, body });
      expect(r.status).toBe(404);
      expect(r.body.error.type).toBe("not_found_error");
    }
  });

  test("requires a session", async () => {
    const o = await owner();
    expect((await t.call("GET", o.base)).status).toBe(401);
    expect((await t.call("POST", o.base, { body: { name: "x", type: "ollama" } })).status).toBe(401);
  });
});

describe("updating", () => {
  test("PUT without api_key keeps the stored key, byte for byte", async () => {
    const o = await owner();
    const key = newKey();
    const p = await create(o.token, o.base, { name: "keep", type: "openai", api_key: key });
    const before = await rawRow(p.id);
    const r = await t.call("PUT", `${o.base}/${p.id}`, { token: o.token, body: { name: "kept", timeout_ms: 5000, models: ["gpt-*"] } });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ name: "kept", timeout_ms: 5000, models: ["gpt-*"], has_key: true, key_last4: key.slice(-4) });
    const after = await rawRow(p.id);
    expect(Buffer.from(after.key_ciphertext).equals(Buffer.from(before.key_ciphertext))).toBe(true);
    const [cfg] = await loadProviderConfigs(t.sql, o.ws.id, keyring);
    expect(cfg.api_key).toBe(key);
    expect(new Date(r.body.updated_at).getTime()).toBeGreaterThanOrEqual(new Date(before.updated_at).getTime());
  });

  test("PUT with a new api_key replaces it", async () => {
    const o = await owner();
    const p = await create(o.token, o.base, { name: "swap", type: "anthropic", api_key: newKey("sk-ant-") });
    const key = newKey("sk-ant-");
    const r = await t.call("PUT", `${o.base}/${p.id}`, { token: o.token, body: { api_key: key } });
    expect(r.status).toBe(200);
    expect(r.body.key_last4).toBe(key.slice(-4));
    expect(leak(r.text, key)).toBeNull();
    const [cfg] = await loadProviderConfigs(t.sql, o.ws.id, keyring);
    expect(cfg.api_key).toBe(key);
  });

  test("api_key: null removes the key where the type allows it", async () => {
    const o = await owner();
    const p = await create(o.token, o.base, {
      name: "compat",
      type: "openai_compatible",
      base_url: "http://127.0.0.1:9/v1",
      api_key: newKey(),
    });
    const r = await t.call("PUT", `${o.base}/${p.id}`, { token: o.token, body: { api_key: null } });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ has_key: false, key_last4: null, key_hint: null });
    const row = await rawRow(p.id);
    expect([row.key_ciphertext, row.key_nonce, row.key_version, row.key_last4]).toEqual([null, null, null, null]);
  });

  test("api_key: null is 422 where the type requires a key, and the key stays", async () => {
    const o = await owner();
    const key = newKey();
    const p = await create(o.token, o.base, { name: "needs", type: "groq", api_key: key });
    const r = await t.call("PUT", `${o.base}/${p.id}`, { token: o.token, body: { api_key: null } });
    expect(r.status).toBe(422);
    expect(r.body.error).toMatchObject({ param: "api_key", message: "api_key is required for type groq" });
    const [cfg] = await loadProviderConfigs(t.sql, o.ws.id, keyring);
    expect(cfg.api_key).toBe(key);
  });

  test("changing to a type that needs a key, without one, is 422 on api_key", async () => {
    const o = await owner();
    const p = await create(o.token, o.base, { name: "local", type: "ollama" });
    const r = await t.call("PUT", `${o.base}/${p.id}`, { token: o.token, body: { type: "mistral" } });
    expect(r.status).toBe(422);
    expect(r.body.error.param).toBe("api_key");
    const ok = await t.call("PUT", `${o.base}/${p.id}`, { token: o.token, body: { type: "mistral", api_key: newKey("") } });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ type: "mistral", base_url: "https://api.mistral.ai/v1" });
  });

  test("base_url: null goes back to the type's default; openai_compatible has none to go back to", async () => {
    const o = await owner();
    const p = await create(o.token, o.base, { name: "ol", type: "ollama", base_url: "http://gpu-box:11434/v1" });
    const r = await t.call("PUT", `${o.base}/${p.id}`, { token: o.token, body: { base_url: null } });
    expect(r.body).toMatchObject({ base_url: "http://localhost:11434/v1", base_url_is_default: true });
    const c = await create(o.token, o.base, { name: "compat", type: "openai_compatible", base_url: "http://127.0.0.1:8000/v1" });
    const bad = await t.call("PUT", `${o.base}/${c.id}`, { token: o.token, body: { base_url: null } });
    expect(bad.status).toBe(422);
    expect(bad.body.error).toMatchObject({ param: "base_url", message: "base_url is required for type openai_compatible" });
  });

  test("an empty PUT changes nothing but answers the entry", async () => {
    const o = await owner();
    const p = await create(o.token, o.base, { name: "same", type: "ollama", models: ["a"] });
    const r = await t.call("PUT", `${o.base}/${p.id}`, { token: o.token, body: {} });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ name: "same", models: ["a"], priority: 10 });
  });

  test.each([
    [{ priority: -1 }, "priority", "between 0 and 1000000"],
    [{ timeout_ms: 999 }, "timeout_ms", "between 1000 and 600000"],
    [{ type: "bogus" }, "type", "must be one of"],
    [{ name: "a/b" }, "name", "may contain only"],
    [{ base_url: "http://169.254.169.254/" }, "base_url", "link-local"],
    [{ enabled: "yes" }, "enabled", "true or false"],
    [{ models: ["ok", 3] }, "models[1]", "must be a string"],
  ])("PUT %j is 422 on %s and changes nothing", async (body, param, message) => {
    const o = await owner();
    const p = await create(o.token, o.base, { name: "stay", type: "ollama" });
    const before = await rawRow(p.id);
    const r = await t.call("PUT", `${o.base}/${p.id}`, { token: o.token, body });
    expect(r.status).toBe(422);
    expect(r.body.error.param).toBe(param);
    expect(r.body.error.message).toContain(message);
    expect(await rawRow(p.id)).toEqual(before);
  });
});

describe("validation", () => {
  const long = "x".repeat(201);
  test.each([
    [{ type: "openai", api_key: "sk-1234567890abcdef" }, "name", "name is required"],
    [{ name: "", type: "ollama" }, "name", "name must not be empty"],
    [{ name: "x".repeat(65), type: "ollama" }, "name", "at most 64"],
    [{ name: "has space", type: "ollama" }, "name", "may contain only"],
    [{ name: "a/b", type: "ollama" }, "name", "may contain only"],
    [{ name: 5, type: "ollama" }, "name", "must be a string"],
    [{ name: "n" }, "type", "type is required"],
    [{ name: "n", type: "azure" }, "type", "must be one of openai, anthropic"],
    [{ name: "n", type: "openai" }, "api_key", "api_key is required for type openai"],
    [{ name: "n", type: "gemini", api_key: null }, "api_key", "api_key is required for type gemini"],
    [{ name: "n", type: "openai", api_key: 12345 }, "api_key", "must be a string"],
    [{ name: "n", type: "openai", api_key: "has a space" }, "api_key", "printable ASCII without spaces"],
    [{ name: "n", type: "openai", api_key: "k".repeat(4097) }, "api_key", "at most 4096"],
    [{ name: "n", type: "openai_compatible" }, "base_url", "base_url is required for type openai_compatible"],
    [{ name: "n", type: "ollama", base_url: "" }, "base_url", "must not be empty"],
    [{ name: "n", type: "ollama", base_url: 7 }, "base_url", "must be a string"],
    [{ name: "n", type: "ollama", priority: 1.5 }, "priority", "whole number"],
    [{ name: "n", type: "ollama", priority: 1_000_001 }, "priority", "between 0 and 1000000"],
    [{ name: "n", type: "ollama", priority: "1" }, "priority", "must be a number"],
    [{ name: "n", type: "ollama", timeout_ms: 600_001 }, "timeout_ms", "between 1000 and 600000"],
    [{ name: "n", type: "ollama", timeout_ms: 999 }, "timeout_ms", "between 1000 and 600000"],
    [{ name: "n", type: "ollama", enabled: 1 }, "enabled", "true or false"],
    [{ name: "n", type: "ollama", models: "gpt-4" }, "models", "must be a list"],
    [{ name: "n", type: "ollama", models: ["a", "b", ""] }, "models[2]", "models[2] must not be empty"],
    [{ name: "n", type: "ollama", models: ["a", long] }, "models[1]", "at most 200"],
    [{ name: "n", type: "ollama", models: ["gpt 4"] }, "models[0]", "must not contain spaces"],
    [{ name: "n", type: "ollama", models: Array.from({ length: 101 }, (_, i) => `m${i}`) }, "models", "at most 100"],
    [{ name: "n", type: "ollama", model_map: ["x"] }, "model_map", "must be an object"],
    [{ name: "n", type: "ollama", model_map: { "gpt-4": "" } }, "model_map.gpt-4", "model_map.gpt-4 must not be empty"],
    [{ name: "n", type: "ollama", model_map: { "gpt-4": 4 } }, "model_map.gpt-4", "must be a string"],
    [
      { name: "n", type: "ollama", model_map: Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`a${i}`, "b"])) },
      "model_map",
      "at most 100",
    ],
    [{ name: "n", type: "ollama", pricing: { "gpt-4o": { input: -1, output: 1 } } }, "pricing.gpt-4o.input", "≥ 0"],
    [{ name: "n", type: "ollama", pricing: { "gpt-4o": { input: 1 } } }, "pricing.gpt-4o.output", "pricing.gpt-4o.output is required"],
    [
      { name: "n", type: "ollama", pricing: { "gpt-*": { input: 1, output: 2, cached_input: "0.5" } } },
      "pricing.gpt-*.cached_input",
      "must be a number",
    ],
    [{ name: "n", type: "ollama", pricing: { "gpt-4o": 3 } }, "pricing.gpt-4o", "must be an object"],
    [{ name: "n", type: "ollama", pricing: [] }, "pricing", "must be an object"],
  ])("%j → 422 on %s", async (body, param, message) => {
    const o = await owner();
    const r = await t.call("POST", o.base, { token: o.token, body });
    expect(r.status).toBe(422);
    expect(r.body.error).toMatchObject({ param, type: "invalid_request_error", code: "invalid_value" });
    expect(r.body.error.message).toContain(message);
    const [{ n }] = await t.sql`select count(*)::int as n from provider_keys where workspace_id = ${o.ws.id}`;
    expect(n).toBe(0);
  });

  test("a rejected api_key is never echoed in the error", async () => {
    const o = await owner();
    const key = `sk-${randomBase62(30)} trailing`;
    const r = await t.call("POST", o.base, { token: o.token, body: { name: "n", type: "openai", api_key: key } });
    expect(r.status).toBe(422);
    expect(leak(r.text, key)).toBeNull();
    const huge = `sk-${"A1b2C3d4".repeat(600)}`;
    const r2 = await t.call("POST", o.base, { token: o.token, body: { name: "n", type: "openai", api_key: huge } });
    expect(r2.status).toBe(422);
    expect(r2.text).not.toContain("A1b2C3d4");
  });

  test("a body that is not JSON is 400", async () => {
    const o = await owner();
    const r = await t.call("POST", o.base, { token: o.token, body: "{not json", headers: { "content-type": "application/json" } });
    expect(r.status).toBe(400);
  });
});

describe("base_url rules", () => {
  test.each([
    ["http://localhost:11434/v1", "http://localhost:11434/v1"],
    ["http://127.0.0.1:8000/v1/", "http://127.0.0.1:8000/v1"],
    ["http://10.1.2.3/v1", "http://10.1.2.3/v1"],
    ["http://192.168.1.20:8080", "http://192.168.1.20:8080"],
    ["http://172.16.0.1:8000/v1", "http://172.16.0.1:8000/v1"],
    ["https://[::1]:8000/v1", "https://[::1]:8000/v1"],
    ["http://[fd12:3456::1]/v1", "http://[fd12:3456::1]/v1"],
    ["HTTPS://API.Example.COM/openai/v1", "https://api.example.com/openai/v1"],
    ["http://gpu-box:8000/v1", "http://gpu-box:8000/v1"],
    ["http://169.255.169.254/v1", "http://169.255.169.254/v1"],
    ["http://metadata-proxy.example.com/v1", "http://metadata-proxy.example.com/v1"],
  ])("allows %s (stored as %s)", async (url, stored) => {
    const o = await owner();
    const r = await t.call("POST", o.base, { token: o.token, body: { name: "n", type: "openai_compatible", base_url: url } });
    expect(r.status).toBe(201);
    expect(r.body.base_url).toBe(stored);
  });

  test.each([
    ["http://169.254.169.254/latest/meta-data", "link-local"],
    ["http://169.254.0.1", "link-local"],
    ["http://169.254.169.254.", "link-local"],
    ["http://2852039166/", "link-local"],
    ["http://0xA9FEA9FE/", "link-local"],
    ["http://0xa9.0xfe.0xa9.0xfe/", "link-local"],
    ["http://0251.0376.0251.0376/", "link-local"],
    ["http://169.254.43518/", "link-local"],
    ["http://[::ffff:169.254.169.254]/", "link-local"],
    ["http://[::ffff:a9fe:a9fe]/", "link-local"],
    ["http://[0:0:0:0:0:ffff:169.254.169.254]/", "link-local"],
    ["http://[::169.254.169.254]/", "link-local"],
    ["http://[64:ff9b::169.254.169.254]/", "link-local"],
    ["http://[2002:a9fe:a9fe::1]/", "link-local"],
    ["http://[fe80::1]/", "link-local"],
    ["http://[FEBF:ffff::1]:8080/v1", "link-local"],
    ["http://[fd00:ec2::254]/", "link-local"],
    ["http://[fd00:ec2:0::254]/latest", "link-local"],
    ["http://metadata.google.internal/computeMetadata/v1", "metadata service"],
    ["http://METADATA.GOOGLE.INTERNAL./", "metadata service"],
    ["http://metadata/", "metadata service"],
    ["http://metadata:80/", "metadata service"],
    ["ftp://files.example.com/v1", "http:// or https://"],
    ["file:///etc/passwd", "http:// or https://"],
    ["javascript:alert(1)", "http:// or https://"],
    ["http://user:pass@api.example.com/v1", "credentials"],
    ["http://user@api.example.com/v1", "credentials"],
    ["https://api.example.com/v1?key=abc", "query string or fragment"],
    ["https://api.example.com/v1?", "query string or fragment"],
    ["https://api.example.com/v1#frag", "query string or fragment"],
    ["not a url", "valid URL"],
    ["http://", "valid URL"],
  ])("rejects %s (%s) with 422 on base_url", async (url, why) => {
    const o = await owner();
    const r = await t.call("POST", o.base, { token: o.token, body: { name: "n", type: "openai_compatible", base_url: url } });
    expect(r.status).toBe(422);
    expect(r.body.error.param).toBe("base_url");
    expect(r.body.error.message).toContain(why);
    expect(r.body.error.message.startsWith("base_url ")).toBe(true);
  });
});

describe("reordering", () => {
  async function three() {
    const o = await owner();
    const a = await create(o.token, o.base, { name: "a", type: "ollama" });
    const b = await create(o.token, o.base, { name: "b", type: "ollama" });
    const c = await create(o.token, o.base, { name: "c", type: "ollama" });
    return { o, a, b, c };
  }

  test("assigns 10, 20, 30… in the given order", async () => {
    const { o, a, b, c } = await three();
    const r = await t.call("POST", `${o.base}/reorder`, { token: o.token, body: { ids: [c.id, a.id, b.id] } });
    expect(r.status).toBe(200);
    expect(r.body.data.map((p: { name: string; priority: number }) => [p.name, p.priority])).toEqual([
      ["c", 10],
      ["a", 20],
      ["b", 30],
    ]);
    const list = await t.call("GET", o.base, { token: o.token });
    expect(list.body.data.map((p: { name: string }) => p.name)).toEqual(["c", "a", "b"]);
  });

  test("PUT priority moves one entry", async () => {
    const { o, c } = await three();
    await t.call("PUT", `${o.base}/${c.id}`, { token: o.token, body: { priority: 0 } });
    const list = await t.call("GET", o.base, { token: o.token });
    expect(list.body.data.map((p: { name: string }) => p.name)).toEqual(["c", "a", "b"]);
  });

  test.each([
    ["a missing entry", (x: { a: string; b: string; c: string }) => [x.a, x.b], "ids", "missing"],
    ["an unknown id", (x: { a: string; b: string; c: string }) => [x.a, "nope", x.b, x.c], "ids[1]", "not a provider of this workspace"],
    ["a repeated id", (x: { a: string; b: string; c: string }) => [x.a, x.b, x.a, x.c], "ids[2]", "listed twice"],
  ])("%s is 422 and nothing moves", async (_what, ids, param, message) => {
    const { o, a, b, c } = await three();
    const r = await t.call("POST", `${o.base}/reorder`, { token: o.token, body: { ids: ids({ a: a.id, b: b.id, c: c.id }) } });
    expect(r.status).toBe(422);
    expect(r.body.error.param).toBe(param);
    expect(r.body.error.message).toContain(message);
    const rows = await t.sql`select name, priority from provider_keys where workspace_id = ${o.ws.id} order by name`;
    expect(rows.map((x) => x.priority)).toEqual([10, 20, 30]);
  });

  test("another workspace's provider id cannot be slipped in", async () => {
    const { o, a, b, c } = await three();
    const other = await owner();
    const foreign = await create(other.token, other.base, { name: "f", type: "ollama" });
    const r = await t.call("POST", `${o.base}/reorder`, { token: o.token, body: { ids: [a.id, b.id, c.id, foreign.id] } });
    expect(r.status).toBe(422);
    expect(r.body.error.param).toBe("ids[3]");
    expect((await rawRow(foreign.id)).priority).toBe(10);
  });

  test("ids must be a list of strings", async () => {
    const { o } = await three();
    const r = await t.call("POST", `${o.base}/reorder`, { token: o.token, body: { ids: "a,b" } });
    expect(r.status).toBe(422);
    expect(r.body.error.param).toBe("ids");
  });
});

describe("roles and isolation", () => {
  async function setup() {
    const o = await owner();
    const p = await create(o.token, o.base, { name: "secretive", type: "openai_compatible", base_url: openai.url, api_key: OPENAI_KEY });
    return { o, p };
  }

  const routes = (base: string, pid: string) =>
    [
      ["GET", base, undefined],
      ["POST", base, { name: "intruder", type: "ollama" }],
      ["POST", `${base}/reorder`, { ids: [pid] }],
      ["GET", `${base}/${pid}`, undefined],
      ["PUT", `${base}/${pid}`, { name: "pwned", api_key: null }],
      ["DELETE", `${base}/${pid}`, undefined],
      ["POST", `${base}/${pid}/test`, undefined],
    ] as const;

  test("a non-member gets 404 on every provider route and nothing changes", async () => {
    const { o, p } = await setup();
    const outsider = await t.signup();
    const before = await t.sql`select * from provider_keys where workspace_id = ${o.ws.id} order by id`;
    const upstreamCalls = openai.requests.length;
    for (const [method, path, body] of routes(o.base, p.id)) {
      const r = await t.call(method, path, { token: outsider.token, body });
      expect(`${method} ${path} ${r.status}`).toBe(`${method} ${path} 404`);
      expect(r.text).not.toContain("secretive");
    }
    expect(await t.sql`select * from provider_keys where workspace_id = ${o.ws.id} order by id`).toEqual(before);
    expect(openai.requests.length).toBe(upstreamCalls);
  });

  test("an admin of another workspace cannot reach this one's providers through their own workspace", async () => {
    const { o, p } = await setup();
    const other = await owner();
    const before = await t.sql`select * from provider_keys where workspace_id = ${o.ws.id} order by id`;
    for (const [method, path, body] of routes(other.base, p.id).slice(3)) {
      const r = await t.call(method, path, { token: other.token, body });
      expect(`${method} ${path} ${r.status}`).toBe(`${method} ${path} 404`);
    }
    expect(await t.sql`select * from provider_keys where workspace_id = ${o.ws.id} order by id`).toEqual(before);
  });

  test("a member may list, read and test but gets 403 on every change, and nothing changes", async () => {
    const { o, p } = await setup();
    const member = await t.member(o.ws.id, "member");
    const before = await t.sql`select * from provider_keys where workspace_id = ${o.ws.id} order by id`;
    const expected: Record<string, number> = {
      [`GET ${o.base}`]: 200,
      [`POST ${o.base}`]: 403,
      [`POST ${o.base}/reorder`]: 403,
      [`GET ${o.base}/${p.id}`]: 200,
      [`PUT ${o.base}/${p.id}`]: 403,
      [`DELETE ${o.base}/${p.id}`]: 403,
      [`POST ${o.base}/${p.id}/test`]: 200,
    };
    for (const [method, path, body] of routes(o.base, p.id)) {
      const r = await t.call(method, path, { token: member.token, body });
      expect(`${method} ${path} ${r.status}`).toBe(`${method} ${path} ${expected[`${method} ${path}`]}`);
      if (r.status === 403) expect(r.body.error.type).toBe("permission_error");
    }
    expect(await t.sql`select * from provider_keys where workspace_id = ${o.ws.id} order by id`).toEqual(before);
  });

  test("an admin may change providers", async () => {
    const { o, p } = await setup();
    const admin = await t.member(o.ws.id, "admin");
    const r = await t.call("PUT", `${o.base}/${p.id}`, { token: admin.token, body: { enabled: false } });
    expect(r.status).toBe(200);
    expect(r.body.enabled).toBe(false);
    expect((await t.call("POST", o.base, { token: admin.token, body: { name: "by-admin", type: "ollama" } })).status).toBe(201);
  });
});

describe("change events", () => {
  test("create, update, reorder and delete each publish a provider change for the workspace", async () => {
    const o = await owner();
    const mine = () => events.filter((e) => e.workspace_id === o.ws.id);
    const p = await create(o.token, o.base, { name: "ev", type: "ollama" });
    expect(mine()).toEqual([{ type: "provider", workspace_id: o.ws.id }]);
    await t.call("PUT", `${o.base}/${p.id}`, { token: o.token, body: { enabled: false } });
    await t.call("POST", `${o.base}/reorder`, { token: o.token, body: { ids: [p.id] } });
    await t.call("DELETE", `${o.base}/${p.id}`, { token: o.token });
    expect(mine()).toHaveLength(4);
    expect(mine().every((e) => e.type === "provider")).toBe(true);
  });

  test("reads, tests and rejected changes publish nothing", async () => {
    const o = await owner();
    const p = await create(o.token, o.base, { name: "quiet", type: "openai_compatible", base_url: openai.url });
    const count = () => events.filter((e) => e.workspace_id === o.ws.id).length;
    const n = count();
    await t.call("GET", o.base, { token: o.token });
    await t.call("GET", `${o.base}/${p.id}`, { token: o.token });
    await t.call("POST", `${o.base}/${p.id}/test`, { token: o.token });
    await t.call("PUT", `${o.base}/${p.id}`, { token: o.token, body: { priority: -5 } });
    await t.call("POST", o.base, { token: o.token, body: { name: "quiet", type: "ollama" } });
    await t.call("DELETE", `${o.base}/nope`, { token: o.token });
    expect(count()).toBe(n);
  });
});

describe("key storage", () => {
  test("the database holds no usable secret in clear", async () => {
    const o = await owner();
    const key = newKey("sk-live-");
    const p = await create(o.token, o.base, { name: "stored", type: "openai", api_key: key });
    const [asText] = await t.sql`select p::text as row from provider_keys p where id = ${p.id}`;
    const [row] = await t.sql`select * from provider_keys where id = ${p.id}`;
    const hex = Buffer.from(key).toString("hex");
    const b64 = Buffer.from(key).toString("base64");
    for (const text of [asText.row, JSON.stringify(row), Buffer.from(row.key_ciphertext).toString("latin1")]) {
      expect(leak(text, key)).toBeNull();
      expect(text).not.toContain(hex.slice(0, 16));
      expect(text).not.toContain(b64.slice(0, 12));
    }
    expect(row.key_last4).toBe(key.slice(-4));
    expect(row.key_version).toBe(keyring.currentVersion);
    expect(Buffer.from(row.key_nonce)).toHaveLength(12);
  });

  test("a ciphertext copied onto another row does not decrypt there", async () => {
    const o = await owner();
    const a = await create(o.token, o.base, { name: "a", type: "openai", api_key: newKey() });
    const b = await create(o.token, o.base, { name: "b", type: "openai", api_key: newKey() });
    await t.sql`
      update provider_keys set key_ciphertext = src.key_ciphertext, key_nonce = src.key_nonce, key_version = src.key_version
      from (select key_ciphertext, key_nonce, key_version from provider_keys where id = ${a.id}) src
      where provider_keys.id = ${b.id}`;
    expect(loadProviderConfigs(t.sql, o.ws.id, keyring)).rejects.toThrow(KeyringError);
    expect(loadProviderConfigs(t.sql, o.ws.id, keyring)).rejects.toThrow(/provider 'b'.*failed authentication/);
    const r = await t.call("POST", `${o.base}/${b.id}/test`, { token: o.token });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ ok: false, status: null });
    expect(r.body.message).toContain("cannot be decrypted");
  });

  test("loadProviderConfigs gives the gateway every entry in order, keys decrypted", async () => {
    const o = await owner();
    const k1 = newKey();
    const k2 = newKey("sk-ant-");
    await create(o.token, o.base, {
      name: "second",
      type: "openai",
      api_key: k1,
      priority: 20,
      pricing: { "gpt-4o": { input: 2.5, output: 10 } },
    });
    await create(o.token, o.base, {
      name: "first",
      type: "anthropic",
      api_key: k2,
      priority: 5,
      model_map: { claude: "claude-sonnet-4-5" },
    });
    await create(o.token, o.base, { name: "off", type: "ollama", priority: 20, enabled: false, models: ["llama*"] });
    const configs = await loadProviderConfigs(t.sql, o.ws.id, keyring);
    expect(configs).toEqual([
      {
        id: expect.any(String),
        name: "first",
        type: "anthropic",
        format: "anthropic",
        base_url: "https://api.anthropic.com",
        api_key: k2,
        priority: 5,
        enabled: true,
        models: [],
        model_map: { claude: "claude-sonnet-4-5" },
        timeout_ms: 60000,
        pricing: {},
      },
      {
        id: expect.any(String),
        name: "second",
        type: "openai",
        format: "openai",
        base_url: "https://api.openai.com/v1",
        api_key: k1,
        priority: 20,
        enabled: true,
        models: [],
        model_map: {},
        timeout_ms: 60000,
        pricing: { "gpt-4o": { input: 2.5, output: 10 } },
      },
      {
        id: expect.any(String),
        name: "off",
        type: "ollama",
        format: "openai",
        base_url: "http://localhost:11434/v1",
        api_key: null,
        priority: 20,
        enabled: false,
        models: ["llama*"],
        model_map: {},
        timeout_ms: 60000,
        pricing: {},
      },
    ]);
    expect(await loadProviderConfigs(t.sql, "no-such-workspace", keyring)).toEqual([]);
  });
});

describe("connection test", () => {
  test("reports ok with the model that answered a one-token chat call sent with the stored key", async () => {
    const o = await owner();
    const p = await create(o.token, o.base, { name: "mock", type: "openai_compatible", base_url: openai.url, api_key: OPENAI_KEY });
    const r = await t.call("POST", `${o.base}/${p.id}/test`, { token: o.token });
    expect(r.status).toBe(200);
    // No model listed and no type default for an OpenAI-compatible server: the first one its list names.
    expect(r.body).toEqual({ ok: true, model: "gpt-4o-mini", latency_ms: expect.any(Number) });
    expect(r.body.latency_ms).toBeGreaterThanOrEqual(0);
    const last = openai.requests[openai.requests.length - 1];
    expect(last.method).toBe("POST");
    expect(last.path).toBe("/v1/chat/completions");
    expect(last.body).toMatchObject({ model: "gpt-4o-mini", max_tokens: 1 });
    expect(leak(r.text, OPENAI_KEY)).toBeNull();
  });

  test.each([
    ["anthropic", "sk-ant-", "/v1/messages", "claude-3-5-haiku-latest"],
    ["gemini", "AIza", "/v1beta/models/gemini-2.0-flash:generateContent", "gemini-2.0-flash"],
  ] as const)("uses the %s wire format for that type", async (kind, prefix, path, model) => {
    const key = newKey(prefix);
    const up = await startMockUpstream(kind, { expectedKey: key });
    try {
      const o = await owner();
      const p = await create(o.token, o.base, { name: kind, type: kind, base_url: up.url, api_key: key });
      const r = await t.call("POST", `${o.base}/${p.id}/test`, { token: o.token });
      expect(r.body).toMatchObject({ ok: true, model });
      expect(up.requests).toHaveLength(1);
      expect(up.requests[0].path).toBe(path);
      expect(up.requests[0].query.key).toBeUndefined();
    } finally {
      await up.stop();
    }
  });

  test("a 401 from the provider is ok:false with its message, without the key it echoed", async () => {
    const o = await owner();
    const wrong = `sk-proj-${randomBase62(32)}`;
    const p = await create(o.token, o.base, { name: "wrong", type: "openai_compatible", base_url: openai.url, api_key: wrong });
    const r = await t.call("POST", `${o.base}/${p.id}/test`, { token: o.token });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ ok: false, problem: "auth", status: 401 });
    expect(r.body.message).toContain("Incorrect API key provided");
    expect(r.text).not.toContain(wrong.slice(0, 8));
    expect(leak(r.text, wrong)).toBeNull();
  });

  test.each(["json", "text"])("a provider that echoes the key in any form (%s body) gets it scrubbed", async (shape) => {
    const key = `custom-${randomBase62(30)}`;
    const echo = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      fetch(req) {
        const given = (req.headers.get("authorization") ?? "").replace("Bearer ", "");
        // The key straddles character 300 (where messages are cut), and comes URL-encoded and in base64 before it.
        const message = `bad key: ${echoOfKey(given)}`;
        if (shape === "text") return new Response(message, { status: 401, headers: { "content-type": "text/plain" } });
        return Response.json({ error: { message, type: "invalid_request_error" } }, { status: 401 });
      },
    });
    try {
      const o = await owner();
      const p = await create(o.token, o.base, {
        name: `echo-${shape}`,
        type: "openai_compatible",
        base_url: `http://127.0.0.1:${echo.port}/v1`,
        api_key: key,
      });
      const r = await t.call("POST", `${o.base}/${p.id}/test`, { token: o.token });
      expect(r.body).toMatchObject({ ok: false, status: 401 });
      expect(r.body.message).toContain("bad key");
      expect(leakedRun(r.text, key)).toBeNull();
    } finally {
      echo.stop(true);
    }
  });

  test("a refused connection is ok:false with a clear message", async () => {
    const closed = Bun.serve({ port: 0, fetch: () => new Response() });
    const port = closed.port;
    closed.stop(true);
    const o = await owner();
    const p = await create(o.token, o.base, { name: "down", type: "ollama", base_url: `http://127.0.0.1:${port}/v1` });
    const r = await t.call("POST", `${o.base}/${p.id}/test`, { token: o.token });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ ok: false, problem: "network", status: null });
    expect(r.body.message).toStartWith(`could not connect to http://127.0.0.1:${port}`);
  });

  test("a redirect is reported, not followed", async () => {
    let followed = 0;
    const target = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => (followed++, Response.json({ data: [] })) });
    const redirect = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      fetch: () => Response.redirect(`http://127.0.0.1:${target.port}/v1/models`, 302),
    });
    try {
      const o = await owner();
      const p = await create(o.token, o.base, {
        name: "moved",
        type: "openai",
        base_url: `http://127.0.0.1:${redirect.port}/v1`,
        api_key: newKey(),
      });
      const r = await t.call("POST", `${o.base}/${p.id}/test`, { token: o.token });
      expect(r.body).toMatchObject({ ok: false, status: 302 });
      expect(r.body.message).toContain("redirect");
      expect(followed).toBe(0);
    } finally {
      redirect.stop(true);
      target.stop(true);
    }
  });

  test("a 200 that is not JSON is ok:false", async () => {
    const html = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      fetch: () => new Response("<html>hello</html>", { headers: { "content-type": "text/html" } }),
    });
    try {
      const o = await owner();
      const p = await create(o.token, o.base, { name: "html", type: "ollama", base_url: `http://127.0.0.1:${html.port}` });
      const r = await t.call("POST", `${o.base}/${p.id}/test`, { token: o.token });
      expect(r.body).toMatchObject({ ok: false, status: 200 });
      expect(r.body.message).toContain("not with JSON");
    } finally {
      html.stop(true);
    }
  });

  test("a provider that does not answer in time is ok:false naming the timeout", async () => {
    const slow = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: async () => (await Bun.sleep(2000), Response.json({ data: [] })) });
    try {
      const config: ProviderConfig = {
        id: "x",
        name: "slow",
        type: "ollama",
        format: "openai",
        base_url: `http://127.0.0.1:${slow.port}/v1`,
        api_key: null,
        priority: 10,
        enabled: true,
        models: [],
        model_map: {},
        timeout_ms: 60000,
        pricing: {},
      };
      const result = await testProviderConnection(config, { timeoutMs: 200, fetch: createUpstreamFetch({ allowPrivate: true }) });
      const message = `no answer from http://127.0.0.1:${slow.port} within 0.2 s`;
      expect(result).toMatchObject({ ok: false, problem: "timeout", status: null, message });
      expect(result.latency_ms).toBeLessThan(1500);
    } finally {
      slow.stop(true);
    }
  });

  test("scrubbing removes the key, known key shapes and long random tokens but keeps ordinary words", () => {
    const key = "Zq9-very-custom-key-value-123";
    const text = `key ${key} / sk-abc123def456 / Bearer tok.en.x / AIzaSyA1234567890abcdefghij / ${"ab12".repeat(10)} / 7f3a9c2e4b1d8f6a0c5e7b9d2f4a6c8e / model gpt-4o-mini-2024-07-18 not found`;
    const out = scrubUpstreamMessage(text, key);
    expect(out).not.toContain(key);
    expect(out).not.toContain("sk-abc123");
    expect(out).not.toContain("tok.en.x");
    expect(out).not.toContain("AIzaSy");
    expect(out).not.toContain("7f3a9c2e4b1d8f6a");
    expect(out).toContain("model gpt-4o-mini-2024-07-18 not found");
    expect(scrubUpstreamMessage("x".repeat(2000), null).length).toBeLessThanOrEqual(501);
  });
});

describe("secrets never leave", () => {
  test("no response body and no log line holds any part of a provider key", async () => {
    const key = `sk-proj-${randomBase62(40)}`;
    const responses: CallResult[] = [];
    const call = async (method: string, path: string, token: string, body?: unknown) => {
      const r = await t.call(method, path, { token, body });
      responses.push(r);
      return r;
    };
    const o = await owner();
    const created = await call("POST", o.base, o.token, { name: "leaky", type: "openai_compatible", base_url: openai.url, api_key: key });
    const id = created.body.id;
    await call("GET", o.base, o.token);
    await call("GET", `${o.base}/${id}`, o.token);
    await call("PUT", `${o.base}/${id}`, o.token, { enabled: true });
    await call("POST", `${o.base}/${id}/test`, o.token);
    await call("POST", o.base, o.token, { name: "leaky", type: "openai", api_key: key });
    await call("POST", o.base, o.token, { name: "bad key", type: "openai", api_key: key });
    await call("POST", o.base, o.token, { name: "n2", type: "openai", api_key: `${key} x` });
    await call("PUT", `${o.base}/${id}`, o.token, { api_key: key, base_url: "http://169.254.169.254" });
    await call("PUT", `${o.base}/${id}`, o.token, { api_key: key });
    await call("GET", "/auth/me", o.token);
    expect(responses.some((r) => r.body?.ok === false && r.body.status === 401)).toBe(true);
    for (const r of responses) expect(leak(r.text, key)).toBeNull();
    for (const line of t.logs) expect(leak(line, key)).toBeNull();
    expect(t.logs.some((l) => l.includes("provider created"))).toBe(true);
  });
});
