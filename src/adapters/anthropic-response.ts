/**
 * Anthropic Messages → OpenAI Chat Completions: the response, the stream and errors (the request
 * side and the header comment on the choices made are in anthropic.ts).
 */
import { ANSWER_TOOL, assistantMessage, chunkOf, completionOf, finishReasonBy, jsonEvents, notAnObject, reportedModel } from "./common.ts";
import { streamError, streamFailure, toolCall, usageChunk } from "./common.ts";
import { classForStatus, contextOverflowError, fallbackMessage, isRecord, num, providerError, str, tryParseJson } from "./types.ts";
import { upstreamError, UpstreamResponseError } from "./types.ts";
import type { ChatCompletion, ChatCompletionChunk, ChunkDelta, ErrorClass, FinishReason, ResponseContext } from "./types.ts";
import type { SSEEvent, StreamResult, StreamTransformer, ToolCall, UpstreamError, Usage } from "./types.ts";

// end_turn, stop_sequence and pause_turn are a normal stop.
const STOP_REASONS: Record<string, FinishReason> = {
  max_tokens: "length",
  model_context_window_exceeded: "length",
  tool_use: "tool_calls",
  refusal: "content_filter",
};

function mapStopReason(reason: unknown, jsonMode: boolean): FinishReason {
  return reason === "tool_use" && jsonMode ? "stop" : finishReasonBy(STOP_REASONS, reason);
}

export function anthropicUsage(raw: unknown): Usage | null {
  if (!isRecord(raw)) return null;
  const read = num(raw.cache_read_input_tokens);
  const created = num(raw.cache_creation_input_tokens);
  const prompt = (num(raw.input_tokens) ?? 0) + (read ?? 0) + (created ?? 0);
  const output = num(raw.output_tokens) ?? 0;
  const u: Usage = { prompt_tokens: prompt, completion_tokens: output, total_tokens: prompt + output };
  if (read !== undefined) u.cached_tokens = read;
  if (created !== undefined) u.cache_creation_tokens = created;
  return u;
}

function anthropicErrorOf(body: Record<string, unknown>): UpstreamError {
  const e = isRecord(body.error) ? body.error : {};
  return fromAnthropicError(undefined, str(e.type), str(e.message) ?? "upstream reported an error", null);
}

export function parseChatResponse(body: unknown, ctx: ResponseContext): ChatCompletion {
  if (!isRecord(body)) throw notAnObject();
  if (body.type === "error") throw new UpstreamResponseError(anthropicErrorOf(body));
  if (!Array.isArray(body.content)) throw new UpstreamResponseError(upstreamError("server", "upstream response has no content"));
  let text: string | null = null;
  let answer: string | null = null;
  const toolCalls: ToolCall[] = [];
  for (const block of body.content as unknown[]) {
    if (!isRecord(block)) continue;
    if (block.type === "text" && typeof block.text === "string") text = (text ?? "") + block.text;
    else if (block.type === "tool_use") {
      const args = JSON.stringify(isRecord(block.input) ? block.input : {});
      if (block.name === ANSWER_TOOL) answer ??= args;
      else toolCalls.push(toolCall(str(block.id) ?? "", str(block.name) ?? "", args));
    }
    // thinking / redacted_thinking blocks are reasoning, not content.
  }
  // In JSON mode the content is the JSON alone: text beside the answer tool would break parsing.
  const content = answer ?? text;
  const finish = toolCalls.length ? "tool_calls" : mapStopReason(body.stop_reason, answer !== null);
  const choice = { index: 0, message: assistantMessage(content, toolCalls), logprobs: null, finish_reason: finish };
  return completionOf(ctx, reportedModel(body.model, ctx), [choice], anthropicUsage(body.usage));
}

// ---------------------------------------------------------------------------------------------
// Stream
// ---------------------------------------------------------------------------------------------

