import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { adapterFor } from "../src/adapters/index.ts";
import { createSSEParser, type SSEEvent } from "../src/adapters/sse.ts";
import type { ChatCompletionChunk, ChatRequest, UpstreamError } from "../src/adapters/types.ts";
import { startMockUpstream, waitUntil, type MockKind, type MockUpstream } from "./support/mock-upstreams.ts";

const KEYS: Record<MockKind, string> = { openai: "sk-mock-openai", anthropic: "sk-ant-mock", gemini: "AIzaMockKey0123456789" };
const MODELS: Record<MockKind, string> = { openai: "gpt-4o-mini", anthropic: "claude-haiku-4-5", gemini: "gemini-2.5-flash" };

const kinds: MockKind[] = ["openai", "anthropic", "gemini"];
const servers = {} as Record<MockKind, MockUpstream>;

beforeAll(async () => {
  for (const k of kinds) servers[k] = await startMockUpstream(k, { expectedKey: KEYS[k] });
});
afterAll(async () => {
  await Promise.all(kinds.map((k) => servers[k].stop()));
});
beforeEach(() => {
  for (const k of kinds) servers[k].reset();
});

function request(kind: MockKind, req: Partial<ChatRequest> = {}, key: string | null = KEYS[kind]) {
  const r = adapterFor(kind).buildChatRequest(
    {
      model: "alias",
      messages: [
        { role: "system", content: "sys" },
        { role: "user", content: "hello there" },
      ],
      ...req,
    } as ChatRequest,
    { baseUrl: servers[kind].url, apiKey: key, model: MODELS[kind] },
  );
  return fetch(r.url, { method: r.method, headers: r.headers, body: r.body });
}

async function sseEvents(res: Response): Promise<SSEEvent[]> {
  const p = createSSEParser();
  const out = p.feed(await res.text());
  return out.concat(p.flush());
}

/** Streams through the real adapter, the way the gateway will. */
async function translate(kind: MockKind, res: Response, includeUsage = true) {
  const t = adapterFor(kind).createStreamTransformer({
    id: "chatcmpl-t",
    created: 1,
    requestedModel: "alias",
    targetModel: MODELS[kind],
    includeUsage,
  });
  const chunks: ChatCompletionChunk[] = [];
  let error: UpstreamError | undefined;
  let done = false;
  for (const ev of await sseEvents(res)) {
    const r = t.push(ev);
    chunks.push(...r.chunks);
    error ??= r.error;
    if (r.done) done = true;
  }
  if (!done && !error) {
    const f = t.finish();
    chunks.push(...f.chunks);
    error ??= f.error;
    done = f.done === true;
  }
  const text = chunks.map((c) => c.choices[0]?.delta.content ?? "").join("");
  return { chunks, error, done, text, usage: t.usage() };
}

