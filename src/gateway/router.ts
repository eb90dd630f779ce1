import type { ProviderConfig } from "../providers/model.ts";

export interface Candidate {
  provider: ProviderConfig;
  /** The model name sent upstream, after model_map. */
  upstreamModel: string;
  coolingDown: boolean;
}

/** How a log row and its attempts name an entry: as it was then, since it may be renamed or deleted later. */
export const providerColumns = (p: ProviderConfig) => ({ provider_id: p.id, provider_name: p.name, provider_type: p.type });

const patternCache = new Map<string, RegExp>();
function patternToRegExp(pattern: string): RegExp {
  let re = patternCache.get(pattern);
  if (!re) {
    re = new RegExp(
      `^${pattern
        .split("*")
        .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
        .join(".*")}$`,
      "i",
    );
    if (patternCache.size > 10_000) patternCache.clear();
    patternCache.set(pattern, re);
  }
  return re;
}

export function matchesModel(pattern: string, model: string): boolean {
  if (!pattern.includes("*")) return pattern.toLowerCase() === model.toLowerCase();
  return patternToRegExp(pattern).test(model);
}

/** An entry serves a model when its patterns match it, when it has an alias for it, or when it lists no patterns. */
export function serves(p: ProviderConfig, model: string): boolean {
  if (Object.hasOwn(p.model_map, model)) return true;
  if (p.models.length === 0) return true;
  return p.models.some((pattern) => matchesModel(pattern, model));
}

/**
 * `<entry name>/<model>` pins one entry, but only when the prefix names an entry of this workspace:
 * OpenRouter-style model ids ("openai/gpt-4o") contain slashes too.
 */
export function parsePin(model: string, providers: ProviderConfig[]): { pinned: ProviderConfig | null; model: string } {
  const slash = model.indexOf("/");
  if (slash > 0) {
    const name = model.slice(0, slash).toLowerCase();
    const pinned = providers.find((p) => p.name.toLowerCase() === name);
    if (pinned) return { pinned, model: model.slice(slash + 1) };
  }
  return { pinned: null, model };
}

/** Tracks providers to skip for a while after 429/5xx/timeouts. */
export class Cooldowns {
  private until = new Map<string, number>();
  /** Cooldowns begun (an entry already cooling that is cooled again does not count): a metric. */
  started = 0;
  constructor(
    private readonly now: () => number = Date.now,
    readonly defaultMs = 30_000,
    readonly maxMs = 5 * 60_000,
  ) {}
  cool(providerId: string, ms: number = this.defaultMs): void {
    const now = this.now();
    const until = now + Math.min(Math.max(ms, 1_000), this.maxMs);
    const current = this.until.get(providerId) ?? 0;
    if (current <= now) this.started++;
    if (current < until) this.until.set(providerId, until);
  }
  isCooling(providerId: string): boolean {
    const u = this.until.get(providerId);
    if (u === undefined) return false;
    if (u <= this.now()) {
      this.until.delete(providerId);
      return false;
    }
    return true;
  }
  clear(providerId: string): void {
    this.until.delete(providerId);
  }
  /** When the entry's cooldown ends (epoch ms), or null when it is ready: the provider health page shows it. */
  coolingUntil(providerId: string): number | null {
    return this.isCooling(providerId) ? this.until.get(providerId)! : null;
  }
}

/** Enabled entries that serve the model, by priority; entries cooling down go last, not away. */
export function selectCandidates(
  providers: ProviderConfig[],
  requested: string,
  cooldowns: Cooldowns,
): { candidates: Candidate[]; model: string } {
  const { pinned, model } = parsePin(requested, providers);
  const pool = pinned ? (pinned.enabled ? [pinned] : []) : providers.filter((p) => p.enabled && serves(p, model));
  const ready: Candidate[] = [];
  const cooling: Candidate[] = [];
  for (const p of pool) {
    // hasOwn: "constructor" or "toString" must not find Object.prototype's functions.
    const upstreamModel = Object.hasOwn(p.model_map, model) ? p.model_map[model] : model;
    const c = { provider: p, upstreamModel, coolingDown: cooldowns.isCooling(p.id) };
    (c.coolingDown ? cooling : ready).push(c);
  }
  const byPriority = (a: Candidate, b: Candidate) => a.provider.priority - b.provider.priority;
  return { candidates: [...ready.sort(byPriority), ...cooling.sort(byPriority)], model };
}

/** Model ids a workspace can name without guessing: explicit patterns and aliases. */
export function listedModels(providers: ProviderConfig[]): { id: string; owned_by: string }[] {
  const seen = new Map<string, string>();
  for (const p of providers) {
    if (!p.enabled) continue;
    for (const alias of Object.keys(p.model_map)) if (!seen.has(alias)) seen.set(alias, p.name);
    for (const m of p.models) if (!m.includes("*") && !seen.has(m)) seen.set(m, p.name);
  }
  return [...seen].map(([id, owned_by]) => ({ id, owned_by }));
}
