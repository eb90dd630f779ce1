import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import OpenAI from "openai";
import { gatewayHarness, type GatewayHarness } from "./support/gateway.ts";
import { startMockUpstream, waitUntil, type MockKind, type MockUpstream } from "./support/mock-upstreams.ts";

// POST /v1/responses over real HTTP: the official OpenAI SDK → Perpetuo → mock upstreams that
// speak each provider's wire format.

/** Each way a Responses request reaches a provider: natively (OpenAI) or translated to a chat format. */
type Wire = "responses" | "chat" | "anthropic" | "gemini";
const CASES: { name: string; mock: MockKind; type: string; wire: Wire; model: string }[] = [
  { name: "an OpenAI provider (its own Responses API)", mock: "openai", type: "openai", wire: "responses", model: "gpt-4o-mini" },
  {
    name: "an OpenAI-compatible provider (translated to chat)",
    mock: "openai",
    type: "openai_compatible",
    wire: "chat",
    model: "gpt-4o-mini",
  },
  { name: "an Anthropic provider", mock: "anthropic", type: "anthropic", wire: "anthropic", model: "claude-haiku-4-5" },
  { name: "a Gemini provider", mock: "gemini", type: "gemini", wire: "gemini", model: "gemini-2.5-flash" },
];

/** A provider entry of `type` in front of a mock speaking `mock`'s wire format. */
async function addEntry(h: GatewayHarness, mock: MockKind, type: string, body: Record<string, unknown> = {}) {
  if (mock === type) {
    const p = await h.addProvider(mock, body);
    return { ...p, mock: p.mock! };
  }
  const m = await startMockUpstream(mock);
  stopLater.push(m);
  const p = await h.addProvider({ type, url: m.url }, { api_key: `sk-${type}-secret-abcdefghijkl`, ...body });
  return { ...p, mock: m };
}
const stopLater: MockUpstream[] = [];
afterAll(() => Promise.all(stopLater.map((m) => m.stop())));

/** Where each wire format puts the instructions. */
function systemText(wire: Wire, body: any): string {
  if (wire === "responses") return body.instructions;
  if (wire === "chat") return body.messages.find((m: any) => m.role === "system")?.content;
  if (wire === "anthropic") return typeof body.system === "string" ? body.system : body.system.map((b: any) => b.text).join("");
  return body.systemInstruction.parts.map((p: any) => p.text).join("");
}

function maxTokens(wire: Wire, body: any): number {
  if (wire === "responses") return body.max_output_tokens;
  if (wire === "chat") return body.max_completion_tokens;
  if (wire === "anthropic") return body.max_tokens;
  return body.generationConfig.maxOutputTokens;
}

const weatherTool = {
  type: "function" as const,
  name: "get_weather",
  description: "Weather for a city",
  parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
  strict: false,
};

