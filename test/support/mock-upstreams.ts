/**
 * Mock provider servers speaking each provider's real wire format over real HTTP, for the gateway
 * tests, the E2E test and the benchmark.
 *
 * Built on node:http rather than Bun.serve because Bun.serve cannot send response headers before
 * the first body byte (needed for "slow first token" cases) nor drop a connection without an
 * answer; node:http can do both (flushHeaders, socket.destroy) and still runs on Bun.
 *
 *   const up = await startMockUpstream("anthropic", { expectedKey: "sk-ant-test" });
 *   provider.baseUrl = up.url;                  // openai's url includes /v1
 *   up.script({ status: 529 }, { text: "hi" }); // first chat request fails, second answers
 *   ...; expect(up.chatRequests()[0].body).toMatchObject({...}); await up.stop();
 *
 * Usage figures are given OpenAI-style (`prompt` includes cache reads and writes, `completion`
 * includes reasoning) and written in each provider's own terms, so every adapter should read the
 * same numbers back. Defaults: prompt 10, completion 5.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { responsesBody, responsesEvents, responsesStreamError, responsesUserText, validateResponsesRequest } from "./mock-responses.ts";

export type MockKind = "openai" | "anthropic" | "gemini";

export interface MockToolCall {
  name: string;
  arguments: Record<string, unknown>;
  id?: string;
}

export interface MockUsage {
  prompt?: number;
  completion?: number;
  cacheRead?: number;
  cacheCreation?: number;
  reasoning?: number;
}

export interface MockBehaviour {
  /** Reply text; default `Echo: <text of the last user message>` (none when toolCalls are set). */
  text?: string;
  toolCalls?: MockToolCall[];
  usage?: MockUsage;
  /** "length" becomes max_tokens / MAX_TOKENS. Default: stop (or the tool-call reason). */
  finishReason?: "stop" | "length";
  /** Model name to report; default: the requested one. */
  model?: string;

  /** Answer with this non-2xx status and a provider-shaped error body. */
  status?: number;
  errorMessage?: string;
  /** Provider error type/code: OpenAI `code`, Anthropic `error.type`, Gemini `error.status`. */
  errorType?: string;
  /** Raw body instead of the provider-shaped one (e.g. an HTML error page). */
  errorBody?: string;
  /** Sent as the Retry-After header. */
  retryAfter?: number | string;
  /** Extra response headers (errors and successes). */
  headers?: Record<string, string>;

  /** Close the connection without any response. */
  drop?: boolean;
  /** Wait before sending headers. */
  delayMs?: number;
  /** Streams: wait after the headers before the first event. */
  firstChunkDelayMs?: number;
  /** Streams: wait between events. */
  chunkDelayMs?: number;
  /** Streams: end the response cleanly after N events, without the end events. */
  cutAfterChunks?: number;
  /** Streams: destroy the connection after N events (a network error mid-stream). */
  abortAfterChunks?: number;
  /** Streams: after N events send the provider's in-stream error event, then end. */
  errorAfterChunks?: number;
  streamErrorType?: string;
  streamErrorMessage?: string;

  // Fault modes (test/faults.test.ts): what a broken provider or network does to a chat answer.
  /** Non-stream: send a 200's headers (with the full Content-Length) and this many body bytes, then reset the connection. */
  resetAfterBytes?: number;
  /** Send a 200's headers, then nothing until the client goes away. */
  hangAfterHeaders?: boolean;
  /** Streams: after N events, send nothing more until the client goes away. */
  stallAfterChunks?: number;
  /** Answer 200 with exactly this body (JSON content type for non-stream, event stream for stream), e.g. malformed JSON or SSE, or a 2xx that is an error. */
  okBody?: string;

  /** Refuse the prompt as too long for the context window, in the provider's exact words and status (400). */
  contextOverflow?: { tokens: number; max: number };
  /** Reasoning the model shows before its answer: Anthropic thinking block, Gemini thought part (OpenAI: ignored). */
  reasoningText?: string;
}

/** What the models endpoint does (setModelsBehaviour); by default it answers at once. */
export interface MockModelsBehaviour {
  delayMs?: number;
  /** Answer with this non-2xx status and a provider-shaped error body. */
  status?: number;
}

export interface RecordedRequest {
  method: string;
  /** Path with query string. */
  path: string;
  pathname: string;
  query: Record<string, string>;
  headers: Record<string, string>;
  /** Parsed JSON body, or null. */
  body: unknown;
  rawBody: string;
  /** Whether this was a chat request (generation endpoint). */
  chat: boolean;
  /** Whether this was an embeddings request. */
  embeddings?: boolean;
}

export interface MockUpstreamOptions {
  /** When set, requests must carry this key in the provider's header. */
  expectedKey?: string | null;
  /** Default behaviour for chat requests with nothing scripted. */
  behaviour?: MockBehaviour;
  /** Model ids served by the models endpoint. */
  models?: string[];
  /** When set, a chat request for any other model gets the provider's own 404 "model not found". */
  chatModels?: string[];
}

