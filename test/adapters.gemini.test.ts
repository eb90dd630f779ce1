import { describe, expect, test } from "bun:test";
import { geminiAdapter, guessMimeType, THOUGHT_SIGNATURE_SENTINEL } from "../src/adapters/gemini.ts";
import { toGeminiSchema } from "../src/adapters/gemini-schema.ts";
import {
  UnsupportedFeatureError,
  UpstreamResponseError,
  type ChatCompletionChunk,
  type ChunkDelta,
  type FinishReason,
  type ChatRequest,
  type ResponseContext,
  type StreamTransformer,
  type UpstreamError,
} from "../src/adapters/types.ts";

const target = { baseUrl: "https://generativelanguage.googleapis.com", apiKey: "AIzaTestKey1234567890", model: "gemini-2.5-flash" };
const ctx: ResponseContext = {
  id: "chatcmpl-gw1",
  created: 1700000001,
  requestedModel: "cheap",
  targetModel: "gemini-2.5-flash",
  includeUsage: false,
};

function build(req: Partial<ChatRequest>, model = target.model) {
  const r = geminiAdapter.buildChatRequest({ model: "cheap", messages: [{ role: "user", content: "hi" }], ...req } as ChatRequest, {
    ...target,
    model,
  });
  return { ...r, json: JSON.parse(r.body ?? "null") as Record<string, unknown> };
}

function unsupported(req: Partial<ChatRequest>): UnsupportedFeatureError {
  try {
    build(req);
  } catch (e) {
    if (e instanceof UnsupportedFeatureError) return e;
    throw e;
  }
  throw new Error("expected UnsupportedFeatureError");
}

function run(t: StreamTransformer, datas: unknown[]) {
  const chunks: ChatCompletionChunk[] = [];
  let error: UpstreamError | undefined;
  let done = false;
  for (const d of datas) {
    const r = t.push({ data: JSON.stringify(d) });
    chunks.push(...r.chunks);
    if (r.error) error = r.error;
    if (r.done) done = true;
  }
  return { chunks, error, done };
}

const C = (delta: ChunkDelta, finish: FinishReason | null = null, index = 0, model = "gemini-2.5-flash-001"): ChatCompletionChunk => ({
  id: "chatcmpl-gw1",
  object: "chat.completion.chunk",
  created: 1700000001,
  model,
  choices: [{ index, delta, logprobs: null, finish_reason: finish }],
});

const CALL_ID = /^call_[0-9a-f]{24}$/;

