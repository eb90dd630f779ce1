import { afterAll, beforeAll, expect, test } from "bun:test";
import * as v from "valibot";
import { ChatCompletionBody } from "../src/gateway/model.ts";
import { EmbeddingsBody } from "../src/gateway/embeddings-model.ts";
import { ResponsesBody } from "../src/gateway/inbound/responses-model.ts";
import { CountTokensBody, MessagesBody } from "../src/gateway/inbound/anthropic-schema.ts";
import { gatewayHarness, type GatewayHarness } from "./support/gateway.ts";

// Found by the /v1 fuzz (seed 2082918828, case 2569): one bad content part in each of 500 messages
// made Elysia pretty-print 500 issues with their inputs: 36 s, then "Out of memory", a 500.

function deep(depth: number): unknown {
  let x: unknown = "leaf";
  for (let i = 0; i < depth; i++) x = i % 2 ? [x] : { a: x };
  return x;
}
const badMessages = (n: number) => Array.from({ length: n }, () => ({ role: "user", content: [deep(55)] }));

// The last field: whether the full check finds more than one issue in that body.
const cases: [string, v.GenericSchema, unknown, boolean][] = [
  ["chat", ChatCompletionBody, { model: "m", messages: badMessages(500) }, true],
  ["responses", ResponsesBody, { model: "m", input: Array.from({ length: 500 }, () => 7) }, true],
  ["embeddings", EmbeddingsBody, { model: "m", input: Array.from({ length: 500 }, () => ({})) }, false],
  ["messages", MessagesBody, { model: "m", max_tokens: 5, messages: badMessages(500) }, true],
  ["count_tokens", CountTokensBody, { model: "m", messages: badMessages(500) }, true],
];

test.each(cases)("the %s body schema hands the HTTP layer only its first issue (Standard Schema)", async (_, schema, body, many) => {
  const result = await schema["~standard"].validate(body);
  expect(result.issues?.length).toBe(1);
  // The full check (forms, safeParse) still sees every issue.
  if (many) expect(v.safeParse(schema, body).issues!.length).toBeGreaterThan(1);
});

let h: GatewayHarness;
beforeAll(async () => {
  h = await gatewayHarness();
  await h.addProvider("anthropic", { name: "ant" });
});
afterAll(() => h.close());

test("500 messages with a bad part each are a 400 naming the first, not a 500", async () => {
  const res = await h.t.call("POST", "/v1/chat/completions", {
    token: h.key,
    body: { model: "ant/claude-sonnet-4-5", stream: true, messages: badMessages(500) },
  });
  expect(res.status).toBe(400);
  expect(res.body.error.param).toBe("messages[0].content");
  expect(res.body.error.message).toContain("content must be a string or an array of content parts");
});
