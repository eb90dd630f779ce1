/**
 * Gemini generateContent → OpenAI Chat Completions: the response, the stream and errors (the
 * request side and the header comment on the choices made are in gemini.ts).
 */
import { ANSWER_TOOL, assistantMessage, chunkOf, completionOf, finishReasonBy, jsonEvents, notAnObject, reportedModel } from "./common.ts";
import { streamError, streamFailure, toolCall, usageChunk } from "./common.ts";
import { classForStatus, contextOverflowError, fallbackMessage, isRecord, num, parseDuration, providerError, str } from "./types.ts";
import { tryParseJson, upstreamError, UpstreamResponseError } from "./types.ts";
import type { ChatCompletion, ChatCompletionChoice, ChatCompletionChunk, ChunkDelta, ErrorClass, FinishReason } from "./types.ts";
import type { ResponseContext, StreamResult, StreamTransformer, ToolCall, UpstreamError, Usage } from "./types.ts";

/** json_object with tools: the answer function's single string argument holds the JSON. */
export const JSON_TEXT_TOOL = "perpetuo_json_text";

// STOP, FINISH_REASON_UNSPECIFIED, MALFORMED_FUNCTION_CALL and the rest are a normal stop.
const FILTERED = ["SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII", "IMAGE_SAFETY", "LANGUAGE", "OTHER"];
const FINISH_REASONS: Record<string, FinishReason> = {
  MAX_TOKENS: "length",
  ...Object.fromEntries(FILTERED.map((r) => [r, "content_filter" as const])),
};

/** null while the candidate goes on. */
function mapFinishReason(reason: unknown): FinishReason | null {
  return reason === undefined || reason === null ? null : finishReasonBy(FINISH_REASONS, reason);
}