describe("Gemini request", () => {
  test("non-streamed requests go to :generateContent with the key in a header only", () => {
    const r = build({});
    expect(r.url).toBe("https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:generateContent");
    expect(r.headers).toEqual({ "content-type": "application/json", "x-goog-api-key": "AIzaTestKey1234567890" });
    expect(r.url).not.toContain("key=");
  });

  test("streamed requests go to :streamGenerateContent?alt=sse", () => {
    expect(build({ stream: true }).url).toBe(
      "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse",
    );
  });

  test("a models/ prefix on the model name is not doubled", () => {
    expect(build({}, "models/gemini-2.0-flash").url).toBe(
      "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.0-flash:generateContent",
    );
  });

  test("a minimal request is one user content", () => {
    expect(build({}).json).toEqual({ contents: [{ role: "user", parts: [{ text: "hi" }] }] });
  });

  test("system and developer messages become systemInstruction; roles map and merge", () => {
    const b = build({
      messages: [
        { role: "system", content: "Be brief." },
        { role: "developer", content: [{ type: "text", text: "Use French." }] },
        { role: "user", content: "a" },
        { role: "user", content: [{ type: "text", text: "b" }] },
        { role: "assistant", content: "c" },
        { role: "assistant", content: [{ type: "text", text: "d" }] },
        { role: "user", content: "e" },
      ],
    }).json;
    expect(b).toEqual({
      systemInstruction: { parts: [{ text: "Be brief." }, { text: "Use French." }] },
      contents: [
        { role: "user", parts: [{ text: "a" }, { text: "b" }] },
        { role: "model", parts: [{ text: "c" }, { text: "d" }] },
        { role: "user", parts: [{ text: "e" }] },
      ],
    });
  });

  test("tool calls become functionCall parts and tool results functionResponse parts named by call id", () => {
    const b = build({
      messages: [
        { role: "user", content: "weather?" },
        {
          role: "assistant",
          content: "",
          tool_calls: [
            { id: "call_a", type: "function", function: { name: "weather", arguments: '{"city":"Paris"}' } },
            { id: "call_b", type: "function", function: { name: "time", arguments: "{}" } },
          ],
        },
        { role: "tool", tool_call_id: "call_a", content: '{"temp":18}' },
        { role: "tool", tool_call_id: "call_b", content: "noon" },
        { role: "tool", tool_call_id: "call_b", content: "[1,2]" },
      ],
    }).json;
    expect(b.contents).toEqual([
      { role: "user", parts: [{ text: "weather?" }] },
      {
        role: "model",
        parts: [{ functionCall: { name: "weather", args: { city: "Paris" } } }, { functionCall: { name: "time", args: {} } }],
      },
      {
        role: "user",
        parts: [
          { functionResponse: { name: "weather", response: { temp: 18 } } },
          { functionResponse: { name: "time", response: { result: "noon" } } },
          { functionResponse: { name: "time", response: { result: [1, 2] } } },
        ],
      },
    ]);
  });

  test("Gemini 3 models get the documented thought-signature sentinel on replayed calls", () => {
    const messages: ChatRequest["messages"] = [
      { role: "user", content: "x" },
      { role: "assistant", tool_calls: [{ id: "c1", type: "function", function: { name: "f", arguments: "{}" } }] },
      { role: "tool", tool_call_id: "c1", content: "ok" },
    ];
    const g3 = build({ messages }, "gemini-3-pro-preview").json.contents as { parts: Record<string, unknown>[] }[];
    expect(g3[1].parts[0]).toEqual({ functionCall: { name: "f", args: {} }, thoughtSignature: THOUGHT_SIGNATURE_SENTINEL });
    const g25 = build({ messages }).json.contents as { parts: Record<string, unknown>[] }[];
    expect(g25[1].parts[0]).toEqual({ functionCall: { name: "f", args: {} } });
  });

  test("a tool result whose call id is unknown uses the message name, else is unsupported", () => {
    const b = build({ messages: [{ role: "tool", tool_call_id: "zzz", name: "lookup", content: "1" }] }).json;
    expect(b.contents).toEqual([{ role: "user", parts: [{ functionResponse: { name: "lookup", response: { result: 1 } } }] }]);
    expect(unsupported({ messages: [{ role: "tool", tool_call_id: "zzz", content: "1" }] }).param).toBe("messages[0].tool_call_id");
  });

  test("tool-call arguments that are not a JSON object are unsupported", () => {
    const e = unsupported({
      messages: [{ role: "assistant", tool_calls: [{ id: "c", type: "function", function: { name: "f", arguments: "nope" } }] }],
    });
    expect(e.param).toBe("messages[0].tool_calls[0].function.arguments");
  });

  test("images become inlineData or fileData with a guessed MIME type", () => {
    const b = build({
      messages: [
        {
          role: "user",
          content: [
            { type: "image_url", image_url: { url: "data:image/webp;base64,UklGRg==" } },
            { type: "image_url", image_url: { url: "https://example.com/a/photo.PNG?size=large" } },
            { type: "text", text: "compare" },
          ],
        },
      ],
    }).json;
    expect(b.contents).toEqual([
      {
        role: "user",
        parts: [
          { inlineData: { mimeType: "image/webp", data: "UklGRg==" } },
          { fileData: { mimeType: "image/png", fileUri: "https://example.com/a/photo.PNG?size=large" } },
          { text: "compare" },
        ],
      },
    ]);
  });

  const mimes: [string, string][] = [
    ["https://x/y.jpg", "image/jpeg"],
    ["https://x/y.jpeg", "image/jpeg"],
    ["https://x/y.gif#frag", "image/gif"],
    ["https://x/doc.pdf", "application/pdf"],
    ["https://x/noext", "image/jpeg"],
  ];
  for (const [url, mime] of mimes) {
    test(`guesses ${mime} for ${url}`, () => {
      expect(guessMimeType(url)).toBe(mime);
    });
  }

  test("generation parameters map to generationConfig", () => {
    const b = build({
      temperature: 1.3,
      top_p: 0.8,
      top_k: 20,
      max_tokens: 50,
      stop: "END",
      n: 2,
      seed: 9,
      presence_penalty: 0.1,
      frequency_penalty: 0.2,
      user: "dropped",
    }).json;
    expect(b.generationConfig).toEqual({
      temperature: 1.3,
      topP: 0.8,
      topK: 20,
      maxOutputTokens: 50,
      stopSequences: ["END"],
      candidateCount: 2,
      seed: 9,
      presencePenalty: 0.1,
      frequencyPenalty: 0.2,
    });
    expect(b).not.toHaveProperty("user");
  });

  test("max_completion_tokens wins over max_tokens", () => {
    expect(build({ max_tokens: 10, max_completion_tokens: 20 }).json.generationConfig).toEqual({ maxOutputTokens: 20 });
  });

  test("json_object asks for application/json", () => {
    expect(build({ response_format: { type: "json_object" } }).json.generationConfig).toEqual({ responseMimeType: "application/json" });
  });

  test("json_schema adds a converted responseSchema", () => {
    const schema = {
      $schema: "http://json-schema.org/draft-07/schema#",
      type: "object",
      properties: { name: { type: "string" }, age: { type: ["integer", "null"] } },
      required: ["name", "age"],
      additionalProperties: false,
    };
    expect(
      build({ response_format: { type: "json_schema", json_schema: { name: "person", schema, strict: true } } }).json.generationConfig,
    ).toEqual({
      responseMimeType: "application/json",
      responseSchema: {
        type: "object",
        properties: { name: { type: "string" }, age: { type: "integer", nullable: true } },
        required: ["name", "age"],
      },
    });
  });

  test("tools become functionDeclarations; a function without parameters omits them", () => {
    const b = build({
      tools: [
        {
          type: "function",
          function: {
            name: "weather",
            description: "Get weather",
            parameters: {
              type: "object",
              properties: { city: { type: "string", format: "uri" } },
              required: ["city"],
              additionalProperties: false,
            },
          },
        },
        { type: "function", function: { name: "now", parameters: { type: "object", properties: {} } } },
        { type: "function", function: { name: "bare" } },
      ],
    }).json;
    expect(b.tools).toEqual([
      {
        functionDeclarations: [
          {
            name: "weather",
            description: "Get weather",
            parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
          },
          { name: "now" },
          { name: "bare" },
        ],
      },
    ]);
    expect(b).not.toHaveProperty("toolConfig");
  });

  const tools = [{ type: "function" as const, function: { name: "f" } }];
  const choices: [ChatRequest["tool_choice"], unknown][] = [
    ["none", { mode: "NONE" }],
    ["auto", { mode: "AUTO" }],
    ["required", { mode: "ANY" }],
    [
      { type: "function", function: { name: "f" } },
      { mode: "ANY", allowedFunctionNames: ["f"] },
    ],
  ];
  for (const [choice, expected] of choices) {
    test(`tool_choice ${JSON.stringify(choice)} becomes ${JSON.stringify(expected)}`, () => {
      expect(build({ tools, tool_choice: choice }).json.toolConfig).toEqual({ functionCallingConfig: expected });
    });
  }

  const unsupportedTable: [string, Partial<ChatRequest>, string][] = [
    ["logprobs", { logprobs: true }, "logprobs"],
    ["top_logprobs", { top_logprobs: 2 }, "top_logprobs"],
    ["logit_bias", { logit_bias: { "3": 1 } }, "logit_bias"],
    ["audio parts", { messages: [{ role: "user", content: [{ type: "input_audio" } as never] }] }, "messages[0].content[0]"],
  ];
  for (const [name, req, param] of unsupportedTable) {
    test(`${name} is unsupported with param ${param}`, () => {
      expect(unsupported(req).param).toBe(param);
    });
  }

  test("harmless hints are dropped", () => {
    expect(build({ parallel_tool_calls: false, user: "u", logprobs: false }).json).toEqual({
      contents: [{ role: "user", parts: [{ text: "hi" }] }],
    });
  });
});

