import { describe, expect, test } from "bun:test";
import { adapterFor } from "../src/adapters/index.ts";
import { PROVIDER_TYPES } from "../src/providers/catalog.ts";
import { createOpenAIAdapter, openaiAdapter } from "../src/adapters/openai.ts";
import {
  parseDuration,
  parseRetryAfter,
  redactSecrets,
  retryAfterFromHeaders,
  upstreamError,
  UpstreamResponseError,
  usageFromOpenAI,
  type ChatCompletion,
  type ChatCompletionChunk,
  type ChatRequest,
  type ResponseContext,
  type StreamTransformer,
  type UpstreamError,
  type UpstreamTarget,
} from "../src/adapters/types.ts";

const target: UpstreamTarget = { baseUrl: "https://api.openai.com/v1/", apiKey: "sk-test-1234567890", model: "gpt-4o-mini" };
const ctx: ResponseContext = {
  id: "chatcmpl-gw1",
  created: 1700000001,
  requestedModel: "fast",
  targetModel: "gpt-4o-mini",
  includeUsage: false,
};

function build(req: Partial<ChatRequest>, t = target, adapter = openaiAdapter) {
  const r = adapter.buildChatRequest({ model: "fast", messages: [{ role: "user", content: "hi" }], ...req } as ChatRequest, t);
  return { ...r, json: JSON.parse(r.body ?? "null") as Record<string, unknown> };
}

function run(t: StreamTransformer, datas: string[]) {
  const chunks: ChatCompletionChunk[] = [];
  let error: UpstreamError | undefined;
  let done = false;
  for (const data of datas) {
    const r = t.push({ data });
    chunks.push(...r.chunks);
    if (r.error) error = r.error;
    if (r.done) done = true;
  }
  return { chunks, error, done };
}

describe("adapterFor", () => {
  const table: [string, string][] = [
    ["openai", "openai"],
    ["groq", "openai"],
    ["mistral", "openai"],
    ["openrouter", "openai"],
    ["together", "openai"],
    ["deepseek", "openai"],
    ["ollama", "openai"],
    ["openai_compatible", "openai"],
    ["anthropic", "anthropic"],
    ["gemini", "gemini"],
  ];
  for (const [type, format] of table) {
    test(`${type} speaks the ${format} wire format`, () => {
      expect(adapterFor(type).format).toBe(format as "openai");
    });
  }

  test("an unknown provider type throws", () => {
    expect(() => adapterFor("cohere")).toThrow("unknown provider type 'cohere'");
  });

  test("every provider type has an adapter", () => {
    for (const t of PROVIDER_TYPES) expect(() => adapterFor(t)).not.toThrow();
  });

  test("mistral is never sent stream_options, which it rejects", () => {
    const r = build({ stream: true, stream_options: { include_usage: true } }, target, adapterFor("mistral"));
    expect(r.json.stream_options).toBeUndefined();
    expect(r.json.stream).toBe(true);
  });
});

describe("OpenAI request", () => {
  test("posts to /chat/completions under the base URL without a doubled slash", () => {
    const r = build({});
    expect(r.url).toBe("https://api.openai.com/v1/chat/completions");
    expect(r.method).toBe("POST");
  });

  test("sends the key as a Bearer token", () => {
    expect(build({}).headers).toEqual({ "content-type": "application/json", authorization: "Bearer sk-test-1234567890" });
  });

  test("sends no authorization header without a key", () => {
    expect(build({}, { ...target, apiKey: null }).headers).toEqual({ "content-type": "application/json" });
  });

  test("replaces the model and keeps every other field, known or not", () => {
    const r = build({
      temperature: 0.3,
      seed: 7,
      logit_bias: { "50256": -100 },
      store: true,
      metadata: { a: "b" },
      tools: [{ type: "function", function: { name: "f" } }],
    });
    expect(r.json).toEqual({
      model: "gpt-4o-mini",
      messages: [{ role: "user", content: "hi" }],
      temperature: 0.3,
      seed: 7,
      logit_bias: { "50256": -100 },
      store: true,
      metadata: { a: "b" },
      tools: [{ type: "function", function: { name: "f" } }],
    });
  });

  test("asks a streaming upstream for usage and keeps other stream options", () => {
    expect(build({ stream: true }).json.stream_options).toEqual({ include_usage: true });
    expect(build({ stream: true, stream_options: { include_usage: false, include_obfuscation: false } }).json.stream_options).toEqual({
      include_usage: true,
      include_obfuscation: false,
    });
  });

  test("drops stream_options from a non-streamed request", () => {
    expect(build({ stream: false, stream_options: { include_usage: true } }).json).not.toHaveProperty("stream_options");
  });
});

