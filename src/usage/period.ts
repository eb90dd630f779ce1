import { periodEnd, periodStart, type BudgetPeriod } from "../governance/limits.ts";
import { isoDay } from "./service.ts";

/**
 * The UTC period a budget counts spend over, as days of usage_key_daily / usage_daily: from
 * `since` (inclusive; null = since the beginning) until `resets_at` (null = never).
 * Without a budget, spend is shown for the current calendar month.
 */
interface SpendPeriod {
  period: BudgetPeriod;
  /** YYYY-MM-DD, or null for all time. */
  since: string | null;
  resets_at: Date | null;
}

/** The same UTC periods the gateway enforces budgets over (governance/limits.ts). */
export function spendPeriod(budget: BudgetPeriod | null, now: Date = new Date()): SpendPeriod {
  const period = budget ?? "month";
  const t = now.getTime();
  const end = budget ? periodEnd(period, t) : null;
  return { period, since: period === "total" ? null : isoDay(periodStart(period, t)), resets_at: end === null ? null : new Date(end) };
}
