import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { gatewayHarness, type GatewayHarness } from "./support/gateway.ts";
import { mockEmbedding, mockTokenCount, MOCK_EMBEDDING_DIMS } from "./support/mock-upstreams.ts";
import { base64ToFloats, embeddingsAdapterFor, floatsToBase64, GEMINI_MAX_BATCH } from "../src/adapters/embeddings.ts";
import { costFor } from "../src/telemetry/pricing.ts";
import { formatCost } from "../src/gateway/relay.ts";
import { estimateTokens } from "../src/telemetry/estimate.ts";
import { SESSION_COOKIE } from "../src/http/auth.ts";

// Over real HTTP: the official OpenAI SDK → Perpetuo → mock upstreams speaking OpenAI's and Gemini's embeddings formats.

async function logsOf(h: GatewayHarness) {
  await h.t.deps.logQueue.flush();
  const r = await h.t.call("GET", `/workspaces/${h.ws.id}/logs?limit=200`, { token: h.owner.token });
  expect(r.status).toBe(200);
  return r.body.items as Record<string, any>[];
}

async function raw(h: GatewayHarness, body: unknown) {
  const res = await fetch(`${h.base}/v1/embeddings`, {
    method: "POST",
    headers: { authorization: `Bearer ${h.key}`, "content-type": "application/json" },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as any };
}

describe("base64 and floats", () => {
  test("round-trip exactly for float32 values, and a ragged buffer is refused", () => {
    const v = mockEmbedding("round trip", 16);
    expect(base64ToFloats(floatsToBase64(v))).toEqual(v);
    expect(base64ToFloats(Buffer.from([1, 2, 3]).toString("base64"))).toBeNull();
  });
  test("anthropic has no embeddings adapter; the others do", () => {
    expect(embeddingsAdapterFor("anthropic")).toBeNull();
    for (const t of ["openai", "gemini", "openai_compatible", "mistral", "ollama"]) expect(embeddingsAdapterFor(t)).not.toBeNull();
  });
});

describe("an OpenAI provider", () => {
  let h: GatewayHarness;
  let p: Awaited<ReturnType<GatewayHarness["addProvider"]>>;
  beforeAll(async () => {
    h = await gatewayHarness();
    p = await h.addProvider("openai", { models: ["text-embedding-3-small", "text-embedding-3-large"] });
  });
  afterAll(() => h.close());

  test("the SDK's default call (base64 on the wire) gives back the provider's floats, with cost and provider headers", async () => {
    const { data, response } = await h
      .client()
      .embeddings.create({ model: "text-embedding-3-small", input: "hello embedding world" })
      .withResponse();
    const sent = p.mock!.requests.at(-1)!;
    expect(sent.pathname).toBe("/v1/embeddings");
    // The SDK asks for base64 when the caller names no format; an OpenAI entry is asked the same.
    expect(sent.body).toMatchObject({ model: "text-embedding-3-small", input: "hello embedding world", encoding_format: "base64" });
    expect(data.object).toBe("list");
    expect(data.data).toHaveLength(1);
    expect(data.data[0]!.embedding).toEqual(mockEmbedding("hello embedding world"));
    const tokens = mockTokenCount("hello embedding world");
    expect(data.usage).toEqual({ prompt_tokens: tokens, total_tokens: tokens });
    expect(response.headers.get("x-perpetuo-provider")).toBe(p.name);
    expect(response.headers.get("x-perpetuo-attempts")).toBe("1");
    expect(response.headers.get("x-request-id")).toMatch(/^req_/);
    expect(response.headers.get("x-perpetuo-cost")).toBe(
      formatCost(costFor("text-embedding-3-small", { prompt_tokens: tokens, completion_tokens: 0 })),
    );
  });

  test("floats on request, several inputs in order, dimensions passed on", async () => {
    const input = ["one", "two words", "three little words"];
    const res = await h.client().embeddings.create({ model: "text-embedding-3-large", input, encoding_format: "float", dimensions: 4 });
    expect(p.mock!.requests.at(-1)!.body).toMatchObject({ encoding_format: "float", dimensions: 4 });
    expect(res.data.map((d) => d.index)).toEqual([0, 1, 2]);
    expect(res.data.map((d) => d.embedding)).toEqual(input.map((x) => mockEmbedding(x, 4)));
  });

  test("base64 asked explicitly stays base64 for the client", async () => {
    const r = await raw(h, { model: "text-embedding-3-small", input: "as base64", encoding_format: "base64" });
    expect(r.status).toBe(200);
    expect(typeof r.body.data[0].embedding).toBe("string");
    expect(base64ToFloats(r.body.data[0].embedding)).toEqual(mockEmbedding("as base64"));
  });

  test("token-id inputs reach an OpenAI entry unchanged", async () => {
    const r = await raw(h, {
      model: "text-embedding-3-small",
      input: [
        [1, 2, 3],
        [4, 5],
      ],
      encoding_format: "float",
    });
    expect(r.status).toBe(200);
    expect(p.mock!.requests.at(-1)!.body).toMatchObject({
      input: [
        [1, 2, 3],
        [4, 5],
      ],
    });
    expect(r.body.data).toHaveLength(2);
    expect(r.body.usage.prompt_tokens).toBe(5);
  });

  test("each request is logged with endpoint 'embeddings', its tokens and cost; chat rows say 'chat'", async () => {
    await h
      .client()
      .chat.completions.create({ model: "text-embedding-3-small", messages: [{ role: "user", content: "a chat row" }] })
      .catch(() => {});
    const items = await logsOf(h);
    const emb = items.filter((i) => i.endpoint === "embeddings");
    expect(emb.length).toBeGreaterThanOrEqual(4);
    const first = emb.find(
      (i) => i.prompt_tokens === mockTokenCount("hello embedding world") && i.model_requested === "text-embedding-3-small",
    )!;
    expect(first).toMatchObject({ status: 200, provider_name: p.name, stream: false, usage_estimated: false, completion_tokens: 0 });
    expect(first.cost_usd).toBeCloseTo(
      costFor("text-embedding-3-small", { prompt_tokens: first.prompt_tokens, completion_tokens: 0 })!,
      12,
    );
    expect(items.some((i) => i.endpoint === "chat")).toBe(true);
    const detail = await h.t.call("GET", `/workspaces/${h.ws.id}/logs/${first.id}`, { token: h.owner.token });
    expect(detail.body.endpoint).toBe("embeddings");
    // The dashboard's log page names the endpoint too.
    const page = await h.t.call("GET", `/app/w/${h.ws.id}/logs/${first.id}`, { headers: { cookie: `${SESSION_COOKIE}=${h.owner.token}` } });
    expect(page.status).toBe(200);
    expect(page.text).toContain("/v1/embeddings");
  });

  test("invalid bodies are refused with OpenAI-shaped 400s naming the field", async () => {
    const cases: [unknown, string][] = [
      [{ model: "text-embedding-3-small" }, "input"],
      [{ model: "text-embedding-3-small", input: "" }, "input"],
      [{ model: "text-embedding-3-small", input: [] }, "input"],
      [{ model: "text-embedding-3-small", input: [1.5] }, "input"],
      [{ model: "text-embedding-3-small", input: "x", encoding_format: "int8" }, "encoding_format"],
      [{ model: "text-embedding-3-small", input: "x", dimensions: 0 }, "dimensions"],
      [{ input: "x" }, "model"],
    ];
    for (const [body, param] of cases) {
      const r = await raw(h, body);
      expect({ body, status: r.status, param: String(r.body.error?.param).startsWith(param) }).toEqual({ body, status: 400, param: true });
      expect(typeof r.body.error.message).toBe("string");
    }
  });

  test("a model no entry serves is a 404 model_not_found", async () => {
    const r = await raw(h, { model: "no-such-embedder", input: "x" });
    expect(r.status).toBe(404);
    expect(r.body.error.code).toBe("model_not_found");
  });
});

describe("fallback, cooldowns and providers without embeddings", () => {
  let h: GatewayHarness;
  beforeAll(async () => {
    h = await gatewayHarness();
  });
  afterAll(() => h.close());

  test("only Anthropic serves the model: a clear 400 unsupported_endpoint", async () => {
    await h.addProvider("anthropic", { models: ["claude-embed-*"] });
    const r = await raw(h, { model: "claude-embed-1", input: "x" });
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe("unsupported_endpoint");
    expect(r.body.error.message).toContain("embeddings API");
    const items = await logsOf(h);
    expect(items.find((i) => i.model_requested === "claude-embed-1")).toMatchObject({
      endpoint: "embeddings",
      status: 400,
      error_class: "unsupported",
    });
  });

  test("an Anthropic entry first is passed over; a failing entry falls back and cools down", async () => {
    const a = await h.addProvider("anthropic", { models: ["emb-*"], priority: 1 });
    const bad = await h.addProvider("openai", { models: ["emb-*"], priority: 2 });
    const good = await h.addProvider("openai", { models: ["emb-*"], priority: 3 });
    bad.mock!.script({ status: 500 });
    const { data, response } = await h.client().embeddings.create({ model: "emb-small", input: "fall back" }).withResponse();
    expect(data.data[0]!.embedding).toEqual(mockEmbedding("fall back"));
    expect(response.headers.get("x-perpetuo-provider")).toBe(good.name);
    expect(response.headers.get("x-perpetuo-attempts")).toBe("2");
    expect(a.mock!.requests).toHaveLength(0);
    // Unknown model: no price, no cost header.
    expect(response.headers.get("x-perpetuo-cost")).toBeNull();

    // The failed entry cools down: the next request goes to the healthy one first.
    const before = bad.mock!.requests.length;
    const again = await h.client().embeddings.create({ model: "emb-small", input: "again" }).withResponse();
    expect(again.response.headers.get("x-perpetuo-provider")).toBe(good.name);
    expect(again.response.headers.get("x-perpetuo-attempts")).toBe("1");
    expect(bad.mock!.requests.length).toBe(before);

    const items = await logsOf(h);
    const row = items.find((i) => i.endpoint === "embeddings" && i.attempt_count === 2)!;
    expect(row).toMatchObject({ status: 200, provider_name: good.name });
  });

  test("every entry failing: the summed-up error", async () => {
    const x = await h.addProvider("openai", { models: ["down-*"] });
    x.mock!.script({ status: 500 });
    const r = await raw(h, { model: "down-model", input: "x" });
    expect(r.status).toBe(502);
    expect(r.body.error.message).toContain(x.name);
    expect(r.body.error.code).toBe("all_providers_failed");
  });

  test("a 2xx answer that is not an embeddings list is the provider's fault: the next entry answers", async () => {
    const broken = await h.addProvider("openai", { models: ["shaky-*"], priority: 1 });
    const backup = await h.addProvider("openai", { models: ["shaky-*"], priority: 2 });
    broken.mock!.script({ okBody: JSON.stringify({ object: "list", data: [{ embedding: "AAE=" }] }) });
    const { data, response } = await h
      .client()
      .embeddings.create({ model: "shaky-1", input: "x", encoding_format: "float" })
      .withResponse();
    expect(response.headers.get("x-perpetuo-provider")).toBe(backup.name);
    expect(data.data[0]!.embedding).toEqual(mockEmbedding("x"));
    const row = (await logsOf(h)).find((i) => i.model_requested === "shaky-1")!;
    const detail = await h.t.call("GET", `/workspaces/${h.ws.id}/logs/${row.id}`, { token: h.owner.token });
    expect(detail.body.attempts[0]).toMatchObject({ provider_name: broken.name, error_class: "server" });
    expect(detail.body.attempts[0].message).toContain("malformed");
  });

  test("a client error from the provider is final and shown", async () => {
    const x = await h.addProvider("openai", { models: ["strict-*"] });
    x.mock!.script({ status: 400, errorMessage: "This model's maximum context length is 8192 tokens" });
    const r = await raw(h, { model: "strict-one", input: "x" });
    expect(r.status).toBe(400);
    expect(r.body.error.message).toContain("maximum context length");
  });
});

describe("an OpenAI-compatible provider", () => {
  let h: GatewayHarness;
  let p: Awaited<ReturnType<GatewayHarness["addProvider"]>>;
  beforeAll(async () => {
    h = await gatewayHarness();
    p = await h.addProvider("openai", { type: "openai_compatible", models: ["nomic-embed-text"] });
  });
  afterAll(() => h.close());

  test("is asked for floats and the gateway encodes the base64 the SDK asked for", async () => {
    const res = await h.client().embeddings.create({ model: "nomic-embed-text", input: ["a", "b"] });
    const sent = p.mock!.requests.at(-1)!;
    expect(sent.body).not.toHaveProperty("encoding_format");
    expect(res.data.map((d) => d.embedding)).toEqual([mockEmbedding("a"), mockEmbedding("b")]);
  });
});

describe("a Gemini provider", () => {
  let h: GatewayHarness;
  let p: Awaited<ReturnType<GatewayHarness["addProvider"]>>;
  beforeAll(async () => {
    h = await gatewayHarness();
    p = await h.addProvider("gemini", { models: ["gemini-embedding-001"] });
  });
  afterAll(() => h.close());

  test("batchEmbedContents with outputDimensionality; usage estimated and priced", async () => {
    const input = ["first text", "second, longer text"];
    const { data, response } = await h.client().embeddings.create({ model: "gemini-embedding-001", input, dimensions: 6 }).withResponse();
    const sent = p.mock!.requests.at(-1)!;
    expect(sent.pathname).toBe("/v1beta/models/gemini-embedding-001:batchEmbedContents");
    expect(sent.headers["x-goog-api-key"]).toBeDefined();
    expect(sent.body).toEqual({
      requests: input.map((text) => ({ model: "models/gemini-embedding-001", content: { parts: [{ text }] }, outputDimensionality: 6 })),
    });
    expect(data.data.map((d) => d.embedding)).toEqual(input.map((x) => mockEmbedding(x, 6)));
    expect(data.model).toBe("gemini-embedding-001");
    const tokens = input.reduce((n, x) => n + estimateTokens(x), 0);
    expect(data.usage).toEqual({ prompt_tokens: tokens, total_tokens: tokens });
    expect(response.headers.get("x-perpetuo-cost")).toBe(
      formatCost(costFor("gemini-embedding-001", { prompt_tokens: tokens, completion_tokens: 0 })),
    );
    const row = (await logsOf(h)).find((i) => i.endpoint === "embeddings")!;
    expect(row).toMatchObject({ usage_estimated: true, prompt_tokens: tokens, provider_type: "gemini" });
  });

  test("the default vector size when no dimensions are asked for", async () => {
    const r = await raw(h, { model: "gemini-embedding-001", input: "plain" });
    expect(r.status).toBe(200);
    expect(r.body.data[0].embedding).toHaveLength(MOCK_EMBEDDING_DIMS);
    expect(p.mock!.requests.at(-1)!.body).toEqual({
      requests: [{ model: "models/gemini-embedding-001", content: { parts: [{ text: "plain" }] } }],
    });
  });

  test("more inputs than one batchEmbedContents call takes are sent in batches of 100, answered in order", async () => {
    const input = Array.from({ length: 2 * GEMINI_MAX_BATCH + 5 }, (_, i) => `text number ${i}`);
    const before = p.mock!.requests.length;
    const res = await h.client().embeddings.create({ model: "gemini-embedding-001", input });
    const calls = p.mock!.requests.slice(before);
    expect(calls.map((c) => (c.body as { requests: unknown[] }).requests.length)).toEqual([GEMINI_MAX_BATCH, GEMINI_MAX_BATCH, 5]);
    expect(res.data.map((d) => d.index)).toEqual(input.map((_, i) => i));
    expect(res.data.map((d) => d.embedding)).toEqual(input.map((x) => mockEmbedding(x)));
  });

  test("a failing batch fails the attempt: no partial answer", async () => {
    const input = Array.from({ length: GEMINI_MAX_BATCH + 1 }, (_, i) => `t${i}`);
    p.mock!.script({}, { status: 500 });
    const r = await raw(h, { model: "gemini-embedding-001", input });
    expect(r.status).toBe(502);
    expect(r.body.error.code).toBe("all_providers_failed");
  });

  test("token-id input cannot go to Gemini: 400 unsupported_parameter naming input", async () => {
    const before = p.mock!.requests.length;
    const r = await raw(h, { model: "gemini-embedding-001", input: [1, 2, 3] });
    expect(r.status).toBe(400);
    expect(r.body.error).toMatchObject({ code: "unsupported_parameter", param: "input" });
    expect(p.mock!.requests.length).toBe(before);
  });
});
