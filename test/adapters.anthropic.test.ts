import { describe, expect, test } from "bun:test";
import { anthropicAdapter } from "../src/adapters/anthropic.ts";
import { ANSWER_TOOL as JSON_TOOL } from "../src/adapters/common.ts";
import {
  UnsupportedFeatureError,
  UpstreamResponseError,
  usageFromOpenAI,
  type ChatCompletionChunk,
  type ChunkDelta,
  type FinishReason,
  type ChatRequest,
  type ResponseContext,
  type SSEEvent,
  type StreamTransformer,
  type UpstreamError,
} from "../src/adapters/types.ts";

const target = { baseUrl: "https://api.anthropic.com/", apiKey: "sk-ant-test", model: "claude-sonnet-4-5" };
const ctx: ResponseContext = {
  id: "chatcmpl-gw1",
  created: 1700000001,
  requestedModel: "smart",
  targetModel: "claude-sonnet-4-5",
  includeUsage: false,
};

function body(req: Partial<ChatRequest>): Record<string, unknown> {
  const r = anthropicAdapter.buildChatRequest(
    { model: "smart", messages: [{ role: "user", content: "hi" }], ...req } as ChatRequest,
    target,
  );
  return JSON.parse(r.body ?? "null") as Record<string, unknown>;
}

function unsupported(req: Partial<ChatRequest>): UnsupportedFeatureError {
  try {
    body(req);
  } catch (e) {
    if (e instanceof UnsupportedFeatureError) return e;
    throw e;
  }
  throw new Error("expected UnsupportedFeatureError");
}

function ev(type: string, data: Record<string, unknown> = {}): SSEEvent {
  return { event: type, data: JSON.stringify({ type, ...data }) };
}

function run(t: StreamTransformer, events: SSEEvent[]) {
  const chunks: ChatCompletionChunk[] = [];
  let error: UpstreamError | undefined;
  let done = false;
  for (const e of events) {
    const r = t.push(e);
    chunks.push(...r.chunks);
    if (r.error) error = r.error;
    if (r.done) done = true;
  }
  return { chunks, error, done };
}

const C = (delta: ChunkDelta, finish: FinishReason | null = null, model = "claude-sonnet-4-5-20250929"): ChatCompletionChunk => ({
  id: "chatcmpl-gw1",
  object: "chat.completion.chunk",
  created: 1700000001,
  model,
  choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
});

