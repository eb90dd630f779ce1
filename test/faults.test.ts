import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { gatewayHarness, type GatewayHarness } from "./support/gateway.ts";
import { refusedUrl, type MockBehaviour, type MockKind } from "./support/mock-upstreams.ts";

// Every way a provider or the network can fail an answer, through the real gateway over HTTP:
// the client gets the status README promises (or the fallback's answer where the routing rules
// allow one), exactly one log row records it with the right error class, and nothing internal
// (a stack, a path, a provider key) reaches the client or the log.
let h: GatewayHarness;
// The embedded database's first start can take longer than a test on a busy 2-core machine.
beforeAll(async () => {
  h = await gatewayHarness();
}, 120_000);
afterAll(async () => {
  await h.close();
});

type Fault = MockBehaviour | "refused";
interface Case {
  name: string;
  stream: boolean;
  fault: Fault;
  /** The failed attempt's error_class. */
  cls: string;
  /** What the client gets when no other entry is left. */
  status: number;
  code: string;
}

const HANG = 30_000; // far beyond the entry's 1 s timeout
const cases: Case[] = [
  { name: "connection refused", stream: false, fault: "refused", cls: "network", status: 502, code: "upstream_unreachable" },
  { name: "connection refused (stream)", stream: true, fault: "refused", cls: "network", status: 502, code: "upstream_unreachable" },
  {
    name: "connection reset mid-body",
    stream: false,
    fault: { resetAfterBytes: 40 },
    cls: "network",
    status: 502,
    code: "upstream_unreachable",
  },
  {
    name: "connection reset before the first content",
    stream: true,
    fault: { abortAfterChunks: 1 },
    cls: "network",
    status: 502,
    code: "upstream_unreachable",
  },
  { name: "no response headers", stream: false, fault: { delayMs: HANG }, cls: "timeout", status: 504, code: "upstream_timeout" },
  { name: "no response headers (stream)", stream: true, fault: { delayMs: HANG }, cls: "timeout", status: 504, code: "upstream_timeout" },
  {
    name: "headers, then nothing",
    stream: false,
    fault: { hangAfterHeaders: true },
    cls: "timeout",
    status: 504,
    code: "upstream_timeout",
  },
  {
    name: "headers, then no event",
    stream: true,
    fault: { hangAfterHeaders: true },
    cls: "timeout",
    status: 504,
    code: "upstream_timeout",
  },
  {
    name: "malformed JSON",
    stream: false,
    fault: { okBody: '{"id":"chatcmpl-1","object":"chat.completion","choices":[{"index":0,' },
    cls: "server",
    status: 502,
    code: "upstream_server_error",
  },
  {
    name: "a 2xx body that is not a completion",
    stream: false,
    fault: { okBody: '"<html>maintenance</html>"' },
    cls: "server",
    status: 502,
    code: "upstream_server_error",
  },
  {
    name: "malformed SSE",
    stream: true,
    fault: { okBody: "data: {this is not json\n\ndata: [DONE]\n\n" },
    cls: "stream_error",
    status: 502,
    code: "upstream_stream_error",
  },
  {
    name: "an event stream of nothing but noise",
    stream: true,
    fault: { okBody: ": ping\n\nevent: ping\n\nretry: 10\n\n" },
    cls: "stream_error",
    status: 502,
    code: "upstream_stream_error",
  },
  {
    name: "stream cut before the first content",
    stream: true,
    fault: { cutAfterChunks: 1 },
    cls: "stream_error",
    status: 502,
    code: "upstream_stream_error",
  },
  {
    name: "200 with an error body",
    stream: false,
    fault: { okBody: JSON.stringify({ error: { message: "The server is overloaded", type: "server_error", code: null } }) },
    cls: "server",
    status: 502,
    code: "upstream_server_error",
  },
  {
    name: "200 with an error event first (stream)",
    stream: true,
    fault: { errorAfterChunks: 0, streamErrorType: "server_error", streamErrorMessage: "The server had an error" },
    cls: "server",
    status: 502,
    code: "upstream_server_error",
  },
];

let n = 0;
const KEY = (i: number) => `sk-fault-${i}-0123456789abcdefghijklmnopqrstuv`;

/** A faulty entry serving one fresh model, optionally followed by a healthy one. */
async function setup(fault: Fault, withFallback: boolean, kind: MockKind = "openai") {
  const model = `fault-model-${++n}`;
  // The healthy mock starts first: a port freed for the "refused" entry could otherwise be handed to it.
  const healthy = withFallback ? await h.addProvider("openai", { models: [model], priority: 2, api_key: `${KEY(n)}-ok` }) : null;
  const faulty =
    fault === "refused"
      ? await h.addProvider(
          { type: "openai_compatible", url: await refusedUrl() },
          { models: [model], priority: 1, timeout_ms: 1000, api_key: KEY(n) },
        )
      : await h.addProvider(kind, { models: [model], priority: 1, timeout_ms: 1000, api_key: KEY(n) }, { behaviour: fault });
  made.push(faulty.id, ...(healthy ? [healthy.id] : []));
  return { model, faulty, healthy };
}

