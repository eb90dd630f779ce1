/**
 * Anthropic Messages (inbound) ⇄ the gateway's OpenAI-shaped chat request and completion, as pure
 * functions: `toChat` before routing, `forCandidate` per provider entry tried, `fromChatResponse`
 * and the error mapping after. The stream side is in anthropic-stream.ts.
 *
 * Choices (each where it is made):
 * - A user turn's tool_result blocks become `tool` messages placed before the rest of that turn
 *   (OpenAI wants them right after the assistant's calls); images inside a tool result, which a
 *   `tool` message cannot carry, follow in a user message that names the call.
 * - `is_error: true` results are prefixed "Error: ", the only way to say so in OpenAI's shape.
 * - PDF documents become OpenAI `file` parts (entries that cannot take them are skipped, as for any
 *   unsupported part); text documents become text, with their title and context first.
 * - A final assistant turn (a prefill the model must continue) is only honoured by Anthropic
 *   entries; other entries are skipped, and with none left the answer is a 400 on `messages`. So
 *   is what `anthropicOnly` finds (server tools, mcp_servers, URL documents…), which toChat leaves out.
 * - Anthropic entries normally never see this translation: they are relayed (anthropic-passthrough.ts).
 * - `top_k` and `cache_control` go only to entries whose wire format knows them (Anthropic,
 *   Gemini); OpenAI's own API refuses unknown fields. Entries of type `openai` get
 *   `max_completion_tokens`, which its newer models require; other OpenAI-format servers keep
 *   `max_tokens`, which they all know.
 */
import { fastId } from "../../ids.ts";
import { ApiError } from "../../http/errors.ts";
import { adapterFor } from "../../adapters/index.ts";
import {
  isRecord,
  num,
  str,
  tryParseJson,
  UnsupportedFeatureError,
  type ChatCompletion,
  type ChatMessage,
  type ChatRequest,
  type CompletionUsage,
  type ContentPart,
  type FinishReason,
  type TextPart,
  type ToolCall,
  type ToolChoice,
} from "../../adapters/types.ts";
import type { Candidate } from "../router.ts";
import {
  ANTHROPIC_ONLY_FIELDS,
  SERVER_TOOL_TYPE,
  type AssistantContentBlock,
  type ImageContentBlock,
  type MessagesRequest,
  type TextContentBlock,
  type UserContentBlock,
} from "./anthropic-schema.ts";

type StopReason = "end_turn" | "max_tokens" | "stop_sequence" | "tool_use" | "refusal";

interface AnthropicUsage {
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens: number | null;
  cache_read_input_tokens: number | null;
}

type AnthropicContent = { type: "text"; text: string } | { type: "tool_use"; id: string; name: string; input: Record<string, unknown> };

export interface AnthropicMessage {
  id: string;
  type: "message";
  role: "assistant";
  model: string;
  content: AnthropicContent[];
  stop_reason: StopReason | null;
  stop_sequence: string | null;
  usage: AnthropicUsage;
}

export const newMessageId = () => `msg_${fastId()}`;

function invalid(param: string, message: string): ApiError {
  return new ApiError(400, `${param}: ${message}`, { type: "invalid_request_error", param, code: "invalid_value" });
}

// ---------------------------------------------------------------------------------------------
// Request
// ---------------------------------------------------------------------------------------------

function textPart(b: TextContentBlock): TextPart {
  const p: TextPart = { type: "text", text: b.text };
  if (isRecord(b.cache_control) && b.cache_control.type === "ephemeral") p.cache_control = b.cache_control as TextPart["cache_control"];
  return p;
}

function imagePart(b: ImageContentBlock): ContentPart {
  const s = b.source;
  const url = s.type === "base64" ? `data:${s.media_type};base64,${s.data}` : s.url;
  return { type: "image_url", image_url: { url } };
}

