import type { Sql } from "../db/client.ts";
import { checkedLimits, type BudgetPeriod, type Limits, type LimitsPatch } from "../api-keys/limits.ts";
import { spendPeriod } from "../usage/period.ts";

/** A workspace's limits with its spend over the current budget period (the UTC month without a budget). */
interface WorkspaceLimits extends Limits {
  /** From usage_daily: every request of the workspace, whatever key. */
  spend_usd: number;
  spend_period: BudgetPeriod;
  budget_resets_at: Date | null;
}

export async function getWorkspaceLimits(sql: Sql, workspaceId: string, now: Date = new Date()): Promise<WorkspaceLimits | null> {
  const [w] = await sql<Limits[]>`
    select rpm_limit, tpm_limit, budget_usd::float8 as budget_usd, budget_period from workspaces where id = ${workspaceId}`;
  if (!w) return null;
  const period = spendPeriod(w.budget_period, now);
  const [s] = await sql<{ spend_usd: number }[]>`
    select coalesce(sum(cost_usd), 0)::float8 as spend_usd from usage_daily
    where workspace_id = ${workspaceId} ${period.since ? sql`and day >= ${period.since}::date` : sql``}`;
  return { ...w, spend_usd: s.spend_usd, spend_period: period.period, budget_resets_at: w.budget_usd !== null ? period.resets_at : null };
}

/**
 * Applies a patch (absent: unchanged, null: cleared; the budget's two fields together).
 * Returns whether anything changed, so the caller tells the gateway only about real changes.
 */
export async function updateWorkspaceLimits(sql: Sql, workspaceId: string, patch: LimitsPatch): Promise<boolean> {
  return sql.begin(async (tx) => {
    const [cur] = await tx<Limits[]>`
      select rpm_limit, tpm_limit, budget_usd::float8 as budget_usd, budget_period from workspaces where id = ${workspaceId} for update`;
    if (!cur) return false;
    const next = checkedLimits(cur, patch);
    const same = (Object.keys(next) as (keyof Limits)[]).every((k) => next[k] === cur[k]);
    if (same) return false;
    await tx`
      update workspaces set rpm_limit = ${next.rpm_limit}, tpm_limit = ${next.tpm_limit},
        budget_usd = ${next.budget_usd}, budget_period = ${next.budget_period}, updated_at = now()
      where id = ${workspaceId}`;
    return true;
  });
}
