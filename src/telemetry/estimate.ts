import { isRecord, str } from "../adapters/util.ts";

/**
 * Token estimates for responses whose provider reported no usage (some OpenAI-compatible servers,
 * streams cut short). Rows built from these figures carry `usage_estimated = true`.
 *
 * The rule, deliberately simple and the same everywhere:
 * - text: one token per 4 ASCII characters (OpenAI's rule of thumb for English with its BPE
 *   tokenizers) plus one token per non-ASCII code point (CJK and emoji are about a token each;
 *   this errs high for accented Latin text), rounded up;
 * - chat prompts: the text of every message (string content, text parts, tool-call names and
 *   arguments, the name field) plus MESSAGE_OVERHEAD tokens per message for the role and
 *   separators, plus REPLY_PRIMING for the assistant turn the model is primed with (the figures
 *   OpenAI documents for its chat format); each image part counts IMAGE_TOKENS (a low-detail image
 *   on OpenAI; a high-detail one costs more, so this is a floor).
 */
export const MESSAGE_OVERHEAD = 4;
export const REPLY_PRIMING = 3;
export const IMAGE_TOKENS = 85;

export function estimateTokens(text: string | null | undefined): number {
  if (!text) return 0;
  let ascii = 0;
  let other = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) ascii++;
    // A surrogate pair is one code point: count its high half only.
    else if (c < 0xdc00 || c > 0xdfff) other++;
  }
  return Math.ceil(ascii / 4 + other);
}

/** The parts of a chat message the estimate reads; the gateway's ChatMessage fits it. */
export interface EstimatableMessage {
  role: string;
  content?: unknown;
  name?: string;
  tool_calls?: unknown;
}

export function estimatePromptTokens(messages: readonly EstimatableMessage[], tools?: unknown): number {
  let total = messages.length ? REPLY_PRIMING : 0;
  for (const m of messages) {
    total += MESSAGE_OVERHEAD + estimateTokens(m.name) + contentTokens(m.content);
    if (Array.isArray(m.tool_calls)) {
      for (const call of m.tool_calls) {
        const fn = isRecord(call) && isRecord(call.function) ? call.function : null;
        if (fn) total += estimateTokens(str(fn.name)) + estimateTokens(str(fn.arguments));
      }
    }
  }
  // Tool definitions reach the model as text too.
  if (Array.isArray(tools) && tools.length) total += estimateTokens(JSON.stringify(tools));
  return total;
}

function contentTokens(content: unknown): number {
  if (typeof content === "string") return estimateTokens(content);
  if (!Array.isArray(content)) return 0;
  let n = 0;
  for (const part of content) {
    if (!isRecord(part)) continue;
    if (part.type === "text") n += estimateTokens(str(part.text));
    else if (part.type === "image_url" || part.type === "image") n += IMAGE_TOKENS;
  }
  return n;
}
