import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { gatewayHarness, type GatewayHarness } from "./support/gateway.ts";
import { relayable } from "../src/gateway/chat-stream.ts";

// The provider's own escapes survive only if its bytes are relayed: JSON.stringify would write é.
const chunk = (o: Record<string, unknown>) => JSON.stringify(o).replace("é", "\\u00e9");
const head = { id: "chatcmpl-up", object: "chat.completion.chunk", created: 1700000000, model: "gpt-4o-mini" };
const STREAM = [
  chunk({ ...head, choices: [{ index: 0, delta: { role: "assistant", content: "caf" }, finish_reason: null }] }),
  chunk({ ...head, choices: [{ index: 0, delta: { content: "é" }, finish_reason: null }] }),
  chunk({ ...head, choices: [{ index: 0, delta: {}, finish_reason: "stop" }] }),
  JSON.stringify({ ...head, choices: [], usage: { prompt_tokens: 11, completion_tokens: 3, total_tokens: 14 } }),
  "[DONE]",
]
  .map((d) => `data: ${d}\n\n`)
  .join("");

describe("relayable", () => {
  const ok = { ...head, choices: [{ index: 0, delta: { content: "x" }, finish_reason: null }] };
  test("a complete OpenAI chunk is, whatever its text says", () => {
    expect(relayable(JSON.stringify(ok))).toBe(true);
    expect(relayable(JSON.stringify({ ...ok, choices: [{ index: 0, delta: { content: '"usage" ,"model":"" "error"' } }] }))).toBe(true);
  });
  test("a chunk the adapter changes is not", () => {
    for (const o of [
      { ...ok, usage: null },
      { ...ok, usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 } },
      { ...ok, model: "" },
      { id: "x", object: "chat.completion.chunk", model: "m", choices: [] },
      { id: "x", created: 1, model: "m", choices: [] },
      { ...ok, x_groq: { usage: {} } },
      { id: "x", object: "chat.completion.chunk", created: 1, model: "m" },
      { error: { message: "boom" } },
    ]) {
      expect(relayable(JSON.stringify(o))).toBe(false);
    }
    expect(relayable(JSON.stringify(ok, null, 1))).toBe(false);
  });
});

describe("OpenAI-format streams pass through", () => {
  let h: GatewayHarness;
  beforeAll(async () => {
    h = await gatewayHarness();
    const p = await h.addProvider("openai");
    p.mock!.script({ okBody: STREAM }, { okBody: STREAM }, { okBody: STREAM });
  });
  afterAll(() => h.close());

  const post = (body: Record<string, unknown>) =>
    fetch(`${h.base}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${h.key}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });

  test("the provider's chunks reach the client as written, the usage chunk withheld unless asked for", async () => {
    const res = await post({ model: "gpt-4o-mini", stream: true, messages: [{ role: "user", content: "x" }] });
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toContain('"content":"\\u00e9"');
    expect(text).not.toContain('"usage"');
    expect(text.endsWith("data: [DONE]\n\n")).toBe(true);
    await h.t.deps.logQueue.flush();
    const [row] = await h.t.sql`
      select status, prompt_tokens, completion_tokens, usage_estimated from request_logs
      where api_key_id = ${h.keyId} order by created_at desc limit 1`;
    expect(row).toEqual({ status: 200, prompt_tokens: 11, completion_tokens: 3, usage_estimated: false });
  });

  test("through the SDK, with usage asked for", async () => {
    const stream = await h.client().chat.completions.create({
      model: "gpt-4o-mini",
      stream: true,
      stream_options: { include_usage: true },
      messages: [{ role: "user", content: "x" }],
    });
    let text = "";
    let usage = null;
    for await (const c of stream) {
      text += c.choices[0]?.delta?.content ?? "";
      if (c.usage) usage = c.usage;
    }
    expect(text).toBe("café");
    expect(usage).toEqual({ prompt_tokens: 11, completion_tokens: 3, total_tokens: 14 });
  });
});

describe("OpenAI-format answers pass through", () => {
  let h: GatewayHarness;
  let mock: NonNullable<Awaited<ReturnType<GatewayHarness["addProvider"]>>["mock"]>;
  beforeAll(async () => {
    h = await gatewayHarness();
    mock = (await h.addProvider("openai")).mock!;
  });
  afterAll(() => h.close());
  const answer = {
    id: "chatcmpl-up",
    object: "chat.completion",
    created: 1700000000,
    model: "gpt-4o-mini",
    choices: [{ index: 0, message: { role: "assistant", content: "café" }, finish_reason: "stop" }],
    usage: { prompt_tokens: 5, completion_tokens: 2, total_tokens: 7 },
  };
  const post = () =>
    fetch(`${h.base}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${h.key}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "gpt-4o-mini", messages: [{ role: "user", content: "x" }] }),
    });

  test("as the provider wrote them", async () => {
    mock.script({ okBody: JSON.stringify(answer).replace("é", "\\u00e9") });
    const res = await post();
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toContain('"content":"caf\\u00e9"');
    expect(JSON.parse(text)).toEqual(answer);
  });

  test("and with what the adapter fills in when a field is missing", async () => {
    const { created: _, ...partial } = answer;
    mock.script({ okBody: JSON.stringify(partial).replace("é", "\\u00e9") });
    const body = await (await post()).json();
    expect(typeof body.created).toBe("number");
    expect(body.choices[0].message.content).toBe("café");
  });
});