describe("Anthropic request", () => {
  test("posts to /v1/messages with the key and version headers", () => {
    const r = anthropicAdapter.buildChatRequest({ model: "smart", messages: [{ role: "user", content: "hi" }] }, target);
    expect(r.url).toBe("https://api.anthropic.com/v1/messages");
    expect(r.method).toBe("POST");
    expect(r.headers).toEqual({ "content-type": "application/json", "anthropic-version": "2023-06-01", "x-api-key": "sk-ant-test" });
  });

  test("a minimal request gets the mapped model and the default max_tokens", () => {
    expect(body({})).toEqual({ model: "claude-sonnet-4-5", max_tokens: 4096, messages: [{ role: "user", content: "hi" }] });
  });

  const maxTokens: [Partial<ChatRequest>, number][] = [
    [{ max_tokens: 100 }, 100],
    [{ max_completion_tokens: 200 }, 200],
    [{ max_tokens: 100, max_completion_tokens: 200 }, 200],
    [{ max_tokens: null }, 4096],
  ];
  for (const [req, expected] of maxTokens) {
    test(`max_tokens is ${expected} for ${JSON.stringify(req)}`, () => {
      expect(body(req).max_tokens).toBe(expected);
    });
  }

  test("system and developer messages become one system string when there is one", () => {
    expect(
      body({
        messages: [
          { role: "system", content: "Be brief." },
          { role: "user", content: "hi" },
        ],
      }).system,
    ).toBe("Be brief.");
  });

  test("several system and developer messages become text blocks in order, wherever they were", () => {
    const b = body({
      messages: [
        { role: "system", content: "A" },
        { role: "user", content: "hi" },
        {
          role: "developer",
          content: [
            { type: "text", text: "B" },
            { type: "text", text: "C" },
          ],
        },
      ],
    });
    expect(b.system).toEqual([
      { type: "text", text: "A" },
      { type: "text", text: "B" },
      { type: "text", text: "C" },
    ]);
    expect(b.messages).toEqual([{ role: "user", content: "hi" }]);
  });

  test("cache_control on a system part keeps the block form", () => {
    const b = body({
      messages: [
        { role: "system", content: [{ type: "text", text: "long", cache_control: { type: "ephemeral" } }] },
        { role: "user", content: "hi" },
      ],
    });
    expect(b.system).toEqual([{ type: "text", text: "long", cache_control: { type: "ephemeral" } }]);
  });

  test("consecutive messages of one role are merged into blocks", () => {
    const b = body({
      messages: [
        { role: "user", content: "one" },
        { role: "user", content: [{ type: "text", text: "two" }] },
        { role: "assistant", content: "three" },
        { role: "assistant", content: "four" },
      ],
    });
    expect(b.messages).toEqual([
      {
        role: "user",
        content: [
          { type: "text", text: "one" },
          { type: "text", text: "two" },
        ],
      },
      {
        role: "assistant",
        content: [
          { type: "text", text: "three" },
          { type: "text", text: "four" },
        ],
      },
    ]);
  });

  test("assistant tool calls become tool_use blocks and tool results one user message", () => {
    const b = body({
      messages: [
        { role: "user", content: "weather in Paris and Rome?" },
        {
          role: "assistant",
          content: "Checking.",
          tool_calls: [
            { id: "toolu_1", type: "function", function: { name: "weather", arguments: '{"city":"Paris"}' } },
            { id: "toolu_2", type: "function", function: { name: "weather", arguments: "" } },
          ],
        },
        { role: "tool", tool_call_id: "toolu_1", content: "18C" },
        { role: "tool", tool_call_id: "toolu_2", content: [{ type: "text", text: "21C" }] },
        { role: "user", content: "thanks" },
      ],
    });
    expect(b.messages).toEqual([
      { role: "user", content: "weather in Paris and Rome?" },
      {
        role: "assistant",
        content: [
          { type: "text", text: "Checking." },
          { type: "tool_use", id: "toolu_1", name: "weather", input: { city: "Paris" } },
          { type: "tool_use", id: "toolu_2", name: "weather", input: {} },
        ],
      },
      {
        role: "user",
        content: [
          { type: "tool_result", tool_use_id: "toolu_1", content: "18C" },
          { type: "tool_result", tool_use_id: "toolu_2", content: [{ type: "text", text: "21C" }] },
          { type: "text", text: "thanks" },
        ],
      },
    ]);
  });

  test("an assistant message with null content and tool calls has only tool_use blocks", () => {
    const b = body({
      messages: [
        { role: "user", content: "x" },
        { role: "assistant", content: null, tool_calls: [{ id: "t", type: "function", function: { name: "f", arguments: "{}" } }] },
      ],
    });
    expect((b.messages as unknown[])[1]).toEqual({ role: "assistant", content: [{ type: "tool_use", id: "t", name: "f", input: {} }] });
  });

  test("an empty assistant message is left out", () => {
    const b = body({
      messages: [
        { role: "user", content: "a" },
        { role: "assistant", content: "" },
        { role: "user", content: "b" },
      ],
    });
    expect(b.messages).toEqual([
      {
        role: "user",
        content: [
          { type: "text", text: "a" },
          { type: "text", text: "b" },
        ],
      },
    ]);
  });

  test("tool-call arguments that are not a JSON object are unsupported, naming the field", () => {
    const e = unsupported({
      messages: [
        { role: "user", content: "x" },
        { role: "assistant", content: null, tool_calls: [{ id: "t", type: "function", function: { name: "f", arguments: "{broken" } }] },
      ],
    });
    expect(e.param).toBe("messages[1].tool_calls[0].function.arguments");
    expect(
      unsupported({
        messages: [{ role: "assistant", tool_calls: [{ id: "t", type: "function", function: { name: "f", arguments: "[1]" } }] }],
      }).param,
    ).toBe("messages[0].tool_calls[0].function.arguments");
  });

  test("image data URLs become base64 image blocks and http URLs url blocks", () => {
    const b = body({
      messages: [
        {
          role: "user",
          content: [
            { type: "text", text: "what is this?" },
            { type: "image_url", image_url: { url: "data:image/png;base64,iVBORw0KGgo=", detail: "high" } },
            { type: "image_url", image_url: { url: "https://example.com/cat.jpg" } },
          ],
        },
      ],
    });
    expect(b.messages).toEqual([
      {
        role: "user",
        content: [
          { type: "text", text: "what is this?" },
          { type: "image", source: { type: "base64", media_type: "image/png", data: "iVBORw0KGgo=" } },
          { type: "image", source: { type: "url", url: "https://example.com/cat.jpg" } },
        ],
      },
    ]);
  });

  test("other image URLs and other part types are unsupported", () => {
    expect(unsupported({ messages: [{ role: "user", content: [{ type: "image_url", image_url: { url: "ftp://x/y.png" } }] }] }).param).toBe(
      "messages[0].content[0]",
    );
    expect(unsupported({ messages: [{ role: "user", content: [{ type: "input_audio", input_audio: {} } as never] }] }).param).toBe(
      "messages[0].content[0]",
    );
  });

  test("sampling parameters, stop sequences and user are mapped", () => {
    const b = body({ temperature: 0.2, top_k: 40, stop: "END", user: "u-42", stream: true });
    expect(b).toMatchObject({ temperature: 0.2, top_k: 40, stop_sequences: ["END"], metadata: { user_id: "u-42" }, stream: true });
    expect(body({ top_p: 0.9 })).toMatchObject({ top_p: 0.9 });
    expect(body({ stop: ["a", "b"] }).stop_sequences).toEqual(["a", "b"]);
    expect(body({ stop: [] })).not.toHaveProperty("stop_sequences");
  });

  test("harmless hints are dropped", () => {
    const b = body({
      seed: 1,
      presence_penalty: 0.5,
      frequency_penalty: 0.5,
      n: 1,
      logprobs: false,
      parallel_tool_calls: true,
      store: true,
    });
    expect(b).toEqual({ model: "claude-sonnet-4-5", max_tokens: 4096, messages: [{ role: "user", content: "hi" }] });
  });

  test("tools become name, description and input_schema", () => {
    const params = { type: "object", properties: { city: { type: "string" } }, required: ["city"] };
    const b = body({
      tools: [
        { type: "function", function: { name: "weather", description: "Get weather", parameters: params, strict: true } },
        { type: "function", function: { name: "now" } },
      ],
    });
    expect(b.tools).toEqual([
      { name: "weather", description: "Get weather", input_schema: params },
      { name: "now", input_schema: { type: "object", properties: {} } },
    ]);
    expect(b).not.toHaveProperty("tool_choice");
  });

  const tools = [{ type: "function" as const, function: { name: "f" } }];
  const choices: [ChatRequest["tool_choice"], boolean | undefined, unknown][] = [
    ["none", undefined, { type: "none" }],
    ["auto", undefined, { type: "auto" }],
    ["required", undefined, { type: "any" }],
    [{ type: "function", function: { name: "f" } }, undefined, { type: "tool", name: "f" }],
    [undefined, false, { type: "auto", disable_parallel_tool_use: true }],
    ["required", false, { type: "any", disable_parallel_tool_use: true }],
    ["none", false, { type: "none" }],
  ];
  for (const [choice, parallel, expected] of choices) {
    test(`tool_choice ${JSON.stringify(choice)} with parallel_tool_calls ${parallel} becomes ${JSON.stringify(expected)}`, () => {
      expect(body({ tools, tool_choice: choice, parallel_tool_calls: parallel }).tool_choice).toEqual(expected);
    });
  }

  const unsupportedTable: [string, Partial<ChatRequest>, string][] = [
    ["n > 1", { n: 2 }, "n"],
    ["logprobs", { logprobs: true }, "logprobs"],
    ["top_logprobs", { top_logprobs: 3 }, "top_logprobs"],
    ["logit_bias", { logit_bias: { "1": 5 } }, "logit_bias"],
    ["temperature above 1", { temperature: 1.5 }, "temperature"],
    [
      "a json_schema whose root is not an object",
      { response_format: { type: "json_schema", json_schema: { name: "list", schema: { type: "array" } } } },
      "response_format",
    ],
  ];
  for (const [name, req, param] of unsupportedTable) {
    test(`${name} is unsupported with param ${param}`, () => {
      expect(unsupported(req).param).toBe(param);
    });
  }

  test("json_schema becomes a forced tool carrying the schema", () => {
    const schema = { type: "object", properties: { answer: { type: "string" } }, required: ["answer"], additionalProperties: false };
    const b = body({
      response_format: { type: "json_schema", json_schema: { name: "reply", description: "the reply", schema, strict: true } },
    });
    expect(b.tools).toEqual([
      {
        name: JSON_TOOL,
        description: "Respond with JSON matching the 'reply' schema (the reply). Put the whole answer in this tool's input.",
        input_schema: schema,
      },
    ]);
    expect(b.tool_choice).toEqual({ type: "tool", name: JSON_TOOL });
  });

  test("json_object becomes a forced tool accepting any object", () => {
    const b = body({ response_format: { type: "json_object" } });
    expect(b.tools).toEqual([
      {
        name: JSON_TOOL,
        description: "Respond with a JSON object. Put the whole answer in this tool's input.",
        input_schema: { type: "object" },
      },
    ]);
    expect(b.tool_choice).toEqual({ type: "tool", name: JSON_TOOL });
  });

  test("response_format text changes nothing", () => {
    expect(body({ response_format: { type: "text" } })).toEqual(body({}));
  });
});