export function createStreamTransformer(ctx: ResponseContext): StreamTransformer {
  let model = reportedModel(undefined, ctx);
  let finished = false;
  let jsonMode = false;
  let toolCount = 0;
  let sawStart = false;
  // The usage figures so far: message_start has the input side, message_delta cumulative totals.
  const figures: Record<string, number> = {};
  const count = (u: unknown) => {
    if (isRecord(u)) for (const [k, v] of Object.entries(u)) if (num(v) !== undefined) figures[k] = v as number;
  };
  // Per content-block index: "text", "json" (the answer tool), or a client tool's OpenAI tool_calls index.
  const blocks: ("text" | "json" | number)[] = [];
  // JSON mode: text is held until it is known whether the answer tool answered (then it is dropped).
  let hold = ctx.structured === true;
  let held = "";

  const chunk = (delta: ChunkDelta, finish: FinishReason | null) => chunkOf(ctx, model, 0, delta, finish);

  /** Text for the client, or for later while JSON mode still holds it; never after the answer tool. */
  function text(t: unknown): ChatCompletionChunk[] {
    if (typeof t !== "string" || t === "" || jsonMode) return [];
    if (hold) {
      held += t;
      return [];
    }
    return [chunk({ content: t }, null)];
  }

  /** The held text turned out to be the answer's companion to a tool call or the answer itself. */
  function release(): ChatCompletionChunk[] {
    hold = false;
    const t = held;
    held = "";
    return t && !jsonMode ? [chunk({ content: t }, null)] : [];
  }

  function event(obj: Record<string, unknown>, ev: SSEEvent): StreamResult {
    const type = typeof obj.type === "string" ? obj.type : ev.event;
    switch (type) {
      case "message_start": {
        sawStart = true;
        const msg = isRecord(obj.message) ? obj.message : {};
        if (typeof msg.model === "string" && msg.model) model = msg.model;
        count(msg.usage);
        return { chunks: [chunk({ role: "assistant", content: "" }, null)] };
      }
      case "content_block_start": {
        const idx = num(obj.index) ?? 0;
        const block = isRecord(obj.content_block) ? obj.content_block : {};
        if (block.type === "text") {
          blocks[idx] = "text";
          return { chunks: text(block.text) };
        }
        if (block.type === "tool_use") {
          if (block.name === ANSWER_TOOL) {
            blocks[idx] = "json";
            jsonMode = true;
            held = "";
            return { chunks: [] };
          }
          const index = (blocks[idx] = toolCount++);
          // A call to the client's tool: the text before it is a normal preamble.
          const call = { index, ...toolCall(str(block.id) ?? "", str(block.name) ?? "", "") };
          return { chunks: [...release(), chunk({ tool_calls: [call] }, null)] };
        }
        return { chunks: [] }; // thinking, redacted_thinking, server tools: not content
      }
      case "content_block_delta": {
        const kind = blocks[num(obj.index) ?? 0];
        const d = isRecord(obj.delta) ? obj.delta : {};
        if (d.type === "text_delta") return { chunks: kind === "json" ? [] : text(d.text) };
        if (d.type === "input_json_delta") {
          const pj = d.partial_json;
          if (typeof pj !== "string" || pj === "") return { chunks: [] };
          if (kind === "json") return { chunks: [chunk({ content: pj }, null)] };
          if (typeof kind === "number") return { chunks: [chunk({ tool_calls: [{ index: kind, function: { arguments: pj } }] }, null)] };
        }
        return { chunks: [] };
      }
      case "message_delta": {
        // Newer API versions repeat the input side here too.
        count(obj.usage);
        const d = isRecord(obj.delta) ? obj.delta : {};
        finished = true;
        const chunks = release();
        chunks.push(chunk({}, toolCount > 0 ? "tool_calls" : mapStopReason(d.stop_reason, jsonMode)));
        return { chunks };
      }
      case "message_stop": {
        const chunks: ChatCompletionChunk[] = [];
        if (!finished) {
          finished = true;
          chunks.push(...release(), chunk({}, "stop"));
        }
        if (ctx.includeUsage) chunks.push(usageChunk(ctx, model, anthropicUsage(figures)!));
        return { chunks, done: true };
      }
      case "error":
        return streamError(anthropicErrorOf(obj));
      default: // ping, content_block_stop, and event types added later
        return { chunks: [] };
    }
  }

  return jsonEvents({
    event,
    end: () => streamFailure("upstream stream ended before message_stop"),
    usage: () => (sawStart || (figures.output_tokens ?? 0) > 0 ? anthropicUsage(figures) : null),
  });
}

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

const TYPE_CLASS: Record<string, ErrorClass> = {
  overloaded_error: "overloaded",
  rate_limit_error: "rate_limit",
  api_error: "server",
  timeout_error: "timeout",
  authentication_error: "auth",
  permission_error: "auth",
  billing_error: "auth",
  not_found_error: "not_found",
  request_too_large: "too_large",
  invalid_request_error: "bad_request",
};

/** Anthropic prefixes validation messages with the offending field ("temperature: …"). */
const FIELD_PARAM: Record<string, string> = {
  temperature: "temperature",
  top_p: "top_p",
  top_k: "top_k",
  max_tokens: "max_tokens",
  stop_sequences: "stop",
  tools: "tools",
  tool_choice: "tool_choice",
  messages: "messages",
  system: "messages",
  model: "model",
};

function fromAnthropicError(
  status: number | undefined,
  etype: string | undefined,
  message: string,
  headers: Headers | null,
): UpstreamError {
  let cls: ErrorClass =
    status !== undefined ? classForStatus(status) : (etype && Object.hasOwn(TYPE_CLASS, etype) && TYPE_CLASS[etype]) || "server";
  if (etype === "overloaded_error") cls = "overloaded";
  // An exhausted credit balance arrives as a 400, but it is the provider account that failed,
  // so another provider should be tried.
  if (cls === "bad_request" && /credit balance/i.test(message)) cls = "auth";
  if (cls !== "bad_request") return providerError(cls, message, status, headers);
  const overflow = contextOverflowError(message, status);
  if (overflow) return overflow;
  const m = /^([a-z_]+)(?:\.[\w.]+)?\s*:/.exec(message);
  return providerError(cls, message, status, headers, m && Object.hasOwn(FIELD_PARAM, m[1]) ? { param: FIELD_PARAM[m[1]] } : {});
}

export function classifyError(status: number, bodyText: string, headers: Headers): UpstreamError {
  const parsed = tryParseJson(bodyText);
  const e = isRecord(parsed) && isRecord(parsed.error) ? parsed.error : undefined;
  const message = (e && str(e.message)) || fallbackMessage(status, bodyText);
  return fromAnthropicError(status, e ? str(e.type) : undefined, message, headers);
}
