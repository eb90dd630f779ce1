/**
 * OpenAI Chat Completions in the gateway's terms: the request (derived from the schema that
 * validates it, src/gateway/model.ts) and the response and stream chunks every adapter produces.
 */
import type { ChatRequest } from "../gateway/model.ts";

export type { ChatRequest };
export type ChatMessage = ChatRequest["messages"][number];
export type SystemMessage = Extract<ChatMessage, { role: "system" | "developer" }>;
export type UserMessage = Extract<ChatMessage, { role: "user" }>;
export type AssistantMessage = Extract<ChatMessage, { role: "assistant" }>;
export type ToolMessage = Extract<ChatMessage, { role: "tool" }>;
/** What a user message may carry; system, assistant and tool messages carry text parts only. */
export type ContentPart = Exclude<UserMessage["content"], string>[number];
/** `cache_control` (Anthropic's prompt-caching marker, sent by some OpenAI clients) rides along. */
export type TextPart = Extract<ContentPart, { type: "text" }>;
export type FunctionTool = NonNullable<ChatRequest["tools"]>[number];
export type ToolChoice = NonNullable<ChatRequest["tool_choice"]>;
export type ResponseFormat = NonNullable<ChatRequest["response_format"]>;
/** A response_format that asks for JSON: an object, or one matching a schema. */
export type JsonFormat = Exclude<ResponseFormat, { type: "text" }>;
export type JsonSchema = { [k: string]: unknown };

/** response_format asks for JSON (an object, or one matching a schema). */
export function wantsJson(rf: ChatRequest["response_format"]): rf is JsonFormat {
  return rf?.type === "json_object" || rf?.type === "json_schema";
}

export type ToolCall = {
  id: string;
  type: "function";
  function: { name: string; arguments: string };
};

export type FinishReason = "stop" | "length" | "tool_calls" | "content_filter" | "function_call";

export interface CompletionUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details?: { cached_tokens?: number; cache_creation_tokens?: number; [k: string]: unknown };
  completion_tokens_details?: { reasoning_tokens?: number; [k: string]: unknown };
  [k: string]: unknown;
}

export interface ResponseMessage {
  role: "assistant";
  content: string | null;
  tool_calls?: ToolCall[];
  refusal?: string | null;
  [k: string]: unknown;
}

export interface ChatCompletionChoice {
  index: number;
  message: ResponseMessage;
  finish_reason: FinishReason | null;
  logprobs: unknown;
}

export interface ChatCompletion {
  id: string;
  object: "chat.completion";
  created: number;
  model: string;
  choices: ChatCompletionChoice[];
  usage?: CompletionUsage;
  system_fingerprint?: string | null;
  [k: string]: unknown;
}

interface ToolCallDelta {
  index: number;
  id?: string;
  type?: "function";
  function?: { name?: string; arguments?: string };
}

export interface ChunkDelta {
  role?: "assistant";
  content?: string | null;
  tool_calls?: ToolCallDelta[];
  refusal?: string | null;
  [k: string]: unknown;
}

interface ChunkChoice {
  index: number;
  delta: ChunkDelta;
  finish_reason: FinishReason | null;
  logprobs?: unknown;
}

export interface ChatCompletionChunk {
  id: string;
  object: "chat.completion.chunk";
  created: number;
  model: string;
  choices: ChunkChoice[];
  usage?: CompletionUsage | null;
  system_fingerprint?: string | null;
  [k: string]: unknown;
}
