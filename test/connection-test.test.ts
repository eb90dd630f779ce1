/**
 * The provider connection test (src/providers/connection-test.ts) against the mock upstreams over
 * real HTTP: a one-token chat call through the gateway's guarded fetch, and what it says when the
 * key, the model or the way there is wrong.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { testModelFor, testProviderConnection } from "../src/providers/connection-test.ts";
import type { ProviderConfig } from "../src/providers/model.ts";
import { PROVIDER_CATALOG, type ProviderType } from "../src/providers/catalog.ts";
import { createUpstreamFetch } from "../src/net/fetch.ts";
import { startMockUpstream, type MockKind, type MockUpstream } from "./support/mock-upstreams.ts";

const KEYS: Record<MockKind, string> = {
  openai: "sk-conn-test-0123456789abcdefABCDEF",
  anthropic: "sk-ant-conn-test-0123456789abcdefAB",
  gemini: "AIzaConnTest0123456789abcdefABCDEFgh",
};
const SERVED = ["served-model", "other-model"];
const fetch = createUpstreamFetch({ allowPrivate: true });
const ups = new Map<MockKind, MockUpstream>();

beforeAll(async () => {
  for (const kind of ["openai", "anthropic", "gemini"] as const) {
    ups.set(kind, await startMockUpstream(kind, { expectedKey: KEYS[kind], chatModels: SERVED, models: SERVED }));
  }
});
afterAll(async () => {
  for (const up of ups.values()) await up.stop();
});

function config(kind: MockKind, over: Partial<ProviderConfig> = {}): ProviderConfig {
  const type: ProviderType = kind;
  return {
    id: "p1",
    name: kind,
    type,
    format: PROVIDER_CATALOG[type].format,
    base_url: ups.get(kind)!.url,
    api_key: KEYS[kind],
    priority: 10,
    enabled: true,
    models: ["served-model"],
    model_map: {},
    timeout_ms: 60_000,
    pricing: {},
    ...over,
  };
}

describe.each(["openai", "anthropic", "gemini"] as const)("%s", (kind) => {
  test("a working key and model: ok, naming the model, after exactly one chat request asking for one token", async () => {
    const up = ups.get(kind)!;
    up.reset();
    const r = await testProviderConnection(config(kind), { fetch });
    expect(r).toEqual({ ok: true, model: "served-model", latency_ms: expect.any(Number) });
    expect(up.requests).toHaveLength(1);
    expect(up.requests[0].chat).toBe(true);
    const body = up.requests[0].body as Record<string, unknown>;
    if (kind === "gemini") expect(body.generationConfig).toMatchObject({ maxOutputTokens: 1 });
    else expect(body).toMatchObject({ model: "served-model", max_tokens: 1 });
  });

  test("a wrong key: problem auth with the provider's status, and no part of the key in the message", async () => {
    const wrong = `${KEYS[kind].slice(0, 8)}WRONGwrong0123456789abcdefXYZ`;
    const r = await testProviderConnection(config(kind, { api_key: wrong }), { fetch });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.problem).toBe("auth");
    expect(r.status).toBe(kind === "gemini" ? 400 : 401);
    expect(r.model).toBe("served-model");
    expect(r.message).not.toContain("WRONGwrong");
  });

  test("a model the provider does not serve: problem model, with the provider's own words", async () => {
    const r = await testProviderConnection(config(kind, { models: ["no-such-model"] }), { fetch });
    expect(r).toMatchObject({ ok: false, problem: "model", status: 404, model: "no-such-model" });
    if (!r.ok) expect(r.message).toContain("no-such-model");
  });
});

test("an alias is tested through its mapping: the provider receives the mapped model", async () => {
  const up = ups.get("openai")!;
  up.reset();
  const r = await testProviderConnection(config("openai", { models: ["fast"], model_map: { fast: "served-model" } }), { fetch });
  expect(r).toMatchObject({ ok: true, model: "fast" });
  expect(up.requests[0].body).toMatchObject({ model: "served-model" });
});

test("without explicit models the type's usual model is asked for", () => {
  expect(testModelFor({ type: "openai", models: ["gpt-*"], model_map: {} })).toEqual({ model: "gpt-4o-mini", upstream: "gpt-4o-mini" });
  expect(testModelFor({ type: "anthropic", models: [], model_map: {} })?.model).toStartWith("claude-");
  expect(testModelFor({ type: "openai_compatible", models: [], model_map: {} })).toBeNull();
});

test("an OpenAI-compatible server with no models listed is asked for its list, then for the first model on it", async () => {
  const up = ups.get("openai")!;
  up.reset();
  const r = await testProviderConnection(config("openai", { type: "openai_compatible", models: [] }), { fetch });
  expect(r).toMatchObject({ ok: true, model: "served-model" });
  expect(up.requests.map((q) => `${q.method} ${q.pathname}`)).toEqual(["GET /v1/models", "POST /v1/chat/completions"]);
});

test("an unreachable host: problem network, naming the address", async () => {
  const closed = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response() });
  const port = closed.port;
  closed.stop(true);
  const r = await testProviderConnection(config("openai", { base_url: `http://127.0.0.1:${port}/v1` }), { fetch });
  expect(r).toMatchObject({ ok: false, problem: "network", status: null });
  if (!r.ok) expect(r.message).toStartWith(`could not connect to http://127.0.0.1:${port}`);
});

test("a private address is refused by the guarded fetch before any connection: problem blocked", async () => {
  const up = ups.get("openai")!;
  up.reset();
  const r = await testProviderConnection(config("openai"), { fetch: createUpstreamFetch({ allowPrivate: false }) });
  expect(r).toMatchObject({ ok: false, problem: "blocked", status: null });
  expect(up.requests).toHaveLength(0);
});

test("a provider that never answers: problem timeout", async () => {
  const up = ups.get("openai")!;
  up.reset();
  up.script({ delayMs: 2000 });
  const r = await testProviderConnection(config("openai"), { fetch, timeoutMs: 200 });
  expect(r).toMatchObject({ ok: false, problem: "timeout", status: null });
});