describe("Anthropic response", () => {
  const base = { id: "msg_01", type: "message", role: "assistant", model: "claude-sonnet-4-5-20250929", stop_sequence: null };

  test("text blocks are concatenated and usage counts every prompt token", () => {
    const out = anthropicAdapter.parseChatResponse(
      {
        ...base,
        content: [
          { type: "thinking", thinking: "hmm", signature: "s" },
          { type: "text", text: "Hello" },
          { type: "text", text: " world" },
        ],
        stop_reason: "end_turn",
        usage: { input_tokens: 10, cache_creation_input_tokens: 20, cache_read_input_tokens: 30, output_tokens: 5 },
      },
      ctx,
    );
    expect(out).toEqual({
      id: "chatcmpl-gw1",
      object: "chat.completion",
      created: 1700000001,
      model: "claude-sonnet-4-5-20250929",
      choices: [{ index: 0, message: { role: "assistant", content: "Hello world" }, logprobs: null, finish_reason: "stop" }],
      usage: {
        prompt_tokens: 60,
        completion_tokens: 5,
        total_tokens: 65,
        prompt_tokens_details: { cached_tokens: 30, cache_creation_tokens: 20 },
      },
    });
    expect(usageFromOpenAI(out.usage)).toEqual({
      prompt_tokens: 60,
      completion_tokens: 5,
      total_tokens: 65,
      cached_tokens: 30,
      cache_creation_tokens: 20,
    });
  });

  test("tool_use blocks become tool calls with JSON arguments", () => {
    const out = anthropicAdapter.parseChatResponse(
      {
        ...base,
        content: [
          { type: "text", text: "Let me check." },
          { type: "tool_use", id: "toolu_A", name: "weather", input: { city: "Paris" } },
          { type: "tool_use", id: "toolu_B", name: "now", input: {} },
        ],
        stop_reason: "tool_use",
        usage: { input_tokens: 1, output_tokens: 2 },
      },
      ctx,
    );
    expect(out.choices[0]).toEqual({
      index: 0,
      message: {
        role: "assistant",
        content: "Let me check.",
        tool_calls: [
          { id: "toolu_A", type: "function", function: { name: "weather", arguments: '{"city":"Paris"}' } },
          { id: "toolu_B", type: "function", function: { name: "now", arguments: "{}" } },
        ],
      },
      logprobs: null,
      finish_reason: "tool_calls",
    });
    expect(out.usage).toEqual({ prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 });
  });

  test("content is null when there is no text", () => {
    const out = anthropicAdapter.parseChatResponse(
      { ...base, content: [{ type: "tool_use", id: "t", name: "f", input: {} }], stop_reason: "tool_use" },
      ctx,
    );
    expect(out.choices[0].message.content).toBeNull();
  });

  const stops: [string | null, string][] = [
    ["end_turn", "stop"],
    ["stop_sequence", "stop"],
    ["max_tokens", "length"],
    ["tool_use", "tool_calls"],
    ["refusal", "content_filter"],
    ["pause_turn", "stop"],
    [null, "stop"],
  ];
  for (const [reason, finish] of stops) {
    test(`stop_reason ${reason} maps to ${finish}`, () => {
      expect(anthropicAdapter.parseChatResponse({ ...base, content: [], stop_reason: reason }, ctx).choices[0].finish_reason).toBe(
        finish as "stop",
      );
    });
  }

  test("the structured-output tool comes back as JSON content with finish_reason stop", () => {
    const out = anthropicAdapter.parseChatResponse(
      { ...base, content: [{ type: "tool_use", id: "t", name: JSON_TOOL, input: { answer: "42" } }], stop_reason: "tool_use" },
      ctx,
    );
    expect(out.choices[0]).toEqual({
      index: 0,
      message: { role: "assistant", content: '{"answer":"42"}' },
      logprobs: null,
      finish_reason: "stop",
    });
  });

  test("the target model is reported when the body names none", () => {
    expect(anthropicAdapter.parseChatResponse({ content: [], stop_reason: "end_turn" }, ctx).model).toBe("claude-sonnet-4-5");
  });

  test("an error-shaped body is thrown as a classified upstream error", () => {
    try {
      anthropicAdapter.parseChatResponse({ type: "error", error: { type: "overloaded_error", message: "Overloaded" } }, ctx);
      throw new Error("no throw");
    } catch (e) {
      expect(e).toBeInstanceOf(UpstreamResponseError);
      expect((e as UpstreamResponseError).error).toMatchObject({
        class: "overloaded",
        retryable: true,
        status: 503,
        message: "Overloaded",
      });
    }
  });

  test("a body without content is an upstream failure", () => {
    expect(() => anthropicAdapter.parseChatResponse({ id: "msg" }, ctx)).toThrow(UpstreamResponseError);
  });
});

