import { fastId } from "../ids.ts";
import { adapterFor } from "../adapters/index.ts";
import {
  ERROR_DEFAULTS,
  UnsupportedFeatureError,
  usageFromOpenAI,
  wantsJson,
  type ResponseContext,
  type UpstreamError,
} from "../adapters/types.ts";
import { bodyForLog } from "../telemetry/content.ts";
import type { AttemptRecord, RequestRecord } from "../telemetry/types.ts";
import type { GatewayKey, WorkspaceRuntime } from "./cache.ts";
import { listedModels, providerColumns, selectCandidates, type Candidate } from "./router.ts";
import { relayStream } from "./stream.ts";
import { jsonReply, relayAttempt } from "./relay.ts";
import { chatDialect, SAME_DIALECT } from "./chat-stream.ts";
import { errorBody } from "../http/errors.ts";
import { type ProxyDeps, type ChatCall, CLIENT_CLOSED, SHUTDOWN, type Recorder } from "./call.ts";
import { completionText, type AttemptContext, type AttemptOutcome } from "./call.ts";
import { shownMessage } from "./attempt.ts";

/** A request's log row before anything happened: no provider, no tokens, nothing billed. */
export function newRecord(c: {
  requestId: string;
  key: GatewayKey;
  model: string;
  stream: boolean;
  startedAt: number;
  status?: number;
  endpoint?: string;
}): RequestRecord {
  const elapsed = performance.now() - c.startedAt;
  return {
    // Log rows are the one high-volume table; their ids come from fastId (see ids.ts), not cuid2.
    id: fastId(),
    request_id: c.requestId,
    workspace_id: c.key.workspace_id,
    api_key_id: c.key.id,
    provider_id: null,
    provider_name: null,
    provider_type: null,
    model_requested: c.model,
    model_used: null,
    endpoint: c.endpoint ?? "chat",
    stream: c.stream,
    status: c.status ?? 0,
    error_class: null,
    error_message: null,
    latency_ms: Math.round(elapsed),
    ttft_ms: null,
    prompt_tokens: 0,
    completion_tokens: 0,
    cached_tokens: 0,
    reasoning_tokens: 0,
    usage_estimated: false,
    // A request that billed no tokens cost nothing; successes overwrite this with the priced figure.
    cost_usd: 0,
    attempts: [],
    request_body: null,
    response_body: null,
    created_at: new Date(Date.now() - elapsed).toISOString(),
    tags: c.key.tags?.length ? c.key.tags : null,
  };
}

/** A refusal as the client and the log row both see it. */
type Refusal = Pick<UpstreamError, "status" | "message" | "type" | "param" | "code"> & { class: string };

/** How one call logs its outcome, and answers an error: OpenAI's error body, x-request-id and x-perpetuo-attempts. */
interface CallLog {
  /** The attempt trail, shared by every row the call writes. */
  attempts: AttemptRecord[];
  /** A log row: what the call's rows share (the request, the attempt trail), then what the outcome adds. */
  record: Recorder;
  refuse(e: Refusal, row?: Partial<RequestRecord>, headers?: Record<string, string>): Response;
}

export function recorder(
  deps: ProxyDeps,
  call: Pick<ChatCall, "key" | "runtime" | "requestId" | "startedAt"> & { body: { model: string } },
  stream: boolean,
  endpoint: string | undefined,
): CallLog {
  const { requestId, key, body, startedAt } = call;
  const attempts: AttemptRecord[] = [];
  const record: Recorder = (r) => {
    if (!deps.sink) return;
    deps.sink.enqueue({
      ...newRecord({ requestId, key, model: body.model, stream, startedAt, endpoint }),
      attempts,
      request_body: call.runtime.logContent ? bodyForLog(JSON.stringify(body)) : null,
      ...r,
    });
  };
  return {
    attempts,
    record,
    refuse(e, row, headers) {
      record({ status: e.status, error_class: e.class, error_message: e.message, ...row });
      const all = {
        "content-type": "application/json",
        "x-request-id": requestId,
        ...headers,
        "x-perpetuo-attempts": String(attempts.length),
      };
      return new Response(JSON.stringify(errorBody(e)), { status: e.status, headers: all });
    },
  };
}

/**
 * One chat request through the candidates: translate, call, fall back on retryable failures,
 * answer in OpenAI's shape, and hand the record of it all to the log sink.
 */
