/**
 * The contract between the gateway and the provider adapters, plus the few helpers every adapter
 * shares (error shaping, secret redaction, Retry-After parsing, usage conversion).
 *
 * Refinements to the interface as first specified (each because the original could not carry
 * something the gateway needs):
 * - `ResponseContext.targetModel?`: the parse functions never see the UpstreamTarget, yet the
 *   reported `model` must fall back to the mapped provider model when the upstream names none.
 *   Optional so a caller that omits it still compiles; the fallback is then `requestedModel`.
 * - `UpstreamResponseError` (thrown by `parseChatResponse`): a 2xx body can still be a failure
 *   (OpenRouter and others answer 200 `{error:…}`; a body without choices is unusable). It carries
 *   a classified `UpstreamError` so the gateway treats it like any failed attempt.
 * - `UnsupportedFeatureError` is also thrown for requests this wire format cannot express
 *   faithfully (tool-call arguments that are not a JSON object, temperature > 1 for Anthropic,
 *   a `tool` message whose call id is unknown for Gemini): another candidate may still honour
 *   the request unchanged, which a hard 400 would prevent. Its `message` says why.
 * - `usageFromCompletion()`: non-streamed responses carry usage in OpenAI shape only; this turns
 *   it back into `Usage` (Anthropic cache writes ride in
 *   `usage.prompt_tokens_details.cache_creation_tokens`, an extra field OpenAI clients ignore).
 * - `ERROR_DEFAULTS` (class → final status, OpenAI error type, code, retryable) and
 *   `upstreamError()`, which builds network/timeout/stream errors from that same table, so the
 *   gateway need not duplicate it.
 * - `redactSecrets(text, extra?)`: exported so the gateway can also scrub the one key it knows.
 * - `adapterFor()` throws `Error` for an unknown provider type.
 */

import type { SSEEvent } from "./sse.ts";

export type { SSEEvent };
export type WireFormat = "openai" | "anthropic" | "gemini";

// ---------------------------------------------------------------------------------------------
// OpenAI Chat Completions request
// ---------------------------------------------------------------------------------------------

export interface TextPart {
  type: "text";
  text: string;
  /** Anthropic prompt-caching marker some OpenAI clients send; forwarded to Anthropic only. */
  cache_control?: { type: "ephemeral"; ttl?: string };
}
export interface ImageUrlPart {
  type: "image_url";
  image_url: { url: string; detail?: "auto" | "low" | "high" };
}
export type ContentPart = TextPart | ImageUrlPart;

export interface ToolCall {
  id: string;
  type: "function";
  function: { name: string; arguments: string };
}

export interface SystemMessage {
  role: "system" | "developer";
  content: string | TextPart[];
  name?: string;
}
export interface UserMessage {
  role: "user";
  content: string | ContentPart[];
  name?: string;
}
export interface AssistantMessage {
  role: "assistant";
  content?: string | TextPart[] | null;
  name?: string;
  tool_calls?: ToolCall[];
  refusal?: string | null;
}
export interface ToolMessage {
  role: "tool";
  content: string | TextPart[];
  tool_call_id: string;
  /** Not in OpenAI's schema, but some clients send it; Gemini uses it when the call id is unknown. */
  name?: string;
}
export type ChatMessage = SystemMessage | UserMessage | AssistantMessage | ToolMessage;

export interface FunctionTool {
  type: "function";
  function: { name: string; description?: string; parameters?: JsonSchema; strict?: boolean | null };
}
export type ToolChoice = "none" | "auto" | "required" | { type: "function"; function: { name: string } };

export type JsonSchema = { [k: string]: unknown };

export type ResponseFormat =
  | { type: "text" }
  | { type: "json_object" }
  | { type: "json_schema"; json_schema: { name: string; description?: string; schema?: JsonSchema; strict?: boolean | null } };

