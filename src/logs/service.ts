import type { Sql } from "../db/client.ts";
import { LOG_BODY_LIMIT, isTruncated } from "../telemetry/content.ts";
import type { AttemptRecord, RequestRecord } from "../telemetry/types.ts";
import type * as v from "valibot";
import { checkRange, encodeCursor, type LogCursor, type LogsQuery } from "./model.ts";

/** The list's filters (LogsQuery's, with `range` resolved into from and to): from inclusive, to exclusive. */
export type LogFilters = Partial<
  Pick<v.InferOutput<typeof LogsQuery>, "status" | "provider" | "model" | "key" | "tag" | "request_id" | "from" | "to">
>;

export interface LogListOptions extends LogFilters {
  /** 1-based; used (as an offset) only without a cursor. */
  page?: number;
  limit?: number;
  /** Continue after this position (keyset pagination: stable while new rows arrive). */
  cursor?: LogCursor | null;
}

/** A log row in lists: the stored record without bodies or the attempt trail (its length only). */
export type LogListItem = Omit<RequestRecord, "workspace_id" | "attempts" | "request_body" | "response_body" | "created_at" | "tags"> & {
  attempt_count: number;
  created_at: Date;
  /** The key's tags when the request was made; empty when it had none. */
  tags: string[];
  /** The key's current name; null without a key or once the key is deleted. */
  api_key_name: string | null;
};

export interface LogPage {
  items: LogListItem[];
  page: number;
  limit: number;
  has_more: boolean;
  /** Pass as `cursor` for the next page; null on the last one. */
  next_cursor: string | null;
  /** Rows matching the filters (not only those after the cursor). Exact up to TOTAL_EXACT_LIMIT. */
  total: number;
  /** True when total exceeded TOTAL_EXACT_LIMIT and is the planner's estimate instead. */
  total_is_estimate: boolean;
}

export interface LogDetail extends Omit<LogListItem, "attempt_count"> {
  attempts: AttemptRecord[];
  request_body: string | null;
  response_body: string | null;
  request_body_truncated: boolean;
  response_body_truncated: boolean;
  /** Bodies are stored up to this many characters (workspace setting log_content). */
  body_limit_chars: number;
}

// A subquery rather than a join: the filters name request_logs' columns unqualified.
export const LOG_KEY_COLUMNS = (sql: Sql) => sql`
  coalesce(tags, '{}') as tags,
  (select k.name from api_keys k where k.id = request_logs.api_key_id and k.workspace_id = request_logs.workspace_id) as api_key_name`;

/** The columns of a log row as the API shows it, with `extra` (the list's attempt count, the detail's attempts and bodies). */
const logColumns = (sql: Sql, extra: string) => sql`
  id, request_id, api_key_id, provider_id, provider_name, provider_type, endpoint, model_requested, model_used,
  stream, status, error_class, error_message, latency_ms, ttft_ms, prompt_tokens, completion_tokens,
  cached_tokens, reasoning_tokens, usage_estimated, cost_usd::float8 as cost_usd,
  ${sql.unsafe(extra)}, created_at, ${LOG_KEY_COLUMNS(sql)}`;

/** The columns of a LogListItem. */
export const LIST_COLUMNS = (sql: Sql) => logColumns(sql, "jsonb_array_length(attempts) as attempt_count");

/** Matching rows are counted exactly up to this many; beyond it the count is estimated. */
const TOTAL_EXACT_LIMIT = 10_000;

