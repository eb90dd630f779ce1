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

const hints = (models: string[], baseUrlExample: string, keyExample: string | null) => ({ models, baseUrlExample, keyExample });
const PROXY = "https://my-proxy.example.com";

export const PROVIDER_TYPE_HINTS: Record<ProviderType, ProviderTypeHints> = {
  openai: hints(["gpt-4o-mini", "gpt-4.1", "o4-mini"], `${PROXY}/v1`, "sk-proj-…"),
  anthropic: hints(["claude-3-5-haiku-latest", "claude-sonnet-4-0"], PROXY, "sk-ant-api03-…"),
  gemini: hints(["gemini-2.0-flash", "gemini-2.5-pro"], PROXY, "AIza…"),
  groq: hints(["llama-3.1-8b-instant", "llama-3.3-70b-versatile"], `${PROXY}/openai/v1`, "gsk_…"),
  mistral: hints(["mistral-small-latest", "mistral-large-latest"], `${PROXY}/v1`, null),
  openrouter: hints(["openai/gpt-4o-mini", "anthropic/claude-3.5-haiku"], `${PROXY}/api/v1`, "sk-or-v1-…"),
  together: hints(["meta-llama/Llama-3.3-70B-Instruct-Turbo", "Qwen/Qwen2.5-7B-Instruct-Turbo"], `${PROXY}/v1`, "tgp_v1_…"),
  deepseek: hints(["deepseek-chat", "deepseek-reasoner"], `${PROXY}/v1`, "sk-…"),
  ollama: hints(["llama3.2", "qwen2.5"], "http://gpu-box:11434/v1", null),
  // Whatever the server was started with: the test asks the server's model list instead.
  openai_compatible: hints([], "http://localhost:8000/v1", null),
};