describe("mock upstreams: answers in each wire format", () => {
  for (const kind of kinds) {
    test(`${kind}: a non-streamed request gets an echo that the adapter reads back`, async () => {
      const res = await request(kind);
      expect(res.status).toBe(200);
      const out = adapterFor(kind).parseChatResponse(await res.json(), {
        id: "chatcmpl-t",
        created: 1,
        requestedModel: "alias",
        targetModel: MODELS[kind],
        includeUsage: false,
      });
      expect(out.choices[0].message.content).toBe("Echo: hello there");
      expect(out.choices[0].finish_reason).toBe("stop");
      expect(out.usage).toMatchObject({ prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 });
    });

    test(`${kind}: a streamed request ends properly and carries the same usage`, async () => {
      const res = await request(kind, { stream: true, stream_options: { include_usage: true } });
      expect(res.headers.get("content-type")).toBe("text/event-stream");
      const r = await translate(kind, res);
      expect(r.error).toBeUndefined();
      expect(r.done).toBe(true);
      expect(r.text).toBe("Echo: hello there");
      expect(r.usage).toMatchObject({ prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 });
      expect(r.chunks.at(-1)!.usage).toMatchObject({ prompt_tokens: 10, completion_tokens: 5 });
    });

    test(`${kind}: tool calls come back as tool calls, streamed or not`, async () => {
      const up = servers[kind];
      const calls = [{ name: "weather", arguments: { city: "Paris", days: 3 } }];
      up.script({ toolCalls: calls }, { toolCalls: calls });
      const plain = adapterFor(kind).parseChatResponse(await (await request(kind)).json(), {
        id: "x",
        created: 1,
        requestedModel: "a",
        includeUsage: false,
      });
      expect(plain.choices[0].finish_reason).toBe("tool_calls");
      expect(plain.choices[0].message.tool_calls![0].function).toEqual({ name: "weather", arguments: '{"city":"Paris","days":3}' });
      const r = await translate(kind, await request(kind, { stream: true }));
      const args = r.chunks
        .flatMap((c) => c.choices[0]?.delta.tool_calls ?? [])
        .map((t) => t.function?.arguments ?? "")
        .join("");
      expect(JSON.parse(args)).toEqual({ city: "Paris", days: 3 });
      expect(r.chunks.some((c) => c.choices[0]?.finish_reason === "tool_calls")).toBe(true);
    });

    test(`${kind}: configured usage figures are read back identically`, async () => {
      servers[kind].setBehaviour({ usage: { prompt: 100, completion: 40, cacheRead: 30, reasoning: 10 } });
      const r = await translate(kind, await request(kind, { stream: true, stream_options: { include_usage: true } }));
      expect(r.usage).toMatchObject({ prompt_tokens: 100, completion_tokens: 40, total_tokens: 140, cached_tokens: 30 });
    });

    test(`${kind}: the models endpoint lists models`, async () => {
      const a = adapterFor(kind);
      const m = a.buildModelsRequest({ baseUrl: servers[kind].url, apiKey: KEYS[kind] });
      const res = await fetch(m.url, { headers: m.headers });
      expect(res.status).toBe(200);
      expect(a.parseModelsResponse(await res.json()).length).toBe(2);
    });

    test(`${kind}: a wrong key is refused and classified as an auth failure`, async () => {
      const res = await request(kind, {}, "wrong-key-123");
      expect(res.status).toBe(kind === "gemini" ? 400 : 401);
      const e = adapterFor(kind).classifyError(res.status, await res.text(), res.headers);
      expect(e).toMatchObject({ class: "auth", retryable: true, status: 502 });
      expect(e.message).not.toContain("wrong-key-123");
    });

    test(`${kind}: a scripted failure has the provider's error shape and Retry-After`, async () => {
      servers[kind].script({ status: 429, retryAfter: 3, errorMessage: "slow down" });
      const res = await request(kind);
      expect(res.status).toBe(429);
      expect(res.headers.get("retry-after")).toBe("3");
      expect(adapterFor(kind).classifyError(429, await res.text(), res.headers)).toMatchObject({
        class: "rate_limit",
        retryAfterMs: 3000,
        message: "slow down",
      });
    });

    test(`${kind}: a stream error event mid-stream reaches the adapter as an error`, async () => {
      servers[kind].script({ errorAfterChunks: 2, streamErrorMessage: "boom mid-stream" });
      const r = await translate(kind, await request(kind, { stream: true }));
      expect(r.error).toMatchObject({ message: "boom mid-stream", retryable: true });
    });

    test(`${kind}: a stream cut short ends without its end marker`, async () => {
      servers[kind].script({ cutAfterChunks: 2 });
      const r = await translate(kind, await request(kind, { stream: true }));
      expect(r.error).toMatchObject({ class: "stream_error" });
      expect(r.done).toBe(false);
    });
  }
});