describe("Anthropic stream", () => {
  const start = ev("message_start", {
    message: {
      id: "msg_1",
      type: "message",
      role: "assistant",
      model: "claude-sonnet-4-5-20250929",
      content: [],
      stop_reason: null,
      usage: { input_tokens: 12, cache_creation_input_tokens: 0, cache_read_input_tokens: 8, output_tokens: 1 },
    },
  });

  test("a text answer becomes the exact OpenAI chunk sequence", () => {
    const t = anthropicAdapter.createStreamTransformer(ctx);
    const r = run(t, [
      start,
      ev("content_block_start", { index: 0, content_block: { type: "text", text: "" } }),
      ev("ping"),
      ev("content_block_delta", { index: 0, delta: { type: "text_delta", text: "Hello" } }),
      ev("content_block_delta", { index: 0, delta: { type: "text_delta", text: " there" } }),
      ev("content_block_stop", { index: 0 }),
      ev("message_delta", { delta: { stop_reason: "end_turn", stop_sequence: null }, usage: { output_tokens: 6 } }),
      ev("message_stop"),
    ]);
    expect(r.chunks).toEqual([C({ role: "assistant", content: "" }), C({ content: "Hello" }), C({ content: " there" }), C({}, "stop")]);
    expect(r.done).toBe(true);
    expect(r.error).toBeUndefined();
    expect(t.usage()).toEqual({ prompt_tokens: 20, completion_tokens: 6, total_tokens: 26, cached_tokens: 8, cache_creation_tokens: 0 });
  });

  test("the usage chunk follows the finish chunk when the client asked", () => {
    const r = run(anthropicAdapter.createStreamTransformer({ ...ctx, includeUsage: true }), [
      start,
      ev("message_delta", { delta: { stop_reason: "max_tokens" }, usage: { output_tokens: 3 } }),
      ev("message_stop"),
    ]);
    expect(r.chunks).toEqual([
      C({ role: "assistant", content: "" }),
      C({}, "length"),
      {
        id: "chatcmpl-gw1",
        object: "chat.completion.chunk",
        created: 1700000001,
        model: "claude-sonnet-4-5-20250929",
        choices: [],
        usage: {
          prompt_tokens: 20,
          completion_tokens: 3,
          total_tokens: 23,
          prompt_tokens_details: { cached_tokens: 8, cache_creation_tokens: 0 },
        },
      },
    ]);
  });

  test("tool_use blocks stream as tool_calls indexed from 0 among tools", () => {
    const r = run(anthropicAdapter.createStreamTransformer(ctx), [
      start,
      ev("content_block_start", { index: 0, content_block: { type: "text", text: "" } }),
      ev("content_block_delta", { index: 0, delta: { type: "text_delta", text: "Checking" } }),
      ev("content_block_stop", { index: 0 }),
      ev("content_block_start", { index: 1, content_block: { type: "tool_use", id: "toolu_A", name: "weather", input: {} } }),
      ev("content_block_delta", { index: 1, delta: { type: "input_json_delta", partial_json: "" } }),
      ev("content_block_delta", { index: 1, delta: { type: "input_json_delta", partial_json: '{"city":' } }),
      ev("content_block_delta", { index: 1, delta: { type: "input_json_delta", partial_json: '"Paris"}' } }),
      ev("content_block_stop", { index: 1 }),
      ev("content_block_start", { index: 2, content_block: { type: "tool_use", id: "toolu_B", name: "now", input: {} } }),
      ev("content_block_delta", { index: 2, delta: { type: "input_json_delta", partial_json: "{}" } }),
      ev("content_block_stop", { index: 2 }),
      ev("message_delta", { delta: { stop_reason: "tool_use" }, usage: { output_tokens: 30 } }),
      ev("message_stop"),
    ]);
    expect(r.chunks).toEqual([
      C({ role: "assistant", content: "" }),
      C({ content: "Checking" }),
      C({ tool_calls: [{ index: 0, id: "toolu_A", type: "function", function: { name: "weather", arguments: "" } }] }),
      C({ tool_calls: [{ index: 0, function: { arguments: '{"city":' } }] }),
      C({ tool_calls: [{ index: 0, function: { arguments: '"Paris"}' } }] }),
      C({ tool_calls: [{ index: 1, id: "toolu_B", type: "function", function: { name: "now", arguments: "" } }] }),
      C({ tool_calls: [{ index: 1, function: { arguments: "{}" } }] }),
      C({}, "tool_calls"),
    ]);
  });

  test("thinking blocks produce no chunks", () => {
    const r = run(anthropicAdapter.createStreamTransformer(ctx), [
      start,
      ev("content_block_start", { index: 0, content_block: { type: "thinking", thinking: "" } }),
      ev("content_block_delta", { index: 0, delta: { type: "thinking_delta", thinking: "hmm" } }),
      ev("content_block_delta", { index: 0, delta: { type: "signature_delta", signature: "sig" } }),
      ev("content_block_stop", { index: 0 }),
    ]);
    expect(r.chunks).toEqual([C({ role: "assistant", content: "" })]);
  });

  test("the structured-output tool streams as content and finishes with stop", () => {
    const r = run(anthropicAdapter.createStreamTransformer(ctx), [
      start,
      ev("content_block_start", { index: 0, content_block: { type: "tool_use", id: "t", name: JSON_TOOL, input: {} } }),
      ev("content_block_delta", { index: 0, delta: { type: "input_json_delta", partial_json: '{"a":' } }),
      ev("content_block_delta", { index: 0, delta: { type: "input_json_delta", partial_json: "1}" } }),
      ev("message_delta", { delta: { stop_reason: "tool_use" }, usage: { output_tokens: 4 } }),
      ev("message_stop"),
    ]);
    expect(r.chunks).toEqual([C({ role: "assistant", content: "" }), C({ content: '{"a":' }), C({ content: "1}" }), C({}, "stop")]);
  });

  test("message_stop without message_delta still finishes the choice", () => {
    const r = run(anthropicAdapter.createStreamTransformer(ctx), [start, ev("message_stop")]);
    expect(r.chunks).toEqual([C({ role: "assistant", content: "" }), C({}, "stop")]);
  });

  const errors: [string, string, Partial<UpstreamError>][] = [
    ["overloaded_error", "Overloaded", { class: "overloaded", retryable: true, status: 503 }],
    ["rate_limit_error", "slow down", { class: "rate_limit", retryable: true, status: 429 }],
    ["api_error", "Internal server error", { class: "server", retryable: true, status: 502 }],
    ["invalid_request_error", "bad", { class: "bad_request", retryable: false, status: 400 }],
  ];
  for (const [type, message, expected] of errors) {
    test(`an ${type} event mid-stream is a ${expected.class} error`, () => {
      const r = run(anthropicAdapter.createStreamTransformer(ctx), [
        start,
        { event: "error", data: JSON.stringify({ type: "error", error: { type, message } }) },
      ]);
      expect(r.error).toMatchObject({ ...expected, message });
      expect(r.done).toBe(false);
    });
  }

  test("EOF before message_stop is a stream error", () => {
    const t = anthropicAdapter.createStreamTransformer(ctx);
    run(t, [start, ev("content_block_delta", { index: 0, delta: { type: "text_delta", text: "cut" } })]);
    expect(t.finish().error).toMatchObject({
      class: "stream_error",
      retryable: true,
      message: "upstream stream ended before message_stop",
    });
  });

  test("EOF after message_stop is a clean finish", () => {
    const t = anthropicAdapter.createStreamTransformer(ctx);
    run(t, [start, ev("message_stop")]);
    expect(t.finish()).toEqual({ chunks: [], done: true });
  });

  test("malformed data is a stream error", () => {
    expect(anthropicAdapter.createStreamTransformer(ctx).push({ event: "message_start", data: "{oops" }).error).toMatchObject({
      class: "stream_error",
    });
  });

  test("the event type is taken from the event line when data lacks it", () => {
    const r = anthropicAdapter
      .createStreamTransformer(ctx)
      .push({ event: "message_start", data: JSON.stringify({ message: { model: "m" } }) });
    expect(r.chunks).toEqual([C({ role: "assistant", content: "" }, null, "m")]);
  });

  test("message_delta usage that repeats the input side overrides message_start", () => {
    const t = anthropicAdapter.createStreamTransformer(ctx);
    run(t, [
      start,
      ev("message_delta", {
        delta: { stop_reason: "end_turn" },
        usage: { input_tokens: 15, cache_read_input_tokens: 8, output_tokens: 9 },
      }),
    ]);
    expect(t.usage()).toEqual({ prompt_tokens: 23, completion_tokens: 9, total_tokens: 32, cached_tokens: 8, cache_creation_tokens: 0 });
  });

  test("usage is null before message_start", () => {
    expect(anthropicAdapter.createStreamTransformer(ctx).usage()).toBeNull();
  });
});