describe("JSON Schema to Gemini Schema", () => {
  const table: [string, Record<string, unknown>, Record<string, unknown>][] = [
    [
      "drops $schema, additionalProperties, title-less extras",
      { $schema: "x", type: "object", additionalProperties: false, examples: [1], properties: { a: { type: "string" } } },
      { type: "object", properties: { a: { type: "string" } } },
    ],
    ["nullable type arrays", { type: ["string", "null"] }, { type: "string", nullable: true }],
    ["anyOf with null collapses to nullable", { anyOf: [{ type: "number" }, { type: "null" }] }, { type: "number", nullable: true }],
    [
      "anyOf of several types stays anyOf",
      { anyOf: [{ type: "number" }, { type: "string" }] },
      { anyOf: [{ type: "number" }, { type: "string" }] },
    ],
    ["oneOf becomes anyOf", { oneOf: [{ type: "number" }, { type: "boolean" }] }, { anyOf: [{ type: "number" }, { type: "boolean" }] }],
    ["multi-type arrays become anyOf", { type: ["string", "integer"] }, { anyOf: [{ type: "string" }, { type: "integer" }] }],
    ["string enums kept", { type: "string", enum: ["a", "b"] }, { type: "string", enum: ["a", "b"] }],
    ["numeric enums dropped", { type: "integer", enum: [1, 2] }, { type: "integer" }],
    ["const becomes a one-value enum", { const: "only" }, { enum: ["only"], type: "string" }],
    [
      "supported formats kept, others dropped",
      {
        type: "object",
        properties: {
          t: { type: "string", format: "date-time" },
          e: { type: "string", format: "email" },
          n: { type: "integer", format: "int64" },
        },
      },
      {
        type: "object",
        properties: { t: { type: "string", format: "date-time" }, e: { type: "string" }, n: { type: "integer", format: "int64" } },
      },
    ],
    [
      "required names must be properties",
      { type: "object", properties: { a: { type: "string" } }, required: ["a", "ghost"] },
      { type: "object", properties: { a: { type: "string" } }, required: ["a"] },
    ],
    [
      "bounds kept",
      { type: "array", items: { type: "number", minimum: 0, maximum: 1 }, minItems: 1, maxItems: 3 },
      { type: "array", items: { type: "number", minimum: 0, maximum: 1 }, minItems: 1, maxItems: 3 },
    ],
    [
      "local $refs are inlined",
      {
        type: "object",
        properties: { p: { $ref: "#/$defs/Point" }, q: { $ref: "#/definitions/Point", description: "other" } },
        $defs: { Point: { type: "object", properties: { x: { type: "number" } } } },
        definitions: { Point: { type: "object", properties: { x: { type: "number" } } } },
      },
      {
        type: "object",
        properties: {
          p: { type: "object", properties: { x: { type: "number" } } },
          q: { type: "object", properties: { x: { type: "number" } }, description: "other" },
        },
      },
    ],
    [
      "allOf is merged",
      { allOf: [{ type: "object", properties: { a: { type: "string" } }, required: ["a"] }, { properties: { b: { type: "number" } } }] },
      { type: "object", properties: { a: { type: "string" }, b: { type: "number" } }, required: ["a"] },
    ],
  ];
  for (const [name, input, expected] of table) {
    test(name, () => {
      expect(toGeminiSchema(input, "p")).toEqual(expected);
    });
  }

  test("a recursive $ref is unsupported, naming the parameter", () => {
    const schema = {
      type: "object",
      properties: { child: { $ref: "#/$defs/Node" } },
      $defs: { Node: { type: "object", properties: { left: { $ref: "#/$defs/Node" }, right: { $ref: "#/$defs/Node" } } } },
    };
    expect(() => toGeminiSchema(schema, "tools[0].function.parameters")).toThrow(UnsupportedFeatureError);
    try {
      toGeminiSchema(schema, "tools[0].function.parameters");
    } catch (e) {
      expect((e as UnsupportedFeatureError).param).toBe("tools[0].function.parameters");
    }
  });

  test("an unresolvable $ref is unsupported", () => {
    expect(() => toGeminiSchema({ $ref: "https://example.com/schema.json" }, "response_format")).toThrow(UnsupportedFeatureError);
  });
});

