import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import OpenAI from "openai";
import { gatewayHarness, type GatewayHarness } from "./support/gateway.ts";
import type { MockKind } from "./support/mock-upstreams.ts";

// POST /v1/responses with provider entries of type openai: OpenAI's own Responses API gets the
// request (src/gateway/inbound/responses-native.ts). Over real HTTP: the OpenAI SDK → Perpetuo →
// mock upstreams (the openai mock speaks /v1/responses, test/support/mock-responses.ts).

async function entry(h: GatewayHarness, kind: MockKind, body: Record<string, unknown> = {}) {
  const p = await h.addProvider(kind, body);
  return { ...p, mock: p.mock! };
}

describe("an OpenAI provider gets the Responses request itself", () => {
  let h: GatewayHarness;
  let p: Awaited<ReturnType<typeof entry>>;
  beforeAll(async () => {
    h = await gatewayHarness();
    p = await entry(h, "openai", { model_map: { fast: "gpt-4o-mini" } });
  });
  afterAll(() => h.close());

  test("the body goes to /v1/responses as sent, with only the model mapped, and the answer comes back as OpenAI gave it", async () => {
    const body = {
      model: "fast",
      input: "hi",
      instructions: "x",
      store: false,
      include: ["reasoning.encrypted_content"],
      truncation: "auto",
      metadata: { a: "b" },
    };
    const r = await h.client().responses.create(body as OpenAI.Responses.ResponseCreateParamsNonStreaming);
    const sent = p.mock.lastChatRequest()!;
    expect(sent.pathname).toBe("/v1/responses");
    expect(sent.body).toEqual({ ...body, model: "gpt-4o-mini" });
    // The provider's own ids: relayed, not rebuilt.
    expect(r.id).toMatch(/^resp_mock\d+$/);
    expect(r.output_text).toBe("Echo: hi");
  });

  test("a non-streamed answer is logged with the usage OpenAI reported", async () => {
    p.mock.script({ usage: { prompt: 21, completion: 8, cacheRead: 4, reasoning: 3 } });
    await h.client().responses.create({ model: "fast", input: "count me" }, { headers: { "x-request-id": "native-json-1" } });
    await h.t.deps.logQueue.flush();
    const [row] = await h.t.sql<
      { prompt_tokens: number; completion_tokens: number; cached_tokens: number; reasoning_tokens: number; model_requested: string }[]
    >`
      select prompt_tokens, completion_tokens, cached_tokens, reasoning_tokens, model_requested from request_logs where request_id = 'native-json-1'`;
    expect({ ...row }).toEqual({ prompt_tokens: 21, completion_tokens: 8, cached_tokens: 4, reasoning_tokens: 3, model_requested: "fast" });
  });

  test("a streamed answer is relayed event by event and logged with its usage", async () => {
    const stream = await h
      .client()
      .responses.create({ model: "gpt-4o-mini", input: "relay me", stream: true }, { headers: { "x-request-id": "native-stream-1" } });
    const events: OpenAI.Responses.ResponseStreamEvent[] = [];
    for await (const e of stream) events.push(e);
    expect(events[0]).toMatchObject({ type: "response.created", response: { id: expect.stringMatching(/^resp_mock/) } });
    expect(events.flatMap((e) => (e.type === "response.output_text.delta" ? [e.delta] : [])).join("")).toBe("Echo: relay me");
    expect(events.at(-1)!.type).toBe("response.completed");
    await h.t.deps.logQueue.flush();
    const [row] = await h.t.sql<
      { status: number; stream: boolean; prompt_tokens: number; completion_tokens: number; usage_estimated: boolean }[]
    >`
      select status, stream, prompt_tokens, completion_tokens, usage_estimated from request_logs where request_id = 'native-stream-1'`;
    expect({ ...row }).toEqual({ status: 200, stream: true, prompt_tokens: 10, completion_tokens: 5, usage_estimated: false });
  });

  test("a stream the provider breaks off after content ends with its error event, and the log row says so", async () => {
    p.mock.script({ text: "one two three", errorAfterChunks: 4, streamErrorMessage: "native broke" });
    const stream = await h
      .client()
      .responses.create({ model: "gpt-4o-mini", input: "x", stream: true }, { headers: { "x-request-id": "native-broken-1" } });
    const err = await (async () => {
      for await (const _ of stream);
    })().catch((e) => e);
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect(String(err.message)).toContain("native broke");
    await h.t.deps.logQueue.flush();
    const [row] = await h.t.sql<
      { status: number; error_class: string }[]
    >`select status, error_class from request_logs where request_id = 'native-broken-1'`;
    expect({ ...row }).toEqual({ status: 502, error_class: "stream_error" });
  });

  test("OpenAI's own 400 comes back to the client unchanged in shape", async () => {
    p.mock.script({ status: 400, errorMessage: "Invalid 'input': bad.", errorType: "invalid_value" });
    const err = await h
      .client()
      .responses.create({ model: "gpt-4o-mini", input: "x" })
      .catch((e) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect(err.error).toMatchObject({ message: "Invalid 'input': bad.", code: "invalid_value" });
  });

  test("item references go to OpenAI; entries that would need a translation are skipped for them", async () => {
    const h2 = await gatewayHarness();
    try {
      const gemini = await entry(h2, "gemini", { priority: 1 });
      const openai = await entry(h2, "openai", { priority: 2 });
      const input = [
        { role: "user", content: "one" },
        { type: "item_reference", id: "msg_abc" },
        { role: "user", content: "two" },
      ];
      const { data, response } = await h2
        .client()
        .responses.create({ model: "gpt-4o-mini", input } as OpenAI.Responses.ResponseCreateParamsNonStreaming)
        .withResponse();
      expect(data.output_text).toBe("Echo: two");
      expect(response.headers.get("x-perpetuo-provider")).toBe(openai.name);
      expect(gemini.mock.chatRequests().length).toBe(0);
      expect((openai.mock.lastChatRequest()!.body as any).input[1]).toEqual({ type: "item_reference", id: "msg_abc" });
    } finally {
      await h2.close();
    }
  });

  test("a stream that fails before content falls back to a translated provider", async () => {
    const h2 = await gatewayHarness();
    try {
      const first = await entry(h2, "openai", { priority: 1 });
      const second = await entry(h2, "gemini", { priority: 2 });
      first.mock.script({ errorAfterChunks: 2, streamErrorMessage: "overloaded" });
      const { data: stream, response } = await h2
        .client()
        .responses.create({ model: "gemini-2.5-flash", input: "fall", stream: true })
        .withResponse();
      let text = "";
      for await (const e of stream) if (e.type === "response.output_text.delta") text += e.delta;
      expect(text).toBe("Echo: fall");
      expect(response.headers.get("x-perpetuo-provider")).toBe(second.name);
      expect(response.headers.get("x-perpetuo-attempts")).toBe("2");
    } finally {
      await h2.close();
    }
  });
});
