import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import Anthropic from "@anthropic-ai/sdk";
import { gatewayHarness, type GatewayHarness } from "./support/gateway.ts";
import { waitUntil, type MockKind, type MockUpstream, type RecordedRequest } from "./support/mock-upstreams.ts";
import { waitFor } from "./support/logs.ts";

// POST /v1/messages over real HTTP: the official Anthropic SDK → Perpetuo → mock upstreams that
// speak each provider's wire format.

const MODEL: Record<MockKind, string> = { openai: "gpt-4o-mini", anthropic: "claude-sonnet-4-5", gemini: "gemini-2.5-flash" };
const PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";
const WEATHER_TOOL = {
  name: "get_weather",
  description: "Weather for a city",
  input_schema: { type: "object" as const, properties: { city: { type: "string" } }, required: ["city"] },
};

function anthropic(h: GatewayHarness, apiKey = h.key): Anthropic {
  return new Anthropic({ apiKey, baseURL: h.base, maxRetries: 0, timeout: 20_000 });
}

function body(r: RecordedRequest): Record<string, any> {
  return r.body as Record<string, any>;
}

/** What the upstream received as the system prompt, in its own wire format. */
function systemOf(kind: MockKind, r: RecordedRequest): string {
  const b = body(r);
  const text = (c: string | { text: string }[]) => (typeof c === "string" ? c : c.map((s) => s.text).join(""));
  if (kind === "openai") return b.messages[0].role === "system" ? text(b.messages[0].content) : "";
  if (kind === "anthropic") return text(b.system);
  return b.systemInstruction.parts.map((p: { text: string }) => p.text).join("");
}

function stopOf(kind: MockKind, r: RecordedRequest): unknown {
  const b = body(r);
  return kind === "openai" ? b.stop : kind === "anthropic" ? b.stop_sequences : b.generationConfig.stopSequences;
}

