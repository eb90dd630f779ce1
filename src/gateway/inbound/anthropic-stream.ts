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
import { isRecord, tryParseJson, type ChatCompletionChunk, type CompletionUsage, type FinishReason } from "../../adapters/types.ts";
import { anthropicErrorType, stopReason, toAnthropicUsage } from "./anthropic-messages.ts";

function sseEvent(type: string, data: Record<string, unknown>): string {
  return `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
}

export function errorEvent(type: string, message: string): string {
  return sseEvent("error", { error: { type, message } });
}

/** The gateway's in-stream error (`{"error":{message,type,code}}`, OpenAI's shape) as Anthropic's error event. */
function gatewayErrorEvent(e: Record<string, unknown>): string {
  const message = typeof e.message === "string" ? e.message : "the stream failed";
  return errorEvent(
    anthropicErrorType(500, typeof e.type === "string" ? e.type : null, typeof e.code === "string" ? e.code : null),
    message,
  );
}

const CUT_STREAM_MESSAGE = "the stream ended before the message was complete";

interface MessagesStream {
  /** One SSE `data` payload of the gateway's stream → Anthropic events (possibly none). */
  push(data: string): string;
  /** At the end of the gateway's stream: closes the message, or reports a stream that was cut. */
  end(): string;
}

type Open = { kind: "text" } | { kind: "tool"; toolIndex: number } | null;

export function createMessagesStream(opts: { id: string; model: string }): MessagesStream {
  let model = opts.model;
  let started = false;
  let done = false;
  let blocks = 0;
  let open: Open = null;
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

  function openBlock(next: NonNullable<Open>, contentBlock: Record<string, unknown>): string {
    let out = close();
    open = next;
    openIndex = blocks++;
    out += sseEvent("content_block_start", { index: openIndex, content_block: contentBlock });
    return out;
  }

  function text(t: string): string {
    if (!t) return "";
    const out = open?.kind === "text" ? "" : openBlock({ kind: "text" }, { type: "text", text: "" });
    return out + sseEvent("content_block_delta", { index: openIndex, delta: { type: "text_delta", text: t } });
  }

  function tool(delta: { index?: unknown; id?: unknown; function?: unknown }): string {
    const ti = typeof delta.index === "number" ? delta.index : 0;
    const fn = isRecord(delta.function) ? delta.function : {};
    let out = "";
    let index = toolBlocks.get(ti);
    if (index === undefined) {
      const id = typeof delta.id === "string" && delta.id ? delta.id : `toolu_${opts.id.slice(4)}_${ti}`;
      out += openBlock(
        { kind: "tool", toolIndex: ti },
        { type: "tool_use", id, name: typeof fn.name === "string" ? fn.name : "", input: {} },
      );
      index = openIndex;
      toolBlocks.set(ti, index);
    }
    const args = fn.arguments;
    // A block already closed (interleaved calls) still takes its delta: clients accumulate by index.
    if (typeof args === "string" && args)
      out += sseEvent("content_block_delta", { index, delta: { type: "input_json_delta", partial_json: args } });
    return out;
  }

  function chunk(c: ChatCompletionChunk): string {
    if (typeof c.model === "string" && c.model && !started) model = c.model;
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
    let out = start() + close();
    const u = toAnthropicUsage(usage);
    const delta = { stop_reason: stopReason(finish), stop_sequence: null };
    const figures: Record<string, number> = { input_tokens: u.input_tokens, output_tokens: u.output_tokens };
    if (u.cache_read_input_tokens !== null) figures.cache_read_input_tokens = u.cache_read_input_tokens;
    if (u.cache_creation_input_tokens !== null) figures.cache_creation_input_tokens = u.cache_creation_input_tokens;
    out += sseEvent("message_delta", { delta, usage: figures });
    out += sseEvent("message_stop", {});
    return out;
  }

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
      done = true;
      return gatewayErrorEvent(obj.error);
    }
    return chunk(obj as unknown as ChatCompletionChunk);
  }

  function end(): string {
    if (done) return "";
    done = true;
    return errorEvent("api_error", CUT_STREAM_MESSAGE);
  }

  return { push, end };
}
