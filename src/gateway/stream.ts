/**
 * One provider stream relayed to one client, whatever the API: wait for the first content (until
 * then a failing provider can still be fallen back from), then relay as an async generator (Bun
 * runs its `finally` when the client goes away) with an idle deadline between slices, end with
 * the dialect's end marker or its error event, and write the log row exactly once. A dialect
 * (chat chunks, Responses events, …) says what each upstream event means and what the client gets.
 */
import { createSSEParser, SSEEventTooLarge, type SSEEvent } from "../adapters/sse.ts";
import { upstreamError, type ChatRequest, type UpstreamError, type Usage } from "../adapters/types.ts";
import { bodyForLog } from "../telemetry/content.ts";
import { costFor } from "../telemetry/pricing.ts";
import { estimatePromptTokens, estimateTokens } from "../telemetry/estimate.ts";
import { networkErrorMessage } from "./network-errors.ts";
import { providerColumns } from "./router.ts";
import { attemptSignal, fetchFailure, MAX_UPSTREAM_EVENT_CHARS, retry, send, shownMessage, tooLargeUpstream } from "./attempt.ts";
import { CLIENT_CLOSED, SHUTDOWN, successHeaders } from "./call.ts";
import type { AnswerRead, AttemptContext, AttemptOutcome, ShownError, StreamDialect } from "./call.ts";

type AnswerFacts = AnswerRead & {
  status: number;
  ttft: number;
  error?: { class: string; message: string } | null;
};

/** The record's token fields: the provider's counts, or estimates when it gave none. */
function tokenFields(usage: Usage | null, body: ChatRequest, outputText: () => string) {
  if (!usage) {
    return {
      prompt_tokens: estimatePromptTokens(body.messages),
      completion_tokens: estimateTokens(outputText()),
      cached_tokens: 0,
      reasoning_tokens: 0,
      usage_estimated: true,
    };
  }
  return {
    prompt_tokens: usage.prompt_tokens,
    completion_tokens: usage.completion_tokens,
    cached_tokens: usage.cached_tokens ?? 0,
    reasoning_tokens: usage.reasoning_tokens ?? 0,
    usage_estimated: false,
  };
}

/** The log row of an answer that reached the client (whole, cut or broken); returns its cost. */
export function recordAnswer(a: AttemptContext, f: AnswerFacts): number | null {
  const { call, cand } = a;
  const text = () => (typeof f.output === "string" ? f.output : f.output());
  const tokens = tokenFields(f.usage, call.body, text);
  const model = f.model ?? cand.upstreamModel;
  // Cache writes are priced but not stored.
  const cost = costFor(model, { ...tokens, cache_creation_tokens: f.usage?.cache_creation_tokens ?? 0 }, cand.provider.pricing);
  a.record({
    status: f.status,
    ...providerColumns(cand.provider),
    model_used: model,
    ttft_ms: f.ttft,
    error_class: f.error ? f.error.class : null,
    error_message: f.error ? shownMessage(f.error.message, cand.provider.api_key) : null,
    ...tokens,
    cost_usd: cost,
    response_body: call.runtime.logContent ? bodyForLog(f.logged ?? text(), undefined, cand.provider.api_key) : null,
  });
  return cost;
}

const SSE_HEADERS = {
  "content-type": "text/event-stream; charset=utf-8",
  "cache-control": "no-cache",
  connection: "keep-alive",
  "x-accel-buffering": "no",
};

const CLOSED = { class: "client_closed", message: "the client closed the connection" };