describe("Gemini response", () => {
  test("text parts are concatenated, thought parts skipped, usage mapped", () => {
    const out = geminiAdapter.parseChatResponse(
      {
        candidates: [
          {
            content: { role: "model", parts: [{ text: "thinking...", thought: true }, { text: "Hello" }, { text: " world" }] },
            finishReason: "STOP",
            index: 0,
          },
        ],
        usageMetadata: {
          promptTokenCount: 12,
          candidatesTokenCount: 4,
          thoughtsTokenCount: 6,
          cachedContentTokenCount: 8,
          totalTokenCount: 22,
        },
        modelVersion: "gemini-2.5-flash-001",
        responseId: "r1",
      },
      ctx,
    );
    expect(out).toEqual({
      id: "chatcmpl-gw1",
      object: "chat.completion",
      created: 1700000001,
      model: "gemini-2.5-flash-001",
      choices: [{ index: 0, message: { role: "assistant", content: "Hello world" }, logprobs: null, finish_reason: "stop" }],
      usage: {
        prompt_tokens: 12,
        completion_tokens: 10,
        total_tokens: 22,
        prompt_tokens_details: { cached_tokens: 8 },
        completion_tokens_details: { reasoning_tokens: 6 },
      },
    });
  });

  test("function calls become tool calls with generated ids and finish_reason tool_calls", () => {
    const out = geminiAdapter.parseChatResponse(
      {
        candidates: [
          {
            content: {
              role: "model",
              parts: [{ functionCall: { name: "weather", args: { city: "Paris" } } }, { functionCall: { name: "now" } }],
            },
            finishReason: "STOP",
          },
        ],
      },
      ctx,
    );
    const msg = out.choices[0].message;
    expect(out.choices[0].finish_reason).toBe("tool_calls");
    expect(msg.content).toBeNull();
    expect(msg.tool_calls).toHaveLength(2);
    expect(msg.tool_calls![0]).toMatchObject({ type: "function", function: { name: "weather", arguments: '{"city":"Paris"}' } });
    expect(msg.tool_calls![1].function).toEqual({ name: "now", arguments: "{}" });
    expect(msg.tool_calls![0].id).toMatch(CALL_ID);
    expect(msg.tool_calls![0].id).not.toBe(msg.tool_calls![1].id);
    expect(out.model).toBe("gemini-2.5-flash");
    expect(out).not.toHaveProperty("usage");
  });

  const finishes: [string, string][] = [
    ["STOP", "stop"],
    ["MAX_TOKENS", "length"],
    ["SAFETY", "content_filter"],
    ["RECITATION", "content_filter"],
    ["BLOCKLIST", "content_filter"],
    ["PROHIBITED_CONTENT", "content_filter"],
    ["SPII", "content_filter"],
    ["OTHER", "content_filter"],
    ["MALFORMED_FUNCTION_CALL", "stop"],
    ["FINISH_REASON_UNSPECIFIED", "stop"],
  ];
  for (const [reason, finish] of finishes) {
    test(`finishReason ${reason} maps to ${finish}`, () => {
      const out = geminiAdapter.parseChatResponse({ candidates: [{ content: { parts: [{ text: "x" }] }, finishReason: reason }] }, ctx);
      expect(out.choices[0].finish_reason).toBe(finish as "stop");
    });
  }

  test("several candidates become choices ordered by index", () => {
    const out = geminiAdapter.parseChatResponse(
      {
        candidates: [
          { content: { parts: [{ text: "B" }] }, finishReason: "STOP", index: 1 },
          { content: { parts: [{ text: "A" }] }, finishReason: "MAX_TOKENS", index: 0 },
        ],
      },
      ctx,
    );
    expect(out.choices.map((c) => [c.index, c.message.content, c.finish_reason])).toEqual([
      [0, "A", "length"],
      [1, "B", "stop"],
    ]);
  });

  test("a blocked prompt is an empty content_filter choice", () => {
    const out = geminiAdapter.parseChatResponse(
      { promptFeedback: { blockReason: "SAFETY" }, usageMetadata: { promptTokenCount: 5, totalTokenCount: 5 } },
      ctx,
    );
    expect(out.choices).toEqual([
      { index: 0, message: { role: "assistant", content: null }, logprobs: null, finish_reason: "content_filter" },
    ]);
    expect(out.usage).toEqual({ prompt_tokens: 5, completion_tokens: 0, total_tokens: 5 });
  });

  test("no candidates without a block reason is an upstream failure", () => {
    expect(() => geminiAdapter.parseChatResponse({ usageMetadata: {} }, ctx)).toThrow(UpstreamResponseError);
  });

  test("an error body in a 200 is a classified upstream failure", () => {
    try {
      geminiAdapter.parseChatResponse({ error: { code: 503, message: "The model is overloaded.", status: "UNAVAILABLE" } }, ctx);
      throw new Error("no throw");
    } catch (e) {
      expect((e as UpstreamResponseError).error).toMatchObject({ class: "overloaded", retryable: true });
    }
  });
});

