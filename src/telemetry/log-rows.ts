import { createId } from "@paralleldrive/cuid2";
import type { Sql } from "../db/client.ts";
import { addedUp, DAILY_COUNTERS, fromRows, KEY_COUNTERS } from "../usage/counters.ts";
import { LOG_BODY_LIMIT } from "./content.ts";
import type { AttemptRecord, RequestRecord } from "./types.ts";

const INT_MAX = 2_147_483_647;
const MAX_ATTEMPTS = 50;
/** Separates the bodies in their side parameter (see encodeBatch); a body holding it travels inside the JSON instead. */
const SEP = "\u0001";

/**
 * A batch as the two parameters of insertLogs. The rows go as one JSON array, but without their
 * bodies: JSON.stringify of rows carrying kilobytes of (often non-ASCII, quote-laden) JSON text was
 * most of the writer's CPU on the request thread (bench/log-writer.ts). The bodies are joined
 * instead, two slots per row (request, response), into one text split back by string_to_array;
 * a row's body field then says where its body is: null = none, "" = in its slot, else inline.
 */
export function encodeBatch(rows: RequestRecord[]): { json: string; bodies: string } {
  const slots: string[] = new Array(rows.length * 2);
  const slim: RequestRecord[] = new Array(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i]!;
    const req = row.request_body;
    const res = row.response_body;
    const reqSlot = req !== null && !req.includes(SEP);
    const resSlot = res !== null && !res.includes(SEP);
    slots[2 * i] = reqSlot ? req : "";
    slots[2 * i + 1] = resSlot ? res : "";
    slim[i] = { ...row, request_body: reqSlot ? "" : req, response_body: resSlot ? "" : res };
  }
  return { json: JSON.stringify(slim), bodies: slots.join(SEP) };
}

/** request_logs' columns as a batch fills them, bodies aside (they travel apart, see encodeBatch); logged_at keeps its default. */
const COLUMNS = `id, request_id, workspace_id, api_key_id, provider_id, provider_name, provider_type,
  model_requested, model_used, stream, status, error_class, error_message, latency_ms, ttft_ms,
  prompt_tokens, completion_tokens, cached_tokens, reasoning_tokens, usage_estimated, cost_usd,
  attempts, created_at, tags, endpoint`;

/**
 * One statement per batch: insert the rows that are new (and whose workspace still exists), then
 * add exactly those rows to usage_daily, summed per (workspace, UTC day, provider, model) in SQL
 * (exact numeric cost sums) and upserted in key order (no deadlock between instances).
 */
export function insertLogs(sql: Sql, rows: RequestRecord[]) {
  const { json, bodies } = encodeBatch(rows);
  const columns = sql.unsafe(COLUMNS);
  const daily = fromRows(sql, DAILY_COUNTERS);
  const perKey = fromRows(sql, KEY_COUNTERS);
  return sql<{ inserted: number; orphaned: number }[]>`
    with slots as (
      select b, n from unnest(string_to_array(${bodies}::text, chr(1))) with ordinality as s(b, n)
    ), incoming as (
      -- The JSON is sent as text: postgres.js's own json serialisation of a 500-row batch costs several times more.
      select ${columns},
        case when i.request_body = '' then rq.b else i.request_body end as request_body,
        case when i.response_body = '' then rs.b else i.response_body end as response_body
      from json_populate_recordset(null::request_logs, ${json}::text::json) with ordinality as i
      left join slots rq on rq.n = 2 * i.ordinality - 1
      left join slots rs on rs.n = 2 * i.ordinality
    ), inserted as (
      insert into request_logs (${columns}, request_body, response_body)
      select ${columns}, request_body, response_body
      from incoming i
      where exists (select 1 from workspaces w where w.id = i.workspace_id)
      on conflict (id) do nothing
      returning workspace_id, api_key_id, created_at, provider_id, model_requested, model_used, status, error_class,
        prompt_tokens, completion_tokens, cached_tokens, reasoning_tokens, cost_usd
    ), counted as (
      insert into usage_daily as u (workspace_id, day, provider_id, model, ${daily.columns})
      select
        workspace_id,
        (created_at at time zone 'UTC')::date,
        coalesce(provider_id, ''),
        coalesce(model_used, model_requested),
        ${daily.sums}
      from inserted
      group by 1, 2, 3, 4
      order by 1, 2, 3, 4
      on conflict (workspace_id, day, provider_id, model) do update set
        ${addedUp(sql, "u", DAILY_COUNTERS)}
      returning 1
    ), counted_keys as (
      -- The same rows per gateway key (budgets and usage by key read this); rows without a key are not counted.
      insert into usage_key_daily as k (workspace_id, day, api_key_id, ${perKey.columns})
      select workspace_id, (created_at at time zone 'UTC')::date, api_key_id, ${perKey.sums}
      from inserted
      where api_key_id is not null
      group by 1, 2, 3
      order by 1, 3, 2
      on conflict (workspace_id, api_key_id, day) do update set
        ${addedUp(sql, "k", KEY_COUNTERS)}
      returning 1
    )
    select
      (select count(*) from inserted)::int as inserted,
      (select count(*) from incoming i where not exists (select 1 from workspaces w where w.id = i.workspace_id))::int as orphaned`.then(
    ([r]) => r,
  );
}