function documentParts(b: Extract<UserContentBlock, { type: "document" }>): ContentPart[] {
  const s = b.source;
  const heading = [b.title, b.context].filter((x): x is string => typeof x === "string" && x !== "").join("\n");
  const withHeading = (text: string): TextPart => ({ type: "text", text: heading ? `${heading}\n\n${text}` : text });
  switch (s.type) {
    case "text":
      return [withHeading(s.data)];
    case "content": {
      const texts = typeof s.content === "string" ? [s.content] : s.content.map((t) => t.text);
      return [withHeading(texts.join("\n\n"))];
    }
    case "base64":
      return [{ type: "file", file: { filename: b.title || "document.pdf", file_data: `data:application/pdf;base64,${s.data}` } }];
    case "url":
      return []; // Anthropic entries only (see anthropicOnly): no other entry gets this request
  }
}

function toolResultText(b: Extract<UserContentBlock, { type: "tool_result" }>): { text: string; images: ContentPart[] } {
  const c = b.content ?? "";
  const texts: string[] = [];
  const images: ContentPart[] = [];
  if (typeof c === "string") texts.push(c);
  else for (const part of c) part.type === "text" ? texts.push(part.text) : images.push(imagePart(part));
  const text = texts.join("\n");
  return { text: b.is_error ? `Error: ${text}` : text, images };
}

function userMessages(content: string | UserContentBlock[]): ChatMessage[] {
  if (typeof content === "string") return [{ role: "user", content }];
  const tools: ChatMessage[] = [];
  const toolImages: ContentPart[] = [];
  const parts: ContentPart[] = [];
  for (const b of content) {
    if (b.type === "text") parts.push(textPart(b));
    else if (b.type === "image") parts.push(imagePart(b));
    else if (b.type === "document") parts.push(...documentParts(b));
    else {
      const { text, images } = toolResultText(b);
      tools.push({
        role: "tool",
        tool_call_id: b.tool_use_id,
        content: images.length ? `${text}\n(${images.length} image(s) follow)` : text,
      });
      if (images.length) toolImages.push({ type: "text", text: `Images returned by tool call ${b.tool_use_id}:` }, ...images);
    }
  }
  const rest = [...toolImages, ...parts];
  if (rest.length) tools.push({ role: "user", content: rest });
  return tools;
}

/** The assistant turn as at most one chat message: none when nothing in it is for other models. */
function assistantMessages(content: string | AssistantContentBlock[]): ChatMessage[] {
  if (typeof content === "string") return [{ role: "assistant", content }];
  const texts: TextPart[] = [];
  const calls: ToolCall[] = [];
  for (const b of content) {
    if (b.type === "text") texts.push({ type: "text", text: b.text });
    else if (b.type === "tool_use")
      calls.push({ id: b.id, type: "function", function: { name: b.name, arguments: JSON.stringify(b.input) } });
    // thinking and redacted_thinking: signed by Anthropic for Anthropic; no other model can use them.
  }
  if (!texts.length && !calls.length) return [];
  const msg: ChatMessage = { role: "assistant", content: texts.length === 0 ? null : texts.length === 1 ? texts[0].text : texts };
  if (calls.length) msg.tool_calls = calls;
  return [msg];
}

const TOOL_CHOICES = { auto: "auto", any: "required", none: "none" } as const;

function toolChoice(tc: NonNullable<MessagesRequest["tool_choice"]>): ToolChoice {
  return tc.type === "tool" ? { type: "function", function: { name: tc.name } } : TOOL_CHOICES[tc.type];
}