export interface ChatRequest {
  model: string;
  messages: ChatMessage[];
  stream?: boolean | null;
  stream_options?: { include_usage?: boolean | null; [k: string]: unknown } | null;
  temperature?: number | null;
  top_p?: number | null;
  n?: number | null;
  stop?: string | string[] | null;
  max_tokens?: number | null;
  max_completion_tokens?: number | null;
  presence_penalty?: number | null;
  frequency_penalty?: number | null;
  logit_bias?: Record<string, number> | null;
  logprobs?: boolean | null;
  top_logprobs?: number | null;
  user?: string;
  seed?: number | null;
  tools?: FunctionTool[];
  tool_choice?: ToolChoice | null;
  parallel_tool_calls?: boolean | null;
  response_format?: ResponseFormat | null;
  [k: string]: unknown;
}

// ---------------------------------------------------------------------------------------------
// OpenAI Chat Completions response and stream chunks
// ---------------------------------------------------------------------------------------------

export type FinishReason = "stop" | "length" | "tool_calls" | "content_filter" | "function_call";

export interface CompletionUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details?: { cached_tokens?: number; cache_creation_tokens?: number; [k: string]: unknown };
  completion_tokens_details?: { reasoning_tokens?: number; [k: string]: unknown };
  [k: string]: unknown;
}

export interface ResponseMessage {
  role: "assistant";
  content: string | null;
  tool_calls?: ToolCall[];
  refusal?: string | null;
  [k: string]: unknown;
}

export interface ChatCompletionChoice {
  index: number;
  message: ResponseMessage;
  finish_reason: FinishReason | null;
  logprobs: unknown;
}

export interface ChatCompletion {
  id: string;
  object: "chat.completion";
  created: number;
  model: string;
  choices: ChatCompletionChoice[];
  usage?: CompletionUsage;
  system_fingerprint?: string | null;
  [k: string]: unknown;
}

export interface ToolCallDelta {
  index: number;
  id?: string;
  type?: "function";
  function?: { name?: string; arguments?: string };
}

export interface ChunkDelta {
  role?: "assistant";
  content?: string | null;
  tool_calls?: ToolCallDelta[];
  refusal?: string | null;
  [k: string]: unknown;
}

export interface ChunkChoice {
  index: number;
  delta: ChunkDelta;
  finish_reason: FinishReason | null;
  logprobs?: unknown;
}

export interface ChatCompletionChunk {
  id: string;
  object: "chat.completion.chunk";
  created: number;
  model: string;
  choices: ChunkChoice[];
  usage?: CompletionUsage | null;
  system_fingerprint?: string | null;
  [k: string]: unknown;
}

// ---------------------------------------------------------------------------------------------
// Upstream plumbing
// ---------------------------------------------------------------------------------------------

export interface UpstreamTarget {
  /** Without trailing slash is preferred but not required. OpenAI-compatible ones include /v1. */
  baseUrl: string;
  apiKey: string | null;
  /** Already mapped provider model name. */
  model: string;
}

export interface UpstreamRequest {
  url: string;
  method: "POST" | "GET";
  headers: Record<string, string>;
  body?: string;
}

/** Internal accounting shape; `prompt_tokens` always includes cached and cache-written tokens. */
export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  cached_tokens?: number;
  cache_creation_tokens?: number;
  reasoning_tokens?: number;
}

export type ErrorClass =
  | "network"
  | "blocked_address"
  | "timeout"
  | "rate_limit"
  | "overloaded"
  | "server"
  | "auth"
  | "not_found"
  | "bad_request"
  | "too_large"
  | "unprocessable"
  | "unsupported"
  | "stream_error"
  /** The provider's answer (a body or one stream event) is larger than the gateway holds. */
  | "upstream_too_large";

export interface UpstreamError {
  class: ErrorClass;
  /** HTTP status to show the client if this error is final (see ERROR_DEFAULTS). */
  status: number;
  upstreamStatus?: number;
  /** Provider's message, with anything key-shaped redacted. */
  message: string;
  /** OpenAI error type to render. */
  type: string;
  code: string | null;
  param: string | null;
  /** Whether the gateway should fall back to the next candidate. */
  retryable: boolean;
  retryAfterMs?: number;
}

export class UnsupportedFeatureError extends Error {
  readonly param: string;
  constructor(param: string, message?: string) {
    super(message ?? `'${param}' is not supported by this provider`);
    this.name = "UnsupportedFeatureError";
    this.param = param;
  }
}

