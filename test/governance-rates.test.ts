import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import OpenAI from "openai";
import { gatewayHarness, type GatewayHarness } from "./support/gateway.ts";
import type { MockUpstream } from "./support/mock-upstreams.ts";
import { estimateChatTokens } from "../src/governance/admit.ts";

// Rate limits at one instance, through the real HTTP surface: exact counts, headers, reset, the
// workspace's limit across keys, the allow-list. The limiter's clock is the test's, so a window
// can be ended without waiting; limits are set with SQL as the management API would.
const MINUTE = 60_000;
let clock = Date.UTC(2031, 0, 1, 12, 0, 0);
let h: GatewayHarness;
let mock: MockUpstream;

beforeAll(async () => {
  h = await gatewayHarness({ governance: { syncIntervalMs: 0, now: () => clock } });
  mock = (await h.addProvider("openai", {}, { behaviour: { usage: { prompt: 8, completion: 10 } } })).mock!;
  // The first embedded database of a test process is built from scratch (initdb), which takes a while.
}, 120_000);
afterAll(() => h.close());
beforeEach(() => {
  // Each test starts in a fresh minute, 10 s in.
  clock = clock - (clock % MINUTE) + MINUTE + 10_000;
  mock.reset();
});

const messages = [{ role: "user" as const, content: "hi" }];