describe("mock upstreams: exact wire details", () => {
  test("openai streams chat.completion.chunk events, a usage chunk on request, then [DONE]", async () => {
    const res = await request("openai", { stream: true, stream_options: { include_usage: true } });
    const events = await sseEvents(res);
    expect(events.at(-1)).toEqual({ data: "[DONE]" });
    const usage = JSON.parse(events.at(-2)!.data);
    expect(usage.choices).toEqual([]);
    expect(usage.usage.total_tokens).toBe(15);
    const first = JSON.parse(events[0].data);
    expect(first).toMatchObject({
      object: "chat.completion.chunk",
      model: "gpt-4o-mini",
      usage: null,
      choices: [{ index: 0, delta: { role: "assistant", content: "" }, finish_reason: null }],
    });
  });

  test("openai without include_usage sends no usage chunk", async () => {
    servers.openai.setBehaviour({});
    const r = await fetch(`${servers.openai.url}/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${KEYS.openai}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "m", messages: [{ role: "user", content: "x" }], stream: true }),
    });
    const events = await sseEvents(r);
    expect(events.some((e) => e.data.includes('"choices":[]'))).toBe(false);
    expect(events.at(-1)!.data).toBe("[DONE]");
  });

  test("anthropic streams the real event sequence with several input_json_delta pieces", async () => {
    servers.anthropic.script({ text: "Hi", toolCalls: [{ name: "f", arguments: { a: "long value here" } }] });
    const events = await sseEvents(await request("anthropic", { stream: true }));
    expect(events.map((e) => e.event)).toEqual([
      "message_start",
      "content_block_start",
      "ping",
      "content_block_delta",
      "content_block_stop",
      "content_block_start",
      "content_block_delta",
      "content_block_delta",
      "content_block_delta",
      "content_block_delta",
      "content_block_stop",
      "message_delta",
      "message_stop",
    ]);
    for (const e of events) expect(JSON.parse(e.data).type).toBe(e.event!);
  });

  test("anthropic receives the adapter's request with the version header and max_tokens", async () => {
    await request("anthropic", { max_tokens: 77 });
    const rec = servers.anthropic.lastChatRequest()!;
    expect(rec.headers["anthropic-version"]).toBe("2023-06-01");
    expect(rec.headers["x-api-key"]).toBe(KEYS.anthropic);
    expect(rec.body).toEqual({
      model: "claude-haiku-4-5",
      max_tokens: 77,
      messages: [{ role: "user", content: "hello there" }],
      system: "sys",
    });
  });

  test("anthropic refuses a request without anthropic-version", async () => {
    const res = await fetch(`${servers.anthropic.url}/v1/messages`, {
      method: "POST",
      headers: { "x-api-key": KEYS.anthropic, "content-type": "application/json" },
      body: JSON.stringify({ model: "m", max_tokens: 5, messages: [{ role: "user", content: "x" }] }),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ type: "error", error: { type: "invalid_request_error" } });
  });

  test("gemini streams CRLF-separated data events and requires alt=sse", async () => {
    const res = await request("gemini", { stream: true });
    const raw = await res.text();
    expect(raw.startsWith("data: {")).toBe(true);
    expect(raw.endsWith("\r\n\r\n")).toBe(true);
    expect(servers.gemini.lastChatRequest()!.query).toEqual({ alt: "sse" });
    const noSse = await fetch(`${servers.gemini.url}/v1beta/models/gemini-2.5-flash:streamGenerateContent`, {
      method: "POST",
      headers: { "x-goog-api-key": KEYS.gemini, "content-type": "application/json" },
      body: JSON.stringify({ contents: [{ role: "user", parts: [{ text: "x" }] }] }),
    });
    expect(noSse.status).toBe(400);
  });

  test("gemini rejects a key passed in the URL", async () => {
    const res = await fetch(`${servers.gemini.url}/v1beta/models/gemini-2.5-flash:generateContent?key=${KEYS.gemini}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ contents: [{ role: "user", parts: [{ text: "x" }] }] }),
    });
    expect(res.status).toBe(400);
    expect((await res.json()).error.status).toBe("INVALID_ARGUMENT");
  });

  test("gemini without a key answers 403 PERMISSION_DENIED", async () => {
    const res = await request("gemini", {}, null);
    expect(res.status).toBe(403);
  });

  test("an HTML error body is served raw", async () => {
    servers.openai.script({ status: 502, errorBody: "<html>bad gateway</html>" });
    const res = await request("openai");
    expect(res.status).toBe(502);
    expect(await res.text()).toBe("<html>bad gateway</html>");
  });

  test("unknown routes answer 404 in the provider's shape", async () => {
    const res = await fetch(`${servers.anthropic.url}/v1/complete`, {
      method: "POST",
      headers: { "x-api-key": KEYS.anthropic },
      body: "{}",
    });
    expect(res.status).toBe(404);
    expect((await res.json()).error.type).toBe("not_found_error");
  });
});

