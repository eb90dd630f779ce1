import type { Sql } from "../db/client.ts";

/** The counters of a usage_daily row, per (workspace, UTC day, provider, model), and how each sums a batch's new log rows. */
const SUM_OF_ROWS = {
  requests: "count(*)",
  errors: "count(*) filter (where status >= 400 or error_class is not null)",
  prompt_tokens: "sum(prompt_tokens)",
  completion_tokens: "sum(completion_tokens)",
  cached_tokens: "sum(cached_tokens)",
  reasoning_tokens: "sum(reasoning_tokens)",
  // USD; requests with an unknown price are not in it (unpriced_requests counts them).
  cost_usd: "coalesce(sum(cost_usd), 0)",
  // Requests that used tokens on a model with no known price.
  unpriced_requests: "count(*) filter (where cost_usd is null and prompt_tokens + completion_tokens > 0)",
};
type Counter = keyof typeof SUM_OF_ROWS;
export const DAILY_COUNTERS = Object.keys(SUM_OF_ROWS) as Counter[];

/** A usage_daily row's counters, or their sums over a range (cost_usd as a plain JSON number). */
export type UsageTotals = Record<Counter, number>;

/** usage_key_daily has no cached or reasoning tokens: the per-key counters are these. */
export const KEY_COUNTERS = DAILY_COUNTERS.filter((c) => c !== "cached_tokens" && c !== "reasoning_tokens");

/** `coalesce(sum(u.c), 0)::float8 as c` per counter: exact integers up to 2^53, and cost as a plain JSON number. */
export const summed = (sql: Sql, counters: Counter[]) =>
  sql.unsafe(counters.map((c) => `coalesce(sum(u.${c}), 0)::float8 as ${c}`).join(",\n"));

/** An upsert's `do update set`: each counter of row `t` grows by the incoming row's (`c = t.c + excluded.c`). */
export const addedUp = (sql: Sql, t: string, counters: Counter[]) =>
  sql.unsafe(counters.map((c) => `${c} = ${t}.${c} + excluded.${c}`).join(",\n"));

/** The counters' column list and, in the same order, their sums over log rows (log-rows.ts counts a batch with them). */
export const fromRows = (sql: Sql, counters: Counter[]) => ({
  columns: sql.unsafe(counters.join(", ")),
  sums: sql.unsafe(counters.map((c) => SUM_OF_ROWS[c]).join(",\n")),
});
