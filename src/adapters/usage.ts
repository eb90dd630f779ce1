/** Token counts: the gateway's accounting shape and its OpenAI form. */
import { isRecord, num } from "./util.ts";
import type { CompletionUsage } from "./wire.ts";

/** Internal accounting shape; `prompt_tokens` always includes cached and cache-written tokens. */
export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  cached_tokens?: number;
  cache_creation_tokens?: number;
  reasoning_tokens?: number;
}

export function toCompletionUsage(u: Usage): CompletionUsage {
  const out: CompletionUsage = { prompt_tokens: u.prompt_tokens, completion_tokens: u.completion_tokens, total_tokens: u.total_tokens };
  if (u.cached_tokens !== undefined || u.cache_creation_tokens !== undefined) {
    out.prompt_tokens_details = { cached_tokens: u.cached_tokens ?? 0 };
    if (u.cache_creation_tokens !== undefined) out.prompt_tokens_details.cache_creation_tokens = u.cache_creation_tokens;
  }
  if (u.reasoning_tokens !== undefined) out.completion_tokens_details = { reasoning_tokens: u.reasoning_tokens };
  return out;
}

/**
 * OpenAI-shaped usage (as sent by OpenAI-compatible servers, or by our own translations) → Usage.
 * Non-streamed completions carry usage in this shape only (Anthropic cache writes ride in
 * `prompt_tokens_details.cache_creation_tokens`, an extra field OpenAI clients ignore).
 */
export function usageFromOpenAI(raw: unknown): Usage | null {
  if (!isRecord(raw)) return null;
  const prompt = num(raw.prompt_tokens) ?? 0;
  const completion = num(raw.completion_tokens) ?? 0;
  const u: Usage = { prompt_tokens: prompt, completion_tokens: completion, total_tokens: num(raw.total_tokens) ?? prompt + completion };
  const pd = isRecord(raw.prompt_tokens_details) ? raw.prompt_tokens_details : undefined;
  // DeepSeek reports cache hits at the top level instead of in prompt_tokens_details.
  const cached = num(pd?.cached_tokens) ?? num(raw.prompt_cache_hit_tokens);
  if (cached !== undefined) u.cached_tokens = cached;
  const created = num(pd?.cache_creation_tokens);
  if (created !== undefined) u.cache_creation_tokens = created;
  const cd = isRecord(raw.completion_tokens_details) ? raw.completion_tokens_details : undefined;
  const reasoning = num(cd?.reasoning_tokens);
  if (reasoning !== undefined) u.reasoning_tokens = reasoning;
  return u;
}
