import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import OpenAI from "openai";
import { ANSWER_TOOL as JSON_TOOL } from "../src/adapters/common.ts";
import { gatewayHarness, type GatewayHarness } from "./support/gateway.ts";
import { waitUntil, type MockUpstream } from "./support/mock-upstreams.ts";

// Issue 14 through the official openai SDK, against mock upstreams speaking each provider's wire
// format over real HTTP. The pure mappings are in test/adapters.edges.test.ts.

const CLAUDE = "claude-sonnet-4-5";
const GEMINI = "gemini-2.5-flash";
const weather: OpenAI.ChatCompletionTool = {
  type: "function",
  function: { name: "weather", parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] } },
};
const replyFormat = {
  type: "json_schema" as const,
  json_schema: { name: "reply", schema: { type: "object", properties: { answer: { type: "string" } }, required: ["answer"] } },
};
const ask: OpenAI.ChatCompletionMessageParam[] = [{ role: "user", content: "What is the weather in Oslo, as JSON?" }];

let h: GatewayHarness;
let anthropic: MockUpstream;
let gemini: MockUpstream;
let openai: MockUpstream;

beforeAll(async () => {
  h = await gatewayHarness();
  anthropic = (await h.addProvider("anthropic", { models: [CLAUDE] })).mock!;
  gemini = (await h.addProvider("gemini", { models: [GEMINI] })).mock!;
  openai = (await h.addProvider("openai", { models: ["gpt-4o-mini"] })).mock!;
});
afterAll(() => h.close());

async function streamed(params: OpenAI.ChatCompletionCreateParamsNonStreaming) {
  const s = await h.client().chat.completions.create({ ...params, stream: true });
  let content = "";
  const finish: string[] = [];
  const calls: string[] = [];
  for await (const c of s) {
    const ch = c.choices[0];
    if (!ch) continue;
    content += ch.delta.content ?? "";
    if (ch.finish_reason) finish.push(ch.finish_reason);
    for (const t of ch.delta.tool_calls ?? []) if (t.function?.name) calls.push(t.function.name);
  }
  return { content, finish, calls };
}

describe("tools and structured output in one request", () => {
  test("Anthropic: the answer tool's input comes back as the JSON content, without the text beside it", async () => {
    anthropic.script({ text: "Here is the JSON:", toolCalls: [{ name: JSON_TOOL, arguments: { answer: "sunny" } }] });
    const r = await h.client().chat.completions.create({ model: CLAUDE, messages: ask, tools: [weather], response_format: replyFormat });
    expect(r.choices[0].finish_reason).toBe("stop");
    expect(JSON.parse(r.choices[0].message.content!)).toEqual({ answer: "sunny" });
    expect(r.choices[0].message.tool_calls ?? []).toHaveLength(0);
    const sent = anthropic.lastChatRequest()!.body as { tools: { name: string }[]; tool_choice: unknown };
    expect(sent.tools.map((t) => t.name)).toEqual(["weather", JSON_TOOL]);
    expect(sent.tool_choice).toEqual({ type: "any" });
  });

  test("Anthropic: a call to the client's tool is a tool call, streamed or not", async () => {
    anthropic.script(
      { toolCalls: [{ name: "weather", arguments: { city: "Oslo" } }] },
      { toolCalls: [{ name: "weather", arguments: { city: "Oslo" } }] },
    );
    const r = await h.client().chat.completions.create({ model: CLAUDE, messages: ask, tools: [weather], response_format: replyFormat });
    expect(r.choices[0].finish_reason).toBe("tool_calls");
    expect(
      JSON.parse(r.choices[0].message.tool_calls![0].type === "function" ? r.choices[0].message.tool_calls![0].function.arguments : ""),
    ).toEqual({ city: "Oslo" });
    const s = await streamed({ model: CLAUDE, messages: ask, tools: [weather], response_format: replyFormat });
    expect(s.calls).toEqual(["weather"]);
    expect(s.finish).toEqual(["tool_calls"]);
  });

  test("Anthropic stream: the content is only the JSON", async () => {
    anthropic.script({ text: "Sure, here:", toolCalls: [{ name: JSON_TOOL, arguments: { answer: "rain" } }] });
    const s = await streamed({ model: CLAUDE, messages: ask, tools: [weather], response_format: replyFormat });
    expect(JSON.parse(s.content)).toEqual({ answer: "rain" });
    expect(s.finish).toEqual(["stop"]);
  });

  test("Gemini: no responseMimeType beside function calling; the answer function becomes the content", async () => {
    gemini.script(
      { toolCalls: [{ name: JSON_TOOL, arguments: { answer: "sunny" } }] },
      { toolCalls: [{ name: JSON_TOOL, arguments: { answer: "snow" } }] },
    );
    const r = await h.client().chat.completions.create({ model: GEMINI, messages: ask, tools: [weather], response_format: replyFormat });
    expect(r.choices[0].finish_reason).toBe("stop");
    expect(JSON.parse(r.choices[0].message.content!)).toEqual({ answer: "sunny" });
    const sent = gemini.lastChatRequest()!.body as Record<string, any>;
    expect(sent.generationConfig?.responseMimeType).toBeUndefined();
    expect(sent.toolConfig).toEqual({ functionCallingConfig: { mode: "ANY" } });
    const s = await streamed({ model: GEMINI, messages: ask, tools: [weather], response_format: replyFormat });
    expect(JSON.parse(s.content)).toEqual({ answer: "snow" });
    expect(s.finish).toEqual(["stop"]);
  });
});