// A workspace holds at most 50 entries: each test removes its own.
const made: string[] = [];
afterEach(async () => {
  for (const id of made.splice(0)) await h.t.call("DELETE", `/workspaces/${h.ws.id}/providers/${id}`, { token: h.owner.token });
});

/** The text a client reads from an event stream's deltas. */
function streamedText(sse: string): string {
  let out = "";
  for (const e of sse.split("\n\n")) {
    if (!e.startsWith("data: {")) continue;
    for (const c of JSON.parse(e.slice(6)).choices ?? []) out += c.delta?.content ?? "";
  }
  return out;
}

async function ask(model: string, stream: boolean) {
  const r = await fetch(`${h.base}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${h.key}`, "content-type": "application/json" },
    body: JSON.stringify({ model, stream, messages: [{ role: "user", content: "hello" }] }),
  });
  return { status: r.status, headers: r.headers, text: await r.text(), requestId: r.headers.get("x-request-id")! };
}

/** The log rows of one request, once the queue has written everything. */
async function rowsOf(requestId: string) {
  await h.t.deps.logQueue.flush();
  return h.t.sql`select * from request_logs where request_id = ${requestId}`;
}

/** No stack, source path, SQL or provider key in what a client or a log reader sees. */
function expectNoInternals(text: string) {
  expect(text).not.toMatch(/\n\s+at |node_modules|\/src\/|\.ts:\d+|sk-fault-|postgres|TypeError|SyntaxError/i);
}

describe("a single faulty entry: the right status, one log row, nothing internal", () => {
  for (const c of cases) {
    test(`${c.name}: ${c.status} ${c.code}`, async () => {
      const { model, faulty } = await setup(c.fault, false);
      const r = await ask(model, c.stream);
      expect(r.status).toBe(c.status);
      const body = JSON.parse(r.text);
      expect(body.error).toMatchObject({ type: "upstream_error", code: "all_providers_failed" });
      expect(typeof body.error.message).toBe("string");
      expectNoInternals(r.text);
      expect(r.headers.get("x-perpetuo-attempts")).toBe("1");

      const rows = await rowsOf(r.requestId);
      expect(rows.length).toBe(1);
      expect(rows[0]).toMatchObject({ status: c.status, error_class: c.cls, stream: c.stream, model_requested: model });
      expect(rows[0].attempts).toHaveLength(1);
      expect(rows[0].attempts[0]).toMatchObject({ provider_id: faulty.id, error_class: c.cls });
      expectNoInternals(JSON.stringify(rows[0]));
    });
  }
});

describe("a faulty entry followed by a healthy one: the client gets the healthy answer", () => {
  for (const c of cases) {
    test(`${c.name}: falls back`, async () => {
      const { model, faulty, healthy } = await setup(c.fault, true);
      const r = await ask(model, c.stream);
      expect(r.status).toBe(200);
      expect(r.headers.get("x-perpetuo-provider")).toBe(healthy!.name);
      expect(r.headers.get("x-perpetuo-attempts")).toBe("2");
      if (c.stream) {
        expect(streamedText(r.text)).toBe("Echo: hello");
        expect(r.text.trimEnd().endsWith("data: [DONE]")).toBe(true);
        expect(r.text).not.toContain('"error"');
      } else {
        expect(JSON.parse(r.text).choices[0].message.content).toBe("Echo: hello");
      }
      expect(healthy!.mock!.chatRequests()).toHaveLength(1);

      const rows = await rowsOf(r.requestId);
      expect(rows.length).toBe(1);
      expect(rows[0]).toMatchObject({ status: 200, error_class: null, provider_id: healthy!.id });
      expect(rows[0].attempts.map((a: { provider_id: string; error_class: string | null }) => [a.provider_id, a.error_class])).toEqual([
        [faulty.id, c.cls],
        [healthy!.id, null],
      ]);
      expectNoInternals(JSON.stringify(rows[0]));
    });
  }
});

// Once content has reached the client the headers are gone: no fallback, an error event instead
// of a silent truncation, and the row says the stream broke.
const afterContent: { name: string; fault: MockBehaviour }[] = [
  { name: "stream cut after the first content", fault: { cutAfterChunks: 3 } },
  // The pause lets the content reach the gateway before the reset discards what is unsent.
  { name: "connection reset after the first content", fault: { abortAfterChunks: 3, chunkDelayMs: 50 } },
  {
    name: "malformed event after the first content",
    fault: {
      okBody: `data: ${JSON.stringify({ id: "c1", object: "chat.completion.chunk", created: 1, model: "m", choices: [{ index: 0, delta: { content: "Hel" }, finish_reason: null }] })}\n\ndata: {"choices":[{"ind\n\n`,
    },
  },
  { name: "idle after the first content", fault: { stallAfterChunks: 2 } },
];

