import { describe, expect, test } from "bun:test";
import * as v from "valibot";
import type { ChatCompletion, ChatCompletionChunk } from "../src/adapters/types.ts";
import { ResponsesBody, type ResponsesRequest } from "../src/gateway/inbound/responses-model.ts";
import { fromChatResponse, toChat, untranslatable } from "../src/gateway/inbound/responses.ts";
import { createResponsesStream, encodeEvent, responsesEventStream, type ResponsesEvent } from "../src/gateway/inbound/responses-stream.ts";

// The translation functions on their own: no network, no database.

const parse = (body: unknown): ResponsesRequest => v.parse(ResponsesBody, body);

function issue(body: unknown): { path: string; message: string } {
  const r = v.safeParse(ResponsesBody, body);
  if (r.success) throw new Error("expected the body to be refused");
  const first = r.issues[0];
  return { path: (first.path ?? []).map((p) => String(p.key)).join("."), message: first.message };
}

describe("toChat", () => {
  test("a string input with instructions becomes a system and a user message", () => {
    expect(toChat(parse({ model: "m", input: "hi", instructions: "Be brief." }))).toEqual({
      model: "m",
      messages: [
        { role: "system", content: "Be brief." },
        { role: "user", content: "hi" },
      ],
    });
  });

  test("message items keep their roles, and parts become chat parts", () => {
    const chat = toChat(
      parse({
        model: "m",
        input: [
          { role: "developer", content: [{ type: "input_text", text: "rules" }] },
          {
            type: "message",
            role: "user",
            content: [
              { type: "input_text", text: "look" },
              { type: "input_image", image_url: "https://x.test/a.png", detail: "low" },
            ],
          },
          { role: "assistant", content: [{ type: "output_text", text: "a cat", annotations: [] }] },
          { role: "user", content: [{ type: "input_file", filename: "a.pdf", file_data: "data:application/pdf;base64,AAAA" }] },
        ],
      }),
    );
    expect(chat.messages).toEqual([
      { role: "developer", content: [{ type: "text", text: "rules" }] },
      {
        role: "user",
        content: [
          { type: "text", text: "look" },
          { type: "image_url", image_url: { url: "https://x.test/a.png", detail: "low" } },
        ],
      },
      { role: "assistant", content: "a cat" },
      { role: "user", content: [{ type: "file", file: { file_data: "data:application/pdf;base64,AAAA", filename: "a.pdf" } }] } as never,
    ]);
  });

  test("function calls join the assistant turn before them, and their outputs become tool messages", () => {
    const chat = toChat(
      parse({
        model: "m",
        input: [
          { role: "user", content: "weather?" },
          { role: "assistant", content: "Checking." },
          { type: "function_call", call_id: "c1", name: "w", arguments: '{"city":"A"}' },
          { type: "function_call", call_id: "c2", name: "w", arguments: '{"city":"B"}' },
          { type: "reasoning", id: "rs_1", summary: [] },
          { type: "function_call_output", call_id: "c1", output: "sunny" },
          { type: "function_call_output", call_id: "c2", output: [{ type: "input_text", text: "rain" }] },
        ],
      }),
    );
    expect(chat.messages.slice(1)).toEqual([
      {
        role: "assistant",
        content: "Checking.",
        tool_calls: [
          { id: "c1", type: "function", function: { name: "w", arguments: '{"city":"A"}' } },
          { id: "c2", type: "function", function: { name: "w", arguments: '{"city":"B"}' } },
        ],
      },
      { role: "tool", tool_call_id: "c1", content: "sunny" },
      { role: "tool", tool_call_id: "c2", content: "rain" },
    ]);
  });

  test("a function call with no assistant turn before it opens one", () => {
    const chat = toChat(
      parse({
        model: "m",
        input: [
          { role: "user", content: "x" },
          { type: "function_call", call_id: "c", name: "f", arguments: "{}" },
        ],
      }),
    );
    expect(chat.messages[1]).toEqual({
      role: "assistant",
      content: null,
      tool_calls: [{ id: "c", type: "function", function: { name: "f", arguments: "{}" } }],
    });
  });

  test("tools, tool_choice, text.format, limits and sampling map to their chat names", () => {
    const schema = { type: "object", properties: {} };
    const chat = toChat(
      parse({
        model: "m",
        input: "x",
        stream: true,
        tools: [{ type: "function", name: "f", description: "d", parameters: schema, strict: true }],
        tool_choice: { type: "function", name: "f" },
        parallel_tool_calls: false,
        text: { format: { type: "json_schema", name: "out", schema, strict: true } },
        max_output_tokens: 100,
        temperature: 0.5,
        top_p: 0.8,
        reasoning: { effort: "high", summary: "auto" },
        user: "u",
        store: true,
        metadata: { a: "b" },
      }),
    );
    expect(chat).toEqual({
      model: "m",
      messages: [{ role: "user", content: "x" }],
      stream: true,
      stream_options: { include_usage: true },
      tools: [{ type: "function", function: { name: "f", description: "d", parameters: schema, strict: true } }],
      tool_choice: { type: "function", function: { name: "f" } },
      parallel_tool_calls: false,
      response_format: { type: "json_schema", json_schema: { name: "out", schema, strict: true } },
      max_completion_tokens: 100,
      temperature: 0.5,
      top_p: 0.8,
      reasoning_effort: "high",
      user: "u",
    });
  });

  test("an item_reference makes the request untranslatable, naming the item", () => {
    const req = parse({
      model: "m",
      input: [
        { role: "user", content: "a" },
        { type: "item_reference", id: "msg_1" },
      ],
    });
    expect(untranslatable(req)).toMatchObject({ param: "input[1]", message: expect.stringContaining("only OpenAI can resolve") });
    expect(toChat(req).messages).toEqual([{ role: "user", content: "a" }]);
    expect(untranslatable(parse({ model: "m", input: "a" }))).toBeNull();
  });

  test("json_object and text formats pass as they are", () => {
    expect(toChat(parse({ model: "m", input: "x", text: { format: { type: "json_object" } } })).response_format).toEqual({
      type: "json_object",
    });
    expect(toChat(parse({ model: "m", input: "x", text: { format: { type: "text" } } })).response_format).toEqual({ type: "text" });
  });
});

