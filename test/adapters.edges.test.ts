import { describe, expect, test } from "bun:test";
import { anthropicAdapter } from "../src/adapters/anthropic.ts";
import { ANSWER_TOOL as JSON_TOOL } from "../src/adapters/common.ts";
import { geminiAdapter } from "../src/adapters/gemini.ts";
import { JSON_TEXT_TOOL } from "../src/adapters/gemini-response.ts";
import { REASONING_BUDGETS } from "../src/adapters/reasoning.ts";
import {
  UnsupportedFeatureError,
  type Adapter,
  type ChatCompletionChunk,
  type ChatRequest,
  type ResponseContext,
  type SSEEvent,
} from "../src/adapters/types.ts";

// The translation edges of issue 14, as pure functions; test/translation-edges.test.ts drives the
// same through the openai SDK and the mock upstreams.

const ANTHROPIC = { baseUrl: "https://api.anthropic.com", apiKey: "sk-ant-test", model: "claude-sonnet-4-5" };
const GEMINI = { baseUrl: "https://generativelanguage.googleapis.com", apiKey: "AIzaTestKey1234567890", model: "gemini-2.5-flash" };
const ctx: ResponseContext = { id: "chatcmpl-gw1", created: 1700000001, requestedModel: "m", includeUsage: false };

function build(adapter: Adapter, req: Partial<ChatRequest>, model?: string): Record<string, unknown> {
  const target = adapter === anthropicAdapter ? ANTHROPIC : GEMINI;
  const r = adapter.buildChatRequest({ model: "m", messages: [{ role: "user", content: "hi" }], ...req } as ChatRequest, {
    ...target,
    model: model ?? target.model,
  });
  return JSON.parse(r.body ?? "null") as Record<string, unknown>;
}

function refusal(adapter: Adapter, req: Partial<ChatRequest>, model?: string): UnsupportedFeatureError {
  try {
    build(adapter, req, model);
  } catch (e) {
    if (e instanceof UnsupportedFeatureError) return e;
    throw e;
  }
  throw new Error("expected UnsupportedFeatureError");
}

function stream(adapter: Adapter, events: SSEEvent[], c: ResponseContext = ctx) {
  const t = adapter.createStreamTransformer(c);
  const chunks: ChatCompletionChunk[] = [];
  for (const e of events) chunks.push(...t.push(e).chunks);
  chunks.push(...t.finish().chunks);
  const content = chunks.map((x) => x.choices[0]?.delta.content ?? "").join("");
  const finish = chunks.map((x) => x.choices[0]?.finish_reason).filter(Boolean);
  const calls = chunks.flatMap((x) => x.choices[0]?.delta.tool_calls ?? []);
  return { content, finish, calls };
}

const weather = {
  type: "function" as const,
  function: { name: "weather", parameters: { type: "object", properties: { city: { type: "string" } } } },
};
const schema = { type: "object", properties: { answer: { type: "string" } }, required: ["answer"] };
const jsonSchema = { type: "json_schema" as const, json_schema: { name: "reply", schema } };
const user = (parts: unknown[]) => ({ messages: [{ role: "user", content: parts }] as ChatRequest["messages"] });
const file = (file: Record<string, unknown>) =>
  user([
    { type: "text", text: "read this" },
    { type: "file", file },
  ]);
const PDF = "JVBERi0xLjQK";
const hello = Buffer.from("hello from a file").toString("base64");

function aev(type: string, data: Record<string, unknown> = {}): SSEEvent {
  return { event: type, data: JSON.stringify({ type, ...data }) };
}
const aStart = aev("message_start", { message: { model: "claude-sonnet-4-5", usage: { input_tokens: 3, output_tokens: 1 } } });
const aText = (index: number, text: string) => [
  aev("content_block_start", { index, content_block: { type: "text", text: "" } }),
  aev("content_block_delta", { index, delta: { type: "text_delta", text } }),
];
const aTool = (index: number, name: string, json: string) => [
  aev("content_block_start", { index, content_block: { type: "tool_use", id: `toolu_${index}`, name, input: {} } }),
  aev("content_block_delta", { index, delta: { type: "input_json_delta", partial_json: json } }),
];
const aEnd = (reason: string) => [
  aev("message_delta", { delta: { stop_reason: reason }, usage: { output_tokens: 4 } }),
  aev("message_stop"),
];

