import type { Sql } from "../db/client.ts";
import { invalid } from "../http/errors.ts";
import { DAILY_COUNTERS, KEY_COUNTERS, summed } from "./counters.ts";

/** UTC days, YYYY-MM-DD, both inclusive. */
export interface UsageRange {
  from: string;
  to: string;
}

export interface UsageTotals {
  requests: number;
  errors: number;
  prompt_tokens: number;
  completion_tokens: number;
  cached_tokens: number;
  reasoning_tokens: number;
  /** USD as a JSON number; requests with an unknown price are not in it (see unpriced_requests). */
  cost_usd: number;
  /** Requests that used tokens on a model with no known price. */
  unpriced_requests: number;
}

interface UsageDay extends UsageTotals {
  day: string;
}

interface UsageSummary {
  from: string;
  to: string;
  totals: UsageTotals;
  /** Every day of the range, oldest first, zeros where nothing happened. */
  days: UsageDay[];
}

interface ProviderUsage extends UsageTotals {
  /** null for requests no provider answered. */
  provider_id: string | null;
  /** The entry's current name; null when it was deleted or for provider_id null. */
  provider_name: string | null;
}

interface ModelUsage extends UsageTotals {
  /** The model that answered, else the one requested. */
  model: string;
}

/** usage_key_daily has no cached or reasoning tokens (KEY_COUNTERS). */
interface KeyUsage extends Omit<UsageTotals, "cached_tokens" | "reasoning_tokens"> {
  api_key_id: string;
  /** The key's current name and prefix; null when the key was deleted. */
  name: string | null;
  prefix: string | null;
  revoked: boolean;
  deleted: boolean;
}

const DEFAULT_DAYS = 30;
const MAX_DAYS = 366;

const DAY_MS = 86_400_000;
export const isoDay = (t: number) => new Date(t).toISOString().slice(0, 10);
const dayStart = (day: string) => Date.parse(`${day}T00:00:00Z`);

/** Fills in defaults (the last 30 days through today, UTC) and checks the range: from ≤ to, at most 366 days. */
export function usageRange(q: { from?: string; to?: string }, now: Date = new Date()): UsageRange {
  const today = dayStart(isoDay(now.getTime()));
  const to = q.to ?? isoDay(q.from ? Math.min(today, dayStart(q.from) + (DEFAULT_DAYS - 1) * DAY_MS) : today);
  const from = q.from ?? isoDay(dayStart(to) - (DEFAULT_DAYS - 1) * DAY_MS);
  const days = (dayStart(to) - dayStart(from)) / DAY_MS + 1;
  if (days < 1) throw invalid("from must not be after to", "from");
  if (days > MAX_DAYS) throw invalid(`the range from..to must be at most ${MAX_DAYS} days; it is ${days}`, "from");
  return { from, to };
}

/** Rows of one workspace (as `u`) whose day is in the range. */
const inRange = (sql: Sql, workspaceId: string, range: UsageRange) =>
  sql`u.workspace_id = ${workspaceId} and u.day between ${range.from}::date and ${range.to}::date`;

type Ranged<T> = Promise<{ from: string; to: string; data: T[] }>;

/** Totals and a per-day series for a range, from usage_daily only. */
export async function usageSummary(sql: Sql, workspaceId: string, range: UsageRange): Promise<UsageSummary> {
  const days = await sql<UsageDay[]>`
    select to_char(d.day, 'YYYY-MM-DD') as day, ${summed(sql, DAILY_COUNTERS)}
    from generate_series(${range.from}::date, ${range.to}::date, interval '1 day') as d(day)
    left join usage_daily u on u.workspace_id = ${workspaceId} and u.day = d.day::date
    group by d.day
    order by d.day`;
  const [totals] = await sql<
    UsageTotals[]
  >`select ${summed(sql, DAILY_COUNTERS)} from usage_daily u where ${inRange(sql, workspaceId, range)}`;
  return { from: range.from, to: range.to, totals, days };
}

/** One row per group (`u.<key>`) of the range, most expensive first; `from` is the counters table as `u`, joined to what names its rows. */
const breakdown =
  <T extends object>(key: string, select: string, from: string, counters = DAILY_COUNTERS) =>
  async (sql: Sql, workspaceId: string, range: UsageRange): Ranged<T> => {
    const data = await sql<T[]>`
      select ${sql.unsafe(select)}, ${summed(sql, counters)}
      from ${sql.unsafe(from)}
      where ${inRange(sql, workspaceId, range)}
      group by u.${sql.unsafe(key)}
      order by cost_usd desc, requests desc, u.${sql.unsafe(key)}`;
    return { from: range.from, to: range.to, data };
  };

/** Per provider entry. */
export const usageByProvider = breakdown<ProviderUsage>(
  "provider_id",
  "nullif(u.provider_id, '') as provider_id, min(p.name) as provider_name",
  "usage_daily u left join provider_keys p on p.id = u.provider_id and p.workspace_id = u.workspace_id",
);

/** Per model. */
export const usageByModel = breakdown<ModelUsage>("model", "u.model", "usage_daily u");

/** Per gateway key (usage_key_daily); deleted keys keep their id. */
export const usageByKey = breakdown<KeyUsage>(
  "api_key_id",
  `u.api_key_id, min(k.name) as name, min(k.prefix) as prefix,
    coalesce(bool_or(k.revoked_at is not null), false) as revoked, count(k.id) = 0 as deleted`,
  "usage_key_daily u left join api_keys k on k.id = u.api_key_id and k.workspace_id = u.workspace_id",
  KEY_COUNTERS,
);