/** A 2xx upstream response that is nevertheless a failure (see the header comment). */
export class UpstreamResponseError extends Error {
  readonly error: UpstreamError;
  constructor(error: UpstreamError) {
    super(error.message);
    this.name = "UpstreamResponseError";
    this.error = error;
  }
}

export interface StreamResult {
  chunks: ChatCompletionChunk[];
  error?: UpstreamError;
  /** The upstream signalled a proper end; the gateway writes `data: [DONE]`. */
  done?: boolean;
}

export interface StreamTransformer {
  push(event: SSEEvent): StreamResult;
  /** Called at upstream EOF; returns an error if the stream ended without its end marker. */
  finish(): StreamResult;
  usage(): Usage | null;
}

export interface ResponseContext {
  /** "chatcmpl-…" id for translated responses (and for pass-through bodies that lack one). */
  id: string;
  created: number;
  /** What the client asked for; last-resort value for `model`. */
  requestedModel: string;
  /** The mapped provider model; reported when the upstream names no model. */
  targetModel?: string;
  /** Client asked for `stream_options.include_usage`: emit the final `choices: []` usage chunk. */
  includeUsage: boolean;
  /**
   * The request asked for JSON (response_format json_object/json_schema). Adapters that carry the
   * answer in a tool hold back stray text until they know whether that tool answered.
   */
  structured?: boolean;
}

export interface Adapter {
  format: WireFormat;
  /** Throws UnsupportedFeatureError when the request cannot be expressed faithfully. */
  buildChatRequest(req: ChatRequest, target: UpstreamTarget): UpstreamRequest;
  /** 2xx non-stream body → chat.completion. Throws UpstreamResponseError for error-shaped bodies. */
  parseChatResponse(body: unknown, ctx: ResponseContext): ChatCompletion;
  createStreamTransformer(ctx: ResponseContext): StreamTransformer;
  /** Non-2xx upstream response. */
  classifyError(status: number, bodyText: string, headers: Headers): UpstreamError;
  buildModelsRequest(target: Omit<UpstreamTarget, "model">): UpstreamRequest;
  parseModelsResponse(body: unknown): string[];
}

// ---------------------------------------------------------------------------------------------
// Shared helpers
// ---------------------------------------------------------------------------------------------

/**
 * What each class becomes if it is the final answer. Auth failures are the gateway's provider
 * key, not the client's gateway key, so the client sees 502 rather than 401.
 */
export const ERROR_DEFAULTS: Record<ErrorClass, { status: number; type: string; code: string | null; retryable: boolean }> = {
  network: { status: 502, type: "upstream_error", code: "upstream_unreachable", retryable: true },
  // The SSRF guard refused the provider's address (src/net/): try the next entry, no cooldown.
  blocked_address: { status: 502, type: "upstream_error", code: "blocked_address", retryable: true },
  timeout: { status: 504, type: "upstream_error", code: "upstream_timeout", retryable: true },
  rate_limit: { status: 429, type: "rate_limit_error", code: "rate_limit_exceeded", retryable: true },
  overloaded: { status: 503, type: "upstream_error", code: "upstream_overloaded", retryable: true },
  server: { status: 502, type: "upstream_error", code: "upstream_server_error", retryable: true },
  auth: { status: 502, type: "upstream_error", code: "upstream_auth_failed", retryable: true },
  not_found: { status: 404, type: "invalid_request_error", code: "model_not_found", retryable: true },
  bad_request: { status: 400, type: "invalid_request_error", code: null, retryable: false },
  too_large: { status: 413, type: "invalid_request_error", code: "request_too_large", retryable: false },
  unprocessable: { status: 422, type: "invalid_request_error", code: null, retryable: false },
  unsupported: { status: 400, type: "invalid_request_error", code: "unsupported_parameter", retryable: false },
  stream_error: { status: 502, type: "upstream_error", code: "upstream_stream_error", retryable: true },
  upstream_too_large: { status: 502, type: "upstream_error", code: "upstream_too_large", retryable: true },
};

