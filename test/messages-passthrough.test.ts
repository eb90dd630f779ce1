import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import Anthropic from "@anthropic-ai/sdk";
import { gatewayHarness, type GatewayHarness } from "./support/gateway.ts";

// Anthropic entries behind POST /v1/messages get the client's own body and answer with their own
// bytes, inside the same attempt loop as every other entry.

type Added = Awaited<ReturnType<GatewayHarness["addProvider"]>>;

describe("passthrough to Anthropic entries", () => {
  let h: GatewayHarness;
  let openai: Added;
  let claude: Added;
  let client: Anthropic;
  beforeAll(async () => {
    h = await gatewayHarness();
    // The OpenAI entry comes first and fails whenever a test scripts it to; the Anthropic one answers.
    openai = await h.addProvider("openai", { priority: 10, models: ["claude-*", "gpt-4o"] });
    claude = await h.addProvider("anthropic", { priority: 20, models: ["claude-*"], model_map: { "claude-latest": "claude-sonnet-4-5" } });
    client = new Anthropic({ apiKey: h.key, baseURL: h.base, maxRetries: 0, timeout: 20_000 });
  });
  afterAll(() => h.close());

  const fail = () => {
    h.t.deps.gateway.cooldowns.clear(openai.id);
    openai.mock!.script({ status: 503, errorMessage: "busy" });
  };

  test("the provider receives the client's body as sent, model mapped, with what translation would lose", async () => {
    fail();
    const sent = {
      model: "claude-latest",
      max_tokens: 2048,
      thinking: { type: "enabled", budget_tokens: 1024 },
      system: [{ type: "text", text: "S", cache_control: { type: "ephemeral" } }],
      metadata: { user_id: "u-7" },
      messages: [
        { role: "user", content: "first" },
        {
          role: "assistant",
          content: [
            { type: "thinking", thinking: "earlier thought", signature: "sig-abc" },
            { type: "text", text: "ok" },
          ],
        },
        { role: "user", content: [{ type: "text", text: "second", cache_control: { type: "ephemeral" } }] },
      ],
    };
    const r = await fetch(`${h.base}/v1/messages`, {
      method: "POST",
      headers: { "x-api-key": h.key, "content-type": "application/json", "anthropic-beta": "interleaved-thinking-2025-05-14" },
      body: JSON.stringify(sent),
    });
    expect(r.status).toBe(200);
    const got = claude.mock!.lastChatRequest()!;
    expect(got.body).toEqual({ ...sent, model: "claude-sonnet-4-5" });
    expect(got.headers["anthropic-beta"]).toBe("interleaved-thinking-2025-05-14");
    expect(got.headers["x-api-key"]).toStartWith("sk-anthropic-secret");
    const answer = (await r.json()) as { id: string; content: unknown[] };
    // The provider's own message, not a translation of it.
    expect(answer.id).toMatch(/^msg_mock/);
    expect(answer.content).toEqual([{ type: "text", text: "Echo: second" }]);
    expect(r.headers.get("x-perpetuo-provider")).toBe(claude.name);
    expect(r.headers.get("x-perpetuo-attempts")).toBe("2");
  });

  test("a stream is relayed event for event after a fallback, and logged with its usage", async () => {
    fail();
    const requestId = `relay-${crypto.randomUUID()}`;
    const r = await fetch(`${h.base}/v1/messages`, {
      method: "POST",
      headers: { "x-api-key": h.key, "content-type": "application/json", "x-request-id": requestId },
      body: JSON.stringify({ model: "claude-latest", max_tokens: 100, stream: true, messages: [{ role: "user", content: "relay this" }] }),
    });
    expect(r.status).toBe(200);
    const text = await r.text();
    const names = [...text.matchAll(/^event: (\w+)$/gm)].map((m) => m[1]);
    // The mock's own sequence, ping included, ending with message_stop.
    expect(names[0]).toBe("message_start");
    expect(names).toContain("ping");
    expect(names.at(-1)).toBe("message_stop");
    expect(text).toContain('"id":"msg_mock');
    expect(text).toContain('"cache_read_input_tokens":0');

    await h.t.deps.logQueue.flush();
    const [row] = await h.t
      .sql`select status, stream, prompt_tokens, completion_tokens, provider_name, attempts from request_logs where request_id = ${requestId}`;
    expect(row).toMatchObject({ status: 200, stream: true, prompt_tokens: 10, completion_tokens: 5, provider_name: claude.name });
    expect((row.attempts as { provider_name: string }[]).map((a) => a.provider_name)).toEqual([openai.name, claude.name]);
  });

  test("the SDK's messages.stream() reads a relayed stream to its final message", async () => {
    fail();
    const msg = await client.messages
      .stream({ model: "claude-latest", max_tokens: 100, messages: [{ role: "user", content: "sdk relay" }] })
      .finalMessage();
    expect(msg.id).toMatch(/^msg_mock/);
    expect(msg.content).toMatchObject([{ type: "text", text: "Echo: sdk relay" }]);
    expect(msg.usage).toMatchObject({ input_tokens: 10, output_tokens: 5 });
  });

  test("a relayed stream that fails after content ends with the gateway's error event, never the upstream's raw one", async () => {
    fail();
    claude.mock!.script({ errorAfterChunks: 4, streamErrorType: "overloaded_error", streamErrorMessage: "upstream overloaded" });
    const r = await fetch(`${h.base}/v1/messages`, {
      method: "POST",
      headers: { "x-api-key": h.key, "content-type": "application/json" },
      body: JSON.stringify({
        model: "claude-latest",
        max_tokens: 100,
        stream: true,
        messages: [{ role: "user", content: "one two three four" }],
      }),
    });
    const text = await r.text();
    expect(text).toContain("event: content_block_delta");
    expect(text.match(/^event: error$/gm)?.length).toBe(1);
    expect(text).toMatch(/event: error\ndata: \{"type":"error","error":\{"type":"overloaded_error","message":"[^"]*upstream overloaded/);
    expect(text).not.toContain("message_stop");
  });

  test("a server tool goes to the Anthropic entry only; with none serving the model it is a 400 naming the tool", async () => {
    h.t.deps.gateway.cooldowns.clear(openai.id);
    const before = openai.mock!.chatRequests().length;
    const tools = [{ type: "web_search_20250305", name: "web_search", max_uses: 2 }];
    const r = await fetch(`${h.base}/v1/messages`, {
      method: "POST",
      headers: { "x-api-key": h.key, "content-type": "application/json" },
      body: JSON.stringify({ model: "claude-latest", max_tokens: 100, tools, messages: [{ role: "user", content: "search the news" }] }),
    });
    expect(r.status).toBe(200);
    expect(r.headers.get("x-perpetuo-provider")).toBe(claude.name);
    expect((claude.mock!.lastChatRequest()!.body as { tools: unknown }).tools).toEqual(tools);
    expect(openai.mock!.chatRequests().length).toBe(before);

    const refused = await fetch(`${h.base}/v1/messages`, {
      method: "POST",
      headers: { "x-api-key": h.key, "content-type": "application/json" },
      body: JSON.stringify({ model: "gpt-4o", max_tokens: 100, tools, messages: [{ role: "user", content: "search" }] }),
    });
    expect(refused.status).toBe(400);
    const e = ((await refused.json()) as { error: { type: string; message: string } }).error;
    expect(e.type).toBe("invalid_request_error");
    expect(e.message).toContain("tools[0]");
    expect(openai.mock!.chatRequests().length).toBe(before);
  });

  test("thinking blocks are relayed, and a long think counts as content, not as waiting for the first token", async () => {
    // Blocks arrive 300 ms apart; the entry allows 1 s to the first content. The text starts
    // well after that, the thinking block well before.
    const thinker = await h.addProvider(
      "anthropic",
      { priority: 5, models: ["claude-thinker"], timeout_ms: 1000 },
      { behaviour: { reasoningText: "let me think this through", chunkDelayMs: 300 } },
    );
    const msg = await client.messages
      .stream({
        model: "claude-thinker",
        max_tokens: 2048,
        thinking: { type: "enabled", budget_tokens: 1024 },
        messages: [{ role: "user", content: "think" }],
      })
      .finalMessage();
    expect(msg.content[0]).toMatchObject({
      type: "thinking",
      thinking: "let me think this through",
      signature: expect.stringMatching(/^sig_mock/),
    });
    expect(msg.content[1]).toMatchObject({ type: "text", text: "Echo: think" });
    expect(thinker.mock!.chatRequests().length).toBe(1);
  });

  test("when the Anthropic entry fails, the translated path to another type still answers", async () => {
    h.t.deps.gateway.cooldowns.clear(openai.id);
    openai.mock!.script({ status: 503 });
    claude.mock!.script({ status: 529, errorType: "overloaded_error" });
    const third = await h.addProvider("gemini", { priority: 30, models: ["claude-*"] });
    const msg = await client.messages.create({ model: "claude-latest", max_tokens: 50, messages: [{ role: "user", content: "anyone?" }] });
    expect(msg.id).not.toMatch(/^msg_mock/);
    expect(msg.content).toMatchObject([{ type: "text", text: "Echo: anyone?" }]);
    expect(third.mock!.chatRequests().length).toBe(1);
  });
});
