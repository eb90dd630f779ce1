import type { ProviderType } from "./catalog.ts";

/**
 * What the provider form shows for each type, and which model the connection test asks for when
 * an entry names none. Kept beside the catalog rather than in it: these are examples for people,
 * not rules the gateway follows.
 */
interface ProviderTypeHints {
  /** Model names as this type's API spells them; the first is the connection test's default. */
  models: string[];
  /** What a base URL looks like when one is needed (or wanted, for a proxy). */
  baseUrlExample: string;
  /** The start of a key of this type, to show as an example; null when keys have no telling shape. */
  keyExample: string | null;
}

export const PROVIDER_TYPE_HINTS: Record<ProviderType, ProviderTypeHints> = {
  openai: { models: ["gpt-4o-mini", "gpt-4.1", "o4-mini"], baseUrlExample: "https://my-proxy.example.com/v1", keyExample: "sk-proj-…" },
  anthropic: {
    models: ["claude-3-5-haiku-latest", "claude-sonnet-4-0"],
    baseUrlExample: "https://my-proxy.example.com",
    keyExample: "sk-ant-api03-…",
  },
  gemini: { models: ["gemini-2.0-flash", "gemini-2.5-pro"], baseUrlExample: "https://my-proxy.example.com", keyExample: "AIza…" },
  groq: {
    models: ["llama-3.1-8b-instant", "llama-3.3-70b-versatile"],
    baseUrlExample: "https://my-proxy.example.com/openai/v1",
    keyExample: "gsk_…",
  },
  mistral: {
    models: ["mistral-small-latest", "mistral-large-latest"],
    baseUrlExample: "https://my-proxy.example.com/v1",
    keyExample: null,
  },
  openrouter: {
    models: ["openai/gpt-4o-mini", "anthropic/claude-3.5-haiku"],
    baseUrlExample: "https://my-proxy.example.com/api/v1",
    keyExample: "sk-or-v1-…",
  },
  together: {
    models: ["meta-llama/Llama-3.3-70B-Instruct-Turbo", "Qwen/Qwen2.5-7B-Instruct-Turbo"],
    baseUrlExample: "https://my-proxy.example.com/v1",
    keyExample: "tgp_v1_…",
  },
  deepseek: { models: ["deepseek-chat", "deepseek-reasoner"], baseUrlExample: "https://my-proxy.example.com/v1", keyExample: "sk-…" },
  ollama: { models: ["llama3.2", "qwen2.5"], baseUrlExample: "http://gpu-box:11434/v1", keyExample: null },
  // Whatever the server was started with: the test asks the server's model list instead.
  openai_compatible: { models: [], baseUrlExample: "http://localhost:8000/v1", keyExample: null },
};
