import { anthropicAdapter } from "./anthropic.ts";
import { geminiAdapter } from "./gemini.ts";
import { createOpenAIAdapter, openaiAdapter } from "./openai.ts";
import type { Adapter } from "./types.ts";

export * from "./types.ts";
export { createSSEParser, encodeSSE, SSE_DONE, type SSEParser } from "./sse.ts";
export { anthropicAdapter, geminiAdapter, openaiAdapter };

// Mistral rejects `stream_options` with 422 but reports usage on its last chunk regardless.
const mistralAdapter = createOpenAIAdapter({ streamOptions: false });

/** Which adapter speaks for a provider type (the type table itself is providers/catalog.ts). */
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
