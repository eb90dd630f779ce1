/**
 * Chat completion chunks → Responses API streaming events. The state machine (`createResponsesStream`)
 * is pure; `responsesEventStream` wraps it around the chat pipeline's SSE body, so a client that
 * goes away cancels the chat stream behind it (and the log row says so).
 */
import { fastId } from "../../ids.ts";
import { translateSSE } from "../../adapters/sse.ts";
import { tryParseJson, type ChatCompletionChunk, type CompletionUsage, type FinishReason } from "../../adapters/types.ts";
import type { ResponsesRequest } from "./responses-model.ts";
import {
  endOf,
  newFunctionCallId,
  newMessageId,
  responseShell,
  usageOf,
  type FunctionCallItem,
  type ItemStatus,
  type MessageContent,
  type MessageItem,
  type OutputItem,
  type OutputText,
  type ResponseObject,
} from "./responses.ts";

export interface ResponsesEvent {
  type: string;
  sequence_number: number;
  [k: string]: unknown;
}

interface StreamError {
  message: string;
  code?: string | null;
  param?: string | null;
}

type PartKind = "text" | "refusal";
interface OpenMessage {
  item: MessageItem;
  index: number;
  /** The content part being streamed: text, or a refusal (its own part type and events). */
  part: { kind: PartKind; value: string } | null;
}
interface OpenCall {
  item: FunctionCallItem;
  index: number;
}

const emptyText = (): OutputText => ({ type: "output_text", text: "", annotations: [], logprobs: [] });