describe.each(["openai", "anthropic", "gemini"] as MockKind[])("to a provider of type %s", (kind) => {
  let h: GatewayHarness;
  let mock: MockUpstream;
  const model = MODEL[kind];
  beforeAll(async () => {
    h = await gatewayHarness();
    mock = (await h.addProvider(kind, { models: [model] })).mock!;
  });
  afterAll(() => h.close());

  test("a plain message comes back as an Anthropic message with usage and the gateway's headers", async () => {
    const { data, response } = await anthropic(h)
      .messages.create({ model, max_tokens: 100, messages: [{ role: "user", content: "hello" }] })
      .withResponse();
    expect(data.id).toMatch(/^msg_/);
    expect(data).toMatchObject({ type: "message", role: "assistant", stop_reason: "end_turn", stop_sequence: null });
    expect(data.content as unknown[]).toEqual([{ type: "text", text: "Echo: hello" }]);
    expect(data.usage).toMatchObject({ input_tokens: 10, output_tokens: 5 });
    expect(response.headers.get("x-perpetuo-provider")).toStartWith(kind);
    expect(response.headers.get("request-id")).toBe(response.headers.get("x-request-id"));
  });

  test("the system prompt, stop sequences and sampling reach the provider", async () => {
    await anthropic(h).messages.create({
      model,
      max_tokens: 50,
      system: [{ type: "text", text: "Be brief.", cache_control: { type: "ephemeral" } }],
      stop_sequences: ["END"],
      // Still part of the Messages API for older models, though this SDK version no longer types it.
      ...({ temperature: 0.5 } as {}),
      messages: [{ role: "user", content: "hi" }],
    });
    const sent = mock.lastChatRequest()!;
    expect(systemOf(kind, sent)).toBe("Be brief.");
    expect(stopOf(kind, sent)).toEqual(["END"]);
    if (kind === "openai") {
      // OpenAI's newer models want max_completion_tokens, and its API knows no cache_control.
      expect(body(sent).max_completion_tokens).toBe(50);
      expect(JSON.stringify(body(sent))).not.toContain("cache_control");
    }
    if (kind === "anthropic") expect(body(sent)).toMatchObject({ max_tokens: 50, temperature: 0.5 });
  });

  test("a stream read with messages.stream().finalMessage() has the text, stop reason and usage", async () => {
    const stream = anthropic(h).messages.stream({ model, max_tokens: 100, messages: [{ role: "user", content: "stream me please" }] });
    let deltas = "";
    stream.on("text", (t) => (deltas += t));
    const msg = await stream.finalMessage();
    expect(deltas).toBe("Echo: stream me please");
    expect(msg.content as unknown[]).toEqual([{ type: "text", text: "Echo: stream me please" }]);
    expect(msg.stop_reason).toBe("end_turn");
    expect(msg.usage).toMatchObject({ input_tokens: 10, output_tokens: 5 });
    expect(msg.id).toMatch(/^msg_/);
  });

  test("tools round-trip: tool_use out, tool_result back in, streamed and not", async () => {
    mock.script({ toolCalls: [{ name: "get_weather", arguments: { city: "Paris" } }] });
    const first = await anthropic(h).messages.create({
      model,
      max_tokens: 100,
      tools: [WEATHER_TOOL],
      tool_choice: { type: "auto" },
      messages: [{ role: "user", content: "weather in Paris?" }],
    });
    expect(first.stop_reason).toBe("tool_use");
    const use = first.content.find((b) => b.type === "tool_use");
    if (use?.type !== "tool_use") throw new Error("expected a tool_use block");
    expect(use).toMatchObject({ name: "get_weather", input: { city: "Paris" } });

    const second = await anthropic(h).messages.create({
      model,
      max_tokens: 100,
      tools: [WEATHER_TOOL],
      messages: [
        { role: "user", content: "weather in Paris?" },
        { role: "assistant", content: first.content },
        { role: "user", content: [{ type: "tool_result", tool_use_id: use.id, content: "sunny, 21C" }] },
      ],
    });
    expect(second.stop_reason).toBe("end_turn");
    const sent = JSON.stringify(body(mock.lastChatRequest()!));
    expect(sent).toContain("sunny, 21C");
    expect(sent).toContain("get_weather");

    mock.script({ toolCalls: [{ name: "get_weather", arguments: { city: "Oslo" } }] });
    const streamed = await anthropic(h)
      .messages.stream({ model, max_tokens: 100, tools: [WEATHER_TOOL], messages: [{ role: "user", content: "and Oslo?" }] })
      .finalMessage();
    expect(streamed.stop_reason).toBe("tool_use");
    expect(streamed.content.find((b) => b.type === "tool_use")).toMatchObject({
      type: "tool_use",
      name: "get_weather",
      input: { city: "Oslo" },
    });
  });

  test("an image reaches the provider in its own format", async () => {
    await anthropic(h).messages.create({
      model,
      max_tokens: 20,
      messages: [
        {
          role: "user",
          content: [
            { type: "image", source: { type: "base64", media_type: "image/png", data: PNG } },
            { type: "text", text: "what is this?" },
          ],
        },
      ],
    });
    const sent = body(mock.lastChatRequest()!);
    if (kind === "openai")
      expect(sent.messages[0].content[0]).toEqual({ type: "image_url", image_url: { url: `data:image/png;base64,${PNG}` } });
    if (kind === "anthropic")
      expect(sent.messages[0].content[0]).toEqual({ type: "image", source: { type: "base64", media_type: "image/png", data: PNG } });
    if (kind === "gemini") expect(sent.contents[0].parts[0]).toEqual({ inlineData: { mimeType: "image/png", data: PNG } });
  });

  test("a prefilled assistant turn is continued by Anthropic entries and refused by name elsewhere", async () => {
    const params = {
      model,
      max_tokens: 20,
      messages: [
        { role: "user" as const, content: "JSON please" },
        { role: "assistant" as const, content: "{" },
      ],
    };
    if (kind === "anthropic") {
      await anthropic(h).messages.create(params);
      expect(body(mock.lastChatRequest()!).messages.at(-1)).toEqual({ role: "assistant", content: "{" });
      return;
    }
    const before = mock.chatRequests().length;
    const err = await anthropic(h)
      .messages.create(params)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.BadRequestError);
    expect((err as InstanceType<typeof Anthropic.BadRequestError>).message).toContain("prefill");
    expect(mock.chatRequests().length).toBe(before);
  });

  test("an answer cut by max_tokens stops with max_tokens, streamed and not", async () => {
    mock.script({ finishReason: "length", text: "cut sh" }, { finishReason: "length", text: "cut sh" });
    const plain = await anthropic(h).messages.create({ model, max_tokens: 3, messages: [{ role: "user", content: "long story" }] });
    expect(plain.stop_reason).toBe("max_tokens");
    const streamed = await anthropic(h)
      .messages.stream({ model, max_tokens: 3, messages: [{ role: "user", content: "long story" }] })
      .finalMessage();
    expect(streamed.stop_reason).toBe("max_tokens");
    expect(streamed.content as unknown[]).toEqual([{ type: "text", text: "cut sh" }]);
  });
});