describe("OpenAI response", () => {
  test("passes a complete response through unchanged", () => {
    const body = {
      id: "chatcmpl-up",
      object: "chat.completion",
      created: 5,
      model: "gpt-4o-mini-2024-07-18",
      choices: [{ index: 0, message: { role: "assistant", content: "hi", refusal: null }, logprobs: null, finish_reason: "stop" }],
      usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 },
      service_tier: "default",
    };
    expect(openaiAdapter.parseChatResponse(structuredClone(body), ctx)).toEqual(body as ChatCompletion);
  });

  test("fills in missing id, object, created and model", () => {
    const out = openaiAdapter.parseChatResponse({ choices: [] }, ctx);
    expect(out).toEqual({ id: "chatcmpl-gw1", object: "chat.completion", created: 1700000001, model: "gpt-4o-mini", choices: [] });
  });

  test("falls back to the requested model when no target model is known", () => {
    const out = openaiAdapter.parseChatResponse({ choices: [] }, { ...ctx, targetModel: undefined });
    expect(out.model).toBe("fast");
  });

  test("an error object in a 200 body is thrown as a classified upstream error", () => {
    try {
      openaiAdapter.parseChatResponse({ error: { message: "Provider returned error", code: 502 } }, ctx);
      throw new Error("no throw");
    } catch (e) {
      expect(e).toBeInstanceOf(UpstreamResponseError);
      expect((e as UpstreamResponseError).error).toMatchObject({ class: "server", retryable: true, message: "Provider returned error" });
    }
  });

  test("a body without choices is an upstream failure", () => {
    expect(() => openaiAdapter.parseChatResponse({ id: "x" }, ctx)).toThrow(UpstreamResponseError);
    expect(() => openaiAdapter.parseChatResponse("nope", ctx)).toThrow(UpstreamResponseError);
  });

  test("usage is recoverable from the completion, including cache figures", () => {
    const out = openaiAdapter.parseChatResponse(
      {
        choices: [],
        usage: {
          prompt_tokens: 10,
          completion_tokens: 4,
          total_tokens: 14,
          prompt_tokens_details: { cached_tokens: 6 },
          completion_tokens_details: { reasoning_tokens: 2 },
        },
      },
      ctx,
    );
    expect(usageFromOpenAI(out.usage)).toEqual({
      prompt_tokens: 10,
      completion_tokens: 4,
      total_tokens: 14,
      cached_tokens: 6,
      reasoning_tokens: 2,
    });
  });
});