export interface MockUpstream {
  kind: MockKind;
  /** Base URL to configure for the provider (openai: includes /v1). */
  url: string;
  origin: string;
  requests: RecordedRequest[];
  chatRequests(): RecordedRequest[];
  lastChatRequest(): RecordedRequest | undefined;
  /** Queue behaviours, consumed one per chat request, before falling back to the default. */
  script(...behaviours: MockBehaviour[]): void;
  setBehaviour(behaviour: MockBehaviour): void;
  setExpectedKey(key: string | null): void;
  /** Clear recorded requests, queue and counters; restore the options' behaviour and key. */
  reset(): void;
  stop(): Promise<void>;
  /** Change how the models endpoint answers from now on; null restores the default. */
  setModelsBehaviour(behaviour: MockModelsBehaviour | null): void;
  /** Requests that reached the models endpoint. */
  modelsRequests(): RecordedRequest[];
  /** Streaming responses currently open. */
  activeStreams(): number;
  /** Streaming responses whose client went away before the mock finished writing. */
  abortedStreams(): number;
  /** Any response (stream or not) whose client went away before the mock finished. */
  abortedRequests(): number;
}

const DEFAULT_MODELS: Record<MockKind, string[]> = {
  openai: ["gpt-4o-mini", "gpt-4o"],
  anthropic: ["claude-sonnet-4-5", "claude-haiku-4-5"],
  gemini: ["gemini-2.5-flash", "gemini-2.5-pro"],
};

const CREATED = 1_700_000_000;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A delay that ends early when the client goes away, so long scripted delays hold nothing open. */
function pause(ms: number, res: ServerResponse): Promise<void> {
  if (res.destroyed) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(timer);
      res.off("close", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    res.on("close", done);
  });
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Polls until `fn` is true (for counters that change when the socket close is noticed). */
export async function waitUntil(fn: () => boolean, timeoutMs = 2000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!fn()) {
    if (Date.now() > end) throw new Error("waitUntil: condition not met in time");
    await sleep(5);
  }
}

interface Figures {
  prompt: number;
  completion: number;
  cacheRead?: number;
  cacheCreation?: number;
  reasoning?: number;
}

function figures(u: MockUsage | undefined): Figures {
  return {
    prompt: u?.prompt ?? 10,
    completion: u?.completion ?? 5,
    cacheRead: u?.cacheRead,
    cacheCreation: u?.cacheCreation,
    reasoning: u?.reasoning,
  };
}

function pieces(text: string): string[] {
  return text.match(/\s*\S+|\s+$/g) ?? [];
}

/** Splits a JSON string into three pieces, as providers stream tool arguments. */
function argPieces(json: string): string[] {
  const a = Math.floor(json.length / 3);
  const b = Math.floor((2 * json.length) / 3);
  return [json.slice(0, a), json.slice(a, b), json.slice(b)].filter((s) => s !== "");
}

// ---------------------------------------------------------------------------------------------
// What the client asked for, per wire format
// ---------------------------------------------------------------------------------------------

function textOf(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  const out: string[] = [];
  for (const p of content) {
    if (!isRecord(p)) continue;
    if (typeof p.text === "string") out.push(p.text);
    else if (p.type === "tool_result") out.push(textOf(p.content));
    else if (isRecord(p.functionResponse)) out.push(JSON.stringify(p.functionResponse.response));
  }
  return out.join(" ");
}

function lastUserText(kind: MockKind, body: Record<string, unknown>): string {
  const list = kind === "gemini" ? body.contents : body.messages;
  if (!Array.isArray(list)) return "";
  for (let i = list.length - 1; i >= 0; i--) {
    const m: unknown = list[i];
    if (isRecord(m) && m.role === "user") return textOf(kind === "gemini" ? m.parts : m.content);
  }
  return "";
}

interface Reply {
  id: number;
  model: string;
  text: string | null;
  toolCalls: Required<MockToolCall>[];
  finish: "stop" | "length" | "tool";
  usage: Figures;
  includeUsage: boolean;
  reasoning: string | null;
}

// ---------------------------------------------------------------------------------------------
// Bodies and events, per wire format
// ---------------------------------------------------------------------------------------------

function openaiUsage(u: Figures) {
  return {
    prompt_tokens: u.prompt,
    completion_tokens: u.completion,
    total_tokens: u.prompt + u.completion,
    prompt_tokens_details: { cached_tokens: u.cacheRead ?? 0, audio_tokens: 0 },
    completion_tokens_details: {
      reasoning_tokens: u.reasoning ?? 0,
      audio_tokens: 0,
      accepted_prediction_tokens: 0,
      rejected_prediction_tokens: 0,
    },
  };
}

function openaiFinish(r: Reply): string {
  return r.finish === "tool" ? "tool_calls" : r.finish;
}

function openaiBody(r: Reply) {
  const message: Record<string, unknown> = { role: "assistant", content: r.text, refusal: null };
  if (r.toolCalls.length)
    message.tool_calls = r.toolCalls.map((t) => ({
      id: t.id,
      type: "function",
      function: { name: t.name, arguments: JSON.stringify(t.arguments) },
    }));
  return {
    id: `chatcmpl-mock${r.id}`,
    object: "chat.completion",
    created: CREATED,
    model: r.model,
    choices: [{ index: 0, message, logprobs: null, finish_reason: openaiFinish(r) }],
    usage: openaiUsage(r.usage),
    service_tier: "default",
    system_fingerprint: "fp_mock",
  };
}

