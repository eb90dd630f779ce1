/**
 * Responses requests to providers of type `openai` go to OpenAI's own `/responses`, unchanged but
 * for the model name, and its answer is relayed byte for byte: nothing is lost in translation
 * (reasoning items, annotations, logprobs). Usage is read on the side for the log row. Other
 * provider types in the same request still get the translated chat path (fallback included).
 */
import { readBounded } from "../../http/body.ts";
import { createSSEParser, SSEEventTooLarge, type SSEEvent } from "../../adapters/sse.ts";
import { clip, isRecord, joinUrl, redactSecrets, upstreamError, type UpstreamError, type UpstreamRequest, type Usage } from "../../adapters/types.ts";
import { bodyForLog } from "../../telemetry/content.ts";
import type { Candidate } from "../router.ts";
import type { ResponsesRequest } from "./responses-model.ts";
import { untranslatable } from "./responses.ts";
import {
  attemptSignal,
  CLIENT_CLOSED,
  fetchFailure,
  MAX_MESSAGE_CHARS,
  MAX_UPSTREAM_BODY_BYTES,
  MAX_UPSTREAM_EVENT_CHARS,
  priced,
  send,
  SHUTDOWN,
  successHeaders,
  tooLargeUpstream,
  usageOrEstimate,
  type AttemptContext,
  type AttemptOutcome,
  type NativeRoute,
} from "../proxy.ts";

/** Answers that already are Responses API answers (the route must not translate them again). */
const relayed = new WeakSet<Response>();
export const isNativeResponse = (res: Response) => relayed.has(res);

/** Responses usage in the gateway's accounting terms. */
export function usageFromResponses(u: unknown): Usage | null {
  if (!isRecord(u) || typeof u.input_tokens !== "number" || typeof u.output_tokens !== "number") return null;
  const cached = isRecord(u.input_tokens_details) && typeof u.input_tokens_details.cached_tokens === "number" ? u.input_tokens_details.cached_tokens : 0;
  const reasoning = isRecord(u.output_tokens_details) && typeof u.output_tokens_details.reasoning_tokens === "number" ? u.output_tokens_details.reasoning_tokens : 0;
  return {
    prompt_tokens: u.input_tokens,
    completion_tokens: u.output_tokens,
    total_tokens: typeof u.total_tokens === "number" ? u.total_tokens : u.input_tokens + u.output_tokens,
    cached_tokens: cached,
    reasoning_tokens: reasoning,
  };
}

/** The text and call arguments of a Response object, for estimates when usage is missing. */
function outputTextOf(response: Record<string, unknown>): string {
  if (!Array.isArray(response.output)) return "";
  let out = "";
  for (const item of response.output) {
    if (!isRecord(item)) continue;
    if (typeof item.arguments === "string") out += String(item.name ?? "") + item.arguments;
    if (Array.isArray(item.content)) for (const p of item.content) if (isRecord(p) && typeof p.text === "string") out += p.text;
  }
  return out;
}

function succeed(a: AttemptContext, f: { status: number; model: string | null; usage: Usage | null; output: string; ttft: number; error?: { class: string; message: string } | null }) {
  const { call, cand } = a;
  const usage = usageOrEstimate(f.usage, call.body, () => f.output);
  const model = f.model ?? cand.upstreamModel;
  a.record({
    status: f.status,
    provider_id: cand.provider.id,
    provider_name: cand.provider.name,
    provider_type: cand.provider.type,
    model_used: model,
    ttft_ms: f.ttft,
    error_class: f.error ? f.error.class : null,
    error_message: f.error ? clip(redactSecrets(f.error.message, cand.provider.api_key), MAX_MESSAGE_CHARS) : null,
    ...usage.fields,
    cost_usd: priced(model, usage, cand),
    response_body: call.runtime.logContent ? bodyForLog(f.output, undefined, cand.provider.api_key) : null,
  });
}

