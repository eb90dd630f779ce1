import type { Sql } from "../db/client.ts";
import { checkRange } from "./model.ts";
import { conditions, LOG_KEY_COLUMNS, type LogFilters } from "./service.ts";

/** The columns of an export, in order: the list's fields (no bodies, no attempt trail), created_at in UTC. */
export const EXPORT_COLUMNS = [
  "id",
  "created_at",
  "request_id",
  "endpoint",
  "api_key_id",
  "api_key_name",
  "tags",
  "provider_id",
  "provider_name",
  "provider_type",
  "model_requested",
  "model_used",
  "stream",
  "status",
  "error_class",
  "error_message",
  "latency_ms",
  "ttft_ms",
  "prompt_tokens",
  "completion_tokens",
  "cached_tokens",
  "reasoning_tokens",
  "usage_estimated",
  "cost_usd",
  "attempt_count",
] as const;

type ExportRow = Record<(typeof EXPORT_COLUMNS)[number], string | number | boolean | string[] | null>;

/**
 * One CSV cell (RFC 4180). Text that a spreadsheet would read as a formula (= + - @, or a tab or
 * carriage return that some strip before looking) gets a leading apostrophe: a model name or an
 * error message is data, never a formula. Numbers and booleans are written as they are.
 */
export function csvCell(value: string | number | boolean | string[] | null): string {
  if (value === null) return "";
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  let s = Array.isArray(value) ? value.join(" ") : value;
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

const csvLine = (cells: (string | number | boolean | string[] | null)[]) => `${cells.map(csvCell).join(",")}\r\n`;

const BATCH = 500;

/**
 * The filtered rows, newest first, at most `limit` (+1, so the caller can tell a cut-off range),
 * read through a cursor so a large range never sits in memory whole.
 */
async function* exportRows(sql: Sql, workspaceId: string, f: LogFilters, limit: number): AsyncGenerator<ExportRow[]> {
  checkRange(f);
  const query = sql<ExportRow[]>`
    select id, to_char(created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as created_at, request_id, endpoint,
      api_key_id, ${LOG_KEY_COLUMNS(sql)}, provider_id, provider_name, provider_type, model_requested, model_used,
      stream, status, error_class, error_message, latency_ms, ttft_ms, prompt_tokens, completion_tokens, cached_tokens,
      reasoning_tokens, usage_estimated, cost_usd::float8 as cost_usd, jsonb_array_length(attempts) as attempt_count
    from request_logs
    where ${conditions(sql, workspaceId, f)}
    order by created_at desc, id desc
    limit ${limit + 1}`;
  for await (const rows of query.cursor(BATCH)) yield rows;
}

interface ExportOptions {
  format: "csv" | "json";
  /** At most this many rows (the rest of the range is left out and `truncated` says so). */
  limit: number;
}

/**
 * The export as a byte stream: CSV with a header line, or one JSON object whose `data` streams and
 * whose `truncated` (after the rows) says whether the cap cut the range. The first batch is read
 * before the response starts, so a bad filter or a database outage is still a proper error.
 */
export async function exportStream(sql: Sql, workspaceId: string, f: LogFilters, opts: ExportOptions): Promise<ReadableStream<Uint8Array>> {
  const rows = exportRows(sql, workspaceId, f, opts.limit);
  const first = await rows.next();
  const json = opts.format === "json";
  // A chunk per batch, read only when the client has taken the last one.
  async function* text(): AsyncGenerator<string> {
    let written = 0;
    let truncated = false;
    yield json ? `{"object":"list","row_cap":${opts.limit},"data":[` : csvLine([...EXPORT_COLUMNS]);
    for (let next = first; !next.done; next = await rows.next()) {
      let out = "";
      for (const row of next.value) {
        // The query reads one row past the cap: its presence is what "truncated" means.
        if (written === opts.limit) {
          truncated = true;
          continue;
        }
        out += json ? `${written > 0 ? "," : ""}${JSON.stringify(row)}` : csvLine(EXPORT_COLUMNS.map((c) => row[c]));
        written++;
      }
      if (out) yield out;
    }
    if (json) yield `],"truncated":${truncated}}`;
  }
  const chunks = text();
  return new ReadableStream<string>({
    async pull(controller) {
      const next = await chunks.next();
      if (next.done) controller.close();
      else controller.enqueue(next.value);
    },
    async cancel() {
      await rows.return(undefined);
    },
  }).pipeThrough(new TextEncoderStream());
}