export function geminiUsage(raw: unknown): Usage | null {
  if (!isRecord(raw)) return null;
  const prompt = (num(raw.promptTokenCount) ?? 0) + (num(raw.toolUsePromptTokenCount) ?? 0);
  const thoughts = num(raw.thoughtsTokenCount);
  const completion = (num(raw.candidatesTokenCount) ?? 0) + (thoughts ?? 0);
  const u: Usage = { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
  const cached = num(raw.cachedContentTokenCount);
  if (cached !== undefined) u.cached_tokens = cached;
  if (thoughts !== undefined) u.reasoning_tokens = thoughts;
  return u;
}

function newCallId(): string {
  return `call_${crypto.randomUUID().replace(/-/g, "").slice(0, 24)}`;
}

interface CandidateParts {
  /** null when the candidate wrote none; the answer function's JSON when it was called. */
  text: string | null;
  calls: ToolCall[];
}

function readParts(candidate: Record<string, unknown>): CandidateParts {
  let text: string | null = null;
  let answer: string | undefined;
  const calls: ToolCall[] = [];
  const content = candidate.content;
  const parts = isRecord(content) && Array.isArray(content.parts) ? content.parts : [];
  for (const p of parts) {
    if (!isRecord(p) || p.thought === true) continue;
    if (typeof p.text === "string") text = (text ?? "") + p.text;
    else if (isRecord(p.functionCall)) {
      const fc = p.functionCall;
      const args = isRecord(fc.args) ? fc.args : {};
      if (fc.name === ANSWER_TOOL) answer ??= JSON.stringify(args);
      else if (fc.name === JSON_TEXT_TOOL) answer ??= typeof args.json === "string" ? args.json : JSON.stringify(args.json ?? {});
      else calls.push(toolCall(typeof fc.id === "string" && fc.id ? fc.id : newCallId(), str(fc.name) ?? "", JSON.stringify(args)));
    }
  }
  // The answer is the content, alone: text beside it would break the client's JSON parsing.
  return { text: answer ?? text, calls };
}

function blockReason(body: Record<string, unknown>): string | undefined {
  return isRecord(body.promptFeedback) ? str(body.promptFeedback.blockReason) : undefined;
}

export function parseChatResponse(body: unknown, ctx: ResponseContext): ChatCompletion {
  if (!isRecord(body)) throw notAnObject();
  if (isRecord(body.error)) throw new UpstreamResponseError(fromGeminiError(undefined, body.error, null));
  const candidates = Array.isArray(body.candidates) ? body.candidates : [];
  const choices: ChatCompletionChoice[] = [];
  for (let i = 0; i < candidates.length; i++) {
    const c: unknown = candidates[i];
    if (!isRecord(c)) continue;
    const parts = readParts(c);
    const finish = parts.calls.length ? "tool_calls" : (mapFinishReason(c.finishReason) ?? "stop");
    const message = assistantMessage(parts.text, parts.calls);
    choices.push({ index: num(c.index) ?? i, message, logprobs: null, finish_reason: finish });
  }
  if (choices.length === 0) {
    // A blocked prompt yields no candidates at all, only promptFeedback.
    if (!blockReason(body)) throw new UpstreamResponseError(upstreamError("server", "Gemini returned no candidates"));
    choices.push({ index: 0, message: { role: "assistant", content: null }, logprobs: null, finish_reason: "content_filter" });
  }
  choices.sort((a, b) => a.index - b.index);
  return completionOf(ctx, reportedModel(body.modelVersion, ctx), choices, geminiUsage(body.usageMetadata));
}

// ---------------------------------------------------------------------------------------------
// Stream
// ---------------------------------------------------------------------------------------------

interface ChoiceState {
  started: boolean;
  finished: boolean;
  tools: number;
}

export function createStreamTransformer(ctx: ResponseContext): StreamTransformer {
  let model = reportedModel(undefined, ctx);
  let usage: Usage | null = null;
  const states: ChoiceState[] = [];

  const chunk = (index: number, delta: ChunkDelta, finish: FinishReason | null) => chunkOf(ctx, model, index, delta, finish);

  function state(index: number): ChoiceState {
    return (states[index] ??= { started: false, finished: false, tools: 0 });
  }

  function event(obj: Record<string, unknown>): StreamResult {
    if (isRecord(obj.error)) return streamError(fromGeminiError(undefined, obj.error, null));
    if (typeof obj.modelVersion === "string" && obj.modelVersion) model = obj.modelVersion;
    if (isRecord(obj.usageMetadata)) usage = geminiUsage(obj.usageMetadata);

    const chunks: ChatCompletionChunk[] = [];
    const candidates = Array.isArray(obj.candidates) ? obj.candidates : [];
    for (let i = 0; i < candidates.length; i++) {
      const c: unknown = candidates[i];
      if (!isRecord(c)) continue;
      const index = num(c.index) ?? i;
      const st = state(index);
      if (st.finished) continue;
      const parts = readParts(c);
      const delta: ChunkDelta = {};
      if (!st.started) {
        st.started = true;
        delta.role = "assistant";
        delta.content = "";
      }
      if (parts.text !== null) delta.content = parts.text;
      if (parts.calls.length) delta.tool_calls = parts.calls.map((call) => ({ index: st.tools++, ...call }));
      if (delta.role !== undefined || parts.text || delta.tool_calls) chunks.push(chunk(index, delta, null));
      const fr = mapFinishReason(c.finishReason);
      if (fr) {
        st.finished = true;
        chunks.push(chunk(index, {}, st.tools > 0 ? "tool_calls" : fr));
      }
    }
    if (candidates.length === 0 && blockReason(obj)) {
      const st = state(0);
      if (!st.started) chunks.push(chunk(0, { role: "assistant", content: "" }, null));
      st.started = st.finished = true;
      chunks.push(chunk(0, {}, "content_filter"));
    }
    return { chunks };
  }

  function end(): StreamResult {
    // No end marker in Gemini streams: the answer is complete once every candidate finished.
    const seen = states.filter(Boolean);
    if (seen.length === 0) return streamFailure("upstream stream ended without a candidate");
    if (seen.some((st) => !st.finished)) return streamFailure("upstream stream ended before a finishReason");
    return { chunks: ctx.includeUsage && usage ? [usageChunk(ctx, model, usage)] : [], done: true };
  }

  return jsonEvents({ event, end, usage: () => usage });
}

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

const STATUS_CLASS: Record<string, ErrorClass> = {
  INVALID_ARGUMENT: "bad_request",
  FAILED_PRECONDITION: "auth",
  OUT_OF_RANGE: "bad_request",
  UNAUTHENTICATED: "auth",
  PERMISSION_DENIED: "auth",
  NOT_FOUND: "not_found",
  RESOURCE_EXHAUSTED: "rate_limit",
  CANCELLED: "server",
  INTERNAL: "server",
  UNKNOWN: "server",
  UNAVAILABLE: "overloaded",
  DEADLINE_EXCEEDED: "timeout",
};

function fromGeminiError(
  status: number | undefined,
  err: Record<string, unknown>,
  headers: Headers | null,
  fallback?: string,
): UpstreamError {
  const gstatus = str(err.status);
  const message = str(err.message) || fallback || "upstream reported an error";
  const code = num(err.code);
  const named = gstatus !== undefined && Object.hasOwn(STATUS_CLASS, gstatus) ? STATUS_CLASS[gstatus] : undefined;
  let cls: ErrorClass = status !== undefined ? classForStatus(status) : (named ?? (code !== undefined ? classForStatus(code) : "server"));
  const details = Array.isArray(err.details) ? err.details.filter(isRecord) : [];
  // A bad key is a 400 INVALID_ARGUMENT with reason API_KEY_INVALID, not a 401; FAILED_PRECONDITION
  // says the account cannot be used (region, billing). Either way another provider may work.
  const badKey = details.some((d) => d.reason === "API_KEY_INVALID") || /api key (not valid|expired|invalid)/i.test(message);
  if (cls === "bad_request" && (badKey || gstatus === "FAILED_PRECONDITION")) cls = "auth";
  if (cls === "bad_request") {
    const overflow = contextOverflowError(message, status);
    if (overflow) return overflow;
  }
  // A 5xx that names overload or a timeout is that.
  if (cls === "server" && (named === "overloaded" || named === "timeout")) cls = named;
  // Without a Retry-After header, Google's RetryInfo detail says how long ("30s").
  const retryDelay = details.find((d) => typeof d.retryDelay === "string")?.retryDelay as string | undefined;
  return providerError(cls, message, status, headers, {}, () => (retryDelay === undefined ? undefined : parseDuration(retryDelay)));
}

export function classifyError(status: number, bodyText: string, headers: Headers): UpstreamError {
  let parsed = tryParseJson(bodyText);
  // Without alt=sse Gemini streams a JSON array, and errors come wrapped in one too.
  if (Array.isArray(parsed)) parsed = parsed[0];
  const err = isRecord(parsed) && isRecord(parsed.error) ? parsed.error : {};
  return fromGeminiError(status, err, headers, fallbackMessage(status, bodyText));
}