describe("OpenAI stream", () => {
  const chunk = (delta: object, finish: string | null = null, extra: object = {}) =>
    JSON.stringify({
      id: "chatcmpl-up",
      object: "chat.completion.chunk",
      created: 9,
      model: "gpt-4o-mini-x",
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
      ...extra,
    });
  const usageChunk = JSON.stringify({
    id: "chatcmpl-up",
    object: "chat.completion.chunk",
    created: 9,
    model: "gpt-4o-mini-x",
    choices: [],
    usage: { prompt_tokens: 7, completion_tokens: 2, total_tokens: 9, prompt_tokens_details: { cached_tokens: 3 } },
  });
  const events = [
    chunk({ role: "assistant", content: "" }),
    chunk({ content: "Hel" }),
    chunk({ content: "lo" }),
    chunk({}, "stop"),
    usageChunk,
    "[DONE]",
  ];

  test("passes chunks through and withholds the usage chunk from a client that did not ask", () => {
    const t = openaiAdapter.createStreamTransformer(ctx);
    const r = run(t, events);
    expect(r.done).toBe(true);
    expect(r.error).toBeUndefined();
    expect(r.chunks).toEqual(events.slice(0, 4).map((e) => JSON.parse(e)));
    expect(t.usage()).toEqual({ prompt_tokens: 7, completion_tokens: 2, total_tokens: 9, cached_tokens: 3 });
  });

  test("forwards the usage chunk to a client that asked", () => {
    const r = run(openaiAdapter.createStreamTransformer({ ...ctx, includeUsage: true }), events);
    expect(r.chunks).toEqual(events.slice(0, 5).map((e) => JSON.parse(e)));
  });

  test("the usage: null that include_usage adds to every chunk is removed for a client that did not ask", () => {
    const ev = chunk({ content: "a" }, null, { usage: null });
    expect(run(openaiAdapter.createStreamTransformer(ctx), [ev]).chunks).toEqual([JSON.parse(chunk({ content: "a" }))]);
    expect(run(openaiAdapter.createStreamTransformer({ ...ctx, includeUsage: true }), [ev]).chunks).toEqual([JSON.parse(ev)]);
  });

  test("[DONE] ends the stream and later events are ignored", () => {
    const t = openaiAdapter.createStreamTransformer(ctx);
    expect(t.push({ data: "[DONE]" })).toEqual({ chunks: [], done: true });
    expect(t.push({ data: chunk({ content: "late" }) })).toEqual({ chunks: [] });
    expect(t.finish()).toEqual({ chunks: [], done: true });
  });

  test("tool-call deltas pass through untouched", () => {
    const ev = chunk({ tool_calls: [{ index: 0, id: "call_1", type: "function", function: { name: "f", arguments: "" } }] });
    expect(run(openaiAdapter.createStreamTransformer(ctx), [ev]).chunks).toEqual([JSON.parse(ev)]);
  });

  test("chunks missing identity fields get them from the context", () => {
    const r = run(openaiAdapter.createStreamTransformer(ctx), [
      JSON.stringify({ choices: [{ index: 0, delta: { content: "x" }, finish_reason: null }] }),
    ]);
    expect(r.chunks).toEqual([
      {
        id: "chatcmpl-gw1",
        object: "chat.completion.chunk",
        created: 1700000001,
        model: "gpt-4o-mini",
        choices: [{ index: 0, delta: { content: "x" }, finish_reason: null }],
      },
    ]);
  });

  test("usage riding on the last content chunk is moved to its own chunk at the end", () => {
    const evs = [
      chunk({ content: "hi" }),
      chunk({}, "stop", { usage: { prompt_tokens: 4, completion_tokens: 1, total_tokens: 5 } }),
      "[DONE]",
    ];
    const t = openaiAdapter.createStreamTransformer({ ...ctx, includeUsage: true });
    const r = run(t, evs);
    expect(r.chunks).toEqual([
      JSON.parse(evs[0]),
      JSON.parse(chunk({}, "stop")),
      {
        id: "chatcmpl-up",
        object: "chat.completion.chunk",
        created: 9,
        model: "gpt-4o-mini-x",
        choices: [],
        usage: { prompt_tokens: 4, completion_tokens: 1, total_tokens: 5 },
      },
    ]);
    expect(t.usage()).toEqual({ prompt_tokens: 4, completion_tokens: 1, total_tokens: 5 });
  });

  test("Groq's x_groq usage is recorded", () => {
    const t = openaiAdapter.createStreamTransformer(ctx);
    run(t, [chunk({}, "stop", { x_groq: { usage: { prompt_tokens: 2, completion_tokens: 3, total_tokens: 5 } } }), "[DONE]"]);
    expect(t.usage()).toEqual({ prompt_tokens: 2, completion_tokens: 3, total_tokens: 5 });
  });

  test("an error event mid-stream becomes a classified error", () => {
    const r = run(openaiAdapter.createStreamTransformer(ctx), [
      chunk({ content: "a" }),
      JSON.stringify({ error: { message: "Rate limit reached", type: "requests", code: "rate_limit_exceeded" } }),
    ]);
    expect(r.chunks).toHaveLength(1);
    expect(r.error).toMatchObject({
      class: "rate_limit",
      status: 429,
      retryable: true,
      message: "Rate limit reached",
      code: "rate_limit_exceeded",
    });
  });

  test("an error event with a numeric code is classified by that code", () => {
    const r = run(openaiAdapter.createStreamTransformer(ctx), [JSON.stringify({ error: { message: "bad", code: 400 } })]);
    expect(r.error).toMatchObject({ class: "bad_request", status: 400, retryable: false });
  });

  test("malformed data is a stream error", () => {
    const r = run(openaiAdapter.createStreamTransformer(ctx), ["{not json"]);
    expect(r.error).toMatchObject({ class: "stream_error", retryable: true, status: 502 });
  });

  test("EOF before any finish_reason is a stream error", () => {
    const t = openaiAdapter.createStreamTransformer(ctx);
    run(t, [chunk({ content: "partial" })]);
    expect(t.finish().error).toMatchObject({ class: "stream_error", message: "upstream stream ended before completion" });
  });

  test("EOF after a finish_reason but without [DONE] still completes", () => {
    const t = openaiAdapter.createStreamTransformer(ctx);
    run(t, [chunk({ content: "a" }), chunk({}, "stop")]);
    expect(t.finish()).toEqual({ chunks: [], done: true });
  });

  test("usage is null before any usage arrived", () => {
    expect(openaiAdapter.createStreamTransformer(ctx).usage()).toBeNull();
  });
});