describe("tools and structured output together", () => {
  test("Anthropic: tool_choice auto becomes any over the client's tools plus the answer tool", () => {
    const b = build(anthropicAdapter, { tools: [weather], response_format: jsonSchema });
    expect((b.tools as { name: string }[]).map((t) => t.name)).toEqual(["weather", JSON_TOOL]);
    expect((b.tools as Record<string, unknown>[])[1].input_schema).toEqual(schema);
    expect(b.tool_choice).toEqual({ type: "any" });
  });

  test("Anthropic: none forces the answer tool; required and a named tool leave it out", () => {
    expect(build(anthropicAdapter, { tools: [weather], tool_choice: "none", response_format: jsonSchema }).tool_choice).toEqual({
      type: "tool",
      name: JSON_TOOL,
    });
    const req = build(anthropicAdapter, { tools: [weather], tool_choice: "required", response_format: { type: "json_object" } });
    expect(req.tool_choice).toEqual({ type: "any" });
    expect((req.tools as { name: string }[]).map((t) => t.name)).toEqual(["weather"]);
    const named = build(anthropicAdapter, {
      tools: [weather],
      tool_choice: { type: "function", function: { name: "weather" } },
      response_format: jsonSchema,
    });
    expect(named.tool_choice).toEqual({ type: "tool", name: "weather" });
  });

  test("Anthropic: a call to the client's tool is a tool call; the answer tool is the content, alone", () => {
    const usage = { input_tokens: 1, output_tokens: 1 };
    const called = anthropicAdapter.parseChatResponse(
      {
        type: "message",
        content: [{ type: "tool_use", id: "toolu_1", name: "weather", input: { city: "Oslo" } }],
        stop_reason: "tool_use",
        usage,
      },
      ctx,
    );
    expect(called.choices[0].finish_reason).toBe("tool_calls");
    expect(called.choices[0].message.tool_calls?.[0].function).toEqual({ name: "weather", arguments: '{"city":"Oslo"}' });
    const answered = anthropicAdapter.parseChatResponse(
      {
        type: "message",
        content: [
          { type: "text", text: "Here you go:" },
          { type: "tool_use", id: "toolu_2", name: JSON_TOOL, input: { answer: "42" } },
        ],
        stop_reason: "tool_use",
        usage,
      },
      ctx,
    );
    expect(answered.choices[0].message).toEqual({ role: "assistant", content: '{"answer":"42"}' });
    expect(answered.choices[0].finish_reason).toBe("stop");
  });

  test("Anthropic stream: text beside the answer tool is dropped, text before a client tool call is kept", () => {
    const structured = { ...ctx, structured: true };
    const json = stream(
      anthropicAdapter,
      [aStart, ...aText(0, "Sure:"), ...aTool(1, JSON_TOOL, '{"answer":"42"}'), ...aEnd("tool_use")],
      structured,
    );
    expect(json).toEqual({ content: '{"answer":"42"}', finish: ["stop"], calls: [] });
    const tool = stream(
      anthropicAdapter,
      [aStart, ...aText(0, "Checking."), ...aTool(1, "weather", '{"city":"Oslo"}'), ...aEnd("tool_use")],
      structured,
    );
    expect(tool.content).toBe("Checking.");
    expect(tool.finish).toEqual(["tool_calls"]);
    expect(tool.calls[0]).toMatchObject({ index: 0, function: { name: "weather" } });
    // Held text that no tool claims is still delivered, before the finish.
    expect(stream(anthropicAdapter, [aStart, ...aText(0, "plain"), ...aEnd("end_turn")], structured)).toEqual({
      content: "plain",
      finish: ["stop"],
      calls: [],
    });
  });

  test("Gemini: no responseMimeType beside tools; the answer is one more function and the mode is ANY", () => {
    const b = build(geminiAdapter, { tools: [weather], response_format: jsonSchema });
    expect(b.generationConfig).toBeUndefined();
    const decls = (b.tools as { functionDeclarations: Record<string, unknown>[] }[])[0].functionDeclarations;
    expect(decls.map((d) => d.name)).toEqual(["weather", JSON_TOOL]);
    expect(decls[1].parameters).toEqual({ type: "object", properties: { answer: { type: "string" } }, required: ["answer"] });
    expect(b.toolConfig).toEqual({ functionCallingConfig: { mode: "ANY" } });
    const none = build(geminiAdapter, { tools: [weather], tool_choice: "none", response_format: { type: "json_object" } });
    expect(none.toolConfig).toEqual({ functionCallingConfig: { mode: "ANY", allowedFunctionNames: [JSON_TEXT_TOOL] } });
    const required = build(geminiAdapter, { tools: [weather], tool_choice: "required", response_format: jsonSchema });
    expect((required.tools as { functionDeclarations: unknown[] }[])[0].functionDeclarations).toHaveLength(1);
    expect(required.generationConfig).toBeUndefined();
    // Without tools JSON mode stays Gemini's own.
    expect(build(geminiAdapter, { response_format: { type: "json_object" } }).generationConfig).toEqual({
      responseMimeType: "application/json",
    });
  });

  test("Gemini: the answer function's arguments come back as content with finish_reason stop", () => {
    const body = (fc: Record<string, unknown>) => ({
      candidates: [{ content: { role: "model", parts: [{ functionCall: fc }] }, finishReason: "STOP", index: 0 }],
    });
    const a = geminiAdapter.parseChatResponse(body({ name: JSON_TOOL, args: { answer: "42" } }), ctx);
    expect(a.choices[0]).toMatchObject({ message: { role: "assistant", content: '{"answer":"42"}' }, finish_reason: "stop" });
    expect(a.choices[0].message.tool_calls).toBeUndefined();
    const t = geminiAdapter.parseChatResponse(body({ name: JSON_TEXT_TOOL, args: { json: '{"ok":true}' } }), ctx);
    expect(t.choices[0].message.content).toBe('{"ok":true}');
    const s = stream(geminiAdapter, [{ data: JSON.stringify(body({ name: JSON_TOOL, args: { answer: "42" } })) }]);
    expect(s).toEqual({ content: '{"answer":"42"}', finish: ["stop"], calls: [] });
  });
});