/**
 * The tool (Anthropic) or function (Gemini) that carries structured output when the provider
 * cannot be asked for JSON directly. A fixed name, so the stateless response side recognises it.
 */
export const ANSWER_TOOL = "perpetuo_json_output";

/** response_format asks for JSON (an object, or one matching a schema). */
export function wantsJson(rf: unknown): rf is { type: "json_object" } | { type: "json_schema"; json_schema?: unknown } {
  return isRecord(rf) && (rf.type === "json_object" || rf.type === "json_schema");
}

// Anthropic ("prompt is too long: 210000 tokens > 200000 maximum", and the newer "input length and
// `max_tokens` exceed context limit: …") and Gemini ("The input token count (N) exceeds the maximum
// number of tokens allowed (M).") say it in words only.
const CONTEXT_OVERFLOW = [/prompt is too long/i, /input length and `?max_tokens`? exceed context limit/i, /input token count.*exceeds the maximum number of tokens/i];

/**
 * A provider's 400 that means the prompt does not fit the model's context window, in OpenAI's
 * terms: clients (LangChain among them) recognise the overflow by this code.
 */
export function contextOverflowError(message: string, upstreamStatus?: number): UpstreamError | null {
  if (!CONTEXT_OVERFLOW.some((re) => re.test(message))) return null;
  const extra: Partial<Omit<UpstreamError, "class" | "message">> = { code: "context_length_exceeded", param: "messages" };
  if (upstreamStatus !== undefined) extra.upstreamStatus = upstreamStatus;
  return upstreamError("bad_request", message, extra);
}

export function upstreamError(
  cls: ErrorClass,
  message: string,
  extra: Partial<Omit<UpstreamError, "class" | "message">> = {},
): UpstreamError {
  const d = ERROR_DEFAULTS[cls];
  const err: UpstreamError = {
    class: cls,
    status: extra.status ?? d.status,
    message: redactSecrets(message),
    type: extra.type ?? d.type,
    code: extra.code !== undefined ? extra.code : d.code,
    param: extra.param ?? null,
    retryable: extra.retryable ?? d.retryable,
  };
  if (extra.upstreamStatus !== undefined) err.upstreamStatus = extra.upstreamStatus;
  if (extra.retryAfterMs !== undefined) err.retryAfterMs = extra.retryAfterMs;
  return err;
}

/** HTTP status → class, before any provider-specific refinement. */
export function classForStatus(status: number): ErrorClass {
  if (status === 408) return "timeout";
  if (status === 429) return "rate_limit";
  if (status === 529) return "overloaded";
  if (status >= 500) return "server";
  // 402: the provider account cannot pay; like a bad key, another provider may still answer.
  if (status === 401 || status === 402 || status === 403) return "auth";
  if (status === 404) return "not_found";
  if (status === 413) return "too_large";
  if (status === 422) return "unprocessable";
  if (status >= 400) return "bad_request";
  return "server";
}