describe("Gemini stream", () => {
  const event = (parts: object[], extra: object = {}, usage: object = { promptTokenCount: 7, totalTokenCount: 7 }) => ({
    candidates: [{ content: { role: "model", parts }, index: 0, ...extra }],
    usageMetadata: usage,
    modelVersion: "gemini-2.5-flash-001",
  });
  const finalUsage = { promptTokenCount: 7, candidatesTokenCount: 3, totalTokenCount: 10 };

  test("text events become the exact OpenAI chunk sequence; EOF completes", () => {
    const t = geminiAdapter.createStreamTransformer(ctx);
    const r = run(t, [event([{ text: "Hel" }]), event([{ text: "lo" }]), event([{ text: "!" }], { finishReason: "STOP" }, finalUsage)]);
    expect(r.chunks).toEqual([C({ role: "assistant", content: "Hel" }), C({ content: "lo" }), C({ content: "!" }), C({}, "stop")]);
    expect(r.done).toBe(false);
    expect(t.finish()).toEqual({ chunks: [], done: true });
    expect(t.usage()).toEqual({ prompt_tokens: 7, completion_tokens: 3, total_tokens: 10 });
  });

  test("the usage chunk comes at EOF when the client asked", () => {
    const t = geminiAdapter.createStreamTransformer({ ...ctx, includeUsage: true });
    run(t, [event([{ text: "x" }], { finishReason: "MAX_TOKENS" }, finalUsage)]);
    expect(t.finish()).toEqual({
      chunks: [
        {
          id: "chatcmpl-gw1",
          object: "chat.completion.chunk",
          created: 1700000001,
          model: "gemini-2.5-flash-001",
          choices: [],
          usage: { prompt_tokens: 7, completion_tokens: 3, total_tokens: 10 },
        },
      ],
      done: true,
    });
  });

  test("a function call arrives whole in one chunk and finishes as tool_calls", () => {
    const r = run(geminiAdapter.createStreamTransformer(ctx), [
      event([{ text: "Let me look." }]),
      event(
        [{ functionCall: { name: "weather", args: { city: "Rome" } } }, { functionCall: { name: "now", args: {} } }],
        { finishReason: "STOP" },
        finalUsage,
      ),
    ]);
    expect(r.chunks).toHaveLength(3);
    expect(r.chunks[0]).toEqual(C({ role: "assistant", content: "Let me look." }));
    const tc = r.chunks[1].choices[0].delta.tool_calls!;
    expect(tc).toEqual([
      { index: 0, id: expect.stringMatching(CALL_ID), type: "function", function: { name: "weather", arguments: '{"city":"Rome"}' } },
      { index: 1, id: expect.stringMatching(CALL_ID), type: "function", function: { name: "now", arguments: "{}" } },
    ]);
    expect(r.chunks[2]).toEqual(C({}, "tool_calls"));
  });

  test("thought parts and empty final text produce no content chunks", () => {
    const r = run(geminiAdapter.createStreamTransformer(ctx), [
      event([{ text: "plan", thought: true }]),
      event([{ text: "Hi" }]),
      event([{ text: "" }], { finishReason: "STOP" }, finalUsage),
    ]);
    expect(r.chunks).toEqual([C({ role: "assistant", content: "" }), C({ content: "Hi" }), C({}, "stop")]);
  });

  test("each candidate gets its own role, content and finish chunks", () => {
    const r = run(geminiAdapter.createStreamTransformer(ctx), [
      {
        candidates: [
          { content: { parts: [{ text: "a" }] }, index: 0, finishReason: "STOP" },
          { content: { parts: [{ text: "b" }] }, index: 1, finishReason: "STOP" },
        ],
        modelVersion: "gemini-2.5-flash-001",
      },
    ]);
    expect(r.chunks).toEqual([
      C({ role: "assistant", content: "a" }),
      C({}, "stop"),
      C({ role: "assistant", content: "b" }, null, 1),
      C({}, "stop", 1),
    ]);
  });

  test("a blocked prompt in a stream finishes with content_filter", () => {
    const t = geminiAdapter.createStreamTransformer(ctx);
    const r = run(t, [{ promptFeedback: { blockReason: "PROHIBITED_CONTENT" }, modelVersion: "gemini-2.5-flash-001" }]);
    expect(r.chunks).toEqual([C({ role: "assistant", content: "" }), C({}, "content_filter")]);
    expect(t.finish().done).toBe(true);
  });

  test("EOF before any finishReason is a stream error", () => {
    const t = geminiAdapter.createStreamTransformer(ctx);
    run(t, [event([{ text: "cut" }])]);
    expect(t.finish().error).toMatchObject({ class: "stream_error", retryable: true });
  });

  test("EOF without any event is a stream error", () => {
    expect(geminiAdapter.createStreamTransformer(ctx).finish().error).toMatchObject({ class: "stream_error" });
  });

  test("an error event mid-stream is classified", () => {
    const r = run(geminiAdapter.createStreamTransformer(ctx), [
      event([{ text: "a" }]),
      { error: { code: 429, message: "Resource has been exhausted", status: "RESOURCE_EXHAUSTED" } },
    ]);
    expect(r.error).toMatchObject({ class: "rate_limit", retryable: true, status: 429, message: "Resource has been exhausted" });
  });

  test("malformed data is a stream error", () => {
    expect(geminiAdapter.createStreamTransformer(ctx).push({ data: "[{" }).error).toMatchObject({ class: "stream_error" });
  });
});

