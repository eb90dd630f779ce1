import * as v from "valibot";
import { SANE_REQUEST_ID } from "../ids.ts";
import { invalid } from "../http/errors.ts";
import { IdParam } from "../workspaces/model.ts";

export const LogsParams = v.object({ id: IdParam });
export const LogParams = v.object({ id: IdParam, logId: IdParam });

const MAX_PAGE = 10_000;
const MAX_LIMIT = 200;

/** Query values arrive as strings: a whole number in [min, max], as a number. */
const wholeNumber = (min: number, max: number) => {
  const rule = `must be a whole number from ${min} to ${max}`;
  return v.pipe(v.string(rule), v.trim(), v.regex(/^\d{1,9}$/, rule), v.transform(Number), v.minValue(min, rule), v.maxValue(max, rule));
};

// A date, or a date-time: the time part (from T on) is what tells them apart.
const INSTANT = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|([+-])(\d{2}):?(\d{2}))?)?$/i;

function validDay(y: number, m: number, d: number): boolean {
  const t = new Date(Date.UTC(y, m - 1, d));
  return t.getUTCFullYear() === y && t.getUTCMonth() === m - 1 && t.getUTCDate() === d;
}

/**
 * An ISO date (UTC day) or date-time. A date-time without a zone is UTC; a `+hh:mm` offset that
 * arrived unencoded in a query string (`+` decodes to a space) is accepted too.
 */
function parseInstant(input: string): { at: Date; dateOnly: boolean } | null {
  const s = input.trim().replace(/(T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?) (\d{2}:?\d{2})$/i, "$1+$2");
  const t = INSTANT.exec(s);
  if (!t) return null;
  const [y, m, day, h, min, sec] = [1, 2, 3, 4, 5, 6].map((i) => Number(t[i] ?? 0));
  if (!validDay(y, m, day) || h > 23 || min > 59 || sec > 59) return null;
  const ms = Number((t[7] ?? "0").padEnd(3, "0").slice(0, 3));
  let offsetMin = 0;
  if (t[9]) {
    const oh = Number(t[10]);
    const om = Number(t[11]);
    if (oh > 23 || om > 59) return null;
    offsetMin = (t[9] === "-" ? -1 : 1) * (oh * 60 + om);
  }
  return { at: new Date(Date.UTC(y, m - 1, day, h, min, sec, ms) - offsetMin * 60_000), dateOnly: t[4] === undefined };
}

/** A string as what `parse` makes of it (parsed once); when that is null, it fails with `rule`. */
const parsedBy = <T>(rule: string, parse: (s: string) => T | null) =>
  v.rawTransform<string, T>(({ dataset, addIssue, NEVER }) => {
    const out = parse(dataset.value);
    if (out === null) addIssue({ message: rule });
    return out ?? NEVER;
  });

/** A query value parseInstant accepts, as `read` makes it; anything else fails with `rule`. */
export const instant = <T>(rule: string, read: (p: { at: Date; dateOnly: boolean }) => T) =>
  v.pipe(v.string(rule), v.maxLength(40, rule), parsedBy(rule, parseInstant), v.transform(read));

const INSTANT_RULE = "must be an ISO date (2025-01-31) or date-time (2025-01-31T12:00:00Z)";
/** `from` is inclusive. */
const FromInstant = instant(INSTANT_RULE, (p) => p.at);
/** `to` is exclusive; a bare date means "through the end of that day". */
const ToInstant = instant(INSTANT_RULE, (p) => (p.dateOnly ? new Date(p.at.getTime() + 86_400_000) : p.at));

/** Position after the last row of a page: its created_at (microseconds, UTC) and id. Opaque to clients. */
export interface LogCursor {
  at: string;
  id: string;
}

const CURSOR_AT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

export function encodeCursor(c: LogCursor): string {
  return Buffer.from(`${c.at}|${c.id}`, "utf8").toString("base64url");
}

export function decodeCursor(s: string): LogCursor | null {
  if (!/^[A-Za-z0-9_-]{1,200}$/.test(s)) return null;
  const raw = Buffer.from(s, "base64url").toString("utf8");
  const bar = raw.indexOf("|");
  if (bar < 0) return null;
  const at = raw.slice(0, bar);
  const id = raw.slice(bar + 1);
  if (!CURSOR_AT.test(at) || Number.isNaN(new Date(at).getTime()) || !id || id.length > 64) return null;
  return { at, id };
}

const CURSOR_RULE = "must be a next_cursor value from an earlier page";
const Cursor = v.pipe(v.string(CURSOR_RULE), parsedBy(CURSOR_RULE, decodeCursor));

const filterText = (max: number) =>
  v.pipe(v.string(`must be at most ${max} characters`), v.maxLength(max, `must be at most ${max} characters`));

