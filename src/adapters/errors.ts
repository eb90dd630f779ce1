/**
 * Upstream failures in one shape: the class of a failure, what it becomes for the client if it is
 * final (ERROR_DEFAULTS), and the Retry-After readings the cooldowns use.
 *
 * - `UpstreamResponseError` (thrown by `parseChatResponse`): a 2xx body can still be a failure
 *   (OpenRouter and others answer 200 `{error:…}`; a body without choices is unusable). It carries
 *   a classified `UpstreamError` so the gateway treats it like any failed attempt.
 * - `UnsupportedFeatureError` is also thrown for requests this wire format cannot express
 *   faithfully (tool-call arguments that are not a JSON object, temperature > 1 for Anthropic,
 *   a `tool` message whose call id is unknown for Gemini): another candidate may still honour
 *   the request unchanged, which a hard 400 would prevent. Its `message` says why.
 */
import { redactSecrets } from "./redact.ts";
import { clip } from "./util.ts";

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
  constructor(
    readonly param: string,
    message?: string,
  ) {
    super(message ?? `'${param}' is not supported by this provider`);
    this.name = "UnsupportedFeatureError";
  }
}

/** A 2xx upstream response that is nevertheless a failure (see the header comment). */
export class UpstreamResponseError extends Error {
  constructor(readonly error: UpstreamError) {
    super(error.message);
    this.name = "UpstreamResponseError";
  }
}

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

// Anthropic ("prompt is too long: 210000 tokens > 200000 maximum", and the newer "input length and
// `max_tokens` exceed context limit: …") and Gemini ("The input token count (N) exceeds the maximum
// number of tokens allowed (M).") say it in words only.
const CONTEXT_OVERFLOW = [
  /prompt is too long/i,
  /input length and `?max_tokens`? exceed context limit/i,
  /input token count.*exceeds the maximum number of tokens/i,
];

/**
 * A provider's 400 that means the prompt does not fit the model's context window, in OpenAI's
 * terms: clients (LangChain among them) recognise the overflow by this code.
 */
export function contextOverflowError(message: string, upstreamStatus?: number): UpstreamError | null {
  if (!CONTEXT_OVERFLOW.some((re) => re.test(message))) return null;
  return upstreamError("bad_request", message, { code: "context_length_exceeded", param: "messages", upstreamStatus });
}

/** The class's defaults, with what `extra` says in their place (an undefined field says nothing). */
export function upstreamError(
  cls: ErrorClass,
  message: string,
  extra: Partial<Omit<UpstreamError, "class" | "message">> = {},
): UpstreamError {
  const given = Object.fromEntries(Object.entries(extra).filter(([, v]) => v !== undefined));
  return { class: cls, ...ERROR_DEFAULTS[cls], param: null, ...given, message: redactSecrets(message) };
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

/** Non-JSON bodies (HTML error pages, proxies) become a short readable message. */
export function fallbackMessage(status: number, bodyText: string): string {
  const text = bodyText.replace(/\s+/g, " ").trim();
  return text ? clip(text, 300) : `upstream returned HTTP ${status}`;
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
  const parsed = ra ? parseRetryAfter(ra, now) : undefined;
  if (parsed !== undefined) return parsed;
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

/**
 * A provider's error as the gateway's: the upstream status kept, and for the classes worth waiting
 * out the provider's word on how long (its headers, else what `wait` reads from its body).
 */
export function providerError(
  cls: ErrorClass,
  message: string,
  status: number | undefined,
  headers: Headers | null,
  extra: Partial<Omit<UpstreamError, "class" | "message">> = {},
  wait?: () => number | undefined,
): UpstreamError {
  const waits = cls === "rate_limit" || cls === "overloaded" || cls === "server";
  const retryAfterMs = waits ? ((headers ? retryAfterFromHeaders(headers) : undefined) ?? wait?.()) : undefined;
  return upstreamError(cls, message, { ...extra, upstreamStatus: status, retryAfterMs });
}