describe("context-window errors", () => {
  const cases: [string, Adapter, string][] = [
    [
      "Anthropic",
      anthropicAdapter,
      JSON.stringify({
        type: "error",
        error: { type: "invalid_request_error", message: "prompt is too long: 210000 tokens > 200000 maximum" },
      }),
    ],
    [
      "Gemini",
      geminiAdapter,
      JSON.stringify({
        error: {
          code: 400,
          message: "The input token count (1200000) exceeds the maximum number of tokens allowed (1048576).",
          status: "INVALID_ARGUMENT",
        },
      }),
    ],
  ];
  for (const [name, adapter, text] of cases) {
    test(`${name}: an overflowing prompt is context_length_exceeded, a final 400`, () => {
      const e = adapter.classifyError(400, text, new Headers());
      expect(e).toMatchObject({
        class: "bad_request",
        status: 400,
        type: "invalid_request_error",
        code: "context_length_exceeded",
        param: "messages",
        retryable: false,
      });
    });
  }
  test("other 400s keep their own code", () => {
    const e = anthropicAdapter.classifyError(
      400,
      JSON.stringify({ type: "error", error: { type: "invalid_request_error", message: "max_tokens: too big" } }),
      new Headers(),
    );
    expect(e.code).toBeNull();
  });
});

describe("file content parts", () => {
  test("Anthropic: PDF → document, image → image, text → text", () => {
    const content = (b: Record<string, unknown>) => ((b.messages as { content: unknown[] }[])[0].content as Record<string, unknown>[])[1];
    expect(content(build(anthropicAdapter, file({ file_data: `data:application/pdf;base64,${PDF}`, filename: "a.pdf" })))).toEqual({
      type: "document",
      source: { type: "base64", media_type: "application/pdf", data: PDF },
      title: "a.pdf",
    });
    expect(content(build(anthropicAdapter, file({ file_data: "data:image/png;base64,iVBORw0K" })))).toEqual({
      type: "image",
      source: { type: "base64", media_type: "image/png", data: "iVBORw0K" },
    });
    // Bare base64: the type comes from the filename.
    expect(content(build(anthropicAdapter, file({ file_data: hello, filename: "notes.txt" })))).toEqual({
      type: "text",
      text: "hello from a file",
    });
  });

  test("Gemini: PDF and images → inlineData, text → text", () => {
    const part = (b: Record<string, unknown>) => (b.contents as { parts: unknown[] }[])[0].parts[1];
    expect(part(build(geminiAdapter, file({ file_data: `data:application/pdf;base64,${PDF}`, filename: "a.pdf" })))).toEqual({
      inlineData: { mimeType: "application/pdf", data: PDF },
    });
    expect(part(build(geminiAdapter, file({ file_data: "data:image/webp;base64,UklGR" })))).toEqual({
      inlineData: { mimeType: "image/webp", data: "UklGR" },
    });
    expect(part(build(geminiAdapter, file({ file_data: `data:text/plain;base64,${hello}` })))).toEqual({ text: "hello from a file" });
  });

  for (const adapter of [anthropicAdapter, geminiAdapter]) {
    test(`${adapter.format}: file_id and unknown types are refused naming the param`, () => {
      const byId = refusal(adapter, file({ file_id: "file-abc123" }));
      expect(byId.param).toBe("messages[0].content[1].file.file_id");
      expect(byId.message).toContain("file_data");
      expect(refusal(adapter, file({ file_data: "data:application/zip;base64,UEsDBA==" })).param).toBe(
        "messages[0].content[1].file.file_data",
      );
      expect(refusal(adapter, file({ file_data: "not base64 at all!", filename: "a.pdf" })).param).toBe(
        "messages[0].content[1].file.file_data",
      );
    });
  }
});