function openaiEvents(r: Reply): { events: string[]; end: string[] } {
  const base = {
    id: `chatcmpl-mock${r.id}`,
    object: "chat.completion.chunk",
    created: CREATED,
    model: r.model,
    system_fingerprint: "fp_mock",
  };
  const chunk = (delta: Record<string, unknown>, finish: string | null) => {
    const c: Record<string, unknown> = { ...base, choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }] };
    if (r.includeUsage) c.usage = null;
    return `data: ${JSON.stringify(c)}\n\n`;
  };
  const events = [chunk({ role: "assistant", content: r.text === null ? null : "", refusal: null }, null)];
  if (r.text) for (const p of pieces(r.text)) events.push(chunk({ content: p }, null));
  r.toolCalls.forEach((t, i) => {
    events.push(chunk({ tool_calls: [{ index: i, id: t.id, type: "function", function: { name: t.name, arguments: "" } }] }, null));
    for (const p of argPieces(JSON.stringify(t.arguments)))
      events.push(chunk({ tool_calls: [{ index: i, function: { arguments: p } }] }, null));
  });
  events.push(chunk({}, openaiFinish(r)));
  const end: string[] = [];
  if (r.includeUsage) end.push(`data: ${JSON.stringify({ ...base, choices: [], usage: openaiUsage(r.usage) })}\n\n`);
  end.push("data: [DONE]\n\n");
  return { events, end };
}

function anthropicUsage(u: Figures) {
  return {
    input_tokens: u.prompt - (u.cacheRead ?? 0) - (u.cacheCreation ?? 0),
    cache_creation_input_tokens: u.cacheCreation ?? 0,
    cache_read_input_tokens: u.cacheRead ?? 0,
    output_tokens: u.completion,
  };
}

function anthropicStop(r: Reply): string {
  return r.finish === "tool" ? "tool_use" : r.finish === "length" ? "max_tokens" : "end_turn";
}

function anthropicBody(r: Reply) {
  const content: Record<string, unknown>[] = [];
  if (r.reasoning !== null) content.push({ type: "thinking", thinking: r.reasoning, signature: `sig_mock${r.id}` });
  if (r.text !== null) content.push({ type: "text", text: r.text });
  for (const t of r.toolCalls) content.push({ type: "tool_use", id: t.id, name: t.name, input: t.arguments });
  return {
    id: `msg_mock${r.id}`,
    type: "message",
    role: "assistant",
    model: r.model,
    content,
    stop_reason: anthropicStop(r),
    stop_sequence: null,
    usage: anthropicUsage(r.usage),
  };
}