export async function proxyChat(deps: ProxyDeps, call: ChatCall): Promise<Response> {
  const { body, runtime } = call;
  const stream = body.stream === true;
  const includeUsage = stream && body.stream_options?.include_usage === true;
  const { candidates, model } = selectCandidates(runtime.providers, body.model, deps.cooldowns);
  const log = recorder(deps, call, stream, call.endpoint);

  if (candidates.length === 0) return modelNotFound(runtime, body.model, log);

  return eachCandidate(deps, call, candidates, log, async (cand, attempt, started) => {
    const adapter = adapterFor(cand.provider.type);
    const relayed = call.relay?.request(cand) ?? null;
    if (!relayed && call.relay?.untranslatable) throw call.relay.untranslatable;
    const config = { baseUrl: cand.provider.base_url, apiKey: cand.provider.api_key, model: cand.upstreamModel };
    const upstream = relayed ?? adapter.buildChatRequest(call.forCandidate ? call.forCandidate(body, cand) : body, config);
    const ctx: ResponseContext = {
      id: `chatcmpl-${fastId()}`,
      created: Math.floor(Date.now() / 1000),
      requestedModel: model,
      targetModel: cand.upstreamModel,
      includeUsage,
      structured: wantsJson(body.response_format),
    };
    const a: AttemptContext = { deps, call, cand, adapter, upstream, ctx, attempt, started, record: log.record };
    if (relayed && call.relay) return relayAttempt(a, call.relay);
    return stream ? relayStream(a, chatDialect(a)) : jsonAttempt(a);
  });
}

/**
 * The attempt loop every endpoint shares: `tryOne` tries one candidate, or throws the
 * UnsupportedFeatureError of one that cannot take the request (while building it; the entry's
 * trail then says "unsupported"). The first answer wins; a retryable failure moves on to the
 * next candidate; the client's own mistake ends the loop; after the last, the failures are summed up.
 */
export async function eachCandidate(
  deps: ProxyDeps,
  call: { signal: AbortSignal; body: { model: string } },
  candidates: Candidate[],
  log: CallLog,
  tryOne: (cand: Candidate, attempt: AttemptRecord, started: number) => Promise<AttemptOutcome>,
): Promise<Response> {
  let lastUnsupported: UnsupportedFeatureError | null = null;
  let retryAfterMs: number | null = null;
  for (const cand of candidates) {
    if (call.signal.aborted) break;
    const attempt: AttemptRecord = {
      ...providerColumns(cand.provider),
      model: cand.upstreamModel,
      status: null,
      error_class: null,
      message: null,
      latency_ms: 0,
    };
    log.attempts.push(attempt);
    const started = performance.now();
    let outcome: AttemptOutcome;
    try {
      outcome = await tryOne(cand, attempt, started);
    } catch (err) {
      if (!(err instanceof UnsupportedFeatureError)) throw err;
      attempt.error_class = "unsupported";
      attempt.message = err.message;
      lastUnsupported = err;
      continue;
    }
    if (outcome.ok) {
      outcome.response.headers.set("x-perpetuo-attempts", String(log.attempts.length));
      return outcome.response;
    }
    const e = outcome.error;
    if (e.class === "rate_limit" && e.retryAfterMs !== undefined) retryAfterMs = Math.min(retryAfterMs ?? Infinity, e.retryAfterMs);
    const shown = noteFailure(deps, call.signal, cand, attempt, started, e);
    // The client's own mistake: another provider would refuse it too.
    if (outcome.final) {
      const { id: provider_id, name: provider_name, type: provider_type } = cand.provider;
      const row = { provider_id, provider_name, provider_type, model_used: cand.upstreamModel };
      return log.refuse({ ...e, message: shown }, row, { "x-perpetuo-provider": provider_name });
    }
  }
  return noneAnswered(deps, call, lastUnsupported, retryAfterMs, log);
}

/**
 * After the attempt loop with no answer: ended early (shutdown's deadline passed, or the client
 * left), nobody could take the request (400), or every attempt failed.
 */
