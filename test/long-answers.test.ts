import { afterAll, beforeAll, expect, test } from "bun:test";
import OpenAI from "openai";
import { gatewayHarness, type GatewayHarness } from "./support/gateway.ts";

// A long non-stream answer (a reasoning model, a long output) sends nothing until it is done.
// Elysia starts Bun's server with a 30 s idle timeout; this pins that a client waiting longer than
// that for its answer still gets it (the entry's timeout_ms, 60 s by default, is the limit).
let h: GatewayHarness;
beforeAll(async () => {
  h = await gatewayHarness();
  await h.addProvider("openai", { models: ["slow-model"] }, { behaviour: { delayMs: 33_000 } });
});
afterAll(() => h.close());

test("a non-stream answer that takes longer than 30 s reaches the client", async () => {
  const client = new OpenAI({ apiKey: h.key, baseURL: `${h.base}/v1`, maxRetries: 0 });
  const started = Date.now();
  const answer = await client.chat.completions.create({ model: "slow-model", messages: [{ role: "user", content: "think long" }] });
  expect(Date.now() - started).toBeGreaterThan(30_000);
  expect(answer.choices[0].message.content).toBeString();
  expect(answer.object).toBe("chat.completion");
}, 60_000);