export function createResponsesStream(req: ResponsesRequest, meta: { id: string; createdAt: number; model: string }) {
  let seq = 0;
  let started = false;
  let ended = false;
  let model = meta.model;
  let finish: FinishReason | null = null;
  let usage: CompletionUsage | null = null;
  const output: OutputItem[] = [];
  let message: OpenMessage | null = null;
  /** Open function calls by the chat stream's tool-call index. */
  const calls = new Map<number, OpenCall>();
  let out: ResponsesEvent[] = [];

  const emit = (type: string, fields: Record<string, unknown>) => out.push({ type, sequence_number: seq++, ...fields });
  const snapshot = (over: Partial<ResponseObject> = {}): ResponseObject => ({
    ...responseShell(req, { id: meta.id, createdAt: meta.createdAt, model }),
    output: [...output],
    ...over,
  });
  const drain = () => {
    const r = out;
    out = [];
    return r;
  };

  function start(): void {
    if (started) return;
    started = true;
    emit("response.created", { response: snapshot({ output: [] }) });
    emit("response.in_progress", { response: snapshot({ output: [] }) });
  }

  function closePart(m: OpenMessage): void {
    if (!m.part) return;
    const { kind, value } = m.part;
    m.part = null;
    const at = { item_id: m.item.id, output_index: m.index, content_index: m.item.content.length };
    let part: MessageContent;
    if (kind === "text") {
      part = { ...emptyText(), text: value };
      emit("response.output_text.done", { ...at, text: value, logprobs: [] });
    } else {
      part = { type: "refusal", refusal: value };
      emit("response.refusal.done", { ...at, refusal: value });
    }
    emit("response.content_part.done", { ...at, part });
    m.item.content.push(part);
  }

  function closeMessage(status: ItemStatus): void {
    if (!message) return;
    const m = message;
    message = null;
    closePart(m);
    m.item.status = status;
    emit("response.output_item.done", { output_index: m.index, item: structuredClone(m.item) });
  }

  function closeCall(call: OpenCall, status: ItemStatus): void {
    const { item, index } = call;
    emit("response.function_call_arguments.done", { item_id: item.id, output_index: index, name: item.name, arguments: item.arguments });
    item.status = status;
    emit("response.output_item.done", { output_index: index, item: structuredClone(item) });
  }

  function content(kind: PartKind, delta: string): void {
    if (!message) {
      const item: MessageItem = { type: "message", id: newMessageId(), status: "in_progress", role: "assistant", content: [] };
      message = { item, index: output.length, part: null };
      output.push(item);
      emit("response.output_item.added", { output_index: message.index, item: structuredClone(item) });
    }
    const m = message;
    if (m.part?.kind !== kind) {
      closePart(m);
      m.part = { kind, value: "" };
      const part: MessageContent = kind === "text" ? emptyText() : { type: "refusal", refusal: "" };
      emit("response.content_part.added", { item_id: m.item.id, output_index: m.index, content_index: m.item.content.length, part });
    }
    m.part!.value += delta;
    const at = { item_id: m.item.id, output_index: m.index, content_index: m.item.content.length };
    if (kind === "text") emit("response.output_text.delta", { ...at, delta, logprobs: [] });
    else emit("response.refusal.delta", { ...at, delta });
  }

  function toolCall(d: { index: number; id?: string; function?: { name?: string; arguments?: string } }): void {
    let call = calls.get(d.index);
    if (!call) {
      // A tool call ends the text before it; text after it starts a new message item.
      closeMessage("completed");
      const item: FunctionCallItem = {
        type: "function_call",
        id: newFunctionCallId(),
        call_id: d.id || `call_${fastId()}`,
        name: d.function?.name ?? "",
        arguments: "",
        status: "in_progress",
      };
      call = { item, index: output.length };
      calls.set(d.index, call);
      output.push(item);
      emit("response.output_item.added", { output_index: call.index, item: structuredClone(item) });
    } else if (d.function?.name && !call.item.name) call.item.name = d.function.name;
    const delta = d.function?.arguments;
    if (delta) {
      call.item.arguments += delta;
      emit("response.function_call_arguments.delta", { item_id: call.item.id, output_index: call.index, delta });
    }
  }

  return {
    /** Events for one chat chunk (the first also opens the response). */
    push(chunk: ChatCompletionChunk): ResponsesEvent[] {
      if (ended) return [];
      if (!started && chunk.model) model = chunk.model;
      start();
      if (chunk.usage) usage = chunk.usage;
      const choice = chunk.choices.find((c) => c.index === 0);
      if (choice) {
        if (typeof choice.delta.content === "string" && choice.delta.content.length > 0) content("text", choice.delta.content);
        if (typeof choice.delta.refusal === "string" && choice.delta.refusal.length > 0) content("refusal", choice.delta.refusal);
        for (const d of choice.delta.tool_calls ?? []) toolCall(d);
        if (choice.finish_reason) finish = choice.finish_reason;
      }
      return drain();
    },
    /** The chat stream ended properly: close what is open and report the whole response. */
    end(): ResponsesEvent[] {
      if (ended) return [];
      start();
      ended = true;
      const e = endOf(finish);
      const status: ItemStatus = e.status === "completed" ? "completed" : "incomplete";
      closeMessage(status);
      for (const call of [...calls.values()].sort((a, b) => a.index - b.index)) closeCall(call, "completed");
      calls.clear();
      const response = snapshot({ ...e, usage: usageOf(usage) });
      emit(e.status === "completed" ? "response.completed" : "response.incomplete", { response });
      return drain();
    },
    /** The chat stream ended with an error after content was sent: report it and fail the response. */
    fail(err: StreamError): ResponsesEvent[] {
      if (ended) return [];
      start();
      ended = true;
      const code = err.code ?? "upstream_stream_error";
      emit("error", { code, message: err.message, param: err.param ?? null });
      emit("response.failed", { response: snapshot({ status: "failed", error: { code, message: err.message }, usage: usageOf(usage) }) });
      return drain();
    },
    get ended() {
      return ended;
    },
  };
}

export function encodeEvent(e: ResponsesEvent): string {
  return `event: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`;
}

/** The chat pipeline's SSE body (chunks, then [DONE] or an error event) as Responses events. */
export function responsesEventStream(
  chatBody: ReadableStream<Uint8Array>,
  req: ResponsesRequest,
  meta: { id: string; createdAt: number; model: string },
) {
  const state = createResponsesStream(req, meta);
  const encode = (events: ResponsesEvent[]) => events.map(encodeEvent).join("");
  const handle = (data: string): ResponsesEvent[] => {
    if (data === "[DONE]") return state.end();
    const obj = tryParseJson(data) as ({ error?: StreamError } & ChatCompletionChunk) | undefined;
    if (obj === undefined)
      return state.fail({ message: "the gateway's chat stream sent an unreadable event", code: "upstream_stream_error" });
    if (obj.error) return state.fail(obj.error);
    return Array.isArray(obj.choices) ? state.push(obj) : [];
  };
  return translateSSE(
    chatBody,
    (data) => encode(handle(data)),
    () =>
      state.ended
        ? ""
        : encode(state.fail({ message: "the stream ended before the response was complete", code: "upstream_stream_error" })),
  );
}
