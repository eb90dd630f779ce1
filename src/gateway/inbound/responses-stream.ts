/**
 * The chat pipeline's answer as a Responses API answer. Chat completion chunks → Responses
 * streaming events: the state machine (`createResponsesStream`) is pure; `responsesEventStream`
 * wraps it around the chat pipeline's SSE body, so a client that goes away cancels the chat stream
 * behind it (and the log row says so).
 */
import { fastId } from "../../ids.ts";
import { translateSSE } from "../../adapters/sse.ts";
import { isRelayed } from "../relay.ts";
import {
  tryParseJson,
  type ChatCompletion,
  type ChatCompletionChunk,
  type CompletionUsage,
  type FinishReason,
} from "../../adapters/types.ts";
import type { ResponsesRequest } from "./responses-model.ts";
import {
  endOf,
  fromChatResponse,
  functionCallItem,
  messageItem,
  outputText,
  newResponseId,
  responseShell,
  usageOf,
  type FunctionCallItem,
  type ItemStatus,
  type MessageContent,
  type MessageItem,
  type OutputItem,
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

/** The two kinds of content part a message streams: each its own part type and event names. */
const PARTS = {
  text: { events: "response.output_text", part: outputText, extra: { logprobs: [] } },
  refusal: { events: "response.refusal", part: (refusal: string): MessageContent => ({ type: "refusal", refusal }), extra: {} },
};
type PartKind = keyof typeof PARTS;
interface OpenMessage {
  item: MessageItem;
  index: number;
  /** The content part being streamed. */
  part: { kind: PartKind; value: string } | null;
}
interface OpenCall {
  item: FunctionCallItem;
  index: number;
}

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
  const out: ResponsesEvent[] = [];

  const emit = (type: string, fields: Record<string, unknown>) => out.push({ type, sequence_number: seq++, ...fields });
  const snapshot = (over: Partial<ResponseObject> = {}): ResponseObject => ({
    ...responseShell(req, { id: meta.id, createdAt: meta.createdAt, model }),
    output: [...output],
    ...over,
  });
  const drain = () => out.splice(0);

  function start(): void {
    if (started) return;
    started = true;
    emit("response.created", { response: snapshot({ output: [] }) });
    emit("response.in_progress", { response: snapshot({ output: [] }) });
  }

  /** Where the message's current content part is. */
  const at = (m: OpenMessage) => ({ item_id: m.item.id, output_index: m.index, content_index: m.item.content.length });

  function closePart(m: OpenMessage): void {
    if (!m.part) return;
    const { kind, value } = m.part;
    m.part = null;
    const part = PARTS[kind].part(value);
    // The done event names the value by its part's field: `text` or `refusal`.
    emit(`${PARTS[kind].events}.done`, { ...at(m), [kind]: value, ...PARTS[kind].extra });
    emit("response.content_part.done", { ...at(m), part });
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

  function closeCall({ item, index }: OpenCall): void {
    emit("response.function_call_arguments.done", { item_id: item.id, output_index: index, name: item.name, arguments: item.arguments });
    item.status = "completed";
    emit("response.output_item.done", { output_index: index, item: structuredClone(item) });
  }

  function content(kind: PartKind, delta: string): void {
    if (!message) {
      const item = messageItem("in_progress", []);
      message = { item, index: output.length, part: null };
      output.push(item);
      emit("response.output_item.added", { output_index: message.index, item: structuredClone(item) });
    }
    const m = message;
    if (m.part?.kind !== kind) {
      closePart(m);
      m.part = { kind, value: "" };
      emit("response.content_part.added", { ...at(m), part: PARTS[kind].part("") });
    }
    m.part!.value += delta;
    emit(`${PARTS[kind].events}.delta`, { ...at(m), delta, ...PARTS[kind].extra });
  }

  function toolCall(d: { index: number; id?: string; function?: { name?: string; arguments?: string } }): void {
    let call = calls.get(d.index);
    if (!call) {
      // A tool call ends the text before it; text after it starts a new message item.
      closeMessage("completed");
      const item = functionCallItem(d.id || `call_${fastId()}`, d.function?.name ?? "", "", "in_progress");
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
      closeMessage(e.status);
      for (const call of [...calls.values()].sort((a, b) => a.index - b.index)) closeCall(call);
      calls.clear();
      const response = snapshot({ ...e, usage: usageOf(usage) });
      emit(`response.${e.status}`, { response });
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

/**
 * Failures already have OpenAI's error shape, which the Responses API shares, so they pass
 * unchanged with their headers (x-request-id, x-perpetuo-provider, x-perpetuo-attempts,
 * retry-after). So do answers an OpenAI entry gave in the Responses API itself.
 */
export async function asResponses(res: Response, req: ResponsesRequest): Promise<Response> {
  if (res.status !== 200 || !res.body || isRelayed(res)) return res;
  const headers = new Headers(res.headers);
  const meta = { id: newResponseId(), createdAt: Math.floor(Date.now() / 1000), model: req.model };
  if ((headers.get("content-type") ?? "").startsWith("text/event-stream")) {
    return new Response(responsesEventStream(res.body, req, meta), { status: 200, headers });
  }
  const completion = (await res.json()) as ChatCompletion;
  headers.delete("content-length");
  return new Response(JSON.stringify(fromChatResponse(completion, req, meta.id)), { status: 200, headers });
}