describe("Gemini error classification", () => {
  const err = (code: number, status: string, message: string, details?: object[]) =>
    JSON.stringify({ error: { code, message, status, ...(details ? { details } : {}) } });
  const table: [number, string, Partial<UpstreamError>][] = [
    [
      400,
      err(400, "INVALID_ARGUMENT", "Invalid value at 'generation_config.temperature'"),
      { class: "bad_request", status: 400, retryable: false },
    ],
    [
      400,
      err(400, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key.", [
        { "@type": "type.googleapis.com/google.rpc.ErrorInfo", reason: "API_KEY_INVALID" },
      ]),
      { class: "auth", status: 502, retryable: true, upstreamStatus: 400 },
    ],
    [400, err(400, "FAILED_PRECONDITION", "User location is not supported for the API use."), { class: "auth", retryable: true }],
    [403, err(403, "PERMISSION_DENIED", "Method doesn't allow unregistered callers"), { class: "auth", retryable: true }],
    [404, err(404, "NOT_FOUND", "models/gemini-9 is not found"), { class: "not_found", status: 404, retryable: true }],
    [429, err(429, "RESOURCE_EXHAUSTED", "Resource has been exhausted"), { class: "rate_limit", status: 429, retryable: true }],
    [500, err(500, "INTERNAL", "An internal error has occurred"), { class: "server", status: 502, retryable: true }],
    [
      503,
      err(503, "UNAVAILABLE", "The model is overloaded. Please try again later."),
      { class: "overloaded", status: 503, retryable: true },
    ],
    [504, err(504, "DEADLINE_EXCEEDED", "Deadline expired"), { class: "timeout", status: 504, retryable: true }],
    [500, `[${err(500, "INTERNAL", "wrapped")}]`, { class: "server", message: "wrapped" }],
    [502, "<html>oops</html>", { class: "server", message: "<html>oops</html>" }],
  ];
  for (const [status, text, expected] of table) {
    test(`${status} ${text.slice(0, 70)} → ${expected.class}`, () => {
      expect(geminiAdapter.classifyError(status, text, new Headers())).toMatchObject(expected);
    });
  }

  test("RetryInfo.retryDelay becomes retryAfterMs", () => {
    const text = err(429, "RESOURCE_EXHAUSTED", "quota", [{ "@type": "type.googleapis.com/google.rpc.RetryInfo", retryDelay: "34s" }]);
    expect(geminiAdapter.classifyError(429, text, new Headers()).retryAfterMs).toBe(34_000);
  });

  test("a Retry-After header wins over RetryInfo", () => {
    const text = err(429, "RESOURCE_EXHAUSTED", "quota", [{ retryDelay: "34s" }]);
    expect(geminiAdapter.classifyError(429, text, new Headers({ "retry-after": "2" })).retryAfterMs).toBe(2000);
  });

  test("a key in a URL echoed in the message is redacted", () => {
    expect(
      geminiAdapter.classifyError(
        400,
        err(400, "INVALID_ARGUMENT", "bad request to /v1beta/models?key=AIzaSyXXXXXXXXXXXXXXXXXXXXXX"),
        new Headers(),
      ).message,
    ).toBe("bad request to /v1beta/models?key=[redacted]");
  });
});

describe("Gemini models", () => {
  test("lists models with the key header and no key in the URL", () => {
    expect(geminiAdapter.buildModelsRequest({ baseUrl: "https://generativelanguage.googleapis.com/", apiKey: "AIzaK" })).toEqual({
      url: "https://generativelanguage.googleapis.com/v1beta/models?pageSize=1000",
      method: "GET",
      headers: { "x-goog-api-key": "AIzaK" },
    });
  });

  test("parses models[].name without the models/ prefix", () => {
    expect(geminiAdapter.parseModelsResponse({ models: [{ name: "models/gemini-2.5-flash" }, { name: "gemini-x" }, {}] })).toEqual([
      "gemini-2.5-flash",
      "gemini-x",
    ]);
    expect(geminiAdapter.parseModelsResponse([])).toEqual([]);
  });
});