describe("a stream that breaks after content was sent", () => {
  for (const c of afterContent) {
    test(`${c.name}: ends with an error event, no fallback, one row`, async () => {
      const { model, faulty, healthy } = await setup(c.fault, true);
      const r = await ask(model, true);
      expect(r.status).toBe(200);
      expect(r.headers.get("x-perpetuo-provider")).toBe(faulty.name);
      const events = r.text.split("\n\n").filter((e) => e.startsWith("data: "));
      expect(events.length).toBeGreaterThanOrEqual(2);
      const last = JSON.parse(events.at(-1)!.slice(6));
      expect(last.error).toMatchObject({ type: "upstream_error" });
      expect(r.text).not.toContain("[DONE]");
      expectNoInternals(r.text);
      expect(healthy!.mock!.chatRequests()).toHaveLength(0);

      const rows = await rowsOf(r.requestId);
      expect(rows.length).toBe(1);
      expect(rows[0]).toMatchObject({ status: 502, provider_id: faulty.id });
      expect(rows[0].error_class).toBe(c.fault.stallAfterChunks ? "timeout" : "stream_error");
      expectNoInternals(JSON.stringify(rows[0]));
    });
  }
});

// Anthropic and Gemini entries parse their own wire formats: the same faults through their adapters.
const foreign: { kind: MockKind; name: string; stream: boolean; fault: MockBehaviour; cls: string }[] = [
  ...(["anthropic", "gemini"] as const).flatMap((kind) => [
    { kind, name: "connection reset mid-body", stream: false, fault: { resetAfterBytes: 30 }, cls: "network" },
    { kind, name: "malformed JSON", stream: false, fault: { okBody: '{"candidates":[{"content":' }, cls: "server" },
    {
      kind,
      name: "malformed SSE",
      stream: true,
      fault: { okBody: "event: message_start\ndata: {this is not json\n\n" },
      cls: "stream_error",
    },
    { kind, name: "headers, then nothing", stream: true, fault: { hangAfterHeaders: true }, cls: "timeout" },
    {
      kind,
      name: "stream cut before the first content",
      stream: true,
      fault: { cutAfterChunks: kind === "anthropic" ? 2 : 0 },
      cls: "stream_error",
    },
  ]),
  {
    kind: "anthropic",
    name: "200 with an error body",
    stream: false,
    fault: { okBody: JSON.stringify({ type: "error", error: { type: "overloaded_error", message: "Overloaded" } }) },
    cls: "overloaded",
  },
  {
    kind: "anthropic",
    name: "an error event first",
    stream: true,
    fault: { errorAfterChunks: 1, streamErrorType: "overloaded_error", streamErrorMessage: "Overloaded" },
    cls: "overloaded",
  },
  {
    kind: "gemini",
    name: "200 with an error body",
    stream: false,
    fault: { okBody: JSON.stringify({ error: { code: 503, message: "The model is overloaded.", status: "UNAVAILABLE" } }) },
    cls: "overloaded",
  },
  {
    kind: "gemini",
    name: "an error event first",
    stream: true,
    fault: { errorAfterChunks: 0, streamErrorType: "INTERNAL", streamErrorMessage: "Internal error" },
    cls: "server",
  },
];

describe("the same faults through the Anthropic and Gemini adapters fall back, one row each", () => {
  for (const c of foreign) {
    test(`${c.kind}: ${c.name}${c.stream ? " (stream)" : ""}`, async () => {
      const { model, faulty, healthy } = await setup(c.fault, true, c.kind);
      const r = await ask(model, c.stream);
      expect(r.status).toBe(200);
      expect(r.headers.get("x-perpetuo-provider")).toBe(healthy!.name);
      expect(c.stream ? streamedText(r.text) : JSON.parse(r.text).choices[0].message.content).toBe("Echo: hello");
      const rows = await rowsOf(r.requestId);
      expect(rows.length).toBe(1);
      expect(rows[0].attempts.map((a: { provider_id: string; error_class: string | null }) => [a.provider_id, a.error_class])).toEqual([
        [faulty.id, c.cls],
        [healthy!.id, null],
      ]);
      expectNoInternals(JSON.stringify(rows[0]));
    });
  }
});

test("after all the faults the gateway still answers, and each request left exactly one row", async () => {
  const { model } = await setup({}, false);
  const r = await ask(model, false);
  expect(r.status).toBe(200);
  await h.t.deps.logQueue.flush();
  const [{ dup }] = await h.t.sql`select count(*)::int as dup from (select request_id from request_logs group by 1 having count(*) > 1) d`;
  expect(dup).toBe(0);
  const [{ rows }] = await h.t.sql`select count(*)::int as rows from request_logs`;
  expect(rows).toBe(cases.length * 2 + afterContent.length + foreign.length + 1);
});
