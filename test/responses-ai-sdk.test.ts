import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { APICallError, generateText, jsonSchema, stepCountIs, streamText, tool } from "ai";
import { createOpenAI } from "@ai-sdk/openai";
import { gatewayHarness, type GatewayHarness } from "./support/gateway.ts";

// The Vercel AI SDK's default OpenAI model object calls POST /v1/responses; these run it against
// Perpetuo (over real HTTP) with mock upstreams behind.

describe("the Vercel AI SDK's openai(model)", () => {
  let h: GatewayHarness;
  let anthropic: Awaited<ReturnType<GatewayHarness["addProvider"]>>;
  let model: ReturnType<ReturnType<typeof createOpenAI>>;
  beforeAll(async () => {
    h = await gatewayHarness();
    // The model is served by an Anthropic entry: the client's Responses call is translated twice.
    anthropic = await h.addProvider("anthropic", { models: ["claude-haiku-4-5"], model_map: { "gpt-4o-mini": "claude-haiku-4-5" } });
    model = createOpenAI({ apiKey: h.key, baseURL: `${h.base}/v1` })("gpt-4o-mini");
  });
  afterAll(() => h.close());

  test("generateText gets the text and the usage", async () => {
    const r = await generateText({ model, prompt: "hello", maxRetries: 0 });
    expect(r.text).toBe("Echo: hello");
    expect(r.usage.inputTokens).toBe(10);
    expect(r.usage.outputTokens).toBe(5);
    expect(r.finishReason).toBe("stop");
    expect(anthropic.mock!.lastChatRequest()!.pathname).toBe("/v1/messages");
  });

  test("streamText streams the text", async () => {
    const r = streamText({ model, system: "Be brief.", prompt: "stream please", maxRetries: 0 });
    let text = "";
    for await (const delta of r.textStream) text += delta;
    expect(text).toBe("Echo: stream please");
    expect((await r.usage).outputTokens).toBe(5);
    expect(anthropic.mock!.lastChatRequest()!.body).toMatchObject({ system: expect.anything() });
  });

  test("a multi-turn conversation needs store: false, since the SDK otherwise sends earlier turns by reference", async () => {
    const first = await generateText({ model, prompt: "turn one", maxRetries: 0 });
    const messages = [
      { role: "user" as const, content: "turn one" },
      ...first.response.messages,
      { role: "user" as const, content: "turn two" },
    ];
    const refused = await generateText({ model, messages, maxRetries: 0 }).catch((e) => e);
    expect(refused).toBeInstanceOf(APICallError);
    expect(refused.statusCode).toBe(400);
    expect(refused.message).toContain("store: false");
    const r = await generateText({ model, messages, maxRetries: 0, providerOptions: { openai: { store: false } } });
    expect(r.text).toBe("Echo: turn two");
    expect(JSON.stringify(anthropic.mock!.lastChatRequest()!.body)).toContain("Echo: turn one");
  });

  test("with an OpenAI entry the SDK's default references to earlier turns reach OpenAI", async () => {
    const h2 = await gatewayHarness();
    try {
      const p = await h2.addProvider("openai");
      const m = createOpenAI({ apiKey: h2.key, baseURL: `${h2.base}/v1` })("gpt-4o-mini");
      const first = await generateText({ model: m, prompt: "turn one", maxRetries: 0 });
      const r = await generateText({
        model: m,
        messages: [{ role: "user", content: "turn one" }, ...first.response.messages, { role: "user", content: "turn two" }],
        maxRetries: 0,
      });
      expect(r.text).toBe("Echo: turn two");
      expect(JSON.stringify((p.mock!.lastChatRequest()!.body as any).input)).toContain("item_reference");
    } finally {
      await h2.close();
    }
  });

  test("a tool loop sends the tool's result back and gets the final answer", async () => {
    anthropic.mock!.script({ toolCalls: [{ name: "get_weather", arguments: { city: "Paris" } }] }, { text: "Sunny in Paris." });
    const r = await generateText({
      model,
      prompt: "weather in Paris?",
      maxRetries: 0,
      stopWhen: stepCountIs(3),
      tools: {
        get_weather: tool({
          description: "Weather for a city",
          inputSchema: jsonSchema<{ city: string }>({ type: "object", properties: { city: { type: "string" } }, required: ["city"] }),
          execute: async ({ city }) => ({ city, sky: "sunny" }),
        }),
      },
    });
    expect(r.text).toBe("Sunny in Paris.");
    expect(r.steps.length).toBe(2);
    expect(r.steps[0].toolCalls[0]).toMatchObject({ toolName: "get_weather", input: { city: "Paris" } });
    const second = anthropic.mock!.lastChatRequest()!.body as { messages: { role: string; content: unknown }[] };
    expect(JSON.stringify(second.messages)).toContain("tool_result");
    expect(JSON.stringify(second.messages)).toContain("sunny");
  });
});
