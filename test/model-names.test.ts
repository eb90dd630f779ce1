import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { adapterFor } from "../src/adapters/index.ts";
import { UnsupportedFeatureError, type ChatRequest } from "../src/adapters/types.ts";
import { toGeminiSchema } from "../src/adapters/gemini-schema.ts";
import { gatewayHarness, type GatewayHarness } from "./support/gateway.ts";

// Model names are the client's (or an alias's) text. They must neither climb out of base_url when a
// provider puts them in the URL path (item 9) nor find Object.prototype's members in a lookup (item 10).

const BASE = "https://llm.example.com/base/v1";
const req = (model: string) => ({ model, messages: [{ role: "user", content: "hi" }] }) as ChatRequest;

describe("model names in upstream URLs", () => {
  const hostile = [
    "../../admin/keys",
    "a/../../../admin",
    "%2e%2e/admin",
    ".%2E/admin",
    "./x",
    "gemini-2.5-flash\u0000",
    "x\r\nHost: evil",
  ];

  test.each(["openai", "anthropic"] as const)("%s keeps the model out of the path: every URL stays under base_url", (type) => {
    for (const model of hostile) {
      const r = adapterFor(type).buildChatRequest(req(model), { baseUrl: BASE, apiKey: "k", model });
      const url = new URL(r.url);
      expect(url.origin + url.pathname).toBe(
        type === "openai" ? `${BASE}/chat/completions` : "https://llm.example.com/base/v1/v1/messages",
      );
      expect(JSON.parse(r.body!).model).toBe(model);
    }
  });

  test.each(hostile)("gemini refuses %j naming model instead of building a URL", (model) => {
    const build = () => adapterFor("gemini").buildChatRequest(req(model), { baseUrl: BASE, apiKey: "k", model });
    expect(build).toThrow(UnsupportedFeatureError);
    try {
      build();
    } catch (err) {
      expect((err as UnsupportedFeatureError).param).toBe("model");
    }
  });

  test.each(["models/gemini-2.5-flash", "tuned:v1?x#y", "a\\..\\b", "..x", "x.."])(
    "gemini encodes %j and stays under base_url",
    (model) => {
      const r = adapterFor("gemini").buildChatRequest(req(model), { baseUrl: BASE, apiKey: "k", model });
      expect(new URL(r.url).pathname).toStartWith("/base/v1/v1beta/models/");
      expect(new URL(r.url).search).toBe("");
    },
  );
});