describe("context-window errors", () => {
  for (const [name, model] of [
    ["Anthropic", CLAUDE],
    ["Gemini", GEMINI],
    ["OpenAI", "gpt-4o-mini"],
  ] as const) {
    test(`${name}: an overflowing prompt is a 400 context_length_exceeded`, async () => {
      (model === CLAUDE ? anthropic : model === GEMINI ? gemini : openai).script({ contextOverflow: { tokens: 1_200_000, max: 200_000 } });
      const err = await h
        .client()
        .chat.completions.create({ model, messages: ask })
        .catch((e) => e);
      expect(err).toBeInstanceOf(OpenAI.BadRequestError);
      expect(err.status).toBe(400);
      expect(err.code).toBe("context_length_exceeded");
      expect(err.type).toBe("invalid_request_error");
      expect(err.message).toContain("1200000");
    });
  }
});

describe("file content parts", () => {
  const pdf = Buffer.from("%PDF-1.4\n%mock\n").toString("base64");
  const withFile = (file: Record<string, string>): OpenAI.ChatCompletionMessageParam[] => [
    { role: "user", content: [{ type: "text", text: "Summarise the file." }, { type: "file", file } as OpenAI.ChatCompletionContentPart] },
  ];

  test("a PDF reaches Anthropic as a document block and Gemini as inlineData", async () => {
    const file = { file_data: `data:application/pdf;base64,${pdf}`, filename: "report.pdf" };
    await h.client().chat.completions.create({ model: CLAUDE, messages: withFile(file) });
    const block = (anthropic.lastChatRequest()!.body as any).messages[0].content[1];
    expect(block).toEqual({ type: "document", source: { type: "base64", media_type: "application/pdf", data: pdf }, title: "report.pdf" });
    await h.client().chat.completions.create({ model: GEMINI, messages: withFile(file) });
    expect((gemini.lastChatRequest()!.body as any).contents[0].parts[1]).toEqual({
      inlineData: { mimeType: "application/pdf", data: pdf },
    });
  });

  test("a text file reaches the provider as text", async () => {
    const file = { file_data: `data:text/plain;base64,${Buffer.from("the quarterly numbers").toString("base64")}`, filename: "notes.txt" };
    const r = await h.client().chat.completions.create({ model: CLAUDE, messages: withFile(file) });
    expect(r.choices[0].message.content).toContain("the quarterly numbers");
  });

  test("a file_id is a 400 naming the param", async () => {
    const err = await h
      .client()
      .chat.completions.create({ model: CLAUDE, messages: withFile({ file_id: "file-abc123" }) })
      .catch((e) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect(err.param).toBe("messages[0].content[1].file.file_id");
    expect(err.message).toContain("file_data");
  });

  test("a file part without file_data or file_id is refused by validation", async () => {
    const err = await h
      .client()
      .chat.completions.create({ model: CLAUDE, messages: withFile({ filename: "x.pdf" }) })
      .catch((e) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect(err.message).toContain("file_data or file_id");
  });
});

describe("sampling and reasoning", () => {
  test("temperature with top_p reaches Anthropic as temperature alone; Gemini gets both", async () => {
    await h.client().chat.completions.create({ model: CLAUDE, messages: ask, temperature: 0.4, top_p: 0.7 });
    const sent = anthropic.lastChatRequest()!.body as Record<string, unknown>;
    expect(sent.temperature).toBe(0.4);
    expect(sent).not.toHaveProperty("top_p");
    await h.client().chat.completions.create({ model: GEMINI, messages: ask, temperature: 0.4, top_p: 0.7 });
    expect((gemini.lastChatRequest()!.body as any).generationConfig).toMatchObject({ temperature: 0.4, topP: 0.7 });
  });

  test("reasoning_effort becomes Anthropic thinking; the thinking is not content", async () => {
    anthropic.script(
      { reasoningText: "private deliberation", text: "It is 4." },
      { reasoningText: "private deliberation", text: "It is 4." },
    );
    const r = await h
      .client()
      .chat.completions.create({ model: CLAUDE, messages: ask, reasoning_effort: "low", max_tokens: 300, temperature: 0.2 });
    expect(r.choices[0].message.content).toBe("It is 4.");
    const sent = anthropic.lastChatRequest()!.body as Record<string, unknown>;
    expect(sent.thinking).toEqual({ type: "enabled", budget_tokens: 2048 });
    expect(sent.max_tokens).toBe(2048 + 300);
    expect(sent).not.toHaveProperty("temperature");
    const s = await streamed({ model: CLAUDE, messages: ask, reasoning_effort: "low" });
    expect(s.content).toBe("It is 4.");
  });

  test("reasoning_effort becomes Gemini's thinking budget; thoughts are not content", async () => {
    gemini.script({ reasoningText: "private deliberation", text: "It is 4." });
    const r = await h.client().chat.completions.create({ model: GEMINI, messages: ask, reasoning_effort: "high" });
    expect(r.choices[0].message.content).toBe("It is 4.");
    expect((gemini.lastChatRequest()!.body as any).generationConfig).toEqual({ thinkingConfig: { thinkingBudget: 24576 } });
  });
});

describe("dead provider keys and broken connections", () => {
  test("a 502 for a provider that refused its key tells the SDK not to retry: one request reaches the provider", async () => {
    const dead = await h.addProvider("openai", { models: ["gpt-dead"] });
    dead.mock!.setExpectedKey("sk-some-other-key-0000000000");
    const patient = new OpenAI({ apiKey: h.key, baseURL: `${h.base}/v1`, maxRetries: 2, timeout: 20_000 });
    const err = await patient.chat.completions.create({ model: "gpt-dead", messages: ask }).catch((e) => e);
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect(err.status).toBe(502);
    expect(err.headers.get("x-should-retry")).toBe("false");
    expect(dead.mock!.chatRequests()).toHaveLength(1);
  });

  test("a connection cut mid-stream ends with a plain error message, without the runtime's hints", async () => {
    // Paced, so that content reaches the client before the cut: the error is an in-stream event.
    anthropic.script({ text: "one two three four five six seven", abortAfterChunks: 6, chunkDelayMs: 30 });
    let content = "";
    const err = await (async () => {
      for await (const c of await h.client().chat.completions.create({ model: CLAUDE, messages: ask, stream: true }))
        content += c.choices[0]?.delta.content ?? "";
    })().catch((e) => e);
    expect(content).toStartWith("one");
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect(err.message).toContain("the provider closed the connection unexpectedly");
    expect(err.message).not.toContain("verbose");
    expect(err.message).not.toContain("fetch()");
  });
});

describe("GET /v1/models with a slow or failing provider", () => {
  let g: GatewayHarness;
  let slow: MockUpstream;
  let steady: MockUpstream;
  let shared: MockUpstream;
  const SLOW_MS = 10_000;
  const ids = async () => (await g.client().models.list()).data.map((m) => m.id);

  beforeAll(async () => {
    // Short lifetimes so that expiry can be waited out; the deadline is the real one (1.5 s), well below SLOW_MS.
    g = await gatewayHarness({ modelListing: { failureTtlMs: 300, ttlMs: 400 } });
    // No model list configured: these entries can only be listed by asking the provider.
    slow = (await g.addProvider("openai", {}, { models: ["slow-model"] })).mock!;
    steady = (await g.addProvider("anthropic", {}, { models: ["steady-model"] })).mock!;
    shared = (await g.addProvider("gemini", {}, { models: ["shared-model"] })).mock!;
  });
  afterAll(() => g.close());

  test("a slow provider does not hold the list; it is asked again once it recovers", async () => {
    slow.setModelsBehaviour({ delayMs: SLOW_MS });
    const started = Date.now();
    const first = await ids();
    // Answered before the slow provider would have answered at all.
    expect(Date.now() - started).toBeLessThan(SLOW_MS);
    expect(first).toContain("steady-model");
    expect(first).not.toContain("slow-model");
    slow.setModelsBehaviour(null);
    // The failure is remembered only briefly.
    await Bun.sleep(350);
    expect(await ids()).toContain("slow-model");
  });

  test("when a refresh fails, the last good list is still served", async () => {
    expect(await ids()).toContain("slow-model");
    slow.setModelsBehaviour({ status: 500 });
    await Bun.sleep(450);
    const before = slow.modelsRequests().length;
    expect(await ids()).toContain("slow-model");
    await Bun.sleep(50);
    expect(await ids()).toContain("slow-model");
    // The expired list was in fact refreshed, and the refresh failed.
    expect(slow.modelsRequests().length).toBeGreaterThan(before);
    slow.setModelsBehaviour(null);
  });

  test("concurrent requests share one listing per provider", async () => {
    await Bun.sleep(450);
    shared.setModelsBehaviour({ delayMs: 100 });
    const before = shared.modelsRequests().length;
    const lists = await Promise.all(Array.from({ length: 5 }, () => ids()));
    for (const l of lists) expect(l).toContain("shared-model");
    // The refresh of the expired list runs in the background: wait for it to reach the provider
    // (a busy machine may take a while), then check nobody else started another.
    await waitUntil(() => shared.modelsRequests().length - before >= 1, 5000);
    await Bun.sleep(200);
    expect(shared.modelsRequests().length - before).toBe(1);
    shared.setModelsBehaviour(null);
  });
});