async function jsonRelay(a: AttemptContext): Promise<AttemptOutcome> {
  const { deps, call, cand, attempt, started } = a;
  const timeoutMs = cand.provider.timeout_ms;
  const sig = attemptSignal(call.signal, timeoutMs);
  let bytes: Uint8Array;
  let json: Record<string, unknown>;
  try {
    const res = await send(a, sig, "response");
    if (!(res instanceof Response)) return res;
    let read: Uint8Array | null;
    try {
      read = await readBounded(res.body, MAX_UPSTREAM_BODY_BYTES);
    } catch (err) {
      return fetchFailure(err, sig.timedOut, timeoutMs, "complete response");
    }
    if (!read) return { ok: false, final: false, error: tooLargeUpstream(`its response exceeds ${MAX_UPSTREAM_BODY_BYTES / (1024 * 1024)} MiB`, res.status) };
    bytes = read;
    let parsed: unknown;
    try {
      parsed = JSON.parse(new TextDecoder().decode(bytes));
    } catch {
      parsed = null;
    }
    if (!isRecord(parsed) || parsed.object !== "response") {
      return { ok: false, final: false, error: upstreamError("server", "the provider answered with a body that is not a Response object", { upstreamStatus: res.status }) };
    }
    if (parsed.status === "failed") {
      const e = isRecord(parsed.error) && typeof parsed.error.message === "string" ? parsed.error.message : "the provider reported the response as failed";
      return { ok: false, final: false, error: upstreamError("server", e, { upstreamStatus: res.status }) };
    }
    json = parsed;
    attempt.status = res.status;
  } finally {
    sig.done();
  }
  attempt.latency_ms = Math.round(performance.now() - started);
  deps.cooldowns.clear(cand.provider.id);
  succeed(a, { status: 200, model: typeof json.model === "string" ? json.model : null, usage: usageFromResponses(json.usage), output: outputTextOf(json), ttft: attempt.latency_ms });
  const response = new Response(bytes as Uint8Array<ArrayBuffer>, { status: 200, headers: { "content-type": "application/json", ...successHeaders(call.requestId, cand) } });
  relayed.add(response);
  return { ok: true, response };
}

/** Events that are not yet an answer: a provider failing after them can still be fallen back from. */
const PREAMBLE = new Set(["response.created", "response.in_progress", "response.queued"]);