function anthropicEvents(r: Reply): { events: string[]; end: string[] } {
  const ev = (type: string, data: Record<string, unknown>) => `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
  const u = anthropicUsage(r.usage);
  const events = [
    ev("message_start", {
      message: {
        id: `msg_mock${r.id}`,
        type: "message",
        role: "assistant",
        model: r.model,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: { ...u, output_tokens: 1 },
      },
    }),
  ];
  let index = 0;
  if (r.reasoning !== null) {
    events.push(ev("content_block_start", { index, content_block: { type: "thinking", thinking: "", signature: "" } }));
    for (const p of pieces(r.reasoning)) events.push(ev("content_block_delta", { index, delta: { type: "thinking_delta", thinking: p } }));
    events.push(ev("content_block_delta", { index, delta: { type: "signature_delta", signature: `sig_mock${r.id}` } }));
    events.push(ev("content_block_stop", { index }));
    index++;
  }
  if (r.text !== null) {
    events.push(ev("content_block_start", { index, content_block: { type: "text", text: "" } }));
    events.push(ev("ping", {}));
    for (const p of pieces(r.text)) events.push(ev("content_block_delta", { index, delta: { type: "text_delta", text: p } }));
    events.push(ev("content_block_stop", { index }));
    index++;
  }
  for (const t of r.toolCalls) {
    events.push(ev("content_block_start", { index, content_block: { type: "tool_use", id: t.id, name: t.name, input: {} } }));
    events.push(ev("content_block_delta", { index, delta: { type: "input_json_delta", partial_json: "" } }));
    for (const p of argPieces(JSON.stringify(t.arguments)))
      events.push(ev("content_block_delta", { index, delta: { type: "input_json_delta", partial_json: p } }));
    events.push(ev("content_block_stop", { index }));
    index++;
  }
  events.push(
    ev("message_delta", { delta: { stop_reason: anthropicStop(r), stop_sequence: null }, usage: { output_tokens: u.output_tokens } }),
  );
  return { events, end: [ev("message_stop", {})] };
}

function geminiUsage(u: Figures, final: boolean) {
  const out: Record<string, unknown> = { promptTokenCount: u.prompt };
  if (final) {
    const thoughts = u.reasoning ?? 0;
    out.candidatesTokenCount = u.completion - thoughts;
    out.totalTokenCount = u.prompt + u.completion;
    if (thoughts) out.thoughtsTokenCount = thoughts;
  } else out.totalTokenCount = u.prompt;
  if (u.cacheRead) out.cachedContentTokenCount = u.cacheRead;
  out.promptTokensDetails = [{ modality: "TEXT", tokenCount: u.prompt }];
  return out;
}

function geminiFinish(r: Reply): string {
  return r.finish === "length" ? "MAX_TOKENS" : "STOP"; // Gemini says STOP after function calls too
}

function geminiBody(r: Reply) {
  const parts: Record<string, unknown>[] = [];
  if (r.reasoning !== null) parts.push({ text: r.reasoning, thought: true });
  if (r.text !== null) parts.push({ text: r.text });
  for (const t of r.toolCalls) parts.push({ functionCall: { name: t.name, args: t.arguments } });
  return {
    candidates: [{ content: { parts, role: "model" }, finishReason: geminiFinish(r), index: 0 }],
    usageMetadata: geminiUsage(r.usage, true),
    modelVersion: r.model,
    responseId: `mockresp${r.id}`,
  };
}

function geminiEvents(r: Reply): { events: string[]; end: string[] } {
  // Real Gemini separates events with CRLF CRLF.
  const ev = (parts: Record<string, unknown>[], final: boolean) => {
    const cand: Record<string, unknown> = { content: { parts, role: "model" }, index: 0 };
    if (final) cand.finishReason = geminiFinish(r);
    return `data: ${JSON.stringify({ candidates: [cand], usageMetadata: geminiUsage(r.usage, final), modelVersion: r.model, responseId: `mockresp${r.id}` })}\r\n\r\n`;
  };
  const groups: Record<string, unknown>[][] = [];
  if (r.reasoning !== null) groups.push([{ text: r.reasoning, thought: true }]);
  if (r.text !== null) for (const p of pieces(r.text)) groups.push([{ text: p }]);
  if (r.toolCalls.length) groups.push(r.toolCalls.map((t) => ({ functionCall: { name: t.name, args: t.arguments } })));
  if (groups.length === 0) groups.push([{ text: "" }]);
  const events = groups.map((g, i) => ev(g, i === groups.length - 1));
  // The last content event carries finishReason and is the end: hold it back as the "end".
  return { events: events.slice(0, -1), end: events.slice(-1) };
}

// ---------------------------------------------------------------------------------------------
// Errors, per wire format
// ---------------------------------------------------------------------------------------------

const OPENAI_ERR: Record<number, [string, string | null]> = {
  400: ["invalid_request_error", null],
  401: ["invalid_request_error", "invalid_api_key"],
  403: ["invalid_request_error", "unsupported_country_region_territory"],
  404: ["invalid_request_error", "model_not_found"],
  429: ["requests", "rate_limit_exceeded"],
};
const ANTHROPIC_ERR: Record<number, string> = {
  400: "invalid_request_error",
  401: "authentication_error",
  403: "permission_error",
  404: "not_found_error",
  413: "request_too_large",
  429: "rate_limit_error",
  500: "api_error",
  529: "overloaded_error",
};
const GEMINI_ERR: Record<number, string> = {
  400: "INVALID_ARGUMENT",
  401: "UNAUTHENTICATED",
  403: "PERMISSION_DENIED",
  404: "NOT_FOUND",
  429: "RESOURCE_EXHAUSTED",
  500: "INTERNAL",
  503: "UNAVAILABLE",
  504: "DEADLINE_EXCEEDED",
};

/** Each provider's wording for a model it does not serve. */
function unknownModelMessage(kind: MockKind, model: string): string {
  if (kind === "openai") return `The model \`${model}\` does not exist or you do not have access to it.`;
  if (kind === "anthropic") return `model: ${model}`;
  return `models/${model} is not found for API version v1beta, or is not supported for generateContent.`;
}

function errorBody(kind: MockKind, status: number, message: string, type?: string | null, extra?: Record<string, unknown>): string {
  if (kind === "openai") {
    const [t, c] = OPENAI_ERR[status] ?? (status >= 500 ? ["server_error", null] : ["invalid_request_error", null]);
    return JSON.stringify({ error: { message, type: t, param: null, code: type !== undefined ? type : c } });
  }
  if (kind === "anthropic")
    return JSON.stringify({
      type: "error",
      error: { type: type ?? ANTHROPIC_ERR[status] ?? (status >= 500 ? "api_error" : "invalid_request_error"), message },
      request_id: "req_mock",
    });
  return JSON.stringify({
    error: { code: status, message, status: type ?? GEMINI_ERR[status] ?? (status >= 500 ? "INTERNAL" : "INVALID_ARGUMENT"), ...extra },
  });
}

/** Each provider's words for a prompt longer than the context window. */
function overflowBody(kind: MockKind, tokens: number, max: number): string {
  if (kind === "openai")
    return JSON.stringify({
      error: {
        message: `This model's maximum context length is ${max} tokens. However, your messages resulted in ${tokens} tokens. Please reduce the length of the messages.`,
        type: "invalid_request_error",
        param: "messages",
        code: "context_length_exceeded",
      },
    });
  if (kind === "anthropic") return errorBody(kind, 400, `prompt is too long: ${tokens} tokens > ${max} maximum`, "invalid_request_error");
  return errorBody(
    kind,
    400,
    `The input token count (${tokens}) exceeds the maximum number of tokens allowed (${max}).`,
    "INVALID_ARGUMENT",
  );
}