describe.each(CASES)("through $name", ({ mock, type, wire, model }) => {
  let h: GatewayHarness;
  let p: Awaited<ReturnType<typeof addEntry>>;
  beforeAll(async () => {
    h = await gatewayHarness();
    p = await addEntry(h, mock, type);
  });
  afterAll(() => h.close());

  test("a text request with instructions answers a completed Response object", async () => {
    const { data, response } = await h.client().responses.create({ model, input: "hello", instructions: "Be brief." }).withResponse();
    expect(data.object).toBe("response");
    expect(data.id).toMatch(/^resp_/);
    expect(data.status).toBe("completed");
    expect(data.output_text).toBe("Echo: hello");
    expect(data.output[0]).toMatchObject({
      type: "message",
      role: "assistant",
      status: "completed",
      content: [{ type: "output_text", text: "Echo: hello", annotations: [] }],
    });
    expect(data.usage).toMatchObject({
      input_tokens: 10,
      output_tokens: 5,
      total_tokens: 15,
      input_tokens_details: { cached_tokens: 0 },
      output_tokens_details: { reasoning_tokens: 0 },
    });
    expect(data.instructions).toBe("Be brief.");
    expect(response.headers.get("x-perpetuo-provider")).toBe(p.name);
    expect(systemText(wire, p.mock.lastChatRequest()!.body)).toBe("Be brief.");
  });

  test("a streamed request sends the Responses events in order, with usage at the end", async () => {
    const stream = await h.client().responses.create({ model, input: [{ role: "user", content: "stream me" }], stream: true });
    const events: OpenAI.Responses.ResponseStreamEvent[] = [];
    for await (const e of stream) events.push(e);
    const types = events.map((e) => e.type);
    expect(types.slice(0, 4)).toEqual([
      "response.created",
      "response.in_progress",
      "response.output_item.added",
      "response.content_part.added",
    ]);
    expect(types.slice(-4)).toEqual([
      "response.output_text.done",
      "response.content_part.done",
      "response.output_item.done",
      "response.completed",
    ]);
    expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i));
    const text = events.flatMap((e) => (e.type === "response.output_text.delta" ? [e.delta] : [])).join("");
    expect(text).toBe("Echo: stream me");
    const done = events.at(-1) as OpenAI.Responses.ResponseCompletedEvent;
    expect(done.response.usage).toMatchObject({ input_tokens: 10, output_tokens: 5, total_tokens: 15 });
    expect(done.response.output[0]).toMatchObject({
      type: "message",
      status: "completed",
      content: [{ type: "output_text", text: "Echo: stream me" }],
    });
  });

  test("a tool call comes back as a function_call item, and its output goes back as function_call_output", async () => {
    p.mock.script({ toolCalls: [{ name: "get_weather", arguments: { city: "Paris" } }] });
    const first = await h.client().responses.create({ model, input: "weather in Paris?", tools: [weatherTool], tool_choice: "auto" });
    const call = first.output.find((o) => o.type === "function_call") as OpenAI.Responses.ResponseFunctionToolCall;
    expect(call).toMatchObject({ type: "function_call", name: "get_weather", status: "completed" });
    expect(JSON.parse(call.arguments)).toEqual({ city: "Paris" });
    expect(call.call_id.length).toBeGreaterThan(0);

    p.mock.script({ text: "It is sunny in Paris." });
    const second = await h.client().responses.create({
      model,
      tools: [weatherTool],
      input: [
        { role: "user", content: "weather in Paris?" },
        { type: "function_call", call_id: call.call_id, name: call.name, arguments: call.arguments },
        { type: "function_call_output", call_id: call.call_id, output: '{"sky":"sunny"}' },
      ],
    });
    expect(second.output_text).toBe("It is sunny in Paris.");
    expect(p.mock.lastChatRequest()!.rawBody).toContain("sunny");
  });

  test("a streamed tool call sends function_call_arguments events", async () => {
    p.mock.script({ toolCalls: [{ name: "get_weather", arguments: { city: "Oslo" } }] });
    const stream = await h.client().responses.create({ model, input: "weather in Oslo?", tools: [weatherTool], stream: true });
    const events: OpenAI.Responses.ResponseStreamEvent[] = [];
    for await (const e of stream) events.push(e);
    const args = events.flatMap((e) => (e.type === "response.function_call_arguments.delta" ? [e.delta] : [])).join("");
    expect(JSON.parse(args)).toEqual({ city: "Oslo" });
    const done = events.find(
      (e) => e.type === "response.function_call_arguments.done",
    ) as OpenAI.Responses.ResponseFunctionCallArgumentsDoneEvent;
    expect(JSON.parse(done.arguments)).toEqual({ city: "Oslo" });
    const completed = events.at(-1) as OpenAI.Responses.ResponseCompletedEvent;
    expect(completed.response.output.at(-1)).toMatchObject({ type: "function_call", name: "get_weather", arguments: args });
  });

  test("max_output_tokens reaches the provider, and a cut answer is incomplete", async () => {
    p.mock.script({ text: "Echo: partial", finishReason: "length" });
    const r = await h.client().responses.create({ model, input: "long story", max_output_tokens: 16 });
    expect(r.status).toBe("incomplete");
    expect(r.incomplete_details).toEqual({ reason: "max_output_tokens" });
    expect(r.output_text).toBe("Echo: partial");
    expect(maxTokens(wire, p.mock.lastChatRequest()!.body)).toBe(16);
  });

  test("a client that goes away mid-stream stops the provider's stream, and the log row says so", async () => {
    p.mock.script({ text: "a b c d e f g h i j k l m n o p", chunkDelayMs: 200 });
    const before = p.mock.abortedStreams();
    const ac = new AbortController();
    const res = await fetch(`${h.base}/v1/responses`, {
      method: "POST",
      signal: ac.signal,
      headers: { authorization: `Bearer ${h.key}`, "content-type": "application/json", "x-request-id": `gone-${type}` },
      body: JSON.stringify({ model, input: "x", stream: true }),
    });
    await res.body!.getReader().read();
    ac.abort();
    await waitUntil(() => p.mock.abortedStreams() === before + 1, 5000);
    await h.t.deps.logQueue.flush();
    const rows = await h.t.sql<{ status: number }[]>`select status from request_logs where request_id = ${`gone-${type}`}`;
    expect(rows.length).toBe(1);
    // Translated or relayed, a client leaving is 499 client_closed, not a provider failure.
    expect(rows[0].status).toBe(499);
  });

  test("an image input reaches the provider", async () => {
    const dataUrl = "data:image/png;base64,iVBORw0KGgo=";
    await h.client().responses.create({
      model,
      input: [
        {
          role: "user",
          content: [
            { type: "input_text", text: "what is this?" },
            { type: "input_image", image_url: dataUrl, detail: "auto" },
          ],
        },
      ],
    });
    expect(p.mock.lastChatRequest()!.rawBody).toContain("iVBORw0KGgo=");
  });
});

