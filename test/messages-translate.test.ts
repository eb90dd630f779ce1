import { describe, expect, test } from "bun:test";
import * as v from "valibot";
import { UnsupportedFeatureError, type ChatCompletion, type ChatRequest } from "../src/adapters/types.ts";
import type { Candidate } from "../src/gateway/router.ts";
import type { ProviderConfig } from "../src/providers/model.ts";
import { MessagesBody, type MessagesRequest } from "../src/gateway/inbound/anthropic-schema.ts";
import {
  anthropicErrorType,
  anthropicOnly,
  forCandidate,
  fromChatResponse,
  toAnthropicError,
  toChat,
} from "../src/gateway/inbound/anthropic-messages.ts";
import { createMessagesStream } from "../src/gateway/inbound/anthropic-stream.ts";

// The pure half of POST /v1/messages: no network, no database.

function req(over: Record<string, unknown>): MessagesRequest {
  return v.parse(MessagesBody, { model: "m", max_tokens: 100, messages: [{ role: "user", content: "hi" }], ...over });
}

function cand(type: string): Candidate {
  return { provider: { type } as ProviderConfig, upstreamModel: "m", coolingDown: false };
}

/** Anthropic SSE text → [event name, data] pairs, checking each event line matches its data's type. */
function events(sse: string): [string, any][] {
  return sse
    .split("\n\n")
    .filter(Boolean)
    .map((block) => {
      const [eventLine, dataLine] = block.split("\n");
      const name = eventLine.replace(/^event: /, "");
      const data = JSON.parse(dataLine.replace(/^data: /, ""));
      expect(data.type).toBe(name);
      return [name, data];
    });
}

const chunk = (delta: Record<string, unknown>, finish: string | null = null, extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    id: "c",
    object: "chat.completion.chunk",
    created: 1,
    model: "up-model",
    choices: [{ index: 0, delta, finish_reason: finish }],
    ...extra,
  });
const usageChunk = (prompt: number, completion: number, cached?: number) =>
  JSON.stringify({
    id: "c",
    object: "chat.completion.chunk",
    created: 1,
    model: "up-model",
    choices: [],
    usage: {
      prompt_tokens: prompt,
      completion_tokens: completion,
      total_tokens: prompt + completion,
      ...(cached !== undefined ? { prompt_tokens_details: { cached_tokens: cached } } : {}),
    },
  });