describe("temperature and top_p", () => {
  test("Anthropic: top_p 1 is dropped; with both set only temperature is sent", () => {
    expect(build(anthropicAdapter, { top_p: 1 })).not.toHaveProperty("top_p");
    const both = build(anthropicAdapter, { temperature: 0.3, top_p: 0.8 });
    expect(both.temperature).toBe(0.3);
    expect(both).not.toHaveProperty("top_p");
    expect(build(anthropicAdapter, { top_p: 0.8 }).top_p).toBe(0.8);
  });
  test("Gemini takes both", () => {
    expect(build(geminiAdapter, { temperature: 0.3, top_p: 0.8 }).generationConfig).toEqual({ temperature: 0.3, topP: 0.8 });
  });
});

describe("reasoning_effort", () => {
  for (const [effort, budget] of Object.entries(REASONING_BUDGETS)) {
    test(`Anthropic: ${effort} thinks with ${budget} tokens, on top of the answer's cap, without sampling knobs`, () => {
      const b = build(anthropicAdapter, { reasoning_effort: effort, max_tokens: 500, temperature: 0.5, top_p: 0.9, top_k: 5 });
      expect(b.thinking).toEqual({ type: "enabled", budget_tokens: budget });
      expect(b.max_tokens).toBe(budget + 500);
      expect(b).not.toHaveProperty("temperature");
      expect(b).not.toHaveProperty("top_p");
      expect(b).not.toHaveProperty("top_k");
    });
  }

  test("Anthropic: no thinking where Anthropic would refuse it", () => {
    expect(build(anthropicAdapter, { reasoning_effort: "low" }, "claude-3-5-sonnet-20241022")).not.toHaveProperty("thinking");
    expect(build(anthropicAdapter, { reasoning_effort: "low", response_format: { type: "json_object" } })).not.toHaveProperty("thinking");
    expect(build(anthropicAdapter, { reasoning_effort: "low", tools: [weather], tool_choice: "required" })).not.toHaveProperty("thinking");
    const loop = build(anthropicAdapter, {
      reasoning_effort: "low",
      tools: [weather],
      messages: [
        { role: "user", content: "weather?" },
        {
          role: "assistant",
          content: null,
          tool_calls: [{ id: "toolu_1", type: "function", function: { name: "weather", arguments: "{}" } }],
        },
        { role: "tool", tool_call_id: "toolu_1", content: "sunny" },
      ],
    });
    expect(loop).not.toHaveProperty("thinking");
    expect(build(anthropicAdapter, { reasoning_effort: "none" })).not.toHaveProperty("thinking");
    expect(refusal(anthropicAdapter, { reasoning_effort: "extreme" }).param).toBe("reasoning_effort");
  });

  test("Gemini: a budget for 2.5, a level for 3, nothing for models that cannot think", () => {
    expect(build(geminiAdapter, { reasoning_effort: "medium" }).generationConfig).toEqual({
      thinkingConfig: { thinkingBudget: REASONING_BUDGETS.medium },
    });
    expect(build(geminiAdapter, { reasoning_effort: "low", max_tokens: 100 }).generationConfig).toEqual({
      maxOutputTokens: 100 + REASONING_BUDGETS.low,
      thinkingConfig: { thinkingBudget: REASONING_BUDGETS.low },
    });
    expect(build(geminiAdapter, { reasoning_effort: "minimal" }, "gemini-3-pro-preview").generationConfig).toEqual({
      thinkingConfig: { thinkingLevel: "low" },
    });
    expect(build(geminiAdapter, { reasoning_effort: "high" }, "gemini-3-pro-preview").generationConfig).toEqual({
      thinkingConfig: { thinkingLevel: "high" },
    });
    expect(build(geminiAdapter, { reasoning_effort: "high" }, "gemini-2.0-flash")).not.toHaveProperty("generationConfig");
  });

  test("thinking is never content", () => {
    const r = anthropicAdapter.parseChatResponse(
      {
        type: "message",
        content: [
          { type: "thinking", thinking: "hmm", signature: "sig" },
          { type: "text", text: "4" },
        ],
        stop_reason: "end_turn",
        usage: { input_tokens: 1, output_tokens: 1 },
      },
      ctx,
    );
    expect(r.choices[0].message.content).toBe("4");
    const s = stream(anthropicAdapter, [
      aStart,
      aev("content_block_start", { index: 0, content_block: { type: "thinking", thinking: "" } }),
      aev("content_block_delta", { index: 0, delta: { type: "thinking_delta", thinking: "let me think" } }),
      aev("content_block_delta", { index: 0, delta: { type: "signature_delta", signature: "sig" } }),
      ...aText(1, "4"),
      ...aEnd("end_turn"),
    ]);
    expect(s.content).toBe("4");
    const g = geminiAdapter.parseChatResponse(
      { candidates: [{ content: { role: "model", parts: [{ text: "pondering", thought: true }, { text: "4" }] }, finishReason: "STOP" }] },
      ctx,
    );
    expect(g.choices[0].message.content).toBe("4");
  });
});