describe("Anthropic error classification", () => {
  const err = (type: string, message: string) => JSON.stringify({ type: "error", error: { type, message }, request_id: "req_1" });
  const table: [number, string, Partial<UpstreamError>][] = [
    [
      400,
      err("invalid_request_error", "temperature: range: 0..1"),
      { class: "bad_request", status: 400, retryable: false, param: "temperature", message: "temperature: range: 0..1" },
    ],
    [400, err("invalid_request_error", "stop_sequences.0: must be non-empty"), { class: "bad_request", param: "stop" }],
    [
      400,
      err("invalid_request_error", "Your credit balance is too low to access the Anthropic API."),
      { class: "auth", retryable: true, status: 502 },
    ],
    [401, err("authentication_error", "invalid x-api-key"), { class: "auth", status: 502, retryable: true, type: "upstream_error" }],
    [403, err("permission_error", "not allowed"), { class: "auth", retryable: true }],
    [404, err("not_found_error", "model: claude-9"), { class: "not_found", status: 404, retryable: true }],
    [413, err("request_too_large", "Request exceeds the maximum size"), { class: "too_large", status: 413, retryable: false }],
    [
      429,
      err("rate_limit_error", "Number of request tokens has exceeded your per-minute rate limit"),
      { class: "rate_limit", status: 429, retryable: true },
    ],
    [500, err("api_error", "Internal server error"), { class: "server", status: 502, retryable: true }],
    [529, err("overloaded_error", "Overloaded"), { class: "overloaded", status: 503, retryable: true, upstreamStatus: 529 }],
    [500, err("overloaded_error", "Overloaded"), { class: "overloaded", retryable: true }],
    [502, "<html><body>502 Bad Gateway</body></html>", { class: "server", message: "<html><body>502 Bad Gateway</body></html>" }],
  ];
  for (const [status, text, expected] of table) {
    test(`${status} ${text.slice(0, 60)} → ${expected.class}`, () => {
      expect(anthropicAdapter.classifyError(status, text, new Headers())).toMatchObject(expected);
    });
  }

  test("retry-after on a 429 becomes retryAfterMs", () => {
    expect(anthropicAdapter.classifyError(429, err("rate_limit_error", "x"), new Headers({ "retry-after": "12" })).retryAfterMs).toBe(
      12_000,
    );
  });

  test("a key echoed in the message is redacted", () => {
    expect(
      anthropicAdapter.classifyError(401, err("authentication_error", "bad key sk-ant-api03-SECRETSECRET"), new Headers()).message,
    ).toBe("bad key [redacted]");
  });
});

describe("Anthropic models", () => {
  test("lists models with the same auth headers", () => {
    expect(anthropicAdapter.buildModelsRequest({ baseUrl: "https://api.anthropic.com", apiKey: "k" })).toEqual({
      url: "https://api.anthropic.com/v1/models?limit=1000",
      method: "GET",
      headers: { "anthropic-version": "2023-06-01", "x-api-key": "k" },
    });
  });

  test("parses data[].id", () => {
    expect(
      anthropicAdapter.parseModelsResponse({ data: [{ type: "model", id: "claude-a" }, { id: "claude-b" }], has_more: false }),
    ).toEqual(["claude-a", "claude-b"]);
    expect(anthropicAdapter.parseModelsResponse({})).toEqual([]);
  });
});
