import type { Sql } from "../db/client.ts";

/** The counters of a usage_daily row, per (workspace, UTC day, provider, model). */
export const DAILY_COUNTERS = [
  "requests",
  "errors",
  "prompt_tokens",
  "completion_tokens",
  "cached_tokens",
  "reasoning_tokens",
  "cost_usd",
  "unpriced_requests",
];

/** usage_key_daily has no cached or reasoning tokens: the per-key counters are these. */
export const KEY_COUNTERS = DAILY_COUNTERS.filter((c) => c !== "cached_tokens" && c !== "reasoning_tokens");

/** `coalesce(sum(u.c), 0)::float8 as c` per counter: exact integers up to 2^53, and cost as a plain JSON number. */
export const summed = (sql: Sql, counters: string[]) =>
  sql.unsafe(counters.map((c) => `coalesce(sum(u.${c}), 0)::float8 as ${c}`).join(",\n"));

/** An upsert's `do update set`: each counter of row `t` grows by the incoming row's (`c = t.c + excluded.c`). */
export const addedUp = (sql: Sql, t: string, counters: string[]) =>
  sql.unsafe(counters.map((c) => `${c} = ${t}.${c} + excluded.${c}`).join(",\n"));