describe("toChat", () => {
  test("the system prompt leads; cache_control survives on text parts for the adapters that know it", () => {
    expect(toChat(req({ system: "Be brief." })).messages[0]).toEqual({ role: "system", content: "Be brief." });
    const blocks = toChat(
      req({
        system: [
          { type: "text", text: "A", cache_control: { type: "ephemeral" } },
          { type: "text", text: "B" },
        ],
      }),
    );
    expect(blocks.messages[0]).toEqual({
      role: "system",
      content: [
        { type: "text", text: "A", cache_control: { type: "ephemeral" } },
        { type: "text", text: "B" },
      ],
    });
  });

  test("images become image_url parts: base64 as a data URL, URLs as they are", () => {
    const chat = toChat(
      req({
        messages: [
          {
            role: "user",
            content: [
              { type: "image", source: { type: "base64", media_type: "image/png", data: "AAAA" } },
              { type: "image", source: { type: "url", url: "https://example.com/a.jpg" } },
              { type: "text", text: "compare" },
            ],
          },
        ],
      }),
    );
    expect(chat.messages).toEqual([
      {
        role: "user",
        content: [
          { type: "image_url", image_url: { url: "data:image/png;base64,AAAA" } },
          { type: "image_url", image_url: { url: "https://example.com/a.jpg" } },
          { type: "text", text: "compare" },
        ],
      },
    ]);
  });

  test("assistant tool_use becomes tool_calls; thinking blocks are dropped; tool_result becomes tool messages before the rest of the turn", () => {
    const chat = toChat(
      req({
        messages: [
          { role: "user", content: "weather?" },
          {
            role: "assistant",
            content: [
              { type: "thinking", thinking: "hmm", signature: "sig" },
              { type: "text", text: "Let me look." },
              { type: "tool_use", id: "toolu_1", name: "get_weather", input: { city: "Paris" } },
            ],
          },
          {
            role: "user",
            content: [
              { type: "text", text: "thanks" },
              { type: "tool_result", tool_use_id: "toolu_1", content: [{ type: "text", text: "sunny" }] },
              { type: "tool_result", tool_use_id: "toolu_2", content: "no such city", is_error: true },
            ],
          },
        ],
      }),
    );
    expect(chat.messages.slice(1)).toEqual([
      {
        role: "assistant",
        content: "Let me look.",
        tool_calls: [{ id: "toolu_1", type: "function", function: { name: "get_weather", arguments: '{"city":"Paris"}' } }],
      },
      { role: "tool", tool_call_id: "toolu_1", content: "sunny" },
      { role: "tool", tool_call_id: "toolu_2", content: "Error: no such city" },
      { role: "user", content: [{ type: "text", text: "thanks" }] },
    ]);
  });

  test("images inside a tool result follow in a user message that names the call", () => {
    const chat = toChat(
      req({
        messages: [
          { role: "assistant", content: [{ type: "tool_use", id: "t1", name: "screenshot", input: {} }] },
          {
            role: "user",
            content: [
              {
                type: "tool_result",
                tool_use_id: "t1",
                content: [{ type: "image", source: { type: "base64", media_type: "image/png", data: "QQ==" } }],
              },
            ],
          },
        ],
      }),
    );
    expect(chat.messages[1]).toEqual({ role: "tool", tool_call_id: "t1", content: "\n(1 image(s) follow)" });
    expect(chat.messages[2]).toEqual({
      role: "user",
      content: [
        { type: "text", text: "Images returned by tool call t1:" },
        { type: "image_url", image_url: { url: "data:image/png;base64,QQ==" } },
      ],
    });
  });

  test("documents: text with its title, PDFs as file parts", () => {
    const text = toChat(
      req({
        messages: [
          {
            role: "user",
            content: [{ type: "document", title: "Notes", source: { type: "text", media_type: "text/plain", data: "body" } }],
          },
        ],
      }),
    );
    expect(text.messages[0].content).toEqual([{ type: "text", text: "Notes\n\nbody" }]);
    const pdf = toChat(
      req({
        messages: [
          { role: "user", content: [{ type: "document", source: { type: "base64", media_type: "application/pdf", data: "JVBE" } }] },
        ],
      }),
    );
    expect(pdf.messages[0].content).toEqual([
      { type: "file", file: { filename: "document.pdf", file_data: "data:application/pdf;base64,JVBE" } },
    ] as never);
  });

  test("what only Anthropic can honour is named, and left out of the translation", () => {
    expect(anthropicOnly(req({}))).toBeNull();
    const url = req({
      messages: [
        {
          role: "user",
          content: [
            { type: "text", text: "x" },
            { type: "document", source: { type: "url", url: "https://x/a.pdf" } },
          ],
        },
      ],
    });
    expect(anthropicOnly(url)?.param).toBe("messages[0].content[1].source");
    expect(toChat(url).messages[0].content).toEqual([{ type: "text", text: "x" }]);
    const search = req({
      tools: [
        { name: "f", input_schema: { type: "object" } },
        { type: "web_search_20250305", name: "web_search", max_uses: 3 },
      ],
    });
    expect(anthropicOnly(search)?.param).toBe("tools[1]");
    expect(toChat(search).tools?.map((t) => t.function.name)).toEqual(["f"]);
    expect(anthropicOnly(req({ mcp_servers: [{ type: "url", url: "https://mcp.example", name: "m" }] }))?.param).toBe("mcp_servers");
    expect(anthropicOnly(req({ inference_geo: "eu" }))?.param).toBe("inference_geo");
  });

  test("parameters: max_tokens, stop_sequences, sampling, user, stream usage, structured output", () => {
    const chat = toChat(
      req({
        stream: true,
        stop_sequences: ["END"],
        temperature: 0.2,
        top_p: 0.9,
        top_k: 40,
        metadata: { user_id: "u-1" },
        thinking: { type: "enabled", budget_tokens: 2048 },
        output_config: { effort: "high", format: { type: "json_schema", schema: { type: "object" } } },
      }),
    );
    expect(chat).toMatchObject({
      max_tokens: 100,
      stream: true,
      stream_options: { include_usage: true },
      stop: ["END"],
      temperature: 0.2,
      top_p: 0.9,
      top_k: 40,
      user: "u-1",
    });
    expect(chat.response_format).toEqual({ type: "json_schema", json_schema: { name: "output", schema: { type: "object" } } });
    expect(chat).not.toHaveProperty("thinking");
  });

  test("tool_choice: any is required, tool names a function, none sends no tools, parallel use can be turned off", () => {
    const tools = [{ name: "f", input_schema: { type: "object" } }];
    expect(toChat(req({ tools, tool_choice: { type: "any" } })).tool_choice).toBe("required");
    const named = toChat(req({ tools, tool_choice: { type: "tool", name: "f", disable_parallel_tool_use: true } }));
    expect(named).toMatchObject({ tool_choice: { type: "function", function: { name: "f" } }, parallel_tool_calls: false });
    expect(named.tools).toEqual([{ type: "function", function: { name: "f", parameters: { type: "object" } } }]);
    expect(toChat(req({ tools, tool_choice: { type: "none" } })).tools).toBeUndefined();
  });
});