describe("fallback, errors and logs", () => {
  let h: GatewayHarness;
  let failing: Awaited<ReturnType<GatewayHarness["addProvider"]>>;
  let healthy: Awaited<ReturnType<GatewayHarness["addProvider"]>>;
  beforeAll(async () => {
    h = await gatewayHarness();
    failing = await h.addProvider(
      "anthropic",
      { priority: 10, models: ["claude-*"] },
      { behaviour: { status: 500, errorMessage: "boom" } },
    );
    healthy = await h.addProvider("openai", { priority: 20, models: ["claude-*"], model_map: { "claude-sonnet-4-5": "gpt-4o" } });
  });
  afterAll(() => h.close());

  test("a failing provider is fallen back from, streamed and not", async () => {
    const { data, response } = await anthropic(h)
      .messages.create({ model: "claude-sonnet-4-5", max_tokens: 10, messages: [{ role: "user", content: "hi" }] })
      .withResponse();
    expect(data.content as unknown[]).toEqual([{ type: "text", text: "Echo: hi" }]);
    expect(response.headers.get("x-perpetuo-provider")).toBe(healthy.name);
    expect(response.headers.get("x-perpetuo-attempts")).toBe("2");
    expect(body(healthy.mock!.lastChatRequest()!).model).toBe("gpt-4o");

    h.t.deps.gateway.cooldowns.clear(failing.id);
    const before = failing.mock!.chatRequests().length;
    const streamed = await anthropic(h)
      .messages.stream({ model: "claude-sonnet-4-5", max_tokens: 10, messages: [{ role: "user", content: "again" }] })
      .finalMessage();
    expect(streamed.content as unknown[]).toEqual([{ type: "text", text: "Echo: again" }]);
    expect(failing.mock!.chatRequests().length).toBe(before + 1);
  });

  test("the gateway key works as x-api-key and as Authorization: Bearer", async () => {
    // Claude Code adds ?beta=true to the path.
    const viaBearer = await fetch(`${h.base}/v1/messages?beta=true`, {
      method: "POST",
      headers: { authorization: `Bearer ${h.key}`, "content-type": "application/json", "anthropic-version": "2023-06-01" },
      body: JSON.stringify({ model: "claude-sonnet-4-5", max_tokens: 10, messages: [{ role: "user", content: "x" }] }),
    });
    expect(viaBearer.status).toBe(200);
    expect(((await viaBearer.json()) as { type: string }).type).toBe("message");
    // x-api-key opens the rest of /v1 too; a wrong Authorization is not rescued by a right x-api-key.
    expect((await fetch(`${h.base}/v1/models`, { headers: { "x-api-key": h.key } })).status).toBe(200);
    const both = await fetch(`${h.base}/v1/models`, {
      headers: { "x-api-key": h.key, authorization: "Bearer prp_wrong000000000000000000000000000000000000" },
    });
    expect(both.status).toBe(401);
  });

  test("a bad key is a 401 authentication_error in Anthropic's shape", async () => {
    const err = await anthropic(h, "prp_notarealkey00000000000000000000000000000000")
      .messages.create({ model: "claude-sonnet-4-5", max_tokens: 10, messages: [{ role: "user", content: "x" }] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.AuthenticationError);
    expect((err as InstanceType<typeof Anthropic.AuthenticationError>).status).toBe(401);
    expect((err as InstanceType<typeof Anthropic.AuthenticationError>).error).toMatchObject({
      type: "error",
      error: { type: "authentication_error" },
    });
  });

  test.each([
    [{ model: "claude-sonnet-4-5", messages: [{ role: "user", content: "x" }] }, "max_tokens"],
    [{ model: "claude-sonnet-4-5", max_tokens: 5, messages: [{ role: "system", content: "x" }] }, "messages[0].role"],
    [{ model: "claude-sonnet-4-5", max_tokens: 5, messages: [{ role: "user", content: "x" }], temperature: 1.5 }, "temperature"],
    [{ model: "claude-sonnet-4-5", max_tokens: 5, messages: [{ role: "user", content: "x" }], betas: ["x"] }, "betas"],
    [
      { model: "claude-sonnet-4-5", max_tokens: 5, messages: [{ role: "user", content: [{ type: "video" }] }] },
      "messages[0].content[0].type",
    ],
  ])("an invalid body %j is a 400 invalid_request_error naming %s", async (payload, field) => {
    const r = await fetch(`${h.base}/v1/messages`, {
      method: "POST",
      headers: { "x-api-key": h.key, "content-type": "application/json" },
      body: JSON.stringify(payload),
    });
    expect(r.status).toBe(400);
    const b = (await r.json()) as { type: string; error: { type: string; message: string } };
    expect(b.type).toBe("error");
    expect(b.error.type).toBe("invalid_request_error");
    expect(b.error.message).toContain(field);
  });

  test("the SDK sees an invalid body as a BadRequestError, an unknown model as a NotFoundError", async () => {
    const bad = await anthropic(h)
      .messages.create({ model: "claude-sonnet-4-5", max_tokens: 0, messages: [{ role: "user", content: "x" }] })
      .catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(Anthropic.BadRequestError);
    const missing = await anthropic(h)
      .messages.create({ model: "no-such-model", max_tokens: 5, messages: [{ role: "user", content: "x" }] })
      .catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(Anthropic.NotFoundError);
    expect((missing as InstanceType<typeof Anthropic.NotFoundError>).error).toMatchObject({ error: { type: "not_found_error" } });
  });

  test("a provider failing after content ends the stream with Anthropic's error event", async () => {
    healthy.mock!.script({ errorAfterChunks: 3, streamErrorMessage: "upstream fell over" });
    h.t.deps.gateway.cooldowns.clear(healthy.id);
    const raw = await fetch(`${h.base}/v1/messages`, {
      method: "POST",
      headers: { "x-api-key": h.key, "content-type": "application/json" },
      body: JSON.stringify({
        model: "claude-haiku-4-5",
        max_tokens: 50,
        stream: true,
        messages: [{ role: "user", content: "one two three four five" }],
      }),
    });
    expect(raw.status).toBe(200);
    expect(raw.headers.get("content-type")).toStartWith("text/event-stream");
    const text = await raw.text();
    expect(text).toContain("event: content_block_delta");
    expect(text).toMatch(/event: error\ndata: \{"type":"error","error":\{"type":"api_error","message":"[^"]*upstream fell over/);
    expect(text).not.toContain("message_stop");

    healthy.mock!.script({ errorAfterChunks: 3 });
    const err = await anthropic(h)
      .messages.stream({ model: "claude-haiku-4-5", max_tokens: 50, messages: [{ role: "user", content: "one two three four five" }] })
      .finalMessage()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.APIError);
  });

  test("a client that leaves a stream aborts the upstream, and the request still gets its log row", async () => {
    const slow = await h.addProvider(
      "openai",
      { models: ["slow-stream"] },
      { behaviour: { text: "a b c d e f g h i j k l m n o p", chunkDelayMs: 200 } },
    );
    const requestId = `messages-left-${crypto.randomUUID()}`;
    const ac = new AbortController();
    const res = await fetch(`${h.base}/v1/messages`, {
      method: "POST",
      signal: ac.signal,
      headers: { "x-api-key": h.key, "content-type": "application/json", "x-request-id": requestId },
      body: JSON.stringify({ model: "slow-stream", max_tokens: 50, stream: true, messages: [{ role: "user", content: "x" }] }),
    });
    await res.body!.getReader().read();
    ac.abort();
    await waitUntil(() => slow.mock!.abortedStreams() === 1, 5000);
    let rows: Record<string, any>[] = [];
    await waitFor("the closed stream's log row", async () => {
      await h.t.deps.logQueue.flush();
      rows = await h.t.sql`select status, provider_name from request_logs where request_id = ${requestId}`;
      return rows.length > 0;
    });
    // (Its status is whatever proxyChat records for a client that leaves; /v1/chat/completions does the same.)
    expect(rows.length).toBe(1);
    expect(rows[0].provider_name).toBe(slow.name);
  });

  test("a refused request is logged too", async () => {
    const id = `messages-refused-${crypto.randomUUID()}`;
    const r = await fetch(`${h.base}/v1/messages`, {
      method: "POST",
      headers: { "x-api-key": h.key, "content-type": "application/json", "x-request-id": id },
      body: JSON.stringify({ model: "claude-sonnet-4-5", messages: [{ role: "user", content: "x" }] }),
    });
    expect(r.status).toBe(400);
    // The refusal is recorded after the answer is sent.
    let rows: Record<string, any>[] = [];
    await waitFor("the refusal's log row", async () => {
      await h.t.deps.logQueue.flush();
      rows = await h.t.sql`select status, error_class, error_message from request_logs where request_id = ${id}`;
      return rows.length > 0;
    });
    expect(rows.length).toBe(1);
    expect(rows[0]).toMatchObject({ status: 400, error_class: "invalid_request" });
    expect(rows[0].error_message).toContain("max_tokens");
  });

  test("count_tokens estimates the prompt through the SDK, grows with it, knows no unserved model and logs nothing", async () => {
    const requestId = `count-${crypto.randomUUID()}`;
    const short = await anthropic(h).messages.countTokens(
      { model: "claude-sonnet-4-5", messages: [{ role: "user", content: "hi" }] },
      { headers: { "x-request-id": requestId } },
    );
    const long = await anthropic(h).messages.countTokens({
      model: "claude-sonnet-4-5",
      system: "You are a careful assistant. ".repeat(20),
      tools: [WEATHER_TOOL],
      messages: [{ role: "user", content: "hi ".repeat(200) }],
    });
    expect(short.input_tokens).toBeGreaterThan(0);
    expect(long.input_tokens).toBeGreaterThan(short.input_tokens + 150);
    const missing = await anthropic(h)
      .messages.countTokens({ model: "no-such-model", messages: [{ role: "user", content: "x" }] })
      .catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(Anthropic.NotFoundError);
    await h.t.deps.logQueue.flush();
    expect((await h.t.sql`select 1 from request_logs where request_id = ${requestId}`).length).toBe(0);
  });

  test("every request leaves one log row with its tokens", async () => {
    const id = `messages-log-${crypto.randomUUID()}`;
    await anthropic(h).messages.create(
      { model: "claude-sonnet-4-5", max_tokens: 10, messages: [{ role: "user", content: "log me" }] },
      { headers: { "x-request-id": id } },
    );
    const streamId = `${id}-stream`;
    await anthropic(h)
      .messages.stream(
        { model: "claude-sonnet-4-5", max_tokens: 10, messages: [{ role: "user", content: "log me too" }] },
        { headers: { "x-request-id": streamId } },
      )
      .finalMessage();
    await h.t.deps.logQueue.flush();
    const rows = await h.t
      .sql`select request_id, status, stream, prompt_tokens, completion_tokens, model_requested, provider_name from request_logs where request_id in (${id}, ${streamId}) order by stream`;
    expect(rows.length).toBe(2);
    for (const row of rows) {
      expect(row).toMatchObject({
        status: 200,
        prompt_tokens: 10,
        completion_tokens: 5,
        model_requested: "claude-sonnet-4-5",
        provider_name: healthy.name,
      });
    }
    expect(rows.map((r) => r.stream)).toEqual([false, true]);
  });
});
