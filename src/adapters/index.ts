import { anthropicAdapter } from "./anthropic.ts";
import { geminiAdapter } from "./gemini.ts";
import { createOpenAIAdapter, openaiAdapter } from "./openai.ts";
import type { Adapter } from "./types.ts";

export * from "./types.ts";
export { createSSEParser, encodeSSE, SSE_DONE, type SSEParser } from "./sse.ts";
export { anthropicAdapter, geminiAdapter, openaiAdapter };

export const PROVIDER_TYPES = [
  "openai",
  "anthropic",
  "gemini",
  "groq",
  "mistral",
  "openrouter",
  "together",
  "deepseek",
  "ollama",
  "openai_compatible",
] as const;
export type ProviderType = (typeof PROVIDER_TYPES)[number];

/** Public base URLs as each provider documents them; openai_compatible has none. */
export const DEFAULT_BASE_URLS: Record<ProviderType, string | null> = {
  openai: "https://api.openai.com/v1",
  anthropic: "https://api.anthropic.com",
  gemini: "https://generativelanguage.googleapis.com",
  groq: "https://api.groq.com/openai/v1",
  mistral: "https://api.mistral.ai/v1",
  openrouter: "https://openrouter.ai/api/v1",
  together: "https://api.together.xyz/v1",
  deepseek: "https://api.deepseek.com/v1",
  ollama: "http://localhost:11434/v1",
  openai_compatible: null,
};

export function isProviderType(type: string): type is ProviderType {
  return (PROVIDER_TYPES as readonly string[]).includes(type);
}

// Mistral rejects `stream_options` with 422 but reports usage on its last chunk regardless.
const mistralAdapter = createOpenAIAdapter({ streamOptions: false });

export function adapterFor(type: string): Adapter {
  switch (type) {
    case "anthropic":
      return anthropicAdapter;
    case "gemini":
      return geminiAdapter;
    case "mistral":
      return mistralAdapter;
    case "openai":
    case "groq":
    case "openrouter":
    case "together":
    case "deepseek":
    case "ollama":
    case "openai_compatible":
      return openaiAdapter;
    default:
      throw new Error(`unknown provider type '${type}'`);
  }
}