describe("mock upstreams: scripting and failure modes", () => {
  test("scripted behaviours are used in order, then the default", async () => {
    const up = servers.openai;
    up.script({ status: 500 }, { text: "second" });
    up.setBehaviour({ text: "default" });
    expect((await request("openai")).status).toBe(500);
    expect((await (await request("openai")).json()).choices[0].message.content).toBe("second");
    expect((await (await request("openai")).json()).choices[0].message.content).toBe("default");
    expect(up.chatRequests()).toHaveLength(3);
  });

  test("requests are recorded with method, path, headers and parsed body", async () => {
    await request("gemini", { temperature: 0.5 });
    const rec = servers.gemini.requests[0];
    expect(rec.method).toBe("POST");
    expect(rec.path).toBe("/v1beta/models/gemini-2.5-flash:generateContent");
    expect(rec.headers["x-goog-api-key"]).toBe(KEYS.gemini);
    expect(rec.body).toMatchObject({ generationConfig: { temperature: 0.5 }, systemInstruction: { parts: [{ text: "sys" }] } });
    expect(rec.chat).toBe(true);
  });

  test("drop closes the connection without an answer", async () => {
    servers.anthropic.script({ drop: true });
    await expect(request("anthropic")).rejects.toThrow();
    expect(servers.anthropic.chatRequests()).toHaveLength(1);
  });

  test("abortAfterChunks breaks the connection mid-stream", async () => {
    servers.openai.script({ abortAfterChunks: 2 });
    const res = await request("openai", { stream: true });
    expect(res.status).toBe(200);
    await expect(res.text()).rejects.toThrow();
  });

  test("firstChunkDelayMs sends headers before the first event", async () => {
    servers.gemini.script({ firstChunkDelayMs: 60_000 });
    const res = await request("gemini", { stream: true });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/event-stream");
    await res.body!.cancel();
    await waitUntil(() => servers.gemini.abortedStreams() === 1);
  });

  test("delayMs holds the headers back", async () => {
    servers.openai.script({ delayMs: 60_000 });
    const ac = new AbortController();
    const pending = fetch(`${servers.openai.url}/chat/completions`, {
      method: "POST",
      signal: ac.signal,
      headers: { authorization: `Bearer ${KEYS.openai}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "m", messages: [{ role: "user", content: "x" }] }),
    });
    const raced = await Promise.race([pending.then(() => "answered"), new Promise((r) => setTimeout(() => r("waiting"), 50))]);
    expect(raced).toBe("waiting");
    ac.abort();
    await expect(pending).rejects.toThrow();
    await waitUntil(() => servers.openai.abortedRequests() === 1);
    expect(servers.openai.abortedStreams()).toBe(0);
  });

  test("a client that goes away mid-stream is counted as an aborted stream", async () => {
    const up = servers.anthropic;
    up.script({ chunkDelayMs: 30, text: Array.from({ length: 50 }, (_, i) => `w${i}`).join(" ") });
    const res = await request("anthropic", { stream: true });
    const reader = res.body!.getReader();
    await reader.read();
    expect(up.activeStreams()).toBe(1);
    await reader.cancel();
    await waitUntil(() => up.abortedStreams() === 1);
    expect(up.activeStreams()).toBe(0);
  });

  test("a stream read to the end is not counted as aborted", async () => {
    const res = await request("openai", { stream: true });
    await res.text();
    await waitUntil(() => servers.openai.activeStreams() === 0);
    expect(servers.openai.abortedStreams()).toBe(0);
  });

  test("the expected key can be changed and reset restores it", async () => {
    const up = servers.openai;
    up.setExpectedKey("sk-other-key");
    expect((await request("openai")).status).toBe(401);
    up.reset();
    expect((await request("openai")).status).toBe(200);
    expect(up.requests).toHaveLength(1);
  });

  test("finishReason length maps to each provider's own reason", async () => {
    for (const kind of kinds) {
      servers[kind].script({ finishReason: "length" });
      const out = adapterFor(kind).parseChatResponse(await (await request(kind)).json(), {
        id: "x",
        created: 1,
        requestedModel: "a",
        includeUsage: false,
      });
      expect(out.choices[0].finish_reason).toBe("length");
    }
  });
});

describe("mock upstreams: without an expected key", () => {
  let open: MockUpstream;
  beforeAll(async () => {
    open = await startMockUpstream("openai", { behaviour: { text: "fixed" }, models: ["only-model"] });
  });
  afterAll(() => open.stop());

  test("any key, or none, is accepted and the option behaviour is the default", async () => {
    const res = await fetch(`${open.url}/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "m", messages: [{ role: "user", content: "x" }] }),
    });
    expect((await res.json()).choices[0].message.content).toBe("fixed");
    expect(await (await fetch(`${open.url}/models`)).json()).toMatchObject({
      object: "list",
      data: [{ id: "only-model", object: "model" }],
    });
  });
});