async function streamRelay(a: AttemptContext): Promise<AttemptOutcome> {
  const { deps, call, cand, attempt, started } = a;
  const timeoutMs = cand.provider.timeout_ms;
  const sig = attemptSignal(call.signal, timeoutMs);
  const res = await send(a, sig, "response headers");
  if (!(res instanceof Response) || !res.body) {
    sig.done();
    return res instanceof Response ? { ok: false, final: false, error: upstreamError("stream_error", "the provider sent no stream") } : res;
  }
  attempt.status = res.status;
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  const parser = createSSEParser({ maxEventChars: MAX_UPSTREAM_EVENT_CHARS });
  const held: Uint8Array[] = [];
  let committed = false;
  let terminal = false;
  let eof = false;
  let failure: UpstreamError | null = null;
  let usage: Usage | null = null;
  let model: string | null = null;
  let output = "";
  let lastSeq = -1;

  const see = (ev: SSEEvent) => {
    let d: unknown;
    try {
      d = JSON.parse(ev.data);
    } catch {
      failure ??= upstreamError("stream_error", "the provider sent an event that is not JSON");
      return;
    }
    if (!isRecord(d)) return;
    const type = typeof d.type === "string" ? d.type : (ev.event ?? "");
    if (typeof d.sequence_number === "number") lastSeq = d.sequence_number;
    const response = isRecord(d.response) ? d.response : null;
    if (response && typeof response.model === "string") model = response.model;
    if (type === "error") {
      failure ??= upstreamError("stream_error", typeof d.message === "string" ? d.message : "the provider sent an error event");
    } else if (type === "response.completed" || type === "response.incomplete" || type === "response.failed") {
      terminal = true;
      usage = usageFromResponses(response?.usage) ?? usage;
      if (type === "response.failed") {
        const e = response && isRecord(response.error) && typeof response.error.message === "string" ? response.error.message : "the provider reported the response as failed";
        failure ??= upstreamError("stream_error", e);
      }
    } else if (!PREAMBLE.has(type)) {
      committed = true;
      if (typeof d.delta === "string") output += d.delta;
    }
  };

  /** Reads one slice from the provider, keeping its bytes to relay; false at EOF or on an error. */
  const step = async (): Promise<boolean> => {
    const { value, done } = await reader.read();
    if (done) {
      eof = true;
      for (const ev of parser.flush()) see(ev);
      return false;
    }
    held.push(value);
    try {
      for (const ev of parser.feed(decoder.decode(value, { stream: true }))) see(ev);
    } catch (err) {
      if (!(err instanceof SSEEventTooLarge)) throw err;
      failure ??= tooLargeUpstream(`one of its stream events exceeds ${MAX_UPSTREAM_EVENT_CHARS / (1024 * 1024)} MiB`);
      return false;
    }
    return true;
  };

  try {
    while (!committed && !failure && !terminal && (await step()));
  } catch (err) {
    sig.done();
    return fetchFailure(err, sig.timedOut, timeoutMs, "first token");
  }
  if (!committed && (failure || !terminal)) {
    sig.done();
    reader.cancel().catch(() => {});
    return { ok: false, final: false, error: failure ?? upstreamError("stream_error", "the stream ended before any content") };
  }

  const ttft = Math.round(performance.now() - call.startedAt);
  attempt.latency_ms = Math.round(performance.now() - started);
  deps.cooldowns.clear(cand.provider.id);
  sig.arm(timeoutMs);
  let closed = false;
  const finish = (status: number, error: { class: string; message: string } | null) => {
    if (closed) return;
    closed = true;
    sig.done();
    succeed(a, { status, model, usage, output, ttft, error });
  };
  const encoder = new TextEncoder();
  /** Our own end for a stream the provider broke off: an error event in OpenAI's streaming shape. */
  const errorEvent = (e: UpstreamError) =>
    encoder.encode(`event: error\ndata: ${JSON.stringify({ type: "error", code: e.code, message: clip(redactSecrets(e.message, cand.provider.api_key), MAX_MESSAGE_CHARS), param: null, sequence_number: lastSeq + 1 })}\n\n`);

  const body = new ReadableStream<Uint8Array>({
    pull: async (controller) => {
      for (;;) {
        if (held.length) {
          for (const b of held) controller.enqueue(b);
          held.length = 0;
          return;
        }
        if (terminal || failure || eof) {
          const broken = !terminal && !failure ? upstreamError("stream_error", "the provider's stream ended before response.completed") : null;
          if (broken) controller.enqueue(errorEvent(broken));
          controller.close();
          reader.cancel().catch(() => {});
          const e = failure ?? broken;
          finish(e ? 502 : 200, e);
          return;
        }
        try {
          await step();
          sig.arm(timeoutMs);
        } catch (err) {
          // The read failed because our side let go: the client left, or shutdown's deadline passed.
          if (call.signal.aborted && !sig.timedOut) {
            const shutdown = deps.draining?.aborted === true;
            if (shutdown) controller.enqueue(errorEvent(upstreamError("server", SHUTDOWN.message, { code: SHUTDOWN.code })));
            controller.close();
            finish(shutdown ? SHUTDOWN.status : CLIENT_CLOSED, shutdown ? SHUTDOWN : { class: "client_closed", message: "the client closed the connection" });
            return;
          }
          const e = sig.timedOut
            ? upstreamError("timeout", `no data from the provider for ${timeoutMs} ms`)
            : upstreamError("stream_error", `the provider's stream broke: ${err instanceof Error ? err.message : String(err)}`);
          controller.enqueue(errorEvent(e));
          controller.close();
          finish(e.status, e);
          return;
        }
      }
    },
    cancel: () => {
      sig.abort();
      reader.cancel().catch(() => {});
      if (deps.draining?.aborted) finish(SHUTDOWN.status, SHUTDOWN);
      else finish(CLIENT_CLOSED, { class: "client_closed", message: "the client closed the connection" });
    },
  });
  const response = new Response(body, {
    status: 200,
    headers: { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache", connection: "keep-alive", "x-accel-buffering": "no", ...successHeaders(call.requestId, cand) },
  });
  relayed.add(response);
  return { ok: true, response };
}

/** The native route for one Responses request: OpenAI entries get `body` as sent, the model mapped. */
export function nativeResponses(body: ResponsesRequest): NativeRoute {
  return {
    untranslatable: untranslatable(body),
    request(cand: Candidate): UpstreamRequest | null {
      if (cand.provider.type !== "openai") return null;
      const headers: Record<string, string> = { "content-type": "application/json" };
      if (cand.provider.api_key !== null) headers.authorization = `Bearer ${cand.provider.api_key}`;
      return { url: joinUrl(cand.provider.base_url, "/responses"), method: "POST", headers, body: JSON.stringify({ ...body, model: cand.upstreamModel }) };
    },
    attempt: (a) => (body.stream === true ? streamRelay(a) : jsonRelay(a)),
  };
}