/** One try of one candidate whose answer is a stream in `dialect`'s terms. */
export async function relayStream(a: AttemptContext, dialect: StreamDialect): Promise<AttemptOutcome> {
  const { deps, call, cand, attempt, started } = a;
  const timeoutMs = cand.provider.timeout_ms;
  const sig = attemptSignal(call.signal, timeoutMs);
  const res = await send(a, sig, "response headers");
  if (!(res instanceof Response) || !res.body) {
    sig.done();
    return res instanceof Response ? retry(upstreamError("stream_error", "the provider sent no stream")) : res;
  }
  attempt.status = res.status;
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  const parser = createSSEParser({ maxEventChars: MAX_UPSTREAM_EVENT_CHARS });
  let eof = false;
  let tooLarge: UpstreamError | null = null;
  const stopped = () => dialect.failure !== null || dialect.terminal || tooLarge !== null;

  /** Reads one slice of the provider's stream into the dialect. */
  const step = async (): Promise<void> => {
    const { value, done } = await reader.read();
    if (done) {
      eof = true;
      for (const ev of parser.flush()) if (!stopped()) dialect.event(ev);
      if (!stopped()) dialect.eof();
      return;
    }
    dialect.raw?.(value);
    let events: SSEEvent[];
    try {
      events = parser.feed(decoder.decode(value, { stream: true }));
    } catch (err) {
      if (!(err instanceof SSEEventTooLarge)) throw err;
      tooLarge = tooLargeUpstream(`one of its stream events exceeds ${MAX_UPSTREAM_EVENT_CHARS / (1024 * 1024)} MiB`);
      return;
    }
    for (const ev of events) {
      if (stopped()) break;
      dialect.event(ev);
    }
  };

  // Hold the client's headers until real content arrives, so a provider that fails first can
  // still be fallen back from.
  try {
    while (!dialect.committed && !stopped() && !eof) await step();
  } catch (err) {
    sig.done();
    return fetchFailure(err, sig.timedOut, timeoutMs, "first token");
  }
  const early = dialect.failure ?? tooLarge;
  if (!dialect.committed && (early || !dialect.terminal)) {
    sig.done();
    reader.cancel().catch(() => {});
    // A provider that completed its stream with an error before any content meant it.
    const final = dialect.terminal && early !== null && !early.retryable;
    return { ok: false, final, error: early ?? upstreamError("stream_error", "the stream ended before any content") };
  }

  const ttft = Math.round(performance.now() - call.startedAt);
  attempt.latency_ms = Math.round(performance.now() - started);
  deps.cooldowns.clear(cand.provider.id);
  // Between slices the deadline becomes an idle timeout.
  sig.arm(timeoutMs);

  let ended = false;
  const end = (status: number, error: { class: string; message: string } | null) => {
    if (ended) return;
    ended = true;
    sig.done();
    recordAnswer(a, { ...dialect.result(), status, ttft, error });
  };
  const shown = (e: UpstreamError): ShownError => ({
    message: shownMessage(e.message, cand.provider.api_key),
    type: e.type,
    code: e.code ?? null,
  });

  async function* relay(): AsyncGenerator<string | Uint8Array> {
    try {
      let broken: UpstreamError | null = null;
      for (;;) {
        const out = dialect.take();
        if (typeof out === "string") {
          if (out) yield out;
        } else for (const b of out) yield b;
        if (stopped() || eof) break;
        try {
          await step();
          sig.arm(timeoutMs);
        } catch (err) {
          // The read failed because our side let go: the client left, or shutdown's deadline passed (below).
          if (call.signal.aborted && !sig.timedOut) {
            if (!deps.draining.aborted) return end(CLIENT_CLOSED, CLOSED);
            break;
          }
          broken = sig.timedOut
            ? upstreamError("timeout", `no data from the provider for ${timeoutMs} ms`)
            : upstreamError("stream_error", `the provider's stream broke: ${networkErrorMessage(err)}`);
          break;
        }
      }
      const e = dialect.failure ?? tooLarge ?? broken ?? (dialect.terminal ? null : upstreamError("stream_error", dialect.cutMessage));
      if (!e) {
        const tail = dialect.done();
        if (tail) yield tail;
        return end(200, null);
      }
      if (deps.draining.aborted) {
        yield dialect.errorEvent(SHUTDOWN);
        return end(SHUTDOWN.status, SHUTDOWN);
      }
      // After content has been sent, the only honest end is an error event.
      if (!(e === dialect.failure && dialect.relaysFailures)) yield dialect.errorEvent(shown(e));
      end(502, e);
    } catch (err) {
      deps.logger.error("stream relay failed", { request_id: call.requestId, error: err });
      end(500, { class: "server", message: "relay failed" });
      throw err;
    } finally {
      // Also reached when the client went away between slices: stop the upstream and record what was served.
      if (!ended) sig.abort();
      reader.cancel().catch(() => {});
      if (deps.draining.aborted) end(SHUTDOWN.status, SHUTDOWN);
      else end(CLIENT_CLOSED, CLOSED);
    }
  }

  const headers = { ...SSE_HEADERS, ...successHeaders(call.requestId, cand) };
  return { ok: true, response: new Response(relay() as unknown as BodyInit, { status: 200, headers }) };
}