describe("through the gateway", () => {
  let h: GatewayHarness;
  let gemini: Awaited<ReturnType<GatewayHarness["addProvider"]>>;
  let openai: Awaited<ReturnType<GatewayHarness["addProvider"]>>;
  beforeAll(async () => {
    h = await gatewayHarness();
    gemini = await h.addProvider("gemini", {
      name: "gem",
      models: ["gemini-*", "constructor", "toString", "__proto__", "hasOwnProperty"],
      priority: 1,
    });
    openai = await h.addProvider("openai", { name: "oai", models: ["valueOf", "gpt-*"], model_map: { fast: "gpt-4o-mini" }, priority: 2 });
  });
  afterAll(() => h.close());

  const chat = (model: string) =>
    fetch(`${h.base}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${h.key}`, "content-type": "application/json" },
      body: JSON.stringify({ model, messages: [{ role: "user", content: "hi" }] }),
    });

  test.each(["../../admin", "gemini/../../admin", "gemini-2.5-flash\u0007"])(
    "the model %j is a 400 naming model, and no provider is called",
    async (model) => {
      gemini.mock!.reset();
      const res = await chat(model);
      expect(res.status).toBe(400);
      const body = (await res.json()) as { error: { param: string; message: string } };
      expect(body.error.param).toBe("model");
      expect(gemini.mock!.requests).toEqual([]);
    },
  );

  // Found by the fuzz: encodeURIComponent throws on a lone surrogate, so the Gemini URL was a 500.
  test.each([
    ["/v1/chat/completions", { messages: [{ role: "user", content: "hi" }] }],
    ["/v1/responses", { input: "hi" }],
    ["/v1/embeddings", { input: "hi" }],
    ["/v1/messages", { max_tokens: 16, messages: [{ role: "user", content: "hi" }] }],
  ] as const)("a model name with a lone surrogate is a 400 naming model on %s, and no provider is called", async (path, rest) => {
    gemini.mock!.reset();
    const res = await fetch(`${h.base}${path}`, {
      method: "POST",
      headers: { authorization: `Bearer ${h.key}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "gem/gemini-2.5-flash\ud800", ...rest }),
    });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { message: string } };
    expect(body.error.message).toContain("model");
    expect(body.error.message).toContain("Unicode");
    expect(gemini.mock!.requests).toEqual([]);
  });

  test("an alias mapped (in the database) to a climbing name is refused by the Gemini entry, not sent", async () => {
    await h.t.sql`update provider_keys set model_map = ${h.t.sql.json({ sneaky: "../../admin" })} where id = ${gemini.id}`;
    h.t.deps.events.emit({ type: "provider", workspace_id: h.ws.id });
    try {
      gemini.mock!.reset();
      const res = await chat("gem/sneaky");
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: { param: string } }).error.param).toBe("model");
      expect(gemini.mock!.requests).toEqual([]);
    } finally {
      await h.t.sql`update provider_keys set model_map = '{}' where id = ${gemini.id}`;
      h.t.deps.events.emit({ type: "provider", workspace_id: h.ws.id });
    }
  });

  test("saving such an alias is 422 on the alias", async () => {
    const r = await h.t.call("PUT", `/workspaces/${h.ws.id}/providers/${gemini.id}`, {
      token: h.owner.token,
      body: { model_map: { sneaky: "../../admin" } },
    });
    expect(r.status).toBe(422);
    expect(r.body.error.param).toBe("model_map.sneaky");
  });

  test.each(["constructor", "toString", "__proto__", "hasOwnProperty"])("the model %j reaches Gemini under its own name", async (model) => {
    gemini.mock!.reset();
    const res = await chat(model);
    expect(res.status).toBe(200);
    expect(res.headers.get("x-perpetuo-provider")).toBe("gem");
    expect(gemini.mock!.lastChatRequest()?.pathname).toBe(`/v1beta/models/${model}:generateContent`);
  });

  test('the model "valueOf" reaches an OpenAI entry with a model_map under its own name', async () => {
    const res = await chat("valueOf");
    expect(res.status).toBe(200);
    expect((openai.mock!.lastChatRequest()?.body as { model: unknown }).model).toBe("valueOf");
  });

  test("an alias still maps", async () => {
    const res = await chat("fast");
    expect(res.status).toBe(200);
    expect((openai.mock!.lastChatRequest()?.body as { model: unknown }).model).toBe("gpt-4o-mini");
  });

  test.each(["__proto__", "constructor", "prototype"])(
    "a model_map or pricing entry named %s is 422, not silently dropped",
    async (name) => {
      const map = JSON.parse(`{"${name}": "gpt-4o"}`);
      const r = await h.t.call("PUT", `/workspaces/${h.ws.id}/providers/${openai.id}`, { token: h.owner.token, body: { model_map: map } });
      expect(r.status).toBe(422);
      expect(r.body.error.param).toBe("model_map");
      const price = JSON.parse(`{"${name}": {"input": 1, "output": 2}}`);
      const p = await h.t.call("PUT", `/workspaces/${h.ws.id}/providers/${openai.id}`, { token: h.owner.token, body: { pricing: price } });
      expect(p.status).toBe(422);
      expect(p.body.error.param).toBe("pricing");
    },
  );
});

describe("other lookups keyed by outside text", () => {
  test("a Gemini tool parameter named __proto__ or constructor stays a parameter", () => {
    const schema = JSON.parse(
      '{"type":"object","properties":{"__proto__":{"type":"string"},"a":{"type":"number"}},"required":["__proto__","constructor","a"]}',
    );
    const out = toGeminiSchema(schema, "tools[0]") as { properties: Record<string, unknown>; required: string[] };
    expect(Object.keys(out.properties)).toEqual(["__proto__", "a"]);
    expect(out.required).toEqual(["__proto__", "a"]);
  });

  test("Anthropic errors whose type or field is an Object.prototype member are classified plainly", () => {
    const a = adapterFor("anthropic");
    const ctx = { id: "chatcmpl-x", created: 0, requestedModel: "claude", includeUsage: false };
    let err: unknown;
    try {
      a.parseChatResponse({ type: "error", error: { type: "constructor", message: "odd" } }, ctx);
    } catch (e) {
      err = e;
    }
    expect((err as { error: { class: unknown } }).error.class).toBe("server");
    const e = a.classifyError(
      400,
      JSON.stringify({ type: "error", error: { type: "invalid_request_error", message: "constructor: odd" } }),
      new Headers(),
    );
    expect(e.param).toBe(null);
  });
});
