import type { Sql } from "../db/client.ts";

/** One provider entry's record over a range, from every attempt made against it (answered or not). */
export interface ProviderHealth {
  provider_id: string;
  /** The entry's current name; for a deleted entry, the name its last attempt recorded. */
  provider_name: string;
  provider_type: string | null;
  /** False for an entry deleted since (its attempts are still counted). */
  configured: boolean;
  enabled: boolean | null;
  attempts: number;
  successes: number;
  failures: number;
  /** Failed attempts by the class the gateway gave them (network, timeout, rate_limit, server, auth, …). */
  failures_by_class: Record<string, number>;
  /** Failed attempts by upstream status class: "4xx", "5xx", or "none" when no response came (network, timeout). */
  failures_by_status: Record<string, number>;
  /** Requests that tried this entry at least once. */
  requests: number;
  /** Requests where this entry failed and another entry then answered. */
  fallbacks: number;
  /** fallbacks / requests; null without requests. */
  fallback_rate: number | null;
  /** Attempt latency (every attempt, failed ones included), milliseconds; null without attempts. */
  latency_p50_ms: number | null;
  latency_p95_ms: number | null;
  /** The gateway's cooldown of this entry in this process: until when (ISO, UTC), or null when ready. */
  cooling_until: string | null;
}

export interface HealthReport {
  from: string;
  to: string;
  providers: ProviderHealth[];
}

interface AttemptStats {
  provider_id: string;
  provider_name: string;
  provider_type: string | null;
  attempts: number;
  successes: number;
  requests: number;
  fallbacks: number;
  p50: number | null;
  p95: number | null;
}

/**
 * Per provider entry over [from, to): read from the attempt trails of the range's log rows, so an
 * entry that failed every time (and so never answered) is there with its failures. The range scan
 * uses request_logs_recent (workspace_id, created_at); the attempts are expanded per row.
 */
export async function providerHealth(
  sql: Sql,
  workspaceId: string,
  range: { from: Date; to: Date },
  cooldownUntil: (providerId: string) => number | null,
): Promise<HealthReport> {
  const rows = sql`
    select r.id as log_id, r.provider_id as answered_by, (r.status < 400 and r.error_class is null) as answered, a.value as a
    from request_logs r cross join lateral jsonb_array_elements(r.attempts) a
    where r.workspace_id = ${workspaceId} and r.created_at >= ${range.from} and r.created_at < ${range.to}`;
  const [stats, classes, configured] = await Promise.all([
    sql<AttemptStats[]>`
      with t as (${rows})
      select a->>'provider_id' as provider_id,
        (array_agg(a->>'provider_name' order by log_id desc))[1] as provider_name,
        (array_agg(a->>'provider_type' order by log_id desc))[1] as provider_type,
        count(*)::int as attempts,
        count(*) filter (where a->>'error_class' is null)::int as successes,
        count(distinct log_id)::int as requests,
        count(distinct log_id) filter (
          where answered and a->>'error_class' is not null and answered_by is distinct from a->>'provider_id'
        )::int as fallbacks,
        percentile_cont(0.5) within group (order by (a->>'latency_ms')::float8) as p50,
        percentile_cont(0.95) within group (order by (a->>'latency_ms')::float8) as p95
      from t where a->>'provider_id' is not null
      group by 1`,
    sql<{ provider_id: string; error_class: string; status_class: string; n: number }[]>`
      with t as (${rows})
      select a->>'provider_id' as provider_id, a->>'error_class' as error_class,
        case when jsonb_typeof(a->'status') = 'number' then ((a->>'status')::int / 100)::text || 'xx' else 'none' end as status_class,
        count(*)::int as n
      from t where a->>'provider_id' is not null and a->>'error_class' is not null
      group by 1, 2, 3`,
    sql<{ id: string; name: string; type: string; enabled: boolean }[]>`
      select id, name, type, enabled from provider_keys where workspace_id = ${workspaceId} order by priority, created_at`,
  ]);
  const byId = new Map(stats.map((s) => [s.provider_id, s]));
  const out: ProviderHealth[] = [];
  const entry = (id: string, name: string, type: string | null, conf: { enabled: boolean } | null): ProviderHealth => {
    // An entry without attempts in the range: zeros, and no latency.
    const s = byId.get(id) ?? { attempts: 0, successes: 0, requests: 0, fallbacks: 0, p50: null, p95: null };
    const failuresByClass: Record<string, number> = {};
    const failuresByStatus: Record<string, number> = {};
    for (const c of classes) {
      if (c.provider_id !== id) continue;
      failuresByClass[c.error_class] = (failuresByClass[c.error_class] ?? 0) + c.n;
      failuresByStatus[c.status_class] = (failuresByStatus[c.status_class] ?? 0) + c.n;
    }
    const until = cooldownUntil(id);
    return {
      provider_id: id,
      provider_name: name,
      provider_type: type,
      configured: conf !== null,
      enabled: conf ? conf.enabled : null,
      attempts: s.attempts,
      successes: s.successes,
      failures: s.attempts - s.successes,
      failures_by_class: failuresByClass,
      failures_by_status: failuresByStatus,
      requests: s.requests,
      fallbacks: s.fallbacks,
      fallback_rate: s.requests > 0 ? s.fallbacks / s.requests : null,
      latency_p50_ms: s.p50,
      latency_p95_ms: s.p95,
      cooling_until: until === null ? null : new Date(until).toISOString(),
    };
  };
  // Configured entries first, in priority order (those without attempts too), then deleted ones.
  for (const p of configured) out.push(entry(p.id, p.name, p.type, p));
  const known = new Set(configured.map((p) => p.id));
  for (const s of stats) if (!known.has(s.provider_id)) out.push(entry(s.provider_id, s.provider_name, s.provider_type, null));
  return { from: range.from.toISOString(), to: range.to.toISOString(), providers: out };
}
