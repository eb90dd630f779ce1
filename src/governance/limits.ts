/**
 * The limiter's arithmetic, free of I/O so it can be tested without a database or a clock.
 *
 * Rate limits use fixed one-minute windows aligned to UTC minutes: a window admits `rpm` requests
 * and `tpm` tokens, and everything resets when the next minute starts (the `x-ratelimit-reset-*`
 * headers count down to it). Budgets are USD over UTC periods: the calendar day, the calendar
 * month, or all time.
 */

export const WINDOW_MS = 60_000;

export type BudgetPeriod = "day" | "month" | "total";
export type ScopeKind = "key" | "workspace";

export interface Budget {
  usd: number;
  period: BudgetPeriod;
}

/** Limits of one scope (a key or a workspace); null = none. */
export interface ScopeLimits {
  rpm: number | null;
  tpm: number | null;
  budget: Budget | null;
}

export const NO_LIMITS: ScopeLimits = { rpm: null, tpm: null, budget: null };

export function hasRateLimit(l: ScopeLimits): boolean {
  return l.rpm !== null || l.tpm !== null;
}

export function windowStart(now: number): number {
  return now - (now % WINDOW_MS);
}

/** Start of the budget's current period (UTC), or of the one `ahead` periods later; 0 for all time. */
export function periodStart(period: BudgetPeriod, now: number, ahead = 0): number {
  const d = new Date(now);
  if (period === "day") return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + ahead);
  if (period === "month") return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + ahead, 1);
  return 0;
}

/** When the budget's period ends and spending starts again from zero; null = never. */
export const periodEnd = (period: BudgetPeriod, now: number): number | null => (period === "total" ? null : periodStart(period, now, 1));

/** OpenAI's duration format for `x-ratelimit-reset-*`: "20ms", "1s", "6m0s", "1h2m3s". */
export function formatDuration(ms: number): string {
  const t = Math.max(0, Math.ceil(ms));
  if (t < 1000) return `${t}ms`;
  const s = Math.ceil(t / 1000);
  if (s < 60) return `${s}s`;
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = s % 60;
  return h > 0 ? `${h}h${m}m${rest}s` : `${m}m${rest}s`;
}

/** What one scope has used in the current window, as far as this instance knows. */
export interface WindowUse {
  requests: number;
  tokens: number;
}

export interface RateScope {
  kind: ScopeKind;
  limits: ScopeLimits;
  used: WindowUse;
}

export type RateVerdict =
  | { ok: true }
  | { ok: false; kind: ScopeKind; what: "requests" | "tokens"; limit: number; used: number; asked: number };

/**
 * A request is admitted when, in every scope, one more request stays within rpm and its token
 * estimate stays within what tpm leaves. The key is checked before the workspace so the message
 * names the narrower scope when both are full.
 */
export function checkRate(scopes: RateScope[], estimatedTokens: number): RateVerdict {
  for (const s of scopes) {
    const { rpm, tpm } = s.limits;
    if (rpm !== null && s.used.requests + 1 > rpm)
      return { ok: false, kind: s.kind, what: "requests", limit: rpm, used: s.used.requests, asked: 1 };
    if (tpm !== null && s.used.tokens + estimatedTokens > tpm)
      return { ok: false, kind: s.kind, what: "tokens", limit: tpm, used: s.used.tokens, asked: estimatedTokens };
  }
  return { ok: true };
}

const whose = (kind: ScopeKind) => (kind === "key" ? "this API key's" : "this workspace's");

export function rateMessage(v: Extract<RateVerdict, { ok: false }>, resetMs: number): string {
  const unit = v.what === "requests" ? "requests per minute" : "tokens per minute";
  const detail =
    v.what === "tokens"
      ? v.asked > v.limit
        ? `: this request alone is estimated at ${v.asked} tokens (prompt plus max_tokens); lower max_tokens`
        : ` (${Math.max(0, v.used)} used, this request is estimated at ${v.asked})`
      : ` (${v.used} used)`;
  return `rate limit exceeded: ${whose(v.kind)} limit of ${v.limit} ${unit}${detail}; retry in ${formatDuration(resetMs)}`;
}

/**
 * The six `x-ratelimit-*` headers. Of several scopes limiting the same quantity, the one with the
 * least remaining is reported (the tighter one); a quantity nobody limits gets no headers.
 */
export function rateHeaders(scopes: RateScope[], resetMs: number): Record<string, string> {
  const headers: Record<string, string> = {};
  const reset = formatDuration(resetMs);
  for (const what of ["requests", "tokens"] as const) {
    let best: { limit: number; remaining: number } | null = null;
    for (const s of scopes) {
      const limit = what === "requests" ? s.limits.rpm : s.limits.tpm;
      if (limit === null) continue;
      const remaining = Math.max(0, limit - Math.ceil(what === "requests" ? s.used.requests : s.used.tokens));
      if (!best || remaining < best.remaining || (remaining === best.remaining && limit < best.limit)) best = { limit, remaining };
    }
    if (!best) continue;
    headers[`x-ratelimit-limit-${what}`] = String(best.limit);
    headers[`x-ratelimit-remaining-${what}`] = String(best.remaining);
    headers[`x-ratelimit-reset-${what}`] = reset;
  }
  return headers;
}

export interface BudgetScope {
  kind: ScopeKind;
  budget: Budget;
  spent: number;
}

/** Admitted while spend < budget: the request that crosses it completes, the next one is refused. */
export function checkBudget(scopes: BudgetScope[]): BudgetScope | null {
  for (const s of scopes) if (s.spent >= s.budget.usd) return s;
  return null;
}

const usd = (n: number) => `$${n.toFixed(n < 1 ? 4 : 2)}`;

export function budgetMessage(s: BudgetScope, now: number): string {
  const per = s.budget.period === "total" ? "in total" : `per ${s.budget.period} (UTC)`;
  const end = periodEnd(s.budget.period, now);
  const resets = end === null ? "it resets never" : `it resets at ${new Date(end).toISOString()}`;
  return `budget exceeded: ${whose(s.kind)} budget of ${usd(s.budget.usd)} ${per} is spent (${usd(s.spent)} used); ${resets}`;
}