/** The Messages request as the gateway's internal (OpenAI-shaped) chat request. */
export function toChat(req: MessagesRequest): ChatRequest {
  const messages: ChatMessage[] = [];
  // An empty system prompt, string or list, sends no system message.
  if (req.system?.length)
    messages.push({ role: "system", content: typeof req.system === "string" ? req.system : req.system.map(textPart) });
  for (const m of req.messages) messages.push(...(m.role === "user" ? userMessages(m.content) : assistantMessages(m.content)));
  if (messages.every((m) => m.role === "system")) throw invalid("messages", "there is no message with content to answer");

  const chat: ChatRequest = { model: req.model, messages, max_tokens: req.max_tokens };
  if (req.stream === true) {
    chat.stream = true;
    // The stream's last event carries usage; the gateway needs it to send message_delta's figures.
    chat.stream_options = { include_usage: true };
  }
  if (req.temperature !== undefined) chat.temperature = req.temperature;
  if (req.top_p !== undefined) chat.top_p = req.top_p;
  if (req.top_k !== undefined) chat.top_k = req.top_k;
  if (req.stop_sequences?.length) chat.stop = req.stop_sequences;
  if (req.metadata?.user_id) chat.user = req.metadata.user_id;
  const format = req.output_config?.format;
  if (format) chat.response_format = { type: "json_schema", json_schema: { name: "output", schema: format.schema } };
  const tc = req.tool_choice;
  // Server tools run at Anthropic: only Anthropic entries get this request (see anthropicOnly).
  const tools = (req.tools ?? []).filter((t): t is Extract<typeof t, { input_schema: unknown }> => "input_schema" in t && !isServerTool(t));
  if (tools.length && tc?.type !== "none") {
    chat.tools = tools.map((t) => ({
      type: "function",
      function: { name: t.name, ...(t.description !== undefined ? { description: t.description } : {}), parameters: t.input_schema },
    }));
    if (tc) chat.tool_choice = toolChoice(tc);
    if (tc && "disable_parallel_tool_use" in tc && tc.disable_parallel_tool_use === true) chat.parallel_tool_calls = false;
  }
  return chat;
}

function withoutCacheControl(messages: ChatMessage[]): ChatMessage[] {
  return messages.map((m) => {
    if (!Array.isArray(m.content)) return m;
    const content = (m.content as ContentPart[]).map((p) => {
      if (p.type !== "text" || p.cache_control === undefined) return p;
      const { cache_control: _, ...rest } = p;
      return rest;
    });
    return { ...m, content } as ChatMessage;
  });
}

const isServerTool = (t: { type?: unknown }) => typeof t.type === "string" && SERVER_TOOL_TYPE.test(t.type);

interface AnthropicOnly {
  param: string;
  message: string;
}

/** The first part of the request that only an Anthropic entry (relayed) can honour, or null. */
export function anthropicOnly(req: MessagesRequest): AnthropicOnly | null {
  for (const field of ANTHROPIC_ONLY_FIELDS) {
    if (req[field] !== undefined && req[field] !== null) return { param: field, message: `${field} is only honoured by Anthropic entries` };
  }
  if (req.inference_geo) return { param: "inference_geo", message: "inference_geo is only honoured by Anthropic entries" };
  const server = (req.tools ?? []).findIndex(isServerTool);
  if (server >= 0)
    return {
      param: `tools[${server}]`,
      message: `tools[${server}] is a server tool (${String(req.tools![server].type)}) that only Anthropic entries run`,
    };
  for (const [i, m] of req.messages.entries()) {
    if (m.role !== "user" || typeof m.content === "string") continue;
    const j = m.content.findIndex((b) => b.type === "document" && b.source.type === "url");
    if (j >= 0)
      return {
        param: `messages[${i}].content[${j}].source`,
        message: "documents by URL are only read by Anthropic entries; send the PDF as base64 or the text as a text source",
      };
  }
  return null;
}

/**
 * The request as one provider entry gets it (see the header comment). Throws
 * UnsupportedFeatureError when this entry cannot honour it, so the gateway tries the next one;
 * `only` (from anthropicOnly) restricts the request to Anthropic entries.
 */