async function chat(key = h.key, over: Record<string, unknown> = {}) {
  const res = await fetch(`${h.base}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify({ model: "gpt-4o-mini", messages, max_tokens: 10, ...over }),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, body: text.startsWith("{") ? JSON.parse(text) : null };
}

async function setKey(keyId: string, set: { rpm?: number | null; tpm?: number | null; allowed?: string[]; tags?: string[] }) {
  const sql = h.t.sql;
  await sql`update api_keys set rpm_limit = ${set.rpm ?? null}, tpm_limit = ${set.tpm ?? null},
    allowed_models = ${sql.array(set.allowed ?? [])}, tags = ${sql.array(set.tags ?? [])} where id = ${keyId}`;
  h.t.deps.events.emit({ type: "api_key", workspace_id: h.ws.id });
}

async function setWorkspace(set: { rpm?: number | null; tpm?: number | null }) {
  await h.t.sql`update workspaces set rpm_limit = ${set.rpm ?? null}, tpm_limit = ${set.tpm ?? null} where id = ${h.ws.id}`;
  h.t.deps.events.emit({ type: "workspace", workspace_id: h.ws.id });
}

async function fresh(name: string) {
  return h.createKey(name);
}

describe("requests per minute, one instance", () => {
  test("N requests are admitted with decreasing headers, the next is refused with 429 and Retry-After, and the next minute admits again", async () => {
    const k = await fresh("rpm");
    await setKey(k.id, { rpm: 3 });
    const remaining: string[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await chat(k.key);
      expect(r.status).toBe(200);
      expect(r.headers.get("x-ratelimit-limit-requests")).toBe("3");
      expect(r.headers.get("x-ratelimit-reset-requests")).toBe("50s");
      remaining.push(r.headers.get("x-ratelimit-remaining-requests")!);
    }
    expect(remaining).toEqual(["2", "1", "0"]);
    const refused = await chat(k.key);
    expect(refused.status).toBe(429);
    expect(refused.body.error).toMatchObject({ type: "rate_limit_error", code: "rate_limit_exceeded" });
    expect(refused.body.error.message).toContain("this API key's limit of 3 requests per minute");
    expect(refused.headers.get("retry-after")).toBe("50");
    expect(refused.headers.get("x-ratelimit-remaining-requests")).toBe("0");
    expect(mock.chatRequests().length).toBe(3);

    clock += 50_000; // the next minute
    const again = await chat(k.key);
    expect(again.status).toBe(200);
    expect(again.headers.get("x-ratelimit-remaining-requests")).toBe("2");
    expect(again.headers.get("x-ratelimit-reset-requests")).toBe("1m0s");
  });

  test("a key without limits gets no rate-limit headers", async () => {
    const k = await fresh("free");
    const r = await chat(k.key);
    expect(r.status).toBe(200);
    expect(r.headers.get("x-ratelimit-limit-requests")).toBeNull();
    expect(r.headers.get("x-ratelimit-limit-tokens")).toBeNull();
  });
});

describe("tokens per minute, one instance", () => {
  const estimate = estimateChatTokens({ messages, max_tokens: 10 });

  test("requests are admitted while their estimate fits; the one that does not is refused naming tokens", async () => {
    // The mock reports exactly the estimate, so settling changes nothing.
    expect(estimate).toBe(18);
    const k = await fresh("tpm");
    await setKey(k.id, { tpm: estimate * 3 });
    const remaining: string[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await chat(k.key);
      expect(r.status).toBe(200);
      expect(r.headers.get("x-ratelimit-limit-tokens")).toBe(String(estimate * 3));
      remaining.push(r.headers.get("x-ratelimit-remaining-tokens")!);
    }
    expect(remaining).toEqual([String(estimate * 2), String(estimate), "0"]);
    const refused = await chat(k.key);
    expect(refused.status).toBe(429);
    expect(refused.body.error.code).toBe("rate_limit_exceeded");
    expect(refused.body.error.message).toContain(`this API key's limit of ${estimate * 3} tokens per minute`);
    expect(refused.headers.get("x-ratelimit-reset-tokens")).toBe("50s");
    expect(mock.chatRequests().length).toBe(3);
  });

  test("the estimate is replaced by the real usage when the request ends", async () => {
    const k = await fresh("settle");
    await setKey(k.id, { tpm: 1000 });
    mock.script({ usage: { prompt: 3, completion: 2 } });
    const first = await chat(k.key, { max_tokens: 200 });
    expect(first.headers.get("x-ratelimit-remaining-tokens")).toBe(String(1000 - estimateChatTokens({ messages, max_tokens: 200 })));
    // Settled at 5 real tokens; this request reserves its own estimate (18).
    const second = await chat(k.key);
    expect(second.headers.get("x-ratelimit-remaining-tokens")).toBe(String(1000 - 5 - estimate));
  });

  test("stream responses carry the headers and settle from the stream's usage", async () => {
    const k = await fresh("stream");
    await setKey(k.id, { rpm: 5, tpm: 1000 });
    mock.script({ usage: { prompt: 4, completion: 6 } });
    const r = await chat(k.key, { stream: true });
    expect(r.status).toBe(200);
    expect(r.text).toContain("data: [DONE]");
    expect(r.headers.get("x-ratelimit-remaining-requests")).toBe("4");
    expect(r.headers.get("x-ratelimit-remaining-tokens")).toBe(String(1000 - estimate));
    const next = await chat(k.key);
    expect(next.headers.get("x-ratelimit-remaining-tokens")).toBe(String(1000 - 10 - estimate));
  });
});

describe("workspace limits", () => {
  test("the workspace's rpm holds across two keys and is named in the refusal", async () => {
    const a = await fresh("ws-a");
    const b = await fresh("ws-b");
    await setWorkspace({ rpm: 2 });
    try {
      expect((await chat(a.key)).status).toBe(200);
      expect((await chat(b.key)).status).toBe(200);
      const refused = await chat(a.key);
      expect(refused.status).toBe(429);
      expect(refused.body.error.message).toContain("this workspace's limit of 2 requests per minute");
      expect((await chat(b.key)).status).toBe(429);
      expect(mock.chatRequests().length).toBe(2);
    } finally {
      await setWorkspace({});
    }
  });

  test("with key and workspace limits, the headers report the tighter one", async () => {
    const k = await fresh("tight");
    await setKey(k.id, { rpm: 10, tpm: 50 });
    await setWorkspace({ rpm: 4, tpm: 100_000 });
    try {
      const r = await chat(k.key);
      expect(r.headers.get("x-ratelimit-limit-requests")).toBe("4");
      expect(r.headers.get("x-ratelimit-remaining-requests")).toBe("3");
      expect(r.headers.get("x-ratelimit-limit-tokens")).toBe("50");
      expect(r.headers.get("x-ratelimit-remaining-tokens")).toBe(String(50 - estimate));
    } finally {
      await setWorkspace({});
    }
  });
  const estimate = estimateChatTokens({ messages, max_tokens: 10 });
});

