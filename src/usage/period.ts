import type { BudgetPeriod } from "../api-keys/limits.ts";

/**
 * The UTC period a budget counts spend over, as days of usage_key_daily / usage_daily: from
 * `since` (inclusive; null = since the beginning) until `resets_at` (null = never).
 * Without a budget, spend is shown for the current calendar month.
 */
export interface SpendPeriod {
  period: BudgetPeriod;
  /** YYYY-MM-DD, or null for all time. */
  since: string | null;
  resets_at: Date | null;
}

const isoDay = (d: Date) => d.toISOString().slice(0, 10);

export function spendPeriod(budget: BudgetPeriod | null, now: Date = new Date()): SpendPeriod {
  const y = now.getUTCFullYear();
  const m = now.getUTCMonth();
  const d = now.getUTCDate();
  if (budget === "day") return { period: "day", since: isoDay(new Date(Date.UTC(y, m, d))), resets_at: new Date(Date.UTC(y, m, d + 1)) };
  if (budget === "total") return { period: "total", since: null, resets_at: null };
  const monthStart = isoDay(new Date(Date.UTC(y, m, 1)));
  return { period: "month", since: monthStart, resets_at: budget === "month" ? new Date(Date.UTC(y, m + 1, 1)) : null };
}

/** Share of the budget spent, 0..1 (capped: spend may overshoot a little). */
export function budgetRatio(spend: number, budget: number | null): number | null {
  if (budget === null || !(budget > 0)) return null;
  return Math.min(1, Math.max(0, spend / budget));
}