export function forCandidate(chat: ChatRequest, cand: Candidate, only: AnthropicOnly | null = null): ChatRequest {
  const format = adapterFor(cand.provider.type).format;
  if (only && format !== "anthropic") throw new UnsupportedFeatureError(only.param, only.message);
  const last = chat.messages[chat.messages.length - 1];
  if (last?.role === "assistant" && format !== "anthropic")
    throw new UnsupportedFeatureError(
      "messages",
      "a final assistant message (a prefill to continue) is only honoured by Anthropic entries",
    );
  if (format !== "openai") return chat;
  const { top_k: _, ...rest } = chat;
  const out: ChatRequest = { ...rest, messages: withoutCacheControl(chat.messages) };
  if (cand.provider.type === "openai") {
    out.max_completion_tokens = out.max_tokens;
    delete out.max_tokens;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Response
// ---------------------------------------------------------------------------------------------

const STOP_REASONS: Partial<Record<FinishReason, StopReason>> = {
  length: "max_tokens",
  tool_calls: "tool_use",
  function_call: "tool_use",
  content_filter: "refusal",
};

export function stopReason(finish: FinishReason | null | undefined): StopReason {
  // hasOwn: a provider's unknown finish_reason ("toString") must not find Object.prototype's.
  return (finish && Object.hasOwn(STOP_REASONS, finish) && STOP_REASONS[finish]) || "end_turn";
}

/** OpenAI-style usage (prompt counts every input token) → Anthropic's (input excludes the cache). */
export function toAnthropicUsage(u: CompletionUsage | null | undefined): AnthropicUsage {
  const read = num(u?.prompt_tokens_details?.cached_tokens) ?? null;
  const created = num(u?.prompt_tokens_details?.cache_creation_tokens) ?? null;
  const prompt = u?.prompt_tokens ?? 0;
  return {
    input_tokens: Math.max(0, prompt - (read ?? 0) - (created ?? 0)),
    output_tokens: u?.completion_tokens ?? 0,
    cache_creation_input_tokens: created,
    cache_read_input_tokens: read,
  };
}

/** Tool arguments as an object; Anthropic's `input` cannot be anything else. */
function toolInput(args: string): Record<string, unknown> {
  const parsed = args.trim() === "" ? {} : tryParseJson(args);
  return isRecord(parsed) ? parsed : {};
}

export function fromChatResponse(c: ChatCompletion, id: string = newMessageId()): AnthropicMessage {
  const choice = c.choices[0];
  const content: AnthropicContent[] = [];
  const msg = choice?.message;
  const text = (typeof msg?.content === "string" ? msg.content : "") + (typeof msg?.refusal === "string" ? msg.refusal : "");
  if (text) content.push({ type: "text", text });
  for (const t of msg?.tool_calls ?? [])
    content.push({ type: "tool_use", id: t.id, name: t.function.name, input: toolInput(t.function.arguments) });
  return {
    id,
    type: "message",
    role: "assistant",
    model: c.model,
    content,
    stop_reason: stopReason(choice?.finish_reason),
    stop_sequence: null,
    usage: toAnthropicUsage(c.usage),
  };
}

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

interface AnthropicErrorBody {
  type: "error";
  error: { type: string; message: string };
  request_id?: string;
}

/** Anthropic's error type for the gateway's status (and OpenAI error type, for in-stream errors). */
export function anthropicErrorType(status: number, openaiType?: string | null, code?: string | null): string {
  if (status === 401) return "authentication_error";
  if (status === 403) return "permission_error";
  if (status === 404) return "not_found_error";
  if (status === 413) return "request_too_large";
  if (status === 429 || openaiType === "rate_limit_error") return "rate_limit_error";
  // Anthropic's "try again shortly": an overloaded provider, or a gateway draining for shutdown.
  if (status === 503 || status === 529 || code === "upstream_overloaded" || code === "server_shutting_down") return "overloaded_error";
  if (status >= 500) return "api_error";
  return "invalid_request_error";
}

/** An OpenAI-shaped error body (what the gateway renders) in Anthropic's shape. */
export function toAnthropicError(status: number, body: unknown, requestId?: string | null): AnthropicErrorBody {
  const e = isRecord(body) && isRecord(body.error) ? body.error : {};
  const message = str(e.message) || `request failed with HTTP ${status}`;
  const out: AnthropicErrorBody = { type: "error", error: { type: anthropicErrorType(status, str(e.type), str(e.code)), message } };
  if (requestId) out.request_id = requestId;
  return out;
}