describe("the Messages schema", () => {
  const issue = (body: Record<string, unknown>) => {
    const r = v.safeParse(MessagesBody, { model: "m", max_tokens: 5, messages: [{ role: "user", content: "x" }], ...body });
    return r.success ? null : { path: r.issues[0].path?.map((p) => p.key).join("."), message: r.issues[0].message };
  };

  test("takes hints and Anthropic's own features, refuses unknown fields and types by name", () => {
    expect(issue({ service_tier: "auto", speed: "fast", cache_control: { type: "ephemeral" }, thinking: { type: "adaptive" } })).toBeNull();
    expect(issue({ container: "c", inference_geo: "eu", tools: [{ type: "web_search_20250305", name: "web_search" }] })).toBeNull();
    expect(issue({ betas: ["x"] })).toEqual({ path: "betas", message: "betas is not supported by this gateway's Messages endpoint" });
    expect(issue({ tools: [{ type: "web_search", name: "web_search" }] })?.path).toBe("tools.0.type");
    expect(issue({ tools: [{ name: "f" }] })?.path).toBe("tools.0.input_schema");
    expect(issue({ messages: [{ role: "assistant", content: [{ type: "tool_result", tool_use_id: "x" }] }] })?.path).toBe(
      "messages.0.content.0.type",
    );
  });
});

describe("forCandidate", () => {
  const base = (): ChatRequest => toChat(req({ top_k: 5, system: [{ type: "text", text: "S", cache_control: { type: "ephemeral" } }] }));

  test("OpenAI entries get max_completion_tokens and neither top_k nor cache_control; other OpenAI-format servers keep max_tokens", () => {
    const openai = forCandidate(base(), cand("openai"));
    expect(openai).toMatchObject({ max_completion_tokens: 100 });
    expect(openai).not.toHaveProperty("max_tokens");
    expect(openai).not.toHaveProperty("top_k");
    expect(JSON.stringify(openai)).not.toContain("cache_control");
    const groq = forCandidate(base(), cand("groq"));
    expect(groq).toMatchObject({ max_tokens: 100 });
    expect(groq).not.toHaveProperty("top_k");
  });

  test("Anthropic and Gemini entries get the request unchanged", () => {
    const b = base();
    expect(forCandidate(b, cand("anthropic"))).toBe(b);
    expect(forCandidate(b, cand("gemini"))).toBe(b);
  });

  test("a request only Anthropic can honour skips every other entry, naming the field", () => {
    const b = base();
    const only = { param: "tools[0]", message: "tools[0] is a server tool" };
    expect(() => forCandidate(b, cand("openai"), only)).toThrow("tools[0] is a server tool");
    expect(() => forCandidate(b, cand("gemini"), only)).toThrow(UnsupportedFeatureError);
    expect(forCandidate(b, cand("anthropic"), only)).toBe(b);
  });

  test("a prefilled assistant turn skips every entry but Anthropic's", () => {
    const prefill = toChat(
      req({
        messages: [
          { role: "user", content: "JSON please" },
          { role: "assistant", content: "{" },
        ],
      }),
    );
    expect(() => forCandidate(prefill, cand("openai"))).toThrow(UnsupportedFeatureError);
    expect(() => forCandidate(prefill, cand("gemini"))).toThrow(UnsupportedFeatureError);
    expect(forCandidate(prefill, cand("anthropic"))).toBe(prefill);
  });
});