describe("embeddings endpoints", () => {
  test("OpenAI: float and base64 answers in OpenAI's shape, usage counted; the key is checked", async () => {
    const base = servers.openai.url;
    const call = (body: unknown, key = KEYS.openai) =>
      fetch(`${base}/embeddings`, {
        method: "POST",
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    const floats = await (await call({ model: "text-embedding-3-small", input: ["a b", "c"] })).json();
    expect(floats).toMatchObject({ object: "list", model: "text-embedding-3-small", usage: { prompt_tokens: 3, total_tokens: 3 } });
    expect(floats.data.map((d: { index: number }) => d.index)).toEqual([0, 1]);
    const b64 = await (await call({ model: "text-embedding-3-small", input: "a b", encoding_format: "base64" })).json();
    expect(typeof b64.data[0].embedding).toBe("string");
    expect(Array.from(new Float32Array(Buffer.from(b64.data[0].embedding, "base64").buffer.slice(0)))).toEqual(floats.data[0].embedding);
    expect((await call({ model: "m", input: [] })).status).toBe(400);
    expect((await call({ model: "m", input: "x" }, "sk-wrong-key-0000")).status).toBe(401);
    expect(servers.openai.requests.every((r) => r.embeddings)).toBe(true);
  });

  test("Gemini: batchEmbedContents answers {embeddings:[{values}]}; a request naming another model is refused", async () => {
    const url = `${servers.gemini.url}/v1beta/models/gemini-embedding-001:batchEmbedContents`;
    const call = (requests: unknown) =>
      fetch(url, {
        method: "POST",
        headers: { "x-goog-api-key": KEYS.gemini, "content-type": "application/json" },
        body: JSON.stringify({ requests }),
      });
    const ok = await call([{ model: "models/gemini-embedding-001", content: { parts: [{ text: "hi" }] }, outputDimensionality: 3 }]);
    expect(ok.status).toBe(200);
    const body = await ok.json();
    expect(body.embeddings).toHaveLength(1);
    expect(body.embeddings[0].values).toHaveLength(3);
    const wrong = await call([{ model: "models/other", content: { parts: [{ text: "hi" }] } }]);
    expect(wrong.status).toBe(400);
    expect((await wrong.json()).error.status).toBe("INVALID_ARGUMENT");
  });
});
