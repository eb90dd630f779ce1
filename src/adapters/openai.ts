import {
  jsonEvents,
  jsonHeaders,
  modelIds,
  modelsRequest,
  notAnObject,
  postJson,
  reportedModel,
  streamError,
  streamFailure,
} from "./common.ts";
import { classForStatus, fallbackMessage, isRecord, num, providerError, str, tryParseJson, upstreamError } from "./types.ts";
import { UpstreamResponseError, usageFromOpenAI } from "./types.ts";
import type { Adapter, ChatCompletion, ChatCompletionChunk, ChatRequest, CompletionUsage, ErrorClass, ResponseContext } from "./types.ts";
import type { StreamResult, StreamTransformer, UpstreamError, UpstreamRequest, UpstreamTarget } from "./types.ts";

interface OpenAIAdapterOptions {
  /**
   * Whether the upstream accepts `stream_options`. Mistral rejects it (422 extra_forbidden) but
   * sends usage on its last content chunk anyway; the transformer handles both.
   */
  streamOptions: boolean;
}

export const openaiHeaders = (apiKey: string | null) => jsonHeaders(apiKey, "authorization", "Bearer ");

function buildChatRequest(req: ChatRequest, target: UpstreamTarget, opts: OpenAIAdapterOptions): UpstreamRequest {
  const body: Record<string, unknown> = { ...req, model: target.model };
  if (req.stream === true && opts.streamOptions) {
    // Usage is needed for accounting even when the client did not ask for it; the transformer
    // withholds the usage chunk from clients that did not.
    body.stream_options = { ...(isRecord(req.stream_options) ? req.stream_options : {}), include_usage: true };
  } else {
    // OpenAI rejects stream_options on non-streamed requests; it carries no meaning there.
    delete body.stream_options;
  }
  return postJson(target, "/chat/completions", openaiHeaders(target.apiKey), body);
}

function errorMessage(payload: unknown, fallback: string): string {
  if (typeof payload === "string" && payload) return payload;
  if (!isRecord(payload)) return fallback;
  const m = payload.message ?? payload.detail ?? payload.msg;
  if (typeof m === "string" && m) return m;
  if (m !== undefined && m !== null) return JSON.stringify(m);
  return fallback;
}

/** Classes whose upstream code/param are meaningful to the client; the rest get gateway codes. */
const CLIENT_FACING: ReadonlySet<ErrorClass> = new Set(["bad_request", "too_large", "unprocessable", "not_found", "rate_limit"]);

/** `headers` is null for an error sent inside a 200, whose status is only read from its words. */
function fromErrorPayload(status: number, errObj: unknown, message: string, headers: Headers | null): UpstreamError {
  const cls = classForStatus(status);
  const e = isRecord(errObj) ? errObj : {};
  const extra: Parameters<typeof upstreamError>[2] = {};
  if (CLIENT_FACING.has(cls)) {
    if ((typeof e.code === "string" && e.code) || typeof e.code === "number") extra.code = String(e.code);
    if (typeof e.param === "string") extra.param = e.param;
  }
  return providerError(cls, message, headers ? status : undefined, headers, extra);
}

function classifyOpenAIError(status: number, bodyText: string, headers: Headers): UpstreamError {
  const parsed = tryParseJson(bodyText);
  // Shapes seen: {error:{message,…}} (OpenAI), {error:"…"} (Ollama), {message,type,…} and
  // {object:"error",message:{detail:[…]}} (Mistral), {detail:"…"} (FastAPI-based servers).
  const errObj = !isRecord(parsed) ? null : parsed.error !== undefined ? parsed.error : parsed;
  return fromErrorPayload(status, errObj, errorMessage(errObj, fallbackMessage(status, bodyText)), headers);
}

/** `{error:…}` sent inside a 200 (non-stream body or SSE event); no HTTP status to go on. */
function classifyInlineError(errObj: unknown): UpstreamError {
  const e = isRecord(errObj) ? errObj : {};
  let status = num(e.code) ?? (typeof e.code === "string" && /^\d{3}$/.test(e.code) ? Number(e.code) : undefined);
  if (status === undefined || status < 400 || status > 599) {
    const hint = `${str(e.type) ?? ""} ${str(e.code) ?? ""}`;
    status = /rate_limit|requests|tokens|quota/.test(hint) ? 429 : /invalid_request/.test(hint) ? 400 : /overloaded/.test(hint) ? 529 : 500;
  }
  return fromErrorPayload(status, e, errorMessage(errObj, "upstream reported an error"), null);
}