/** A query parameter that may be absent or blank (`?provider=` from a form means "any"). */
export function queryParam<T extends v.GenericSchema<string, unknown>>(schema: T) {
  return v.pipe(
    v.optional(v.string()),
    v.transform((s) => (s === undefined || s.trim() === "" ? undefined : s)),
    v.optional(schema),
  );
}

/** queryParam, or `fallback` when absent or blank. */
const queryParamOr = <T extends v.GenericSchema<string, unknown>>(schema: T, fallback: v.InferOutput<T>) =>
  v.pipe(
    queryParam(schema),
    v.transform((x) => x ?? fallback),
  );

/** Quick ranges ending now, by name (the names are what URLs carry). */
const RANGES = { "1h": 3_600_000, "6h": 6 * 3_600_000, "24h": 86_400_000, "7d": 7 * 86_400_000, "30d": 30 * 86_400_000 } as const;
type RangeName = keyof typeof RANGES;
const RANGE_NAMES = Object.keys(RANGES) as RangeName[];
const RANGE_RULE = `must be one of ${RANGE_NAMES.join(", ")}`;

const REQUEST_ID_RULE = "must be a request id: 1 to 128 letters, digits, '.', '_', ':' or '-'";

export const LogsQuery = v.object({
  page: queryParamOr(wholeNumber(1, MAX_PAGE), 1),
  limit: queryParamOr(wholeNumber(1, MAX_LIMIT), 50),
  /** ok: status < 400 and no error class; error: the rest. */
  status: queryParam(v.picklist(["ok", "error"], "must be ok or error")),
  /** A provider entry id. */
  provider: queryParam(filterText(64)),
  /** The model requested, exactly. */
  model: queryParam(filterText(300)),
  /** A gateway key id. */
  key: queryParam(filterText(64)),
  /** Rows whose key carried this tag (exact, e.g. team:search). */
  tag: queryParam(v.pipe(v.string(), v.trim(), filterText(64))),
  from: queryParam(FromInstant),
  to: queryParam(ToInstant),
  /** The request's x-request-id, exactly (as answered in the x-request-id header). */
  request_id: queryParam(v.pipe(v.string(REQUEST_ID_RULE), v.trim(), v.regex(SANE_REQUEST_ID, REQUEST_ID_RULE))),
  /** Relative range ending now (1h, 6h, 24h, 7d, 30d); ignored when from or to is given. */
  range: queryParam(v.picklist(RANGE_NAMES, RANGE_RULE)),
  /** next_cursor of the previous page; when given, page is ignored. */
  cursor: queryParam(Cursor),
});

/** A whole range's rows come out of one export at most; `limit` may ask for fewer. */
export const MAX_EXPORT_ROWS = 100_000;

const { page: _page, limit: _limit, cursor: _cursor, ...filterEntries } = LogsQuery.entries;

export const LogsExportQuery = v.object({
  ...filterEntries,
  format: queryParamOr(v.picklist(["csv", "json"], "must be csv or json"), "csv"),
  limit: queryParamOr(wholeNumber(1, MAX_EXPORT_ROWS), MAX_EXPORT_ROWS),
});

export const HealthQuery = v.pick(LogsQuery, ["from", "to", "range"]);

/** A provider health range may span at most this long (every attempt in it is read). */
const MAX_HEALTH_RANGE_MS = 31 * 86_400_000;

/**
 * The time window a query asks for: explicit from/to win; else `range` back from now; else
 * `fallback` back from now (or no bound at all when fallback is null).
 */
export function resolveRange(
  q: { from?: Date; to?: Date; range?: RangeName },
  now: number,
  fallback: RangeName | null = null,
): { from?: Date; to?: Date } {
  if (q.from || q.to) return { from: q.from, to: q.to };
  const name = q.range ?? fallback;
  return name ? { from: new Date(now - RANGES[name]) } : {};
}

/** Refuses a window whose end (exclusive) is not after its start; an open end is never refused. */
export function checkRange(r: { from?: Date; to?: Date }): void {
  if (r.from && r.to && r.from >= r.to) throw invalid("from must be before to", "from");
}

/** The window a provider health query reads: its range (by default the last 24 h), refused when empty or longer than 31 days. */
export function healthRange(q: { from?: Date; to?: Date; range?: RangeName }, now: number): { from: Date; to: Date } {
  const r = resolveRange(q, now, "24h");
  const to = r.to ?? new Date(now);
  const range = { from: r.from ?? new Date(to.getTime() - 86_400_000), to };
  checkRange(range);
  if (range.to.getTime() - range.from.getTime() > MAX_HEALTH_RANGE_MS) throw invalid("the range may span at most 31 days", "from");
  return range;
}