describe("the request schema", () => {
  test.each([
    [{ model: "m", input: "x", tools: [{ type: "file_search", vector_store_ids: [] }] }, "tools.0", /built-in tool \('file_search'\)/],
    [{ model: "m", input: "x", previous_response_id: "resp_1" }, "previous_response_id", /stateless/],
    [{ model: "m", input: "x", conversation: "conv_1" }, "conversation", /stateless/],
    [{ model: "m", input: "x", background: true }, "background", /background mode/],
    [
      { model: "m", input: [{ role: "user", content: [{ type: "input_file", file_id: "f" }] }] },
      "input.0.content.0.file_id",
      /no file storage/,
    ],
    [
      { model: "m", input: [{ role: "system", content: [{ type: "input_image", image_url: "https://x" }] }] },
      "input.0.content.0",
      /'input_image'/,
    ],
    [{ model: "m", input: [{ type: "function_call", name: "f", arguments: "{}" }] }, "input.0.call_id", /call_id/],
    [{ model: "m", input: "x", tools: [{ type: "function", name: "bad name" }] }, "tools.0.name", /letters/],
    [{ model: "m", input: "x", metadata: { a: 1 } }, "metadata.a", /./],
  ] as [unknown, string, RegExp][])("refuses %j at %s", (body, path, message) => {
    const i = issue(body);
    expect(i.path).toBe(path);
    expect(i.message).toMatch(message);
  });

  test("accepts what the Vercel AI SDK and the OpenAI SDK send for a plain call", () => {
    expect(() =>
      parse({
        model: "m",
        input: [{ role: "user", content: [{ type: "input_text", text: "hi" }] }],
        store: false,
        include: [],
        truncation: "auto",
      }),
    ).not.toThrow();
  });
});

const completion = (over: Partial<ChatCompletion["choices"][number]> = {}, usage = true): ChatCompletion => ({
  id: "chatcmpl-1",
  object: "chat.completion",
  created: 1_700_000_000,
  model: "gpt-x",
  choices: [{ index: 0, message: { role: "assistant", content: "hello" }, finish_reason: "stop", logprobs: null, ...over }],
  ...(usage
    ? {
        usage: {
          prompt_tokens: 12,
          completion_tokens: 7,
          total_tokens: 19,
          prompt_tokens_details: { cached_tokens: 4 },
          completion_tokens_details: { reasoning_tokens: 2 },
        },
      }
    : {}),
});