function parseChatResponse(body: unknown, ctx: ResponseContext): ChatCompletion {
  if (!isRecord(body)) throw notAnObject();
  if (!Array.isArray(body.choices)) {
    if (body.error !== undefined) throw new UpstreamResponseError(classifyInlineError(body.error));
    throw new UpstreamResponseError(upstreamError("server", "upstream response has no choices"));
  }
  // Pass-through: the object is the upstream's, with only missing identity fields filled in.
  if (body.object === undefined) body.object = "chat.completion";
  if (typeof body.id !== "string" || !body.id) body.id = ctx.id;
  if (num(body.created) === undefined) body.created = ctx.created;
  if (typeof body.model !== "string" || !body.model) body.model = reportedModel(undefined, ctx);
  return body as ChatCompletion;
}

function createStreamTransformer(ctx: ResponseContext): StreamTransformer {
  let sawFinish = false;
  let rawUsage: Record<string, unknown> | null = null;
  let usageSent = false;
  let id = ctx.id;
  let created = ctx.created;
  let model = reportedModel(undefined, ctx);

  function usageChunk(): ChatCompletionChunk[] {
    if (!ctx.includeUsage || usageSent || rawUsage === null) return [];
    usageSent = true;
    return [{ id, object: "chat.completion.chunk", created, model, choices: [], usage: rawUsage as CompletionUsage }];
  }

  const closing = (): StreamResult => ({ chunks: usageChunk(), done: true });

  function event(obj: Record<string, unknown>): StreamResult {
    if (obj.error !== undefined && obj.error !== null && !Array.isArray(obj.choices)) return streamError(classifyInlineError(obj.error));

    if (typeof obj.id === "string") id = obj.id;
    else obj.id = id;
    if (typeof obj.model === "string" && obj.model) model = obj.model;
    else obj.model = model;
    if (typeof obj.created === "number") created = obj.created;
    else obj.created = created;
    if (obj.object === undefined) obj.object = "chat.completion.chunk";
    const choices = Array.isArray(obj.choices) ? obj.choices : (obj.choices = []);

    const u = obj.usage;
    if (isRecord(u)) {
      rawUsage = u;
      if (choices.length === 0) {
        // The dedicated usage chunk: forward it only to clients that asked for it.
        if (!ctx.includeUsage) return { chunks: [] };
        usageSent = true;
        return { chunks: [obj as ChatCompletionChunk] };
      }
      // Usage riding on a content chunk (Mistral, vLLM): keep chunks OpenAI-shaped and send
      // usage as its own chunk at the end.
      delete obj.usage;
    } else {
      // OpenAI puts `usage: null` on every chunk once usage is requested; clients that did not
      // ask must see the chunks exactly as they would without it.
      if (u === null && !ctx.includeUsage) delete obj.usage;
      const groq = isRecord(obj.x_groq) ? obj.x_groq.usage : undefined;
      if (isRecord(groq)) rawUsage = groq;
    }
    for (let i = 0; i < choices.length; i++) {
      const c: unknown = choices[i];
      if (isRecord(c) && c.finish_reason !== null && c.finish_reason !== undefined) sawFinish = true;
    }
    return { chunks: [obj as ChatCompletionChunk] };
  }

  return jsonEvents({
    event,
    marker: closing,
    // Some OpenAI-compatible servers close without [DONE]; a finish_reason shows the answer was complete.
    end: () => (sawFinish ? closing() : streamFailure("upstream stream ended before completion")),
    usage: () => usageFromOpenAI(rawUsage),
  });
}

export function createOpenAIAdapter(opts: OpenAIAdapterOptions = { streamOptions: true }): Adapter {
  return {
    format: "openai",
    buildChatRequest: (req, target) => buildChatRequest(req, target, opts),
    parseChatResponse,
    createStreamTransformer,
    classifyError: classifyOpenAIError,
    buildModelsRequest: (target) => modelsRequest(target, "/models", openaiHeaders(target.apiKey)),
    // Together answers with a bare array; everyone else with {object:"list", data:[…]}.
    parseModelsResponse: (body) => modelIds(Array.isArray(body) ? body : isRecord(body) ? body.data : undefined, "id"),
  };
}

export const openaiAdapter: Adapter = createOpenAIAdapter();