describe("fromChatResponse", () => {
  const completion = (message: Record<string, unknown>, finish: string, usage?: Record<string, unknown>): ChatCompletion =>
    ({
      id: "x",
      object: "chat.completion",
      created: 1,
      model: "up",
      choices: [{ index: 0, message: { role: "assistant", ...message }, finish_reason: finish, logprobs: null }],
      usage,
    }) as ChatCompletion;

  test("text and tool calls become blocks; cached prompt tokens are reported apart from input_tokens", () => {
    const m = fromChatResponse(
      completion(
        { content: "hi", tool_calls: [{ id: "call_1", type: "function", function: { name: "f", arguments: '{"a":1}' } }] },
        "tool_calls",
        {
          prompt_tokens: 100,
          completion_tokens: 7,
          total_tokens: 107,
          prompt_tokens_details: { cached_tokens: 60 },
        },
      ),
      "msg_1",
    );
    expect(m).toEqual({
      id: "msg_1",
      type: "message",
      role: "assistant",
      model: "up",
      content: [
        { type: "text", text: "hi" },
        { type: "tool_use", id: "call_1", name: "f", input: { a: 1 } },
      ],
      stop_reason: "tool_use",
      stop_sequence: null,
      usage: { input_tokens: 40, output_tokens: 7, cache_read_input_tokens: 60, cache_creation_input_tokens: null },
    });
  });

  test.each([
    ["stop", "end_turn"],
    ["length", "max_tokens"],
    ["tool_calls", "tool_use"],
    ["content_filter", "refusal"],
  ])("finish_reason %s is stop_reason %s", (finish, stop) => {
    expect(fromChatResponse(completion({ content: "x" }, finish)).stop_reason).toBe(stop as never);
  });

  test("tool arguments that are not a JSON object become an empty input", () => {
    const m = fromChatResponse(
      completion({ content: null, tool_calls: [{ id: "c", type: "function", function: { name: "f", arguments: '{"cut' } }] }, "length"),
    );
    expect(m.content).toEqual([{ type: "tool_use", id: "c", name: "f", input: {} }]);
  });
});