describe("OpenAI error classification", () => {
  const h = (init: Record<string, string> = {}) => new Headers(init);
  const body = (message: string, type: string, code: string | null = null, param: string | null = null) =>
    JSON.stringify({ error: { message, type, param, code } });

  const table: [string, number, string, Partial<UpstreamError>][] = [
    [
      "400 keeps message, code and param",
      400,
      body("This model's maximum context length is 128000 tokens.", "invalid_request_error", "context_length_exceeded", "messages"),
      {
        class: "bad_request",
        status: 400,
        retryable: false,
        type: "invalid_request_error",
        code: "context_length_exceeded",
        param: "messages",
        upstreamStatus: 400,
      },
    ],
    [
      "401 is an auth failure shown as 502",
      401,
      body("Incorrect API key provided: sk-abc***xyz.", "invalid_request_error", "invalid_api_key"),
      { class: "auth", status: 502, retryable: true, type: "upstream_error", code: "upstream_auth_failed" },
    ],
    [
      "403 is an auth failure",
      403,
      body("Country not supported", "invalid_request_error", "unsupported_country_region_territory"),
      { class: "auth", status: 502, retryable: true },
    ],
    ["402 is an account failure", 402, body("Insufficient credits", "payment_required"), { class: "auth", retryable: true }],
    [
      "404 is not_found and retryable",
      404,
      body("The model `gpt-9` does not exist", "invalid_request_error", "model_not_found"),
      { class: "not_found", status: 404, retryable: true, code: "model_not_found" },
    ],
    ["408 is a timeout", 408, "", { class: "timeout", status: 504, retryable: true, message: "upstream returned HTTP 408" }],
    [
      "413 is too_large and final",
      413,
      body("Request too large", "invalid_request_error"),
      { class: "too_large", status: 413, retryable: false },
    ],
    [
      "422 is unprocessable and final",
      422,
      JSON.stringify({ object: "error", message: { detail: [{ msg: "Extra inputs are not permitted" }] }, type: "invalid_request_error" }),
      { class: "unprocessable", status: 422, retryable: false, message: '{"detail":[{"msg":"Extra inputs are not permitted"}]}' },
    ],
    [
      "429 is a rate limit",
      429,
      body("Rate limit reached", "requests", "rate_limit_exceeded"),
      { class: "rate_limit", status: 429, retryable: true, code: "rate_limit_exceeded", type: "rate_limit_error" },
    ],
    [
      "429 insufficient_quota is still worth another provider",
      429,
      body("You exceeded your current quota", "insufficient_quota", "insufficient_quota"),
      { class: "rate_limit", retryable: true, code: "insufficient_quota" },
    ],
    [
      "500 is a server error",
      500,
      body("The server had an error", "server_error"),
      { class: "server", status: 502, retryable: true, code: "upstream_server_error" },
    ],
    ["502 is a server error", 502, "<html>Bad gateway</html>", { class: "server", retryable: true, message: "<html>Bad gateway</html>" }],
    ["503 is a server error", 503, body("overloaded", "server_error"), { class: "server", retryable: true }],
    ["529 is overloaded", 529, "", { class: "overloaded", status: 503, retryable: true }],
    [
      "Ollama's string error is the message",
      404,
      JSON.stringify({ error: "model 'llama9' not found" }),
      { class: "not_found", message: "model 'llama9' not found" },
    ],
    ["FastAPI's detail is the message", 400, JSON.stringify({ detail: "bad field" }), { class: "bad_request", message: "bad field" }],
  ];
  for (const [name, status, text, expected] of table) {
    test(name, () => {
      expect(openaiAdapter.classifyError(status, text, h())).toMatchObject(expected);
    });
  }

  test("a non-JSON body is truncated to 300 characters", () => {
    const e = openaiAdapter.classifyError(500, "x".repeat(1000), h());
    expect(e.message).toBe(`${"x".repeat(300)}…`);
  });

  test("key-shaped strings in the message are redacted", () => {
    const e = openaiAdapter.classifyError(
      401,
      body("Incorrect API key provided: sk-proj-abcdefghijklmnop. Header was Bearer sk-live-123456789", "invalid_request_error"),
      h(),
    );
    expect(e.message).toBe("Incorrect API key provided: [redacted]. Header was Bearer [redacted]");
  });

  test("Retry-After in seconds becomes retryAfterMs", () => {
    expect(openaiAdapter.classifyError(429, "", h({ "retry-after": "7" })).retryAfterMs).toBe(7000);
  });

  test("Retry-After as an HTTP date becomes a delay from now", () => {
    const at = new Date(Date.now() + 30_000).toUTCString();
    const ms = openaiAdapter.classifyError(429, "", h({ "retry-after": at })).retryAfterMs!;
    expect(ms).toBeGreaterThan(25_000);
    expect(ms).toBeLessThanOrEqual(30_000);
  });

  test("the exhausted x-ratelimit-reset header is used when there is no Retry-After", () => {
    const e = openaiAdapter.classifyError(
      429,
      "",
      h({
        "x-ratelimit-remaining-requests": "10",
        "x-ratelimit-reset-requests": "20s",
        "x-ratelimit-remaining-tokens": "0",
        "x-ratelimit-reset-tokens": "1m6s",
      }),
    );
    expect(e.retryAfterMs).toBe(66_000);
  });

  test("non-retryable errors carry no retryAfterMs", () => {
    expect(openaiAdapter.classifyError(400, "", h({ "retry-after": "5" })).retryAfterMs).toBeUndefined();
  });
});

