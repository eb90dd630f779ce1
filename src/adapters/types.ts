/**
 * The contract between the gateway and the provider adapters. The pieces it is made of live by
 * concern (wire.ts: the OpenAI request and response shapes; errors.ts; usage.ts; redact.ts;
 * util.ts) and are re-exported here, so callers import from one place.
 */
import type { SSEEvent } from "./sse.ts";
import type { UpstreamError } from "./errors.ts";
import type { Usage } from "./usage.ts";
import type { ChatCompletion, ChatCompletionChunk, ChatRequest } from "./wire.ts";

export * from "./errors.ts";
export * from "./redact.ts";
export * from "./usage.ts";
export * from "./util.ts";
export * from "./wire.ts";
export type { SSEEvent };
export type WireFormat = "openai" | "anthropic" | "gemini";

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
  /** The mapped provider model; reported when the upstream names no model (else requestedModel). */
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
