import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { gatewayHarness, type GatewayHarness } from "./support/gateway.ts";
import { MAX_UPSTREAM_BODY_BYTES, MAX_UPSTREAM_ERROR_BYTES, MAX_UPSTREAM_EVENT_CHARS } from "../src/gateway/attempt.ts";

/**
 * A provider that answers without end (a huge JSON body, a huge error page, a stream event that
 * never ends) costs the gateway a bounded amount of memory: the attempt fails as
 * upstream_too_large (or, for an error, is read only in part) and the next entry answers.
 */

const MiB = 1024 * 1024;
const chunk = new Uint8Array(64 * 1024).fill(0x78); // "xxxx…"

/** An OpenAI-compatible upstream whose every answer is `head` followed by endless x's; counts what it sent. */
function endlessUpstream(status: number, contentType: string, head: string) {
  let sent = 0;
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    fetch() {
      const first = new TextEncoder().encode(head);
      const body = new ReadableStream<Uint8Array>({
        start(c) {
          c.enqueue(first);
          sent += first.byteLength;
        },
        pull(c) {
          // Far beyond any cap; generated as it is pulled, so the test itself stays small.
          if (sent > 400 * MiB) return c.close();
          sent += chunk.byteLength;
          c.enqueue(chunk);
        },
      });
      return new Response(body, { status, headers: { "content-type": contentType } });
    },
  });
  return { url: `http://127.0.0.1:${server.port}/v1`, sent: () => sent, stop: () => server.stop(true) };
}

let h: GatewayHarness;
beforeAll(async () => {
  h = await gatewayHarness();
});
afterAll(async () => {
  await h.close();
});

async function chat(requestId: string, stream = false) {
  const res = await fetch(`${h.base}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${h.key}`, "content-type": "application/json", "x-request-id": requestId },
    body: JSON.stringify({ model: `model-${requestId}`, stream, messages: [{ role: "user", content: "hi" }] }),
  });
  return { res, text: await res.text() };
}

async function logRow(requestId: string) {
  for (let i = 0; i < 200; i++) {
    await h.t.deps.logQueue.flush();
    const [row] = await h.t.sql<
      { status: number; error_class: string | null; attempts: { error_class: string | null; message: string | null }[] }[]
    >`
      select status, error_class, attempts from request_logs where request_id = ${requestId}`;
    if (row) return row;
    await Bun.sleep(20);
  }
  throw new Error(`no log row for ${requestId}`);
}

/** A huge upstream first (priority 1), a healthy mock second, both serving only this test's model. */
async function setup(id: string, up: ReturnType<typeof endlessUpstream>) {
  const models = [`model-${id}`];
  await h.addProvider({ type: "openai_compatible", url: up.url }, { priority: 1, models, api_key: "sk-huge-0123456789" });
  await h.addProvider("openai", { priority: 2, models });
}

describe("upstream size caps", () => {
  test(`a JSON answer over ${MAX_UPSTREAM_BODY_BYTES / MiB} MiB fails that attempt as upstream_too_large and falls back`, async () => {
    const up = endlessUpstream(200, "application/json", '{"choices":[{"index":0,"message":{"role":"assistant","content":"');
    try {
      await setup("json", up);
      const { res, text } = await chat("json");
      expect(res.status).toBe(200);
      expect(JSON.parse(text).choices[0].message.content).toContain("Echo");
      const row = await logRow("json");
      expect(row.attempts.map((a) => a.error_class)).toEqual(["upstream_too_large", null]);
      expect(row.attempts[0].message).toContain("exceeds 32 MiB");
      // Reading stopped at the cap (plus what was in flight), not at the end of the 400 MiB.
      expect(up.sent()).toBeLessThan(MAX_UPSTREAM_BODY_BYTES + 32 * MiB);
    } finally {
      up.stop();
    }
  });

  test(`only the first ${MAX_UPSTREAM_ERROR_BYTES / 1024} KiB of an error body are read`, async () => {
    const up = endlessUpstream(500, "text/html", "<html>upstream broke ");
    try {
      await setup("error", up);
      const { res } = await chat("error");
      expect(res.status).toBe(200);
      const row = await logRow("error");
      expect(row.attempts[0].error_class).toBe("server");
      expect(row.attempts[0].message!.length).toBeLessThanOrEqual(301);
      expect(up.sent()).toBeLessThan(32 * MiB);
    } finally {
      up.stop();
    }
  });

  test(`a stream event over ${MAX_UPSTREAM_EVENT_CHARS / MiB} MiB before any content fails the attempt and falls back`, async () => {
    const up = endlessUpstream(200, "text/event-stream", 'data: {"choices":[{"index":0,"delta":{"content":"');
    try {
      await setup("event", up);
      const { res, text } = await chat("event", true);
      expect(res.status).toBe(200);
      expect(text).toContain("Echo");
      expect(text).toEndWith("data: [DONE]\n\n");
      const row = await logRow("event");
      expect(row.attempts.map((a) => a.error_class)).toEqual(["upstream_too_large", null]);
      expect(up.sent()).toBeLessThan(MAX_UPSTREAM_EVENT_CHARS + 32 * MiB);
    } finally {
      up.stop();
    }
  });

  test("a huge stream event after content ends the stream with an upstream_too_large error event, and is logged", async () => {
    const first = `data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":"Hel"},"finish_reason":null}]}\n\n`;
    const up = endlessUpstream(200, "text/event-stream", `${first}data: {"choices":[{"index":0,"delta":{"content":"`);
    try {
      await setup("late", up);
      const { res, text } = await chat("late", true);
      expect(res.status).toBe(200);
      expect(text).toContain('"content":"Hel"');
      const last = text.trim().split("\n\n").pop()!;
      expect(JSON.parse(last.slice("data: ".length)).error).toMatchObject({ code: "upstream_too_large", type: "upstream_error" });
      const row = await logRow("late");
      expect(row).toMatchObject({ status: 502, error_class: "upstream_too_large" });
      expect(up.sent()).toBeLessThan(MAX_UPSTREAM_EVENT_CHARS + 32 * MiB);
    } finally {
      up.stop();
    }
  });

  test("the connection test and the models list read a provider's answer only up to the cap", async () => {
    const up = endlessUpstream(200, "application/json", '{"object":"list","data":[{"id":"');
    try {
      const p = await h.addProvider(
        { type: "openai_compatible", url: up.url },
        { priority: 50, models: ["never-asked"], api_key: "sk-huge-models-0123456789" },
      );
      const r = await h.t.call("POST", `/workspaces/${h.ws.id}/providers/${p.id}/test`, { token: h.owner.token });
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({ ok: false, status: 200 });
      expect(r.body.message).toContain(`more than ${MAX_UPSTREAM_BODY_BYTES / MiB} MiB`);
      expect(up.sent()).toBeLessThan(MAX_UPSTREAM_BODY_BYTES + 32 * MiB);

      // An entry serving any model is asked for its list by GET /v1/models: the same cap, and an empty list.
      await h.addProvider({ type: "openai_compatible", url: up.url }, { priority: 60, models: [], api_key: "sk-huge-models-0123456789" });
      const before = up.sent();
      const list = await fetch(`${h.base}/v1/models`, { headers: { authorization: `Bearer ${h.key}` } });
      expect(list.status).toBe(200);
      expect(up.sent() - before).toBeGreaterThan(MAX_UPSTREAM_BODY_BYTES / 2);
      expect(up.sent() - before).toBeLessThan(MAX_UPSTREAM_BODY_BYTES + 32 * MiB);
    } finally {
      up.stop();
    }
  });
});