describe("model allow-list", () => {
  test("a model outside the key's patterns is refused with 403 before any provider is tried, and logged", async () => {
    const k = await fresh("allow");
    await setKey(k.id, { allowed: ["gpt-4o*", "claude-*"] });
    const refused = await chat(k.key, { model: "gemini-2.5-pro" });
    expect(refused.status).toBe(403);
    expect(refused.body.error).toMatchObject({ type: "permission_error", code: "model_not_allowed", param: "model" });
    expect(refused.body.error.message).toContain("gpt-4o*, claude-*");
    expect(mock.chatRequests().length).toBe(0);
    expect((await chat(k.key, { model: "GPT-4o-mini" })).status).toBe(200);
    expect(mock.chatRequests().length).toBe(1);

    await h.t.deps.logQueue.flush();
    const rows = await h.t.sql<{ status: number; error_class: string; model_requested: string }[]>`
      select status, error_class, model_requested from request_logs where api_key_id = ${k.id} order by created_at`;
    expect(rows[0]).toEqual({ status: 403, error_class: "model_not_allowed", model_requested: "gemini-2.5-pro" });
  });

  test("a change to the allow-list takes effect at once, like revocation", async () => {
    const k = await fresh("allow-change");
    expect((await chat(k.key, { model: "o3" })).status).toBe(200);
    await setKey(k.id, { allowed: ["gpt-*"] });
    expect((await chat(k.key, { model: "o3" })).status).toBe(403);
  });
});

describe("the official openai SDK", () => {
  test("reads the headers from a success and raises RateLimitError on 429", async () => {
    const k = await fresh("sdk");
    await setKey(k.id, { rpm: 1 });
    const { response } = await h.client(k.key).chat.completions.create({ model: "gpt-4o-mini", messages }).withResponse();
    expect(response.headers.get("x-ratelimit-limit-requests")).toBe("1");
    expect(response.headers.get("x-ratelimit-remaining-requests")).toBe("0");
    const err = await h
      .client(k.key)
      .chat.completions.create({ model: "gpt-4o-mini", messages })
      .catch((e) => e);
    expect(err).toBeInstanceOf(OpenAI.RateLimitError);
    expect(err.status).toBe(429);
    expect(err.code).toBe("rate_limit_exceeded");
    expect(err.headers.get("retry-after")).toBe("50");
  });

  test("honours Retry-After: it waits and retries once the window has reset", async () => {
    const k = await fresh("sdk-retry");
    await setKey(k.id, { rpm: 1 });
    clock += 49_000; // one second before the window ends: Retry-After: 1
    expect((await chat(k.key)).status).toBe(200);
    const statuses: number[] = [];
    const retryAfter: (string | null)[] = [];
    const client = new OpenAI({
      apiKey: k.key,
      baseURL: `${h.base}/v1`,
      maxRetries: 1,
      fetch: async (url, init) => {
        const res = await fetch(url, init);
        statuses.push(res.status);
        retryAfter.push(res.headers.get("retry-after"));
        // The limiter's clock moves on while the SDK waits.
        if (res.status === 429) clock += 2_000;
        return res;
      },
    });
    const completion = await client.chat.completions.create({ model: "gpt-4o-mini", messages });
    expect(completion.object).toBe("chat.completion");
    expect(statuses).toEqual([429, 200]);
    expect(retryAfter[0]).toBe("1");
  });
});
