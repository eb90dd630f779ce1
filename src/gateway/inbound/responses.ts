/**
 * The OpenAI Responses API over the chat pipeline: `toChat` turns a validated Responses request
 * into the internal chat request, `fromChatResponse` turns the chat completion back into a
 * Response object. Pure functions: the gateway runs proxyChat in between, so routing, fallback,
 * cooldowns, logs and usage are the chat path's own.
 */
import { fastId } from "../../ids.ts";
import { str, UnsupportedFeatureError } from "../../adapters/types.ts";
import type {
  ChatCompletion,
  ChatMessage,
  ChatRequest,
  CompletionUsage,
  ContentPart,
  FinishReason,
  FunctionTool,
  ResponseFormat,
  TextPart,
  ToolChoice,
} from "../../adapters/types.ts";
import type { ResponsesItem, ResponsesRequest } from "./responses-model.ts";

type Content<Role> = Extract<ResponsesItem, { role: Role }>["content"];

function textOf(content: string | { text?: unknown; refusal?: unknown }[]): string {
  if (typeof content === "string") return content;
  return content.map((p) => (typeof p.text === "string" ? p.text : typeof p.refusal === "string" ? p.refusal : "")).join("");
}

function textParts(content: Content<"system" | "developer">): string | TextPart[] {
  if (typeof content === "string") return content;
  return content.map((p) => ({ type: "text", text: p.text }));
}

function userParts(content: Content<"user">): string | ContentPart[] {
  if (typeof content === "string") return content;
  return content.map((p): ContentPart => {
    switch (p.type) {
      case "input_image":
        return { type: "image_url", image_url: { url: p.image_url, ...(p.detail ? { detail: p.detail } : {}) } };
      case "input_file":
        return { type: "file", file: { file_data: p.file_data, ...(p.filename !== undefined ? { filename: p.filename } : {}) } };
      case "input_text":
        return { type: "text", text: p.text };
    }
  });
}

/** Appends one input item to the chat messages; function calls join the assistant turn they belong to. */
function addItem(messages: ChatMessage[], item: ResponsesItem): void {
  // Reasoning items have no chat form; references never reach a translated entry (untranslatable()).
  if (item.type === "reasoning" || item.type === "item_reference") return;
  if (item.type === "function_call") {
    const call = { id: item.call_id, type: "function" as const, function: { name: item.name, arguments: item.arguments } };
    const last = messages[messages.length - 1];
    if (last?.role === "assistant") (last.tool_calls ??= []).push(call);
    else messages.push({ role: "assistant", content: null, tool_calls: [call] });
    return;
  }
  if (item.type === "function_call_output") {
    messages.push({ role: "tool", tool_call_id: item.call_id, content: textOf(item.output) });
    return;
  }
  switch (item.role) {
    case "user":
      messages.push({ role: "user", content: userParts(item.content) });
      return;
    case "system":
    case "developer":
      messages.push({ role: item.role, content: textParts(item.content) });
      return;
    case "assistant":
      messages.push({ role: "assistant", content: textOf(item.content) });
  }
}

function toolsOf(tools: NonNullable<ResponsesRequest["tools"]>): FunctionTool[] {
  return tools.map((t) => {
    const fn: FunctionTool["function"] = { name: t.name };
    if (typeof t.description === "string") fn.description = t.description;
    if (t.parameters) fn.parameters = t.parameters;
    if (typeof t.strict === "boolean") fn.strict = t.strict;
    return { type: "function", function: fn };
  });
}

function toolChoiceOf(choice: NonNullable<ResponsesRequest["tool_choice"]>): ToolChoice {
  return typeof choice === "string" ? choice : { type: "function", function: { name: choice.name } };
}

function formatOf(format: NonNullable<NonNullable<ResponsesRequest["text"]>["format"]>): ResponseFormat {
  if (format.type !== "json_schema") return { type: format.type };
  const json_schema: Extract<ResponseFormat, { type: "json_schema" }>["json_schema"] = { name: format.name, schema: format.schema };
  if (typeof format.description === "string") json_schema.description = format.description;
  if (typeof format.strict === "boolean") json_schema.strict = format.strict;
  return { type: "json_schema", json_schema };
}

/**
 * What only OpenAI's own Responses API can do in this request: item references name items OpenAI
 * stored (the Vercel AI SDK sends earlier assistant turns that way by default). Entries that would
 * get the translated chat request are skipped for it; with none left the client gets a 400.
 */
export function untranslatable(req: ResponsesRequest): UnsupportedFeatureError | null {
  if (typeof req.input === "string") return null;
  const i = req.input.findIndex((item) => item.type === "item_reference");
  if (i < 0) return null;
  return new UnsupportedFeatureError(
    `input[${i}]`,
    `input[${i}] is an item_reference, which only OpenAI can resolve (Perpetuo is a stateless gateway and stores no responses): send the whole conversation in input; with the Vercel AI SDK, set providerOptions: { openai: { store: false } }`,
  );
}

/**
 * The chat request that asks for the same thing. `store` and `metadata` are not forwarded: nothing
 * is stored, and chat providers reject or misread them; the Response object echoes them back.
 */
