import type { WireFormat } from "../adapters/types.ts";

/** Every provider type Perpetuo knows; the API, the dashboard and the gateway read this one table. */
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

export const PROVIDER_CATALOG: Record<ProviderType, ProviderTypeInfo> = {
  openai: {
    label: "OpenAI",
    format: "openai",
    defaultBaseUrl: "https://api.openai.com/v1",
    keyRequired: true,
    keyPlaceholder: "sk-…",
    keyHelp: "Create one at https://platform.openai.com/api-keys",
  },
  anthropic: {
    label: "Anthropic",
    format: "anthropic",
    defaultBaseUrl: "https://api.anthropic.com",
    keyRequired: true,
    keyPlaceholder: "sk-ant-…",
    keyHelp: "Create one at https://console.anthropic.com/settings/keys",
  },
  gemini: {
    label: "Google Gemini",
    format: "gemini",
    defaultBaseUrl: "https://generativelanguage.googleapis.com",
    keyRequired: true,
    keyPlaceholder: "AIza…",
    keyHelp: "Create one at https://aistudio.google.com/apikey",
  },
  groq: {
    label: "Groq",
    format: "openai",
    defaultBaseUrl: "https://api.groq.com/openai/v1",
    keyRequired: true,
    keyPlaceholder: "gsk_…",
    keyHelp: "Create one at https://console.groq.com/keys",
  },
  mistral: {
    label: "Mistral",
    format: "openai",
    defaultBaseUrl: "https://api.mistral.ai/v1",
    keyRequired: true,
    keyPlaceholder: "32 characters",
    keyHelp: "Create one at https://console.mistral.ai/api-keys",
  },
  openrouter: {
    label: "OpenRouter",
    format: "openai",
    defaultBaseUrl: "https://openrouter.ai/api/v1",
    keyRequired: true,
    keyPlaceholder: "sk-or-v1-…",
    keyHelp: "Create one at https://openrouter.ai/settings/keys",
  },
  together: {
    label: "Together AI",
    format: "openai",
    defaultBaseUrl: "https://api.together.xyz/v1",
    keyRequired: true,
    keyPlaceholder: "tgp_v1_… or 64 hex characters",
    keyHelp: "Create one at https://api.together.ai/settings/api-keys",
  },
  deepseek: {
    label: "DeepSeek",
    format: "openai",
    defaultBaseUrl: "https://api.deepseek.com/v1",
    keyRequired: true,
    keyPlaceholder: "sk-…",
    keyHelp: "Create one at https://platform.deepseek.com/api_keys",
  },
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
};

/**
 * How people call a provider type ("OpenAI-compatible", not `openai_compatible`). A type no longer
 * in the catalog (an old log row) shows as stored rather than vanishing.
 */
export function providerTypeLabel(type: string): string {
  return Object.hasOwn(PROVIDER_CATALOG, type) ? PROVIDER_CATALOG[type as ProviderType].label : type;
}
