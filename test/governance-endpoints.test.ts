import { afterAll, beforeAll, beforeEach, expect, test } from "bun:test";
import { gatewayHarness, type GatewayHarness } from "./support/gateway.ts";
import type { MockUpstream } from "./support/mock-upstreams.ts";

// Every /v1 endpoint that reaches a provider is admitted by the same governance as chat: limits,
// budgets and the allow-list hold for embeddings, the Responses API and Anthropic's Messages API,
// each refusal in that endpoint's own error shape, before any provider is asked.
const MINUTE = 60_000;
let clock = Date.UTC(2031, 0, 1, 12, 0, 0);
let h: GatewayHarness;
let mock: MockUpstream;

beforeAll(async () => {
  h = await gatewayHarness({ governance: { syncIntervalMs: 0, now: () => clock } });
  mock = (await h.addProvider("openai", {}, { behaviour: { usage: { prompt: 8, completion: 10 } } })).mock!;
}, 120_000);
afterAll(() => h.close());
beforeEach(() => {
  clock = clock - (clock % MINUTE) + MINUTE + 10_000;
  mock.reset();
});

async function limitedKey(name: string, set: { rpm?: number; allowed?: string[] }) {
  const k = await h.createKey(name);
  await h.t
    .sql`update api_keys set rpm_limit = ${set.rpm ?? null}, allowed_models = ${h.t.sql.array(set.allowed ?? [])} where id = ${k.id}`;
  h.t.deps.events.emit({ type: "api_key", workspace_id: h.ws.id });
  return k.key;
}

async function post(path: string, key: string, body: unknown, auth: "bearer" | "x-api-key" = "bearer") {
  const res = await fetch(`${h.base}${path}`, {
    method: "POST",
    headers: { ...(auth === "bearer" ? { authorization: `Bearer ${key}` } : { "x-api-key": key }), "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text.startsWith("{") ? JSON.parse(text) : null };
}

test("embeddings: the rate limit counts them, with headers, and the refusal reaches no provider", async () => {
  const key = await limitedKey("emb-rpm", { rpm: 2 });
  const body = { model: "text-embedding-3-small", input: ["one", "two"] };
  for (const left of ["1", "0"]) {
    const r = await post("/v1/embeddings", key, body);
    expect(r.status).toBe(200);
    expect(r.headers.get("x-ratelimit-remaining-requests")).toBe(left);
  }
  const sent = mock.requests.length;
  const refused = await post("/v1/embeddings", key, body);
  expect(refused.status).toBe(429);
  expect(refused.body.error).toMatchObject({ type: "rate_limit_error", code: "rate_limit_exceeded" });
  expect(refused.headers.get("retry-after")).toBe("50");
  expect(mock.requests.length).toBe(sent);
});

test("messages (Anthropic format): a refusal in Anthropic's error shape, with Retry-After", async () => {
  const key = await limitedKey("msg-rpm", { rpm: 1 });
  const body = { model: "gpt-4o-mini", max_tokens: 16, messages: [{ role: "user", content: "hi" }] };
  const ok = await post("/v1/messages", key, body, "x-api-key");
  expect(ok.status).toBe(200);
  expect(ok.body.type).toBe("message");
  expect(ok.headers.get("x-ratelimit-limit-requests")).toBe("1");
  const sent = mock.requests.length;
  const refused = await post("/v1/messages", key, body, "x-api-key");
  expect(refused.status).toBe(429);
  expect(refused.body).toMatchObject({ type: "error", error: { type: "rate_limit_error" } });
  expect(refused.body.error.message).toContain("1 requests per minute");
  expect(refused.headers.get("retry-after")).toBe("50");
  expect(mock.requests.length).toBe(sent);
});

test("the allow-list refuses a model on the Responses API, embeddings and messages before any provider is asked", async () => {
  const key = await limitedKey("allow", { allowed: ["claude-*"] });
  const sent = mock.requests.length;
  const responses = await post("/v1/responses", key, { model: "gpt-4o-mini", input: "hi" });
  expect([responses.status, responses.body.error.code]).toEqual([403, "model_not_allowed"]);
  const embeddings = await post("/v1/embeddings", key, { model: "text-embedding-3-small", input: "hi" });
  expect([embeddings.status, embeddings.body.error.code]).toEqual([403, "model_not_allowed"]);
  const messages = await post("/v1/messages", key, { model: "gpt-4o-mini", max_tokens: 8, messages: [{ role: "user", content: "hi" }] });
  expect(messages.status).toBe(403);
  expect(messages.body).toMatchObject({ type: "error", error: { type: "permission_error" } });
  expect(mock.requests.length).toBe(sent);
});

test("log rows name the API the client spoke, answered or refused", async () => {
  const key = await limitedKey("endpoints", { allowed: ["gpt-4o-mini"] });
  const send = (path: string, body: unknown, id: string) =>
    fetch(`${h.base}${path}`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json", "x-request-id": id },
      body: JSON.stringify(body),
    }).then((r) => r.text());
  const tag = crypto.randomUUID().slice(0, 8);
  await send("/v1/chat/completions", { model: "gpt-4o-mini", messages: [{ role: "user", content: "hi" }] }, `${tag}-chat`);
  await send("/v1/responses", { model: "gpt-4o-mini", input: "hi" }, `${tag}-responses`);
  await send("/v1/messages", { model: "gpt-4o-mini", max_tokens: 8, messages: [{ role: "user", content: "hi" }] }, `${tag}-messages`);
  await send("/v1/embeddings", { model: "gpt-4o-mini", input: "hi" }, `${tag}-embeddings`);
  // Refused by the allow-list before any provider: still the endpoint it came through.
  await send("/v1/messages", { model: "claude-x", max_tokens: 8, messages: [{ role: "user", content: "hi" }] }, `${tag}-messages-refused`);
  await h.t.deps.logQueue.flush();
  const rows = await h.t.sql<{ request_id: string; endpoint: string }[]>`
    select request_id, endpoint from request_logs where request_id like ${tag + "-%"} order by request_id`;
  expect(Object.fromEntries(rows.map((r) => [r.request_id.slice(tag.length + 1), r.endpoint]))).toEqual({
    chat: "chat",
    responses: "responses",
    messages: "messages",
    embeddings: "embeddings",
    "messages-refused": "messages",
  });
  // Anthropic's error shape has no code field: the row still says which refusal it was.
  const [refused] = await h.t.sql<
    { error_class: string }[]
  >`select error_class from request_logs where request_id = ${`${tag}-messages-refused`}`;
  expect(refused!.error_class).toBe("model_not_allowed");
});