export function toChat(req: ResponsesRequest): ChatRequest {
  const messages: ChatMessage[] = [];
  if (req.instructions) messages.push({ role: "system", content: req.instructions });
  if (typeof req.input === "string") messages.push({ role: "user", content: req.input });
  else for (const item of req.input) addItem(messages, item);

  const chat: ChatRequest = { model: req.model, messages };
  if (req.stream) {
    chat.stream = true;
    // The closing response.completed event carries usage, which only the final chunk has.
    chat.stream_options = { include_usage: true };
  }
  if (req.tools?.length) chat.tools = toolsOf(req.tools);
  if (req.tool_choice != null) chat.tool_choice = toolChoiceOf(req.tool_choice);
  if (req.parallel_tool_calls != null) chat.parallel_tool_calls = req.parallel_tool_calls;
  if (req.text?.format) chat.response_format = formatOf(req.text.format);
  if (req.max_output_tokens != null) chat.max_completion_tokens = req.max_output_tokens;
  if (req.temperature != null) chat.temperature = req.temperature;
  if (req.top_p != null) chat.top_p = req.top_p;
  if (req.reasoning?.effort != null) chat.reasoning_effort = req.reasoning.effort;
  if (typeof req.user === "string") chat.user = req.user;
  return chat;
}

// ---------------------------------------------------------------------------------------------
// The Response object
// ---------------------------------------------------------------------------------------------

export interface OutputText {
  type: "output_text";
  text: string;
  annotations: unknown[];
  logprobs: unknown[];
}
export type MessageContent = OutputText | { type: "refusal"; refusal: string };
export type ItemStatus = "in_progress" | "completed" | "incomplete";
export interface MessageItem {
  type: "message";
  id: string;
  status: ItemStatus;
  role: "assistant";
  content: MessageContent[];
}
export interface FunctionCallItem {
  type: "function_call";
  id: string;
  call_id: string;
  name: string;
  arguments: string;
  status: ItemStatus;
}
export type OutputItem = MessageItem | FunctionCallItem;

interface ResponsesUsage {
  input_tokens: number;
  input_tokens_details: { cached_tokens: number };
  output_tokens: number;
  output_tokens_details: { reasoning_tokens: number };
  total_tokens: number;
}

export interface ResponseObject {
  id: string;
  object: "response";
  created_at: number;
  status: "in_progress" | "completed" | "incomplete" | "failed";
  error: { code: string; message: string } | null;
  incomplete_details: { reason: "max_output_tokens" | "content_filter" } | null;
  model: string;
  output: OutputItem[];
  usage: ResponsesUsage | null;
  [k: string]: unknown;
}

export const newResponseId = () => `resp_${fastId()}`;

export const outputText = (text: string): OutputText => ({ type: "output_text", text, annotations: [], logprobs: [] });

export const messageItem = (status: ItemStatus, content: MessageContent[]): MessageItem => ({
  type: "message",
  id: `msg_${fastId()}`,
  status,
  role: "assistant",
  content,
});

export const functionCallItem = (call_id: string, name: string, args: string, status: ItemStatus): FunctionCallItem => ({
  type: "function_call",
  id: `fc_${fastId()}`,
  call_id,
  name,
  arguments: args,
  status,
});

export function usageOf(u: CompletionUsage | null | undefined): ResponsesUsage | null {
  if (!u) return null;
  return {
    input_tokens: u.prompt_tokens,
    input_tokens_details: { cached_tokens: u.prompt_tokens_details?.cached_tokens ?? 0 },
    output_tokens: u.completion_tokens,
    output_tokens_details: { reasoning_tokens: u.completion_tokens_details?.reasoning_tokens ?? 0 },
    total_tokens: u.total_tokens ?? u.prompt_tokens + u.completion_tokens,
  };
}

/** How a chat finish reason ends a response: cut short by the token limit or a filter, or done. */
export function endOf(finish: FinishReason | null | undefined): {
  status: "completed" | "incomplete";
  incomplete_details: ResponseObject["incomplete_details"];
} {
  if (finish === "length") return { status: "incomplete", incomplete_details: { reason: "max_output_tokens" } };
  if (finish === "content_filter") return { status: "incomplete", incomplete_details: { reason: "content_filter" } };
  return { status: "completed", incomplete_details: null };
}

/** The Response object's fields that echo the request (OpenAI returns them with every response). */
export function responseShell(req: ResponsesRequest, c: { id: string; createdAt: number; model: string }): ResponseObject {
  return {
    id: c.id,
    object: "response",
    created_at: c.createdAt,
    status: "in_progress",
    background: false,
    error: null,
    incomplete_details: null,
    instructions: req.instructions ?? null,
    max_output_tokens: req.max_output_tokens ?? null,
    metadata: req.metadata ?? {},
    model: c.model,
    output: [],
    parallel_tool_calls: req.parallel_tool_calls ?? true,
    previous_response_id: null,
    reasoning: { effort: req.reasoning?.effort ?? null, summary: null },
    // Nothing is kept, whatever the client asked for: say so.
    store: false,
    temperature: req.temperature ?? 1,
    text: { format: req.text?.format ?? { type: "text" } },
    tool_choice: req.tool_choice ?? "auto",
    tools: req.tools ?? [],
    top_p: req.top_p ?? 1,
    truncation: "disabled",
    usage: null,
    user: req.user ?? null,
  };
}

/** A non-streamed chat completion as a Response object. */
export function fromChatResponse(completion: ChatCompletion, req: ResponsesRequest, id = newResponseId()): ResponseObject {
  const choice = completion.choices[0];
  const end = endOf(choice?.finish_reason);
  const output: OutputItem[] = [];
  const msg = choice?.message;
  const content: MessageContent[] = [];
  const text = str(msg?.content);
  const refusal = str(msg?.refusal);
  if (text) content.push(outputText(text));
  if (refusal) content.push({ type: "refusal", refusal });
  if (content.length) output.push(messageItem(end.status, content));
  for (const call of msg?.tool_calls ?? [])
    output.push(functionCallItem(call.id, call.function.name, call.function.arguments, "completed"));
  return {
    ...responseShell(req, { id, createdAt: completion.created, model: completion.model }),
    ...end,
    output,
    usage: usageOf(completion.usage),
  };
}