function streamErrorEvent(kind: MockKind, type: string | undefined, message: string): string {
  if (kind === "anthropic")
    return `event: error\ndata: ${JSON.stringify({ type: "error", error: { type: type ?? "overloaded_error", message } })}\n\n`;
  if (kind === "openai")
    return `data: ${JSON.stringify({ error: { message, type: type ?? "server_error", param: null, code: null } })}\n\n`;
  return `data: ${JSON.stringify({ error: { code: 500, message, status: type ?? "INTERNAL" } })}\r\n\r\n`;
}

// ---------------------------------------------------------------------------------------------
// Server
// ---------------------------------------------------------------------------------------------

function flatHeaders(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) out[k] = Array.isArray(v) ? v.join(", ") : v;
  return out;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(typeof c === "string" ? Buffer.from(c) : (c as Buffer));
  return Buffer.concat(chunks).toString("utf8");
}

/** `responses`: OpenAI's Responses API on the openai mock (test/support/mock-responses.ts); it counts as a chat request. */
type Route =
  | { kind: "chat"; stream: boolean; model: string | null; responses?: boolean }
  | { kind: "models" }
  | { kind: "embeddings"; model: string | null }
  | { kind: "unknown" };

function route(kind: MockKind, method: string, pathname: string, body: unknown): Route {
  if (method === "GET" && ((kind === "gemini" && pathname === "/v1beta/models") || (kind !== "gemini" && pathname === "/v1/models")))
    return { kind: "models" };
  if (method !== "POST") return { kind: "unknown" };
  if (kind === "openai" && pathname === "/v1/embeddings")
    return { kind: "embeddings", model: isRecord(body) && typeof body.model === "string" ? body.model : null };
  if (kind === "gemini") {
    const m = /^\/v1beta\/models\/([^/:]+):batchEmbedContents$/.exec(pathname);
    if (m) return { kind: "embeddings", model: decodeURIComponent(m[1]) };
  }
  if (kind === "openai" && (pathname === "/v1/chat/completions" || pathname === "/v1/responses"))
    return {
      kind: "chat",
      stream: isRecord(body) && body.stream === true,
      model: isRecord(body) && typeof body.model === "string" ? body.model : null,
      responses: pathname === "/v1/responses",
    };
  if (kind === "anthropic" && pathname === "/v1/messages")
    return {
      kind: "chat",
      stream: isRecord(body) && body.stream === true,
      model: isRecord(body) && typeof body.model === "string" ? body.model : null,
    };
  if (kind === "gemini") {
    const m = /^\/v1beta\/models\/([^/:]+):(generateContent|streamGenerateContent)$/.exec(pathname);
    if (m) return { kind: "chat", stream: m[2] === "streamGenerateContent", model: decodeURIComponent(m[1]) };
  }
  return { kind: "unknown" };
}

/** Catches adapter bugs the real API would reject, with the real API's kind of answer. */
function validate(kind: MockKind, r: RecordedRequest, stream: boolean): string | null {
  const b = r.body;
  if (!isRecord(b)) return "request body must be a JSON object";
  if (kind === "openai") {
    if (typeof b.model !== "string") return "you must provide a model parameter";
    if (!Array.isArray(b.messages) || b.messages.length === 0) return "'messages' must be a non-empty array";
    if (b.stream_options !== undefined && b.stream !== true)
      return "The 'stream_options' parameter is only allowed when 'stream' is enabled.";
    return null;
  }
  if (kind === "anthropic") {
    if (!r.headers["anthropic-version"]) return "anthropic-version: header is required";
    if (typeof b.model !== "string") return "model: Field required";
    if (typeof b.max_tokens !== "number") return "max_tokens: Field required";
    if (!Array.isArray(b.messages) || b.messages.length === 0) return "messages: at least one message is required";
    for (const [i, m] of b.messages.entries()) {
      if (!isRecord(m) || (m.role !== "user" && m.role !== "assistant")) return `messages.${i}.role: Input should be 'user' or 'assistant'`;
    }
    return null;
  }
  if (stream && r.query.alt !== "sse") return "mock: streamGenerateContent must be called with alt=sse";
  if (!Array.isArray(b.contents) || b.contents.length === 0) return "* GenerateContentRequest.contents: contents is not specified";
  for (const [i, c] of b.contents.entries()) {
    if (!isRecord(c) || (c.role !== "user" && c.role !== "model")) return `Please use a valid role: user, model. (contents[${i}])`;
    if (!Array.isArray(c.parts) || c.parts.length === 0)
      return `* GenerateContentRequest.contents[${i}].parts: contents.parts must not be empty.`;
  }
  return null;
}

// ---------------------------------------------------------------------------------------------
// Embeddings (OpenAI POST /v1/embeddings, Gemini batchEmbedContents)
// ---------------------------------------------------------------------------------------------

/** Dimensions of a mock vector when the request names none. */
export const MOCK_EMBEDDING_DIMS = 8;

/**
 * The mock's vector for a text: deterministic, and made of multiples of 1/256 so float32 holds
 * every value exactly (a base64 round trip must give the same numbers back).
 */
export function mockEmbedding(text: string, dims: number = MOCK_EMBEDDING_DIMS): number[] {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619) >>> 0;
  const out: number[] = [];
  for (let i = 0; i < dims; i++) {
    h = Math.imul(h ^ (i + 1), 2654435761) >>> 0;
    out.push(((h % 512) - 256) / 256);
  }
  return out;
}

