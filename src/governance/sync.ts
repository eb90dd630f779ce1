import type { Sql } from "../db/client.ts";

/** Requests and tokens this instance admitted in one scope and minute since its last sync. */
export interface RateDelta {
  scope: string;
  window: number;
  requests: number;
  tokens: number;
}

/** A budget whose spend is read: `key_id` null for a workspace's budget. */
export interface SpendQuery {
  scope: string;
  workspace_id: string;
  key_id: string | null;
  /** First UTC day of the period (ms); 0 = all time. */
  since: number;
}

interface Exchanged {
  rates: Map<string, { window: number; requests: number; tokens: number }>;
  spend: Map<string, number>;
}

const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
export const rateId = (scope: string, window: number) => `${scope}@${window}`;

/**
 * ONE statement for every scope: adds this instance's increments to rate_windows (upserted in key
 * order, so instances never deadlock), reads back the totals of all instances for each scope and
 * minute sent, and reads the spend of each budget from the usage counters the log writer keeps
 * (usage_key_daily for a key, usage_daily for a workspace).
 */
export async function exchange(sql: Sql, rates: RateDelta[], spends: SpendQuery[]): Promise<Exchanged> {
  const rows = await sql<
    { kind: string; scope: string; window_start: Date | null; requests: string | null; tokens: string | null; spent: number | null }[]
  >`
    with incoming as (
      select * from unnest(
        ${sql.array(rates.map((r) => r.scope))}::text[],
        ${sql.array(rates.map((r) => new Date(r.window).toISOString()))}::timestamptz[],
        ${sql.array(rates.map((r) => String(Math.round(r.requests))))}::bigint[],
        ${sql.array(rates.map((r) => String(Math.round(r.tokens))))}::bigint[]
      ) as t(scope, window_start, requests, tokens)
    ), added as (
      insert into rate_windows as w (scope, window_start, requests, tokens)
      select scope, window_start, requests, tokens from incoming where requests <> 0 or tokens <> 0
      order by scope, window_start
      on conflict (scope, window_start) do update set requests = w.requests + excluded.requests, tokens = w.tokens + excluded.tokens
      returning scope, window_start, requests, tokens
    ), budgets as (
      select * from unnest(
        ${sql.array(spends.map((s) => s.scope))}::text[],
        ${sql.array(spends.map((s) => s.workspace_id))}::text[],
        ${sql.array(spends.map((s) => s.key_id ?? ""))}::text[],
        ${sql.array(spends.map((s) => day(s.since)))}::date[]
      ) as b(scope, workspace_id, key_id, since)
    )
    select 'rate' as kind, i.scope, i.window_start,
           coalesce(a.requests, w.requests, 0)::text as requests, coalesce(a.tokens, w.tokens, 0)::text as tokens, null::float8 as spent
    from incoming i
    left join added a on a.scope = i.scope and a.window_start = i.window_start
    left join rate_windows w on w.scope = i.scope and w.window_start = i.window_start
    union all
    select 'spend', b.scope, null, null, null,
      case when b.key_id = ''
        then (select coalesce(sum(u.cost_usd), 0) from usage_daily u where u.workspace_id = b.workspace_id and u.day >= b.since)
        else (select coalesce(sum(u.cost_usd), 0) from usage_key_daily u where u.workspace_id = b.workspace_id and u.api_key_id = b.key_id and u.day >= b.since)
      end::float8
    from budgets b`;
  const out: Exchanged = { rates: new Map(), spend: new Map() };
  for (const r of rows) {
    if (r.kind === "rate" && r.window_start) {
      const window = new Date(r.window_start).getTime();
      out.rates.set(rateId(r.scope, window), { window, requests: Number(r.requests), tokens: Number(r.tokens) });
    } else if (r.kind === "spend") out.spend.set(r.scope, Number(r.spent ?? 0));
  }
  return out;
}

/** Minutes nobody will ask about again. */
export async function deleteOldWindows(sql: Sql, before: number): Promise<void> {
  await sql`delete from rate_windows where window_start < ${new Date(before).toISOString()}::timestamptz`;
}
