import type { Sql } from "../db/client.ts";
import { conditions, LIST_COLUMNS, type LogFilters, type LogListItem } from "./service.ts";
import type { LogCursor } from "./model.ts";

/**
 * The logs page's live mode asks "which rows were written since I last looked?". That is a
 * question about logged_at (when the row reached the database), not created_at (the request's
 * start): a long stream is written after shorter requests that started later. The mark is the
 * (logged_at, id) of the newest row seen, so rows of one batch (one logged_at) are never split.
 *
 * logged_at has no index: each poll also bounds created_at to LIVE_WINDOW, a short range scan of
 * request_logs_recent. A request that took longer than that to be written (a spool replayed
 * after an outage) shows on the next full page load instead.
 */
const LIVE_WINDOW = "1 hour";

/** The newest row written so far (the live mode's starting point); the database's clock when there is none. */
export async function liveMark(sql: Sql, workspaceId: string): Promise<LogCursor> {
  const [row] = await sql<{ at: string; id: string }[]>`
    select to_char(coalesce(max(logged_at), now()) at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as at,
      coalesce((array_agg(id order by logged_at desc, id desc))[1], '') as id
    from request_logs
    where workspace_id = ${workspaceId} and created_at > now() - ${LIVE_WINDOW}::interval`;
  return { at: row.at, id: row.id };
}

/** Rows matching the filters written after `mark`, newest first, at most `limit`; and the new mark. */
export async function logsSince(
  sql: Sql,
  workspaceId: string,
  f: LogFilters,
  mark: LogCursor,
  limit: number,
): Promise<{ items: LogListItem[]; mark: LogCursor; more: boolean }> {
  const rows = await sql<(LogListItem & { mark_at: string })[]>`
    select ${LIST_COLUMNS(sql)},
      to_char(logged_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as mark_at
    from request_logs
    where ${conditions(sql, workspaceId, f)}
      and created_at > now() - ${LIVE_WINDOW}::interval
      -- As text: a parameter typed timestamptz goes through a JS Date, which drops the microseconds.
      and (logged_at, id) > (${mark.at}::text::timestamptz, ${mark.id})
    order by logged_at, id
    limit ${limit + 1}`;
  const more = rows.length > limit;
  const taken = rows.slice(0, limit);
  const last = taken[taken.length - 1];
  const items = taken.map(({ mark_at: _, ...item }) => item);
  items.sort((a, b) => b.created_at.getTime() - a.created_at.getTime() || (a.id < b.id ? 1 : -1));
  return { items, mark: last ? { at: last.mark_at, id: last.id } : mark, more };
}