describe("request features translated for an OpenAI-compatible provider", () => {
  let h: GatewayHarness;
  let p: Awaited<ReturnType<typeof addEntry>>;
  beforeAll(async () => {
    h = await gatewayHarness();
    p = await addEntry(h, "openai", "openai_compatible");
  });
  afterAll(() => h.close());

  test("text.format json_schema becomes response_format, and the JSON answer comes back", async () => {
    p.mock.script({ text: '{"city":"Paris"}' });
    const schema = { type: "object", properties: { city: { type: "string" } }, required: ["city"], additionalProperties: false };
    const r = await h.client().responses.create({
      model: "gpt-4o-mini",
      input: "a city as JSON",
      text: { format: { type: "json_schema", name: "city", schema, strict: true } },
      temperature: 0.2,
      top_p: 0.9,
      reasoning: { effort: "low" },
      parallel_tool_calls: false,
      user: "u-1",
      store: false,
      metadata: { team: "a" },
    });
    expect(JSON.parse(r.output_text)).toEqual({ city: "Paris" });
    expect(r.metadata).toEqual({ team: "a" });
    expect(p.mock.lastChatRequest()!.body).toMatchObject({
      response_format: { type: "json_schema", json_schema: { name: "city", schema, strict: true } },
      temperature: 0.2,
      top_p: 0.9,
      reasoning_effort: "low",
      parallel_tool_calls: false,
      user: "u-1",
    });
    expect(p.mock.lastChatRequest()!.body).not.toHaveProperty("metadata");
  });

  test("a file input goes to the provider as a chat file part", async () => {
    await h.client().responses.create({
      model: "gpt-4o-mini",
      input: [{ role: "user", content: [{ type: "input_file", filename: "a.pdf", file_data: "data:application/pdf;base64,JVBERi0=" }] }],
    });
    const sent = p.mock.lastChatRequest()!.body as any;
    expect(sent.messages[0].content[0]).toEqual({
      type: "file",
      file: { filename: "a.pdf", file_data: "data:application/pdf;base64,JVBERi0=" },
    });
  });

  test("responses.stream() assembles the final response", async () => {
    const stream = h.client().responses.stream({ model: "gpt-4o-mini", input: "helper" });
    const final = await stream.finalResponse();
    expect(final.output_text).toBe("Echo: helper");
    expect(final.status).toBe("completed");
  });

  test("a failure after the stream started ends it with an error event", async () => {
    p.mock.script({ text: "one two three four", errorAfterChunks: 2, streamErrorMessage: "upstream broke" });
    const stream = await h.client().responses.create({ model: "gpt-4o-mini", input: "x", stream: true });
    const err = await (async () => {
      for await (const _ of stream);
    })().catch((e) => e);
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect(String(err.message)).toContain("upstream broke");
  });

  test.each([
    [{ previous_response_id: "resp_123" }, "previous_response_id", /stateless/],
    [{ tools: [weatherTool, { type: "web_search" }] }, "tools[1]", /built-in tool \('web_search'\)/],
    [
      { input: [{ role: "user", content: [{ type: "input_image", file_id: "file-1" }] }] },
      "input[0].content[0].file_id",
      /not supported: Perpetuo has no file storage/,
    ],
    [{ input: [{ role: "user", content: [{ type: "input_image" }] }] }, "input[0].content[0].image_url", /required/],
    [{ input: [{ role: "user", content: [{ type: "input_audio" }] }] }, "input[0].content[0]", /'input_audio'/],
    [{ input: [{ role: "tool", content: "x" }] }, "input[0]", /'tool'/],
    [{ input: 5 }, "input", /string or an array/],
    [{ input: [{ type: "item_reference", id: "msg_1" }] }, "input[0]", /only OpenAI can resolve.*store: false/],
    [{ input: [] }, "input", /at least one item/],
    [{ text: { format: { type: "yaml" } } }, "text.format", /'yaml'/],
    [{ max_output_tokens: 0 }, "max_output_tokens", /1/],
  ] as [Record<string, unknown>, string, RegExp][])("refuses %j with a 400 naming %s", async (over, param, message) => {
    const err = await h
      .client()
      .responses.create({ model: "gpt-4o-mini", input: "x", ...over } as OpenAI.Responses.ResponseCreateParamsNonStreaming)
      .catch((e) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect(err.error).toMatchObject({ type: "invalid_request_error", param });
    expect(err.error.message).toMatch(message);
  });

  test("a refused request still leaves a log row with the reason", async () => {
    const r = await h.t.call("POST", "/v1/responses", {
      token: h.key,
      headers: { "x-request-id": "responses-refused-1" },
      body: { model: "gpt-4o-mini", input: "x", tools: [{ type: "code_interpreter" }] },
    });
    expect(r.status).toBe(400);
    await h.t.deps.logQueue.flush();
    const [row] = await h.t.sql<{ status: number; error_class: string; error_message: string }[]>`
      select status, error_class, error_message from request_logs where request_id = 'responses-refused-1'`;
    expect(row).toMatchObject({ status: 400, error_class: "invalid_request" });
    expect(row.error_message).toContain("tools[0]");
  });

  test("an unknown model is a 404 in OpenAI's error shape", async () => {
    const h2 = await gatewayHarness();
    try {
      await h2.addProvider("openai", { models: ["gpt-4o-mini"] });
      const err = await h2
        .client()
        .responses.create({ model: "nope", input: "x" })
        .catch((e) => e);
      expect(err).toBeInstanceOf(OpenAI.NotFoundError);
      expect(err.error).toMatchObject({ code: "model_not_found", param: "model" });
    } finally {
      await h2.close();
    }
  });

  test("requests are logged with their tokens, streamed or not", async () => {
    await h.client().responses.create({ model: "gpt-4o-mini", input: "logged" }, { headers: { "x-request-id": "responses-log-1" } });
    const stream = await h
      .client()
      .responses.create({ model: "gpt-4o-mini", input: "logged", stream: true }, { headers: { "x-request-id": "responses-log-2" } });
    for await (const _ of stream);
    await h.t.deps.logQueue.flush();
    const rows = await h.t.sql<
      {
        request_id: string;
        status: number;
        stream: boolean;
        prompt_tokens: number;
        completion_tokens: number;
        provider_name: string;
        usage_estimated: boolean;
      }[]
    >`
      select request_id, status, stream, prompt_tokens, completion_tokens, provider_name, usage_estimated from request_logs
      where request_id in ('responses-log-1', 'responses-log-2') order by request_id`;
    expect([...rows]).toEqual([
      {
        request_id: "responses-log-1",
        status: 200,
        stream: false,
        prompt_tokens: 10,
        completion_tokens: 5,
        provider_name: p.name,
        usage_estimated: false,
      },
      {
        request_id: "responses-log-2",
        status: 200,
        stream: true,
        prompt_tokens: 10,
        completion_tokens: 5,
        provider_name: p.name,
        usage_estimated: false,
      },
    ]);
  });
});

describe("fallback", () => {
  test("a failing provider is skipped for the next one, streamed or not", async () => {
    const h = await gatewayHarness();
    try {
      const bad = await h.addProvider("openai", { priority: 1 }, { behaviour: { status: 500, errorMessage: "boom" } });
      const good = await h.addProvider("anthropic", { priority: 2 });
      const { data, response } = await h.client().responses.create({ model: "claude-haiku-4-5", input: "hi" }).withResponse();
      expect(data.output_text).toBe("Echo: hi");
      expect(response.headers.get("x-perpetuo-provider")).toBe(good.name);
      expect(response.headers.get("x-perpetuo-attempts")).toBe("2");

      h.t.deps.gateway.cooldowns.clear(bad.id);
      const stream = await h.client().responses.create({ model: "claude-haiku-4-5", input: "s", stream: true });
      let text = "";
      for await (const e of stream) if (e.type === "response.output_text.delta") text += e.delta;
      expect(text).toBe("Echo: s");
      expect(bad.mock!.chatRequests().length).toBe(2);
    } finally {
      await h.close();
    }
  });

  test("when every provider fails the client gets OpenAI's error shape", async () => {
    const h = await gatewayHarness();
    try {
      await h.addProvider("openai", {}, { behaviour: { status: 503 } });
      const err = await h
        .client()
        .responses.create({ model: "gpt-4o-mini", input: "hi" })
        .catch((e) => e);
      expect(err).toBeInstanceOf(OpenAI.APIError);
      expect(err.status).toBe(502);
      expect(err.error).toMatchObject({ code: "all_providers_failed" });
    } finally {
      await h.close();
    }
  });
});
