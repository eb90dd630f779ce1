/**
 * The gateway's OpenAI chunk stream (`data: {chat.completion.chunk}` … `data: [DONE]`, or a final
 * `data: {"error":…}`) as Anthropic's event sequence: message_start, ping, content_block_start /
 * content_block_delta / content_block_stop per text or tool_use block, message_delta (stop_reason
 * and usage), message_stop; an error becomes `event: error`.
 *
 * message_start goes out with the first chunk, with input_tokens 0: OpenAI-format streams report
 * usage only at their end, so the real figures ride in message_delta's usage, which Anthropic's
 * SDKs read as cumulative totals. message_delta waits for [DONE] for the same reason (the usage
 * chunk comes after the finish_reason).
 */
import {
  isRecord,
  num,
  str,
  tryParseJson,
  type ChatCompletionChunk,
  type CompletionUsage,
  type FinishReason,
} from "../../adapters/types.ts";
import { anthropicErrorType, stopReason, toAnthropicUsage } from "./anthropic-messages.ts";

function sseEvent(type: string, data: Record<string, unknown>): string {
  return `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
}

export function errorEvent(type: string, message: string): string {
  return sseEvent("error", { error: { type, message } });
}

export function createMessagesStream(opts: { id: string; model: string }) {
  let model = opts.model;
  let started = false;
  let done = false;
  let blocks = 0;
  /** The open content block's type ("text", "tool_use"), null between blocks. */
  let open: string | null = null;
  let openIndex = -1;
  let finish: FinishReason | null = null;
  let usage: CompletionUsage | null = null;
  /** OpenAI tool_calls index → Anthropic content block index. */
  const toolBlocks = new Map<number, number>();

  function start(): string {
    if (started) return "";
    started = true;
    const message = {
      id: opts.id,
      type: "message",
      role: "assistant",
      model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: { input_tokens: 0, output_tokens: 0 },
    };
    return sseEvent("message_start", { message }) + sseEvent("ping", {});
  }

  function close(): string {
    if (!open) return "";
    open = null;
    return sseEvent("content_block_stop", { index: openIndex });
  }

  function openBlock(contentBlock: { type: string; [k: string]: unknown }): string {
    const out = close();
    open = contentBlock.type;
    openIndex = blocks++;
    return out + sseEvent("content_block_start", { index: openIndex, content_block: contentBlock });
  }

  function text(t: string): string {
    if (!t) return "";
    const out = open === "text" ? "" : openBlock({ type: "text", text: "" });
    return out + sseEvent("content_block_delta", { index: openIndex, delta: { type: "text_delta", text: t } });
  }

  function tool(delta: { index?: unknown; id?: unknown; function?: unknown }): string {
    const ti = num(delta.index) ?? 0;
    const fn = isRecord(delta.function) ? delta.function : {};
    let out = "";
    let index = toolBlocks.get(ti);
    if (index === undefined) {
      const id = str(delta.id) || `toolu_${opts.id.slice(4)}_${ti}`;
      out += openBlock({ type: "tool_use", id, name: str(fn.name) ?? "", input: {} });
      index = openIndex;
      toolBlocks.set(ti, index);
    }
    const args = str(fn.arguments);
    // A block already closed (interleaved calls) still takes its delta: clients accumulate by index.
    if (args) out += sseEvent("content_block_delta", { index, delta: { type: "input_json_delta", partial_json: args } });
    return out;
  }

  function chunk(c: ChatCompletionChunk): string {
    if (!started) model = str(c.model) || model;
    let out = start();
    if (c.usage) usage = c.usage;
    for (const ch of c.choices ?? []) {
      if (ch.index !== 0) continue; // Messages has one answer; the translation never asks for n > 1
      const d = isRecord(ch.delta) ? ch.delta : {};
      if (typeof d.content === "string") out += text(d.content);
      if (typeof d.refusal === "string") out += text(d.refusal);
      if (Array.isArray(d.tool_calls)) for (const t of d.tool_calls) if (isRecord(t)) out += tool(t);
      if (ch.finish_reason) {
        finish = ch.finish_reason;
        out += close();
      }
    }
    return out;
  }

  function complete(): string {
    done = true;
    const u = toAnthropicUsage(usage);
    const delta = { stop_reason: stopReason(finish), stop_sequence: null };
    const figures: Record<string, number> = { input_tokens: u.input_tokens, output_tokens: u.output_tokens };
    if (u.cache_read_input_tokens !== null) figures.cache_read_input_tokens = u.cache_read_input_tokens;
    if (u.cache_creation_input_tokens !== null) figures.cache_creation_input_tokens = u.cache_creation_input_tokens;
    return start() + close() + sseEvent("message_delta", { delta, usage: figures }) + sseEvent("message_stop", {});
  }

  /** One SSE `data` payload of the gateway's stream → Anthropic events (possibly none). */
  function push(data: string): string {
    if (done) return "";
    if (data.trim() === "[DONE]") return complete();
    const obj = tryParseJson(data);
    if (obj === undefined) {
      done = true;
      return errorEvent("api_error", "the gateway's stream carried malformed data");
    }
    if (!isRecord(obj)) return "";
    if (isRecord(obj.error)) {
      // The gateway's in-stream error (`{"error":{message,type,code}}`, OpenAI's shape).
      const e = obj.error;
      done = true;
      return errorEvent(anthropicErrorType(500, str(e.type), str(e.code)), str(e.message) ?? "the stream failed");
    }
    return chunk(obj as unknown as ChatCompletionChunk);
  }

  /** At the end of the gateway's stream: a stream cut before [DONE] is reported. */
  function end(): string {
    if (done) return "";
    done = true;
    return errorEvent("api_error", "the stream ended before the message was complete");
  }

  return { push, end };
}