function noneAnswered(
  deps: ProxyDeps,
  call: { signal: AbortSignal; body: { model: string } },
  lastUnsupported: UnsupportedFeatureError | null,
  retryAfterMs: number | null,
  log: CallLog,
): Response {
  if (deps.draining.aborted) return log.refuse(SHUTDOWN);
  if (call.signal.aborted) {
    log.record({ status: CLIENT_CLOSED, error_class: "client_closed", error_message: "the client closed the connection" });
    return new Response(null, { status: CLIENT_CLOSED });
  }
  const tried = log.attempts.filter((a) => a.error_class !== "unsupported");
  if (tried.length === 0 && lastUnsupported) {
    const message = `${lastUnsupported.message} (no provider for '${call.body.model}' supports it)`;
    const { param } = lastUnsupported;
    return log.refuse({ status: 400, class: "unsupported", message, type: "invalid_request_error", param, code: "unsupported_parameter" });
  }
  return allFailed(tried, retryAfterMs, log);
}

/** No entry serves the model: 404, naming the models that can be asked for. */
export function modelNotFound(runtime: WorkspaceRuntime, model: string, log: CallLog): Response {
  const available = listedModels(runtime.providers).map((m) => m.id);
  const message = available.length
    ? `no provider in this workspace serves the model '${model}'; available: ${available.join(", ")}`
    : `no provider in this workspace serves the model '${model}'; add a provider in the dashboard`;
  return log.refuse({ status: 404, class: "not_found", message, type: "invalid_request_error", param: "model", code: "model_not_found" });
}

/** An attempt that failed: its trail entry, and a cooldown when the provider looks unhealthy. Returns the message fit to show. */
function noteFailure(
  deps: ProxyDeps,
  client: AbortSignal,
  cand: Candidate,
  attempt: AttemptRecord,
  started: number,
  e: UpstreamError,
): string {
  const shown = shownMessage(e.message, cand.provider.api_key);
  attempt.status = e.upstreamStatus ?? null;
  attempt.error_class = e.class;
  attempt.message = shown;
  attempt.latency_ms = Math.round(performance.now() - started);
  // A client that hung up says nothing about the provider's health.
  if (!client.aborted && ["rate_limit", "overloaded", "server", "timeout", "network"].includes(e.class)) {
    deps.cooldowns.cool(cand.provider.id, e.retryAfterMs);
  }
  return shown;
}

/** Every candidate tried failed: one kind of failure keeps its status, a mix is a 502; the message sums up each attempt. */
function allFailed(tried: AttemptRecord[], retryAfterMs: number | null, log: CallLog): Response {
  const { attempts } = log;
  const classes = new Set(tried.map((a) => a.error_class));
  const only = classes.size === 1 ? ([...classes][0] as keyof typeof ERROR_DEFAULTS) : null;
  const status = only && ERROR_DEFAULTS[only] ? ERROR_DEFAULTS[only].status : 502;
  const summary = attempts
    .map((a) => `${a.provider_name} (${a.status ?? a.error_class}${a.status ? ` ${a.error_class}` : ""}: ${a.message ?? "failed"})`)
    .join("; ");
  const message = `all ${attempts.length} provider attempt${attempts.length === 1 ? "" : "s"} failed: ${summary}`;
  const headers: Record<string, string> = {};
  if (status === 429) headers["retry-after"] = String(Math.max(1, Math.ceil((retryAfterMs ?? 1000) / 1000)));
  // Every provider refused its key: a retry cannot help, and this tells the openai SDK not to.
  if (only === "auth") headers["x-should-retry"] = "false";
  const type = status === 429 ? "rate_limit_error" : "upstream_error";
  return log.refuse({ status, class: only ?? "all_failed", message, type, param: null, code: "all_providers_failed" }, {}, headers);
}

/** The identity fields an OpenAI adapter fills in when a provider leaves them out. */
const identity = (o: unknown) => {
  const r = o as Record<string, unknown> | null;
  if (!r || typeof r !== "object") return null;
  return `${typeof r.id}:${String(r.id)}|${String(r.object)}|${typeof r.created}:${String(r.created)}|${String(r.model)}`;
};

function jsonAttempt(a: AttemptContext): Promise<AttemptOutcome> {
  const { cand, adapter, ctx } = a;
  return jsonReply(a, (read) => {
    const before = SAME_DIALECT.has(cand.provider.type) ? identity(read.json) : null;
    const completion = adapter.parseChatResponse(read.json, ctx);
    // The provider's own text, when it can go to the client unchanged (no JSON.stringify of it again).
    const same = before !== null && (completion as unknown) === read.json && identity(completion) === before;
    const text = same ? read.text : JSON.stringify(completion);
    const output = () => completionText(completion);
    return { model: completion.model, usage: usageFromOpenAI(completion.usage), output, logged: text, body: text };
  });
}
