import type { WireFormat } from "../adapters/types.ts";

interface ProviderTypeInfo {
  label: string;
  /** The wire format its API speaks, i.e. which adapter translates for it. */
  format: WireFormat;
  /** Used when an entry has no base_url; null = the entry must give one. */
  defaultBaseUrl: string | null;
  /** Whether an entry of this type needs an api_key (Ollama: none; OpenAI-compatible: optional). */
  keyRequired: boolean;
  keyPlaceholder: string;
  keyHelp: string;
}

/** A hosted API: it needs a key, made on the provider's keys page. */
const hosted = (label: string, defaultBaseUrl: string, keyPlaceholder: string, keysPage: string, format: WireFormat = "openai") => ({
  label,
  format,
  defaultBaseUrl,
  keyRequired: true,
  keyPlaceholder,
  keyHelp: `Create one at ${keysPage}`,
});

/** Every provider type Perpetuo knows; the API, the dashboard and the gateway read this one table. */
export const PROVIDER_CATALOG = {
  openai: hosted("OpenAI", "https://api.openai.com/v1", "sk-…", "https://platform.openai.com/api-keys", "openai"),
  anthropic: hosted("Anthropic", "https://api.anthropic.com", "sk-ant-…", "https://console.anthropic.com/settings/keys", "anthropic"),
  gemini: hosted("Google Gemini", "https://generativelanguage.googleapis.com", "AIza…", "https://aistudio.google.com/apikey", "gemini"),
  groq: hosted("Groq", "https://api.groq.com/openai/v1", "gsk_…", "https://console.groq.com/keys"),
  mistral: hosted("Mistral", "https://api.mistral.ai/v1", "32 characters", "https://console.mistral.ai/api-keys"),
  openrouter: hosted("OpenRouter", "https://openrouter.ai/api/v1", "sk-or-v1-…", "https://openrouter.ai/settings/keys"),
  together: hosted(
    "Together AI",
    "https://api.together.xyz/v1",
    "tgp_v1_… or 64 hex characters",
    "https://api.together.ai/settings/api-keys",
  ),
  deepseek: hosted("DeepSeek", "https://api.deepseek.com/v1", "sk-…", "https://platform.deepseek.com/api_keys"),
  ollama: {
    label: "Ollama",
    format: "openai",
    defaultBaseUrl: "http://localhost:11434/v1",
    keyRequired: false,
    keyPlaceholder: "not needed",
    keyHelp: "Ollama needs no key; set base_url if it does not run on this machine (e.g. http://gpu-box:11434/v1)",
  },
  openai_compatible: {
    label: "OpenAI-compatible",
    format: "openai",
    defaultBaseUrl: null,
    keyRequired: false,
    keyPlaceholder: "optional",
    keyHelp: "Any server speaking the OpenAI Chat Completions API (vLLM, LM Studio, LiteLLM, …); base_url usually ends in /v1",
  },
} satisfies Record<string, ProviderTypeInfo>;

export type ProviderType = keyof typeof PROVIDER_CATALOG;
export const PROVIDER_TYPES = Object.keys(PROVIDER_CATALOG) as ProviderType[];

/**
 * How people call a provider type ("OpenAI-compatible", not `openai_compatible`). A type no longer
 * in the catalog (an old log row) shows as stored rather than vanishing.
 */
export function providerTypeLabel(type: string): string {
  return Object.hasOwn(PROVIDER_CATALOG, type) ? PROVIDER_CATALOG[type as ProviderType].label : type;
}
