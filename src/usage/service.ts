import type { Sql } from "../db/client.ts";
import { invalid } from "../http/errors.ts";
import { DAILY_COUNTERS, KEY_COUNTERS, summed } from "./counters.ts";

/** UTC days, YYYY-MM-DD, both inclusive. */
export interface UsageRange {
  from: string;
  to: string;
}

interface UsageTotals {
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
const isoDay = (t: number) => new Date(t).toISOString().slice(0, 10);

/** Fills in defaults (the last 30 days through today, UTC) and checks the range: from ≤ to, at most 366 days. */
export function usageRange(q: { from?: string; to?: string }, now: Date = new Date()): UsageRange {
  const today = Date.parse(`${isoDay(now.getTime())}T00:00:00Z`);
  const to = q.to ?? (q.from ? isoDay(Math.min(today, Date.parse(`${q.from}T00:00:00Z`) + (DEFAULT_DAYS - 1) * DAY_MS)) : isoDay(today));
  const from = q.from ?? isoDay(Date.parse(`${to}T00:00:00Z`) - (DEFAULT_DAYS - 1) * DAY_MS);
  const days = (Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / DAY_MS + 1;
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

/** Per provider entry, most expensive first. */
export async function usageByProvider(sql: Sql, workspaceId: string, range: UsageRange): Ranged<ProviderUsage> {
  const data = await sql<ProviderUsage[]>`
    select nullif(u.provider_id, '') as provider_id, min(p.name) as provider_name, ${summed(sql, DAILY_COUNTERS)}
    from usage_daily u
    left join provider_keys p on p.id = u.provider_id and p.workspace_id = u.workspace_id
    where ${inRange(sql, workspaceId, range)}
    group by u.provider_id
    order by cost_usd desc, requests desc, u.provider_id`;
  return { from: range.from, to: range.to, data };
}

/** Per model, most expensive first. */
export async function usageByModel(sql: Sql, workspaceId: string, range: UsageRange): Ranged<ModelUsage> {
  const data = await sql<ModelUsage[]>`
    select u.model, ${summed(sql, DAILY_COUNTERS)}
    from usage_daily u
    where ${inRange(sql, workspaceId, range)}
    group by u.model
    order by cost_usd desc, requests desc, u.model`;
  return { from: range.from, to: range.to, data };
}

/** Per gateway key (usage_key_daily), most expensive first; deleted keys keep their id. */
export async function usageByKey(sql: Sql, workspaceId: string, range: UsageRange): Ranged<KeyUsage> {
  const data = await sql<KeyUsage[]>`
    select u.api_key_id, min(k.name) as name, min(k.prefix) as prefix,
      coalesce(bool_or(k.revoked_at is not null), false) as revoked, count(k.id) = 0 as deleted,
      ${summed(sql, KEY_COUNTERS)}
    from usage_key_daily u
    left join api_keys k on k.id = u.api_key_id and k.workspace_id = u.workspace_id
    where ${inRange(sql, workspaceId, range)}
    group by u.api_key_id
    order by cost_usd desc, requests desc, u.api_key_id`;
  return { from: range.from, to: range.to, data };
}