describe("OpenAI models", () => {
  test("lists models with a GET to /models", () => {
    expect(openaiAdapter.buildModelsRequest({ baseUrl: "http://localhost:11434/v1", apiKey: "k" })).toEqual({
      url: "http://localhost:11434/v1/models",
      method: "GET",
      headers: { authorization: "Bearer k" },
    });
  });

  test("parses {data:[{id}]} and Together's bare array", () => {
    expect(openaiAdapter.parseModelsResponse({ object: "list", data: [{ id: "a" }, { id: "b" }, { nope: 1 }] })).toEqual(["a", "b"]);
    expect(openaiAdapter.parseModelsResponse([{ id: "t1" }])).toEqual(["t1"]);
    expect(openaiAdapter.parseModelsResponse(null)).toEqual([]);
  });
});

describe("shared helpers", () => {
  const durations: [string, number | undefined][] = [
    ["1s", 1000],
    ["20ms", 20],
    ["6m0s", 360_000],
    ["1h2m3.5s", 3_723_500],
    ["0.5", 500],
    ["soon", undefined],
    ["5sx", undefined],
  ];
  for (const [input, ms] of durations) {
    test(`parseDuration("${input}") is ${ms}`, () => {
      expect(parseDuration(input)).toBe(ms as number);
    });
  }

  test("parseRetryAfter reads seconds and HTTP dates against a given clock", () => {
    const now = Date.parse("2025-01-01T00:00:00Z");
    expect(parseRetryAfter("3", now)).toBe(3000);
    expect(parseRetryAfter("1.5", now)).toBe(1500);
    expect(parseRetryAfter("Wed, 01 Jan 2025 00:00:10 GMT", now)).toBe(10_000);
    expect(parseRetryAfter("Tue, 31 Dec 2024 23:59:00 GMT", now)).toBe(0);
    expect(parseRetryAfter("garbage", now)).toBeUndefined();
  });

  test("retry-after-ms wins over Retry-After", () => {
    expect(retryAfterFromHeaders(new Headers({ "retry-after-ms": "250", "retry-after": "9" }))).toBe(250);
  });

  test("with no exhausted limit the longest reset is used", () => {
    expect(retryAfterFromHeaders(new Headers({ "x-ratelimit-reset-requests": "2s", "x-ratelimit-reset-tokens": "500ms" }))).toBe(2000);
  });

  const secrets: [string, string][] = [
    ["key sk-ant-api03-abcdefghij here", "key [redacted] here"],
    ["AIzaSyA-1234567890abcdefghij", "[redacted]"],
    ["prp_abcdef123456", "[redacted]"],
    ["gsk_abcdefghijklmnop", "[redacted]"],
    ["authorization: Bearer abc.def", "authorization: Bearer [redacted]"],
    ["GET /v1beta/models?key=AIzaSecret&alt=sse", "GET /v1beta/models?key=[redacted]&alt=sse"],
    ["nothing secret here: task-force", "nothing secret here: task-force"],
  ];
  for (const [input, out] of secrets) {
    test(`redacts "${input}"`, () => {
      expect(redactSecrets(input)).toBe(out);
    });
  }

  test("redacts an explicitly given key of any shape", () => {
    expect(redactSecrets("your key my-weird-key-42 is wrong", "my-weird-key-42")).toBe("your key [redacted] is wrong");
  });

  test("upstreamError fills status, type and retryability from the class", () => {
    expect(upstreamError("timeout", "no first byte in 10s")).toEqual({
      class: "timeout",
      status: 504,
      message: "no first byte in 10s",
      type: "upstream_error",
      code: "upstream_timeout",
      param: null,
      retryable: true,
    });
    expect(upstreamError("network", "ECONNREFUSED")).toMatchObject({ status: 502, retryable: true, code: "upstream_unreachable" });
  });
});