describe("fromChatResponse", () => {
  const req = parse({ model: "alias", input: "x", instructions: "i", temperature: 0.3, metadata: { k: "v" } });

  test("text becomes a completed message item with usage in Responses terms", () => {
    const r = fromChatResponse(completion(), req, "resp_1");
    expect(r).toMatchObject({
      id: "resp_1",
      object: "response",
      created_at: 1_700_000_000,
      status: "completed",
      incomplete_details: null,
      model: "gpt-x",
      instructions: "i",
      temperature: 0.3,
      metadata: { k: "v" },
      store: false,
      previous_response_id: null,
      usage: {
        input_tokens: 12,
        input_tokens_details: { cached_tokens: 4 },
        output_tokens: 7,
        output_tokens_details: { reasoning_tokens: 2 },
        total_tokens: 19,
      },
    });
    expect(r.output).toEqual([
      {
        type: "message",
        id: expect.stringMatching(/^msg_/),
        status: "completed",
        role: "assistant",
        content: [{ type: "output_text", text: "hello", annotations: [], logprobs: [] }],
      },
    ]);
  });

  test("tool calls become function_call items after the text", () => {
    const r = fromChatResponse(
      completion({
        message: {
          role: "assistant",
          content: null,
          tool_calls: [{ id: "call_9", type: "function", function: { name: "f", arguments: '{"a":1}' } }],
        },
        finish_reason: "tool_calls",
      }),
      req,
    );
    expect(r.status).toBe("completed");
    expect(r.output).toEqual([
      { type: "function_call", id: expect.stringMatching(/^fc_/), call_id: "call_9", name: "f", arguments: '{"a":1}', status: "completed" },
    ]);
  });

  test.each([
    ["length", "max_output_tokens"],
    ["content_filter", "content_filter"],
  ] as const)("finish_reason %s makes the response incomplete (%s)", (finish, reason) => {
    const r = fromChatResponse(completion({ finish_reason: finish }), req);
    expect(r.status).toBe("incomplete");
    expect(r.incomplete_details).toEqual({ reason });
    expect(r.output[0].status).toBe("incomplete");
  });

  test("a refusal is a refusal part, and missing usage is null", () => {
    const r = fromChatResponse(completion({ message: { role: "assistant", content: null, refusal: "no" } }, false), req);
    expect(r.output[0]).toMatchObject({ type: "message", content: [{ type: "refusal", refusal: "no" }] });
    expect(r.usage).toBeNull();
  });
});

const chunk = (
  delta: ChatCompletionChunk["choices"][number]["delta"],
  finish: ChatCompletionChunk["choices"][number]["finish_reason"] = null,
): ChatCompletionChunk => ({
  id: "c",
  object: "chat.completion.chunk",
  created: 1,
  model: "gpt-x",
  choices: [{ index: 0, delta, finish_reason: finish }],
});
const usageChunk: ChatCompletionChunk = {
  id: "c",
  object: "chat.completion.chunk",
  created: 1,
  model: "gpt-x",
  choices: [],
  usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 },
};

