import { PROVIDER_CATALOG, type ProviderType } from "../providers/catalog.ts";
import { anthropicAdapter } from "./anthropic.ts";
import { geminiAdapter } from "./gemini.ts";
import { createOpenAIAdapter, openaiAdapter } from "./openai.ts";
import type { Adapter, WireFormat } from "./types.ts";

const BY_FORMAT: Record<WireFormat, Adapter> = { openai: openaiAdapter, anthropic: anthropicAdapter, gemini: geminiAdapter };

/**
 * Types whose server departs from its wire format. Mistral rejects `stream_options` with 422 but
 * reports usage on its last chunk regardless.
 */
const QUIRKS: Partial<Record<ProviderType, Adapter>> = { mistral: createOpenAIAdapter({ streamOptions: false }) };

/** Which adapter speaks for a provider type: the catalog's wire format (providers/catalog.ts), unless a quirk says otherwise. */
export function adapterFor(type: string): Adapter {
  if (!Object.hasOwn(PROVIDER_CATALOG, type)) throw new Error(`unknown provider type '${type}'`);
  return QUIRKS[type as ProviderType] ?? BY_FORMAT[PROVIDER_CATALOG[type as ProviderType].format];
}