/** What the mock counts as tokens of one input: its words (token-id arrays: their length). */
export function mockTokenCount(input: unknown): number {
  if (typeof input === "string") return input.split(/\s+/).filter(Boolean).length || 1;
  if (Array.isArray(input) && input.every((x) => typeof x === "number")) return input.length;
  return 0;
}

function inputsOf(input: unknown): unknown[] {
  if (typeof input === "string") return [input];
  if (Array.isArray(input) && input.length > 0 && input.every((x) => typeof x === "number")) return [input];
  return Array.isArray(input) ? input : [];
}

function embeddingsValidate(kind: MockKind, body: unknown, pathModel: string | null): string | null {
  if (!isRecord(body)) return "request body must be a JSON object";
  if (kind === "openai") {
    if (typeof body.model !== "string") return "you must provide a model parameter";
    const inputs = inputsOf(body.input);
    if (inputs.length === 0) return "'$.input' is invalid. Please check the API reference: https://platform.openai.com/docs/api-reference.";
    if (body.encoding_format !== undefined && body.encoding_format !== "float" && body.encoding_format !== "base64")
      return "'encoding_format' must be 'float' or 'base64'";
    return null;
  }
  if (!Array.isArray(body.requests) || body.requests.length === 0) return "* BatchEmbedContentsRequest.requests: requests is not specified";
  if (body.requests.length > 100) return "* BatchEmbedContentsRequest.requests: at most 100 requests can be in one batch";
  for (const [i, r] of body.requests.entries()) {
    if (!isRecord(r) || r.model !== `models/${pathModel}`)
      return `Model in request ${i} does not match the model in the URL (models/${pathModel}).`;
    const parts = isRecord(r.content) && Array.isArray(r.content.parts) ? r.content.parts : [];
    if (parts.length === 0 || !parts.every((p) => isRecord(p) && typeof p.text === "string"))
      return `* BatchEmbedContentsRequest.requests[${i}].content.parts: contents.parts must not be empty.`;
  }
  return null;
}

function embeddingsBody(kind: MockKind, body: Record<string, unknown>, model: string, usage: MockUsage | undefined): string {
  if (kind === "openai") {
    const dims = typeof body.dimensions === "number" ? body.dimensions : MOCK_EMBEDDING_DIMS;
    const inputs = inputsOf(body.input);
    const data = inputs.map((input, index) => {
      const v = mockEmbedding(typeof input === "string" ? input : JSON.stringify(input), dims);
      const embedding = body.encoding_format === "base64" ? Buffer.from(new Float32Array(v).buffer).toString("base64") : v;
      return { object: "embedding", index, embedding };
    });
    const prompt = usage?.prompt ?? inputs.reduce<number>((n, x) => n + mockTokenCount(x), 0);
    return JSON.stringify({ object: "list", data, model, usage: { prompt_tokens: prompt, total_tokens: prompt } });
  }
  const requests = body.requests as { content: { parts: { text: string }[] }; outputDimensionality?: number }[];
  return JSON.stringify({
    embeddings: requests.map((r) => ({
      values: mockEmbedding(r.content.parts.map((p) => p.text).join(""), r.outputDimensionality ?? MOCK_EMBEDDING_DIMS),
    })),
  });
}