describe("the stream", () => {
  test("text chunks become one text block, with usage and stop reason in message_delta", () => {
    const s = createMessagesStream({ id: "msg_s", model: "asked" });
    let out = "";
    out += s.push(chunk({ role: "assistant", content: "" }));
    out += s.push(chunk({ content: "Hel" }));
    out += s.push(chunk({ content: "lo" }));
    out += s.push(chunk({}, "stop"));
    out += s.push(usageChunk(12, 3, 2));
    out += s.push("[DONE]");
    expect(s.end()).toBe("");
    const ev = events(out);
    expect(ev.map(([name]) => name)).toEqual([
      "message_start",
      "ping",
      "content_block_start",
      "content_block_delta",
      "content_block_delta",
      "content_block_stop",
      "message_delta",
      "message_stop",
    ]);
    expect(ev[0][1].message).toMatchObject({ id: "msg_s", model: "up-model", role: "assistant", content: [] });
    expect(ev[2][1]).toEqual({ type: "content_block_start", index: 0, content_block: { type: "text", text: "" } });
    expect(ev[3][1].delta).toEqual({ type: "text_delta", text: "Hel" });
    expect(ev[6][1]).toEqual({
      type: "message_delta",
      delta: { stop_reason: "end_turn", stop_sequence: null },
      usage: { input_tokens: 10, output_tokens: 3, cache_read_input_tokens: 2 },
    });
  });

  test("tool calls become tool_use blocks fed with input_json_delta, after the text block", () => {
    const s = createMessagesStream({ id: "msg_t", model: "m" });
    let out = s.push(chunk({ content: "Checking." }));
    out += s.push(chunk({ tool_calls: [{ index: 0, id: "call_a", type: "function", function: { name: "f", arguments: "" } }] }));
    out += s.push(chunk({ tool_calls: [{ index: 0, function: { arguments: '{"x"' } }] }));
    out += s.push(chunk({ tool_calls: [{ index: 0, function: { arguments: ":1}" } }] }));
    out += s.push(chunk({ tool_calls: [{ index: 1, id: "call_b", type: "function", function: { name: "g", arguments: "{}" } }] }));
    out += s.push(chunk({}, "tool_calls"));
    out += s.push("[DONE]");
    const ev = events(out);
    const starts = ev.filter(([n]) => n === "content_block_start").map(([, d]) => d);
    expect(starts).toEqual([
      { type: "content_block_start", index: 0, content_block: { type: "text", text: "" } },
      { type: "content_block_start", index: 1, content_block: { type: "tool_use", id: "call_a", name: "f", input: {} } },
      { type: "content_block_start", index: 2, content_block: { type: "tool_use", id: "call_b", name: "g", input: {} } },
    ]);
    const json = ev.filter(([n, d]) => n === "content_block_delta" && d.index === 1).map(([, d]) => d.delta.partial_json);
    expect(json.join("")).toBe('{"x":1}');
    expect(ev.filter(([n]) => n === "content_block_stop").map(([, d]) => d.index)).toEqual([0, 1, 2]);
    expect(ev.find(([n]) => n === "message_delta")![1].delta.stop_reason).toBe("tool_use");
  });

  test("an error event from the gateway becomes Anthropic's error event, and nothing follows it", () => {
    const s = createMessagesStream({ id: "msg_e", model: "m" });
    s.push(chunk({ content: "partial" }));
    const err = events(
      s.push(
        JSON.stringify({ error: { message: "provider went away", type: "upstream_error", param: null, code: "upstream_stream_error" } }),
      ),
    );
    expect(err).toEqual([["error", { type: "error", error: { type: "api_error", message: "provider went away" } }]]);
    expect(s.push("[DONE]")).toBe("");
    expect(s.end()).toBe("");
  });

  test("a stream that stops without [DONE] ends with an error event, not a silent truncation", () => {
    const s = createMessagesStream({ id: "msg_c", model: "m" });
    s.push(chunk({ content: "partial" }));
    expect(events(s.end())).toEqual([
      ["error", { type: "error", error: { type: "api_error", message: "the stream ended before the message was complete" } }],
    ]);
  });
});

describe("errors", () => {
  test.each([
    [400, null, null, "invalid_request_error"],
    [401, "invalid_request_error", "invalid_api_key", "authentication_error"],
    [403, null, null, "permission_error"],
    [404, "invalid_request_error", "model_not_found", "not_found_error"],
    [413, null, "request_too_large", "request_too_large"],
    [429, "rate_limit_error", null, "rate_limit_error"],
    [502, "upstream_error", "all_providers_failed", "api_error"],
    [503, "upstream_error", "upstream_overloaded", "overloaded_error"],
    [500, "server_error", "server_shutting_down", "overloaded_error"],
  ])("HTTP %d (%s, %s) is %s", (status, type, code, expected) => {
    expect(anthropicErrorType(status, type, code)).toBe(expected);
  });

  test("the gateway's error body keeps its message in Anthropic's shape, with the request id", () => {
    expect(
      toAnthropicError(
        400,
        { error: { message: "max_tokens is required", type: "invalid_request_error", param: "max_tokens", code: null } },
        "req_1",
      ),
    ).toEqual({
      type: "error",
      error: { type: "invalid_request_error", message: "max_tokens is required" },
      request_id: "req_1",
    });
    expect(toAnthropicError(502, "not json").error.message).toBe("request failed with HTTP 502");
  });
});