describe("the stream transform", () => {
  const req = parse({ model: "alias", input: "x", stream: true });
  const meta = { id: "resp_s", createdAt: 5, model: "alias" };

  test("text deltas become a message item's events, closed and completed with usage", () => {
    const s = createResponsesStream(req, meta);
    const events = [
      ...s.push(chunk({ role: "assistant", content: "He" })),
      ...s.push(chunk({ content: "llo" }, "stop")),
      ...s.push(usageChunk),
      ...s.end(),
    ];
    expect(events.map((e) => e.type)).toEqual([
      "response.created",
      "response.in_progress",
      "response.output_item.added",
      "response.content_part.added",
      "response.output_text.delta",
      "response.output_text.delta",
      "response.output_text.done",
      "response.content_part.done",
      "response.output_item.done",
      "response.completed",
    ]);
    expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i));
    expect(events[0]).toMatchObject({ response: { id: "resp_s", status: "in_progress", model: "gpt-x", output: [] } });
    const done = events.find((e) => e.type === "response.output_text.done")!;
    expect(done).toMatchObject({ output_index: 0, content_index: 0, text: "Hello" });
    const last = events.at(-1)!;
    expect(last.response).toMatchObject({
      status: "completed",
      usage: { input_tokens: 3, output_tokens: 2, total_tokens: 5 },
      output: [{ type: "message", status: "completed", content: [{ type: "output_text", text: "Hello" }] }],
    });
  });

  test("tool-call deltas become function_call items; text before them is closed first", () => {
    const s = createResponsesStream(req, meta);
    const events = [
      ...s.push(chunk({ content: "Let me check." })),
      ...s.push(chunk({ tool_calls: [{ index: 0, id: "call_1", type: "function", function: { name: "f", arguments: "" } }] })),
      ...s.push(chunk({ tool_calls: [{ index: 0, function: { arguments: '{"a":' } }] })),
      ...s.push(chunk({ tool_calls: [{ index: 1, id: "call_2", type: "function", function: { name: "g", arguments: "{}" } }] })),
      ...s.push(chunk({ tool_calls: [{ index: 0, function: { arguments: "1}" } }] }, "tool_calls")),
      ...s.end(),
    ];
    const types = events.map((e) => e.type);
    expect(types.indexOf("response.output_item.done")).toBeLessThan(types.indexOf("response.function_call_arguments.delta"));
    const argsDone = events.filter((e) => e.type === "response.function_call_arguments.done");
    expect(argsDone.map((e) => [e.output_index, e.name, e.arguments])).toEqual([
      [1, "f", '{"a":1}'],
      [2, "g", "{}"],
    ]);
    expect(events.at(-1)!.response).toMatchObject({
      status: "completed",
      output: [
        { type: "message", content: [{ text: "Let me check." }] },
        { type: "function_call", call_id: "call_1", name: "f", arguments: '{"a":1}', status: "completed" },
        { type: "function_call", call_id: "call_2", name: "g", arguments: "{}", status: "completed" },
      ],
    });
  });

  test("a refusal streams as its own content part", () => {
    const s = createResponsesStream(req, meta);
    const events = [...s.push(chunk({ refusal: "I can" })), ...s.push(chunk({ refusal: "not." }, "stop")), ...s.end()];
    expect(events.map((e) => e.type).slice(2, -1)).toEqual([
      "response.output_item.added",
      "response.content_part.added",
      "response.refusal.delta",
      "response.refusal.delta",
      "response.refusal.done",
      "response.content_part.done",
      "response.output_item.done",
    ]);
    expect(events.at(-1)!.response).toMatchObject({ output: [{ type: "message", content: [{ type: "refusal", refusal: "I cannot." }] }] });
  });

  test("a length finish ends with response.incomplete", () => {
    const s = createResponsesStream(req, meta);
    const events = [...s.push(chunk({ content: "cut" }, "length")), ...s.end()];
    expect(events.at(-1)).toMatchObject({
      type: "response.incomplete",
      response: { status: "incomplete", incomplete_details: { reason: "max_output_tokens" } },
    });
  });

  test("an error ends the stream with an error event and response.failed", () => {
    const s = createResponsesStream(req, meta);
    const events = [...s.push(chunk({ content: "a" })), ...s.fail({ message: "broke", code: "upstream_stream_error" })];
    expect(events.slice(-2)).toMatchObject([
      { type: "error", code: "upstream_stream_error", message: "broke", param: null },
      { type: "response.failed", response: { status: "failed", error: { code: "upstream_stream_error", message: "broke" } } },
    ]);
    expect(s.end()).toEqual([]);
  });

  test("events are written with OpenAI's event: lines", () => {
    const e: ResponsesEvent = { type: "response.output_text.delta", sequence_number: 3, delta: "x" };
    expect(encodeEvent(e)).toBe(`event: response.output_text.delta\ndata: ${JSON.stringify(e)}\n\n`);
  });

  test("the SSE relay turns a chat stream split anywhere into Responses events", async () => {
    const sse = `data: ${JSON.stringify(chunk({ content: "Hi" }, "stop"))}\n\ndata: ${JSON.stringify(usageChunk)}\n\ndata: [DONE]\n\n`;
    const bytes = new TextEncoder().encode(sse);
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        for (let i = 0; i < bytes.length; i += 7) c.enqueue(bytes.slice(i, i + 7));
        c.close();
      },
    });
    const text = await new Response(responsesEventStream(body, req, meta)).text();
    const types = [...text.matchAll(/^event: (.+)$/gm)].map((m) => m[1]);
    expect(types[0]).toBe("response.created");
    expect(types.at(-1)).toBe("response.completed");
    expect(text).not.toContain("[DONE]");
  });

  test("a chat stream that stops without [DONE] fails the response", async () => {
    const body = new Response(`data: ${JSON.stringify(chunk({ content: "Hi" }))}\n\n`).body!;
    const text = await new Response(responsesEventStream(body, req, meta)).text();
    expect(text).toContain("event: response.failed");
  });
});