/** A base URL on a loopback port nobody listens on: connections are refused. */
export async function refusedUrl(path = "/v1"): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}${path}`;
}

export async function startMockUpstream(kind: MockKind, opts: MockUpstreamOptions = {}): Promise<MockUpstream> {
  const requests: RecordedRequest[] = [];
  let queue: MockBehaviour[] = [];
  let behaviour: MockBehaviour = opts.behaviour ?? {};
  let expectedKey: string | null = opts.expectedKey ?? null;
  let active = 0;
  let abortedStreams = 0;
  let abortedRequests = 0;
  let counter = 0;
  let modelsBehaviour: MockModelsBehaviour = {};
  const models = opts.models ?? DEFAULT_MODELS[kind];

  function send(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
    res.writeHead(status, { "content-type": "application/json", ...headers });
    res.end(body);
  }

  function authFailure(r: RecordedRequest): [number, string] | null {
    if (kind === "gemini" && (r.query.key !== undefined || r.query.api_key !== undefined))
      return [400, errorBody(kind, 400, "mock: the API key was passed in the URL (?key=); send it in x-goog-api-key", "INVALID_ARGUMENT")];
    if (expectedKey === null) return null;
    if (kind === "openai") {
      const auth = r.headers.authorization;
      if (auth === `Bearer ${expectedKey}`) return null;
      if (!auth)
        return [
          401,
          errorBody(
            kind,
            401,
            "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
            null,
          ),
        ];
      const given = auth.replace(/^Bearer\s+/i, "");
      // OpenAI echoes a masked key; the adapter must not pass even that on.
      const masked = given.length > 8 ? `${given.slice(0, 3)}${"*".repeat(Math.max(0, given.length - 7))}${given.slice(-4)}` : "****";
      return [
        401,
        errorBody(
          kind,
          401,
          `Incorrect API key provided: ${masked}. You can find your API key at https://platform.openai.com/account/api-keys.`,
        ),
      ];
    }
    if (kind === "anthropic") {
      const key = r.headers["x-api-key"];
      if (key === expectedKey) return null;
      return [401, errorBody(kind, 401, key ? "invalid x-api-key" : "x-api-key header is required")];
    }
    const key = r.headers["x-goog-api-key"];
    if (key === expectedKey) return null;
    // Gemini's real answers: no key → 403, a wrong key → 400 INVALID_ARGUMENT / API_KEY_INVALID.
    if (!key)
      return [
        403,
        errorBody(
          kind,
          403,
          "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.",
        ),
      ];
    return [
      400,
      errorBody(kind, 400, "API key not valid. Please pass a valid API key.", "INVALID_ARGUMENT", {
        details: [
          {
            "@type": "type.googleapis.com/google.rpc.ErrorInfo",
            reason: "API_KEY_INVALID",
            domain: "googleapis.com",
            metadata: { service: "generativelanguage.googleapis.com" },
          },
        ],
      }),
    ];
  }

  function modelsBody(): string {
    if (kind === "openai")
      return JSON.stringify({ object: "list", data: models.map((id) => ({ id, object: "model", created: CREATED, owned_by: "mock" })) });
    if (kind === "anthropic")
      return JSON.stringify({
        data: models.map((id) => ({ type: "model", id, display_name: id, created_at: "2025-01-01T00:00:00Z" })),
        has_more: false,
        first_id: models[0] ?? null,
        last_id: models[models.length - 1] ?? null,
      });
    return JSON.stringify({
      models: models.map((id) => ({
        name: `models/${id}`,
        displayName: id,
        supportedGenerationMethods: ["generateContent", "countTokens"],
      })),
    });
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let finished = false;
    let streaming = false;
    res.on("close", () => {
      if (streaming) active--;
      if (!finished) {
        abortedRequests++;
        if (streaming) abortedStreams++;
      }
    });
    const done = () => {
      finished = true;
    };

    const rawBody = await readBody(req);
    const u = new URL(req.url ?? "/", "http://mock");
    let body: unknown = null;
    try {
      body = rawBody ? JSON.parse(rawBody) : null;
    } catch {
      body = null;
    }
    const rt = route(kind, req.method ?? "GET", u.pathname, body);
    const rec: RecordedRequest = {
      method: req.method ?? "GET",
      path: u.pathname + u.search,
      pathname: u.pathname,
      query: Object.fromEntries(u.searchParams),
      headers: flatHeaders(req),
      body,
      rawBody,
      chat: rt.kind === "chat",
      embeddings: rt.kind === "embeddings",
    };
    requests.push(rec);

    // Scripted behaviours (errors, delays, drops) apply to embeddings requests as to chat ones.
    const b: MockBehaviour =
      rt.kind === "chat" || rt.kind === "embeddings"
        ? (queue.shift() ?? behaviour)
        : rt.kind === "models"
          ? { delayMs: modelsBehaviour.delayMs }
          : {};
    if (b.drop) {
      done();
      req.socket.destroy();
      return;
    }
    if (b.delayMs) {
      await pause(b.delayMs, res);
      if (res.destroyed) return;
    }
    done();
    const auth = authFailure(rec);
    if (auth) return send(res, auth[0], auth[1], b.headers);
    if (rt.kind === "unknown") return send(res, 404, errorBody(kind, 404, `mock: no route for ${rec.method} ${rec.pathname}`));
    if (rt.kind === "models") {
      const st = modelsBehaviour.status;
      if (st !== undefined && (st < 200 || st >= 300)) return send(res, st, errorBody(kind, st, `mock models error ${st}`));
      return send(res, 200, modelsBody(), b.headers);
    }
    if (rt.kind === "embeddings") {
      const invalidEmb = embeddingsValidate(kind, body, rt.model);
      if (invalidEmb) return send(res, 400, errorBody(kind, 400, invalidEmb));
      if (b.status !== undefined && (b.status < 200 || b.status >= 300)) {
        const headers: Record<string, string> = { ...b.headers };
        if (b.retryAfter !== undefined) headers["retry-after"] = String(b.retryAfter);
        return send(res, b.status, errorBody(kind, b.status, b.errorMessage ?? `mock error ${b.status}`, b.errorType), headers);
      }
      if (b.okBody !== undefined) return send(res, 200, b.okBody, b.headers);
      return send(
        res,
        200,
        embeddingsBody(kind, body as Record<string, unknown>, b.model ?? rt.model ?? "mock-embedding", b.usage),
        b.headers,
      );
    }

    const invalid = rt.responses ? validateResponsesRequest(rec.body) : validate(kind, rec, rt.stream);
    if (invalid) return send(res, 400, errorBody(kind, 400, invalid));
    if (opts.chatModels && !opts.chatModels.includes(rt.model ?? "")) {
      return send(res, 404, errorBody(kind, 404, unknownModelMessage(kind, rt.model ?? "")));
    }

    if (b.status !== undefined && (b.status < 200 || b.status >= 300)) {
      const headers: Record<string, string> = { ...b.headers };
      if (b.retryAfter !== undefined) headers["retry-after"] = String(b.retryAfter);
      if (b.errorBody !== undefined) {
        res.writeHead(b.status, { "content-type": "text/html", ...headers });
        res.end(b.errorBody);
        return;
      }
      return send(res, b.status, errorBody(kind, b.status, b.errorMessage ?? `mock error ${b.status}`, b.errorType), headers);
    }

    if (b.contextOverflow) return send(res, 400, overflowBody(kind, b.contextOverflow.tokens, b.contextOverflow.max));

    if (b.okBody !== undefined) {
      res.writeHead(200, { "content-type": rt.stream ? "text/event-stream" : "application/json", ...b.headers });
      res.end(b.okBody);
      return;
    }
    if (b.hangAfterHeaders) {
      finished = false;
      res.writeHead(200, { "content-type": rt.stream ? "text/event-stream" : "application/json", ...b.headers });
      res.flushHeaders();
      // Until the client gives up; "close" then counts it as aborted.
      await new Promise<void>((resolve) => res.on("close", () => resolve()));
      return;
    }

    const reqBody = body as Record<string, unknown>;
    const toolCalls = (b.toolCalls ?? []).map((t, i) => ({
      ...t,
      id: t.id ?? (kind === "anthropic" ? `toolu_mock${counter + 1}_${i}` : `call_mock${counter + 1}_${i}`),
    }));
    const text =
      b.text !== undefined
        ? b.text
        : toolCalls.length
          ? null
          : `Echo: ${rt.responses ? responsesUserText(reqBody) : lastUserText(kind, reqBody)}`;
    const so = reqBody.stream_options;
    const reply: Reply = {
      id: ++counter,
      model: b.model ?? rt.model ?? "mock-model",
      text,
      toolCalls,
      finish: b.finishReason === "length" ? "length" : toolCalls.length ? "tool" : "stop",
      usage: figures(b.usage),
      reasoning: b.reasoningText !== undefined && kind !== "openai" ? b.reasoningText : null,
      includeUsage: kind === "openai" && isRecord(so) && so.include_usage === true,
    };

    if (!rt.stream) {
      const out = rt.responses
        ? responsesBody(reply, reqBody)
        : kind === "openai"
          ? openaiBody(reply)
          : kind === "anthropic"
            ? anthropicBody(reply)
            : geminiBody(reply);
      if (b.resetAfterBytes !== undefined) {
        const bytes = Buffer.from(JSON.stringify(out));
        res.writeHead(200, { "content-type": "application/json", "content-length": String(bytes.length), ...b.headers });
        res.write(bytes.subarray(0, b.resetAfterBytes), () => res.socket?.destroy());
        return;
      }
      return send(res, 200, JSON.stringify(out), b.headers);
    }

    // Streaming: headers go out at once so "slow first token" differs from "slow headers".
    finished = false;
    streaming = true;
    active++;
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive", ...b.headers });
    res.flushHeaders();
    const { events, end } = rt.responses
      ? responsesEvents(reply, reqBody)
      : kind === "openai"
        ? openaiEvents(reply)
        : kind === "anthropic"
          ? anthropicEvents(reply)
          : geminiEvents(reply);
    const all = events.concat(end);
    if (b.firstChunkDelayMs) await pause(b.firstChunkDelayMs, res);
    for (let i = 0; i < all.length; i++) {
      if (res.destroyed) return;
      if (b.cutAfterChunks !== undefined && i >= b.cutAfterChunks) break;
      if (b.abortAfterChunks !== undefined && i >= b.abortAfterChunks) {
        finished = true;
        res.socket?.destroy();
        return;
      }
      if (b.stallAfterChunks !== undefined && i >= b.stallAfterChunks) {
        await new Promise<void>((resolve) => (res.destroyed ? resolve() : res.on("close", () => resolve())));
        return;
      }
      if (b.errorAfterChunks !== undefined && i >= b.errorAfterChunks) {
        const message = b.streamErrorMessage ?? "mock stream error";
        res.write(rt.responses ? responsesStreamError(b.streamErrorType, message) : streamErrorEvent(kind, b.streamErrorType, message));
        break;
      }
      if (i > 0 && b.chunkDelayMs) {
        await pause(b.chunkDelayMs, res);
        if (res.destroyed) return;
      }
      res.write(all[i]);
    }
    finished = true;
    res.end();
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) send(res, 500, errorBody(kind, 500, `mock crashed: ${String(err)}`));
      else res.destroy();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const port = (server.address() as AddressInfo).port;
  const origin = `http://127.0.0.1:${port}`;

  return {
    kind,
    url: kind === "openai" ? `${origin}/v1` : origin,
    origin,
    requests,
    chatRequests: () => requests.filter((r) => r.chat),
    lastChatRequest: () => {
      for (let i = requests.length - 1; i >= 0; i--) if (requests[i].chat) return requests[i];
      return undefined;
    },
    script: (...bs) => {
      queue.push(...bs);
    },
    setBehaviour: (bh) => {
      behaviour = bh;
    },
    setExpectedKey: (k) => {
      expectedKey = k;
    },
    reset: () => {
      requests.length = 0;
      queue = [];
      behaviour = opts.behaviour ?? {};
      expectedKey = opts.expectedKey ?? null;
      abortedStreams = 0;
      abortedRequests = 0;
      modelsBehaviour = {};
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
    setModelsBehaviour: (mb) => {
      modelsBehaviour = mb ?? {};
    },
    modelsRequests: () => requests.filter((r) => r.method === "GET" && /\/models$/.test(r.pathname)),
    activeStreams: () => active,
    abortedStreams: () => abortedStreams,
    abortedRequests: () => abortedRequests,
  };
}
