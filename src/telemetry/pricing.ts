import { matchesModel } from "../gateway/router.ts";
import table from "./prices.json" with { type: "json" };

/** USD per 1,000,000 tokens. */
interface PriceRates {
  input: number;
  output: number;
  /** Prompt tokens read from the provider's cache; `input` when absent. */
  cached_input?: number;
  /** Prompt tokens written to the cache (Anthropic); `input` when absent. */
  cache_write?: number;
}

export interface ModelPrice extends PriceRates {
  /** Rates for the whole request once its prompt exceeds threshold_tokens (Gemini Pro, Claude Sonnet 4.x). */
  long_context?: PriceRates & { threshold_tokens: number };
}

/** Token counts as RequestRecord carries them: prompt includes cached and cache-written tokens. */
export interface PriceUsage {
  prompt_tokens: number;
  /** Includes reasoning/thinking tokens (billed as output by every provider). */
  completion_tokens: number;
  cached_tokens?: number;
  /** Anthropic `cache_creation_input_tokens` (adapters: Usage.cache_creation_tokens). */
  cache_creation_tokens?: number;
}

/**
 * Per-provider-entry prices (`provider_keys.pricing`): keys are exact model names or patterns with
 * `*` (`gpt-4o*`, `*`); they beat the built-in table.
 */
type PriceOverrides = Record<string, PriceRates>;

/** The date the built-in table was taken (see prices.json `source`). */
export const PRICES_AS_OF: string = table.as_of;

const MODELS = new Map<string, ModelPrice>(
  Object.entries(table.models as Record<string, ModelPrice>).map(([name, price]) => [name.toLowerCase(), price]),
);
for (const [alias, target] of Object.entries(table.aliases as Record<string, string>)) {
  const price = MODELS.get(target.toLowerCase());
  if (!price) throw new Error(`prices.json: alias ${alias} points at unknown model ${target}`);
  MODELS.set(alias.toLowerCase(), price);
}

// Version suffixes providers append to a model family's name: -2024-08-06, -20241022, -0613 /
// -2411 (OpenAI and Mistral snapshots), -001 (Gemini), -latest.
const SUFFIX = /-(?:\d{4}-\d{2}-\d{2}|\d{8}|\d{4}|\d{3}|latest)$/;

/** The names a model is looked up under, most specific first: as given, without `models/`, then without each version suffix. */
export function candidateNames(model: string): string[] {
  const out: string[] = [];
  let name = model.trim().toLowerCase();
  const push = (n: string) => {
    if (n && !out.includes(n)) out.push(n);
  };
  push(name);
  if (name.startsWith("models/")) {
    name = name.slice("models/".length);
    push(name);
  }
  for (;;) {
    const next = name.replace(SUFFIX, "");
    if (next === name || !next) break;
    name = next;
    push(name);
  }
  return out;
}

function validRates(r: unknown): r is PriceRates {
  if (typeof r !== "object" || r === null) return false;
  const o = r as Record<string, unknown>;
  const ok = (x: unknown, optional: boolean) => (optional && x === undefined) || (typeof x === "number" && Number.isFinite(x) && x >= 0);
  return ok(o.input, false) && ok(o.output, false) && ok(o.cached_input, true) && ok(o.cache_write, true);
}

function fromOverrides(model: string, names: string[], overrides: PriceOverrides): PriceRates | null {
  const entries = Object.entries(overrides).filter(([, rates]) => validRates(rates));
  const exact = (n: string) => entries.find(([k]) => !k.includes("*") && k.trim().toLowerCase() === n)?.[1];
  const direct = exact(names[0]);
  if (direct) return direct;
  // The longest (most specific) matching pattern wins: `gpt-4o-mini*` over `gpt-4o*` over `*`.
  const patterns = entries.filter(([k]) => k.includes("*")).sort((a, b) => b[0].length - a[0].length);
  const hit = patterns.find(([k]) => matchesModel(k.trim(), model.trim()));
  if (hit) return hit[1];
  for (const n of names.slice(1)) {
    const r = exact(n);
    if (r) return r;
  }
  return null;
}

/** The price that applies to a model: overrides (exact, then `*` patterns, then by family name), then the built-in table; null when unknown. */
export function findPrice(model: string, overrides?: PriceOverrides | null): ModelPrice | null {
  if (!model) return null;
  const names = candidateNames(model);
  if (overrides) {
    const o = fromOverrides(model, names, overrides);
    if (o) return o;
  }
  for (const n of names) {
    const p = MODELS.get(n);
    if (p) return p;
  }
  return null;
}

const count = (x: number | undefined) => (typeof x === "number" && Number.isFinite(x) && x > 0 ? Math.floor(x) : 0);

/**
 * Cost of one request in USD, or null when the model has no known price (null, never 0, so
 * totals can say what they leave out). Cached prompt tokens are billed at `cached_input` and
 * cache writes at `cache_write`, each instead of (not on top of) `input`; completion tokens,
 * reasoning included, at `output`. Rounded to 10 decimal places.
 */
export function costFor(model: string, usage: PriceUsage, overrides?: PriceOverrides | null): number | null {
  const price = findPrice(model, overrides);
  if (!price) return null;
  const prompt = count(usage.prompt_tokens);
  const cached = Math.min(count(usage.cached_tokens), prompt);
  const written = Math.min(count(usage.cache_creation_tokens), prompt - cached);
  const uncached = prompt - cached - written;
  const rates: PriceRates = price.long_context && prompt > price.long_context.threshold_tokens ? price.long_context : price;
  const perMillion =
    uncached * rates.input +
    cached * (rates.cached_input ?? rates.input) +
    written * (rates.cache_write ?? rates.input) +
    count(usage.completion_tokens) * rates.output;
  return Math.round((perMillion / 1_000_000) * 1e10) / 1e10;
}