/** Whatever the gateway handed over, as a row PostgreSQL accepts: JSON-safe, well-formed text, integers in range. */
export function toRow(r: RequestRecord): RequestRecord {
  return {
    id: text(r.id, 64) ?? createId(),
    request_id: text(r.request_id, 200) ?? "",
    workspace_id: text(r.workspace_id, 64) ?? "",
    api_key_id: text(r.api_key_id, 64),
    provider_id: text(r.provider_id, 64),
    provider_name: text(r.provider_name, 200),
    provider_type: text(r.provider_type, 64),
    model_requested: text(r.model_requested, 300) ?? "",
    model_used: text(r.model_used, 300),
    // Records spooled before the column existed have none: they were chat requests.
    endpoint: text(r.endpoint, 32) ?? "chat",
    stream: r.stream === true,
    status: int(r.status) ?? 0,
    error_class: text(r.error_class, 64),
    error_message: text(r.error_message, 2000),
    latency_ms: int(r.latency_ms) ?? 0,
    ttft_ms: int(r.ttft_ms),
    prompt_tokens: int(r.prompt_tokens) ?? 0,
    completion_tokens: int(r.completion_tokens) ?? 0,
    cached_tokens: int(r.cached_tokens) ?? 0,
    reasoning_tokens: int(r.reasoning_tokens) ?? 0,
    usage_estimated: r.usage_estimated === true,
    cost_usd: typeof r.cost_usd === "number" && Number.isFinite(r.cost_usd) && r.cost_usd >= 0 ? r.cost_usd : null,
    attempts: Array.isArray(r.attempts) ? r.attempts.slice(0, MAX_ATTEMPTS).map(attempt) : [],
    // The gateway truncates (content.ts); this only guards the table against a body that was not.
    request_body: text(r.request_body, LOG_BODY_LIMIT + 100),
    response_body: text(r.response_body, LOG_BODY_LIMIT + 100),
    created_at: isoDate(r.created_at),
    tags: tags(r.tags),
  };
}

/** A key's tags as stored on its rows: null when it had none. */
function tags(x: unknown): string[] | null {
  if (!Array.isArray(x)) return null;
  const out = x
    .slice(0, 50)
    .map((t) => text(t, 200))
    .filter((t): t is string => t !== null);
  return out.length ? out : null;
}

function attempt(a: AttemptRecord): AttemptRecord {
  const o = (typeof a === "object" && a !== null ? a : {}) as Partial<AttemptRecord>;
  return {
    provider_id: text(o.provider_id, 64) ?? "",
    provider_name: text(o.provider_name, 200) ?? "",
    provider_type: text(o.provider_type, 64) ?? "",
    model: text(o.model, 300) ?? "",
    status: int(o.status),
    error_class: text(o.error_class, 64),
    message: text(o.message, 1000),
    latency_ms: int(o.latency_ms) ?? 0,
  };
}

function text(x: unknown, max: number): string | null {
  if (typeof x !== "string") return null;
  // PostgreSQL text cannot hold NUL, and JSON with a lone surrogate does not convert to text.
  let s = x.includes("\u0000") ? x.replaceAll("\u0000", "") : x;
  if (s.length > max) s = s.slice(0, max);
  return s.isWellFormed() ? s : s.toWellFormed();
}

function int(x: unknown): number | null {
  if (typeof x !== "number" || !Number.isFinite(x)) return null;
  return Math.min(INT_MAX, Math.max(0, Math.round(x)));
}

function isoDate(x: unknown): string {
  const d = typeof x === "string" || x instanceof Date ? new Date(x) : new Date(NaN);
  return Number.isNaN(d.getTime()) ? new Date().toISOString() : d.toISOString();
}

/** SQLSTATE classes that blame the data, not the database: 22 data exception, 23 integrity, 54 limits. */
export function isDataError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" && /^(22|23|54)[0-9A-Z]{3}$/.test(code);
}