// The error predicate is written exactly as in request_logs_errors' WHERE so the planner uses that index.
export function conditions(sql: Sql, workspaceId: string, f: LogFilters) {
  return sql`
    workspace_id = ${workspaceId}
    ${f.status === "error" ? sql`and (status >= 400 or error_class is not null)` : f.status === "ok" ? sql`and status < 400 and error_class is null` : sql``}
    ${f.provider !== undefined ? sql`and provider_id = ${f.provider}` : sql``}
    ${f.model !== undefined ? sql`and model_requested = ${f.model}` : sql``}
    ${f.key !== undefined ? sql`and api_key_id = ${f.key}` : sql``}
    ${f.request_id !== undefined ? sql`and request_id = ${f.request_id}` : sql``}
    ${f.tag !== undefined ? sql`and tags @> array[${f.tag}]::text[]` : sql``}
    ${f.from ? sql`and created_at >= ${f.from}` : sql``}
    ${f.to ? sql`and created_at < ${f.to}` : sql``}`;
}

/**
 * One page of a workspace's request logs, newest first. With a cursor the page is a keyset range
 * scan of (created_at, id), as fast at any depth; without one `page` becomes an offset, which
 * reads every skipped index entry (see bench/logs-pagination.ts for what that costs).
 */
export async function listLogs(sql: Sql, workspaceId: string, opts: LogListOptions = {}): Promise<LogPage> {
  checkRange(opts);
  const limit = Math.min(Math.max(opts.limit ?? 50, 1), 200);
  const page = Math.max(opts.page ?? 1, 1);
  const cursor = opts.cursor ?? null;
  const rows = await sql<(LogListItem & { cursor_at: string })[]>`
    select ${LIST_COLUMNS(sql)},
      to_char(created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as cursor_at
    from request_logs
    where ${conditions(sql, workspaceId, opts)}
      ${cursor ? sql`and (created_at, id) < (${cursor.at}::timestamptz, ${cursor.id})` : sql``}
    order by created_at desc, id desc
    limit ${limit + 1}
    ${cursor ? sql`` : sql`offset ${(page - 1) * limit}`}`;
  const has_more = rows.length > limit;
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  const { total, estimated } = await countLogs(sql, workspaceId, opts);
  return {
    items: items.map(({ cursor_at: _, ...item }) => item),
    page,
    limit,
    has_more,
    next_cursor: has_more && last ? encodeCursor({ at: last.cursor_at, id: last.id }) : null,
    total,
    total_is_estimate: estimated,
  };
}

/** Exact count up to TOTAL_EXACT_LIMIT (a bounded index scan), else the planner's estimate (no scan). */
export async function countLogs(
  sql: Sql,
  workspaceId: string,
  f: LogFilters,
  exactLimit: number = TOTAL_EXACT_LIMIT,
): Promise<{ total: number; estimated: boolean }> {
  const [c] = await sql<{ n: number }[]>`
    select count(*)::int as n from (
      select 1 from request_logs where ${conditions(sql, workspaceId, f)} limit ${exactLimit + 1}
    ) s`;
  if (c.n <= exactLimit) return { total: c.n, estimated: false };
  const [plan] = await sql<{ "QUERY PLAN": unknown }[]>`
    explain (format json) select 1 from request_logs where ${conditions(sql, workspaceId, f)}`;
  const raw = plan["QUERY PLAN"];
  const parsed = (typeof raw === "string" ? JSON.parse(raw) : raw) as { Plan?: { "Plan Rows"?: number } }[];
  const estimate = Math.round(parsed?.[0]?.Plan?.["Plan Rows"] ?? 0);
  return { total: Math.max(estimate, exactLimit + 1), estimated: true };
}

/** One log row with its attempt trail and (when content logging stored them) bodies. */
export async function getLog(sql: Sql, workspaceId: string, logId: string): Promise<LogDetail | null> {
  const [row] = await sql<Omit<LogDetail, "request_body_truncated" | "response_body_truncated" | "body_limit_chars">[]>`
    select ${logColumns(sql, "attempts, request_body, response_body")}
    from request_logs
    where workspace_id = ${workspaceId} and id = ${logId}`;
  if (!row) return null;
  return {
    ...row,
    request_body_truncated: isTruncated(row.request_body),
    response_body_truncated: isTruncated(row.response_body),
    body_limit_chars: LOG_BODY_LIMIT,
  };
}