// The upstream may echo a key back (OpenAI does, partially masked); none may reach a client or log.
// Known key prefixes, Bearer tokens, ?key= query values and session JWTs, whoever's they are.
const KEY_PATTERN =
  /\b(?:sk-[A-Za-z0-9_*-]{4,}|AIza[0-9A-Za-z_-]{8,}|prp_[A-Za-z0-9_-]{4,}|gsk_[A-Za-z0-9]{8,}|xai-[A-Za-z0-9]{8,}|eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)|\bBearer\s+[^\s"',;]+|([?&](?:key|api_key|apikey)=)[^&\s"']+/gi;

/** Any run of this many characters of a known key counts as a leak (so does the whole key, if shorter). */
export const KEY_RUN = 8;

/**
 * The forms a key travels in, besides itself: base64 at each of the three byte alignments (so
 * `:key`, `key:` and `user:key` as in Basic auth are covered whatever precedes it; only the
 * characters that depend on the key alone), base64url, and hex.
 */
function keyForms(key: string): string[] {
  const bytes = Buffer.from(key);
  const forms = [key, bytes.toString("hex"), bytes.toString("hex").toUpperCase()];
  for (let shift = 0; shift < 3; shift++) {
    const b64 = Buffer.concat([Buffer.alloc(shift, 0x3a), bytes]).toString("base64");
    const core = b64.slice(shift === 0 ? 0 : 4, Math.floor((shift + bytes.length) / 3) * 4);
    forms.push(core, core.replaceAll("+", "-").replaceAll("/", "_"));
  }
  return forms;
}

// Runs are found with a rolling hash over character codes (a Set of 8-character slices costs a
// string per position, too slow for the 16 KiB bodies logged on the hot path), then compared.
const BASE = 31;

function hashAt(codes: ArrayLike<number>, start: number, width: number): number {
  let h = 0;
  for (let i = 0; i < width; i++) h = (Math.imul(h, BASE) + codes[start + i]) | 0;
  return h;
}

const runsCache = new Map<string, Map<number, string[]>>();

function keyRuns(key: string, width: number): Map<number, string[]> {
  let runs = runsCache.get(key);
  if (runs) return runs;
  runs = new Map();
  for (const f of keyForms(key)) {
    const codes = Array.from(f, (c) => c.charCodeAt(0));
    for (let i = 0; i + width <= f.length; i++) {
      const h = hashAt(codes, i, width);
      const list = runs.get(h);
      if (list) list.push(f.slice(i, i + width));
      else runs.set(h, [f.slice(i, i + width)]);
    }
  }
  // Keys are few and long-lived (one per provider entry); the bound only stops a slow leak.
  if (runsCache.size > 1000) runsCache.clear();
  runsCache.set(key, runs);
  return runs;
}

const hexValue = (c: number) => (c >= 48 && c <= 57 ? c - 48 : c >= 65 && c <= 70 ? c - 55 : c >= 97 && c <= 102 ? c - 87 : -1);
const JSON_ESCAPES: Record<string, number> = { '"': 34, "\\": 92, "/": 47, b: 8, f: 12, n: 10, r: 13, t: 9 };

/**
 * The text's character codes with one level of %XX (URL) and \uXXXX / \" (JSON) escapes undone,
 * and for each decoded character the span it came from, so a match in the decoded text masks the original.
 */
function unescapedView(text: string): { codes: Uint16Array; length: number; from: Int32Array; to: Int32Array } {
  const codes = new Uint16Array(text.length);
  const from = new Int32Array(text.length);
  const to = new Int32Array(text.length);
  let n = 0;
  for (let i = 0; i < text.length; ) {
    let c = text.charCodeAt(i);
    let len = 1;
    if (c === 37 /* % */ && hexValue(text.charCodeAt(i + 1)) >= 0 && hexValue(text.charCodeAt(i + 2)) >= 0) {
      c = hexValue(text.charCodeAt(i + 1)) * 16 + hexValue(text.charCodeAt(i + 2));
      len = 3;
    } else if (c === 92 /* \ */ && i + 1 < text.length) {
      const next = text[i + 1];
      if (next === "u" && i + 5 < text.length) {
        const d = [2, 3, 4, 5].map((k) => hexValue(text.charCodeAt(i + k)));
        if (d.every((x) => x >= 0)) {
          c = ((d[0] * 16 + d[1]) * 16 + d[2]) * 16 + d[3];
          len = 6;
        }
      } else if (Object.hasOwn(JSON_ESCAPES, next)) {
        c = JSON_ESCAPES[next];
        len = 2;
      }
    }
    codes[n] = c;
    from[n] = i;
    to[n] = i + len;
    n++;
    i += len;
  }
  return { codes, length: n, from, to };
}

/** Masks every run of KEY_RUN characters of the key, in any of its forms, plain or escaped. */
function redactKey(text: string, key: string): string {
  const width = Math.min(KEY_RUN, key.length);
  const runs = keyRuns(key, width);
  const view = unescapedView(text);
  const { codes, length, from, to } = view;
  const spans: Array<[number, number]> = [];
  if (length < width) return text;
  let pow = 1;
  for (let i = 1; i < width; i++) pow = Math.imul(pow, BASE);
  let h = hashAt(codes, 0, width);
  for (let i = 0; ; i++) {
    const candidates = runs.get(h);
    if (candidates && candidates.some((run) => sameRun(codes, i, run))) {
      const start = from[i];
      const end = to[i + width - 1];
      const last = spans[spans.length - 1];
      if (last && start <= last[1]) last[1] = Math.max(last[1], end);
      else spans.push([start, end]);
    }
    if (i + width >= length) break;
    h = (Math.imul(h - Math.imul(codes[i], pow), BASE) + codes[i + width]) | 0;
  }
  if (spans.length === 0) return text;
  let out = "";
  let at = 0;
  for (const [s, e] of spans) {
    out += `${text.slice(at, s)}[redacted]`;
    at = e;
  }
  return out + text.slice(at);
}

function sameRun(codes: Uint16Array, at: number, run: string): boolean {
  for (let k = 0; k < run.length; k++) if (codes[at + k] !== run.charCodeAt(k)) return false;
  return true;
}

/**
 * The one redaction: every error relayed from a provider, attempt message, log row and log line
 * goes through it. With the provider's key, any run of 8 of its characters is masked (so a cut
 * never leaves most of it), as are its URL-encoded, JSON-escaped, base64 and hex forms; always,
 * anything shaped like a known credential. Redact first, truncate after.
 */
export function redactSecrets(text: string, key?: string | null): string {
  const out = key && key.length >= 4 ? redactKey(text, key) : text;
  return out.replace(KEY_PATTERN, (m, query: string | undefined) => (query ? `${query}[redacted]` : m.startsWith("Bearer") || m.startsWith("bearer") ? "Bearer [redacted]" : "[redacted]"));
}

/** Cuts an already redacted text for display. */
export function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

/** Non-JSON bodies (HTML error pages, proxies) become a short readable message. */
export function fallbackMessage(status: number, bodyText: string): string {
  const text = bodyText.replace(/\s+/g, " ").trim();
  if (!text) return `upstream returned HTTP ${status}`;
  return clip(text, 300);
}

export function tryParseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Go-style durations as used by OpenAI's x-ratelimit-reset-*: "1s", "6m0s", "20ms", "1h2m3.5s". */
export function parseDuration(value: string): number | undefined {
  const v = value.trim();
  if (/^\d+(\.\d+)?$/.test(v)) return Math.round(Number(v) * 1000);
  const re = /(\d+(?:\.\d+)?)(ms|h|m|s)/g;
  let total = 0;
  let consumed = 0;
  for (let m = re.exec(v); m; m = re.exec(v)) {
    const n = Number(m[1]);
    total += m[2] === "ms" ? n : m[2] === "s" ? n * 1000 : m[2] === "m" ? n * 60_000 : n * 3_600_000;
    consumed += m[0].length;
  }
  return consumed > 0 && consumed === v.length ? Math.round(total) : undefined;
}

/** Retry-After: delta-seconds or an HTTP date. */
export function parseRetryAfter(value: string, now: number = Date.now()): number | undefined {
  const v = value.trim();
  if (!v) return undefined;
  if (/^\d+(\.\d+)?$/.test(v)) return Math.round(Number(v) * 1000);
  const at = Date.parse(v);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}

/**
 * Precedence: retry-after-ms (OpenAI SDK convention), Retry-After, then the OpenAI reset headers
 * of whichever limit is exhausted (the longest of them if none says it is exhausted).
 */
export function retryAfterFromHeaders(headers: Headers, now: number = Date.now()): number | undefined {
  const ms = headers.get("retry-after-ms");
  if (ms && /^\d+(\.\d+)?$/.test(ms.trim())) return Math.round(Number(ms));
  const ra = headers.get("retry-after");
  if (ra) {
    const parsed = parseRetryAfter(ra, now);
    if (parsed !== undefined) return parsed;
  }
  let exhausted: number | undefined;
  let longest: number | undefined;
  for (const kind of ["requests", "tokens"]) {
    const reset = headers.get(`x-ratelimit-reset-${kind}`);
    if (!reset) continue;
    const d = parseDuration(reset);
    if (d === undefined) continue;
    longest = longest === undefined ? d : Math.max(longest, d);
    if (headers.get(`x-ratelimit-remaining-${kind}`)?.trim() === "0") exhausted = exhausted === undefined ? d : Math.max(exhausted, d);
  }
  return exhausted ?? longest;
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export function num(v: unknown): number | undefined {
  return typeof v === "number" && Number.isFinite(v) ? v : undefined;
}

export function str(v: unknown): string | undefined {
  return typeof v === "string" ? v : undefined;
}

/** Tool-call arguments must become an object; a string that is not one cannot be sent faithfully. */
export function parseToolArguments(args: unknown, param: string): Record<string, unknown> {
  if (isRecord(args)) return args;
  if (typeof args !== "string") throw new UnsupportedFeatureError(param, `${param} must be a JSON string`);
  if (args.trim() === "") return {};
  const parsed = tryParseJson(args);
  if (!isRecord(parsed)) throw new UnsupportedFeatureError(param, `${param} is not a JSON object; this provider needs one`);
  return parsed;
}

/**
 * Why a model name cannot go into a URL path, or null. Encoding is not enough for dot segments:
 * URL parsers resolve `..`, `%2e%2e` and `.%2E` alike, so `../../admin` would leave base_url.
 */
export function modelNameProblem(model: string): string | null {
  if (/[\x00-\x1f\x7f]/.test(model)) return "must not contain control characters";
  // A lone surrogate cannot be percent-encoded into a URL path (Gemini's): refused here, not a 500 there.
  if (!model.isWellFormed()) return "must be valid Unicode (no lone surrogate)";
  if (model.split("/").some((s) => /^(?:\.|%2e){1,2}$/i.test(s))) return "must not contain '.' or '..' path segments";
  return null;
}

export function joinUrl(baseUrl: string, path: string): string {
  let end = baseUrl.length;
  while (end > 0 && baseUrl.charCodeAt(end - 1) === 47 /* / */) end--;
  return baseUrl.slice(0, end) + path;
}

export function toCompletionUsage(u: Usage): CompletionUsage {
  const out: CompletionUsage = { prompt_tokens: u.prompt_tokens, completion_tokens: u.completion_tokens, total_tokens: u.total_tokens };
  if (u.cached_tokens !== undefined || u.cache_creation_tokens !== undefined) {
    const details: { cached_tokens?: number; cache_creation_tokens?: number } = { cached_tokens: u.cached_tokens ?? 0 };
    if (u.cache_creation_tokens !== undefined) details.cache_creation_tokens = u.cache_creation_tokens;
    out.prompt_tokens_details = details;
  }
  if (u.reasoning_tokens !== undefined) out.completion_tokens_details = { reasoning_tokens: u.reasoning_tokens };
  return out;
}

/** OpenAI-shaped usage (as sent by OpenAI-compatible servers, or by our own translations) → Usage. */
export function usageFromOpenAI(raw: unknown): Usage | null {
  if (!isRecord(raw)) return null;
  const prompt = num(raw.prompt_tokens) ?? 0;
  const completion = num(raw.completion_tokens) ?? 0;
  const u: Usage = { prompt_tokens: prompt, completion_tokens: completion, total_tokens: num(raw.total_tokens) ?? prompt + completion };
  const pd = isRecord(raw.prompt_tokens_details) ? raw.prompt_tokens_details : undefined;
  // DeepSeek reports cache hits at the top level instead of in prompt_tokens_details.
  const cached = num(pd?.cached_tokens) ?? num(raw.prompt_cache_hit_tokens);
  if (cached !== undefined) u.cached_tokens = cached;
  const created = num(pd?.cache_creation_tokens);
  if (created !== undefined) u.cache_creation_tokens = created;
  const cd = isRecord(raw.completion_tokens_details) ? raw.completion_tokens_details : undefined;
  const reasoning = num(cd?.reasoning_tokens);
  if (reasoning !== undefined) u.reasoning_tokens = reasoning;
  return u;
}

export function usageFromCompletion(c: ChatCompletion): Usage | null {
  return usageFromOpenAI(c.usage);
}

export function reportedModel(upstreamModel: unknown, ctx: ResponseContext): string {
  return typeof upstreamModel === "string" && upstreamModel ? upstreamModel : ctx.targetModel || ctx.requestedModel;
}
