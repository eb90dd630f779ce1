import type { FormErrors, ViewContext } from "../context.ts";
import { Layout } from "../layout.tsx";
import { SelectField, TextField, type Option } from "../components/form.tsx";
import { getForm, nav, partial } from "../components/hx.ts";
import { FromToFields, QUICK_RANGES, RangeBar } from "../components/range.tsx";
import { EmptyState, NavButton, PageHeader, Sub, Time } from "../components/ui.tsx";
import { formatCost, formatDateTime, formatInt, formatMs } from "../components/format.ts";
import { Cell, DataTable, num, Row } from "../components/table.tsx";
import { TagList } from "../components/limits.tsx";
import type { LogFilters, LogListItem, LogPage } from "../../src/logs/service.ts";

/**
 * The filters exactly as typed (strings), so the form shows them back; `range` is a quick range
 * ending now (1h, 24h, 7d), and from/to win over it.
 */
export type LogFilterValues = Record<keyof LogFilters | "range", string>;

interface LogsProps {
  ctx: ViewContext;
  /** The page of rows to show (an empty one when the filters do not parse). */
  list: LogPage;
  filters: LogFilterValues;
  errors: FormErrors;
  providers: Option[];
  keys: Option[];
  /** Live mode: the page polls for new rows (page 1 only); `liveMark` is where it starts. */
  live: boolean;
  liveMark: string | null;
  /** Rows one export may hold (stated next to the export links). */
  exportCap: number;
}

const LOG_COLUMNS = [
  "Time",
  "Model",
  "Provider",
  "Key",
  "Status",
  "Stream",
  num("TTFT"),
  num("Latency"),
  num("Tokens in → out"),
  num("Cost"),
  "Request ID",
];

/** Request ids are long (req_ + 32 hex digits); the list shows the start, the title holds all of it. */
function shortId(id: string): string {
  return id.length > 14 ? `${id.slice(0, 12)}…` : id;
}

export const isError = (r: { status: number; error_class: string | null }) => r.status >= 400 || r.error_class !== null;

/** The list's URL query: its filters, and the page and live mode when set. */
export function query(filters: LogFilterValues, page: number, extra: Record<string, string> = {}): string {
  const q = new URLSearchParams();
  for (const [k, val] of Object.entries(filters)) if (val) q.set(k, val);
  if (page > 1) q.set("page", String(page));
  for (const [k, val] of Object.entries(extra)) if (val) q.set(k, val);
  const s = q.toString();
  return s ? `?${s}` : "";
}

/** A filter's choices, "Any" first. */
const anyOf = (options: Option[]): Option[] => [{ value: "", label: "Any" }, ...options];
const STATUS_OPTIONS = anyOf([
  { value: "ok", label: "Succeeded" },
  { value: "error", label: "Failed" },
]);

/** The same filters with a quick range in place of from/to (or no range at all). */
const withRange = (filters: LogFilterValues, range: string): LogFilterValues => ({ ...filters, from: "", to: "", range });

export function LogsPage(props: LogsProps) {
  const { ctx, filters, errors } = props;
  const { items: rows, page, has_more: hasMore, limit, total, total_is_estimate: estimated } = props.list;
  const onePage = page === 1 && !hasMore;
  const w = ctx.workspace!;
  const base = `/app/w/${encodeURIComponent(w.id)}/logs`;
  const filtered = Object.values(filters).some(Boolean);
  const firstRow = (page - 1) * limit + 1;
  const rangeActive = filters.range !== "" && !filters.from && !filters.to;
  const live = props.live && page === 1;
  const exportBase = `/workspaces/${encodeURIComponent(w.id)}/logs/export`;
  const filter = (name: keyof LogFilterValues) => ({ name, value: filters[name], errors });
  const preset = (label: string, range: string, current: boolean) => ({ label, href: base + query(withRange(filters, range), 1), current });
  return (
    <Layout ctx={ctx} title={`Logs · ${w.name}`} section="logs">
      <PageHeader
        title="Logs"
        subtitle="Every request through the gateway, newest first; times in UTC. Open one to see each provider it tried."
      />
      <RangeBar
        presets={[
          ...QUICK_RANGES.map((r) => preset(r.label, r.value, rangeActive && filters.range === r.value)),
          preset("All time", "", !filters.from && !filters.to && !filters.range),
        ]}
      >
        <div class="log-tools">
          <NavButton
            href={base + query(filters, 1, { live: live ? "" : "1" })}
            label={live ? "Live: on" : "Live: off"}
            class="btn-secondary btn-small"
          />
          <NavButton href={base + query(filters, page, { live: live ? "1" : "" })} label="Refresh" class="btn-ghost btn-small" />
          {(["CSV", "JSON"] as const).map((format) => (
            <a class="btn btn-ghost btn-small" href={exportBase + query(filters, 1, { format: format.toLowerCase() })} download="">
              Export {format}
            </a>
          ))}
        </div>
      </RangeBar>
      <form {...getForm(base)} class="filters" aria-label="Filter logs" role="search">
        <SelectField {...filter("status")} label="Status" options={STATUS_OPTIONS} />
        <SelectField {...filter("provider")} label="Provider" options={anyOf(props.providers)} />
        <TextField {...filter("model")} label="Model" placeholder="exact name" />
        <SelectField {...filter("key")} label="API key" options={anyOf(props.keys)} />
        <TextField {...filter("tag")} label="Tag" placeholder="e.g. team:search" />
        <FromToFields from={filters.from} to={filters.to} errors={errors} />
        <TextField {...filter("request_id")} label="Request ID" placeholder="x-request-id, exact" />
        {rangeActive && <input type="hidden" name="range" value={filters.range} />}
        {live && <input type="hidden" name="live" value="1" />}
        <div class="filter-actions">
          <button type="submit" class="btn btn-primary">
            Apply
          </button>
          {filtered && <NavButton href={base} label="Clear" class="btn-link" />}
        </div>
      </form>
      <p class="muted filters-note" safe>
        {`From and To take a UTC date (2026-01-31) or date and time (2026-01-31T09:00); To is exclusive. ` +
          `An export holds the filtered range, newest first, up to ${formatInt(props.exportCap)} rows.`}
      </p>
      {rows.length === 0 && !live ? (
        filtered ? (
          <EmptyState title="No requests match these filters">
            <p>
              Widen the time range or <a {...nav(base)}>clear the filters</a>.
            </p>
          </EmptyState>
        ) : (
          <EmptyState title="No requests yet">
            <p>
              Requests appear here a moment after they pass through the gateway. Create an API key on the{" "}
              <a {...nav(`/app/w/${encodeURIComponent(w.id)}/keys`)}>API keys</a> page and send one.
            </p>
          </EmptyState>
        )
      ) : (
        <>
          <p class="result-count muted">
            <span safe>
              {(onePage
                ? `${formatInt(rows.length)} ${rows.length === 1 ? "request" : "requests"}`
                : `${formatInt(firstRow)}–${formatInt(firstRow + rows.length - 1)} of ${estimated ? "about " : ""}${formatInt(total)} requests`) +
                (live ? " (new ones appear at the top every 5 s)" : "")}
            </span>
            {/* Live mode says how many rows a poll brought (not the whole table) to screen readers, politely. */}
            {live && <span id="logs-live-status" class="live-status" role="status" aria-live="polite"></span>}
          </p>
          <DataTable label="Request logs" class="table-logs" columns={LOG_COLUMNS}>
            {live && !!props.liveMark && <LivePoller url={`${base}/live${query(filters, 1, { mark: props.liveMark })}`} />}
            {rows.map((r) => (
              <LogTableRow row={r} base={base} />
            ))}
          </DataTable>
          {!onePage && (
            <nav class="pager" aria-label="Pages">
              {page > 1 ? <NavButton href={base + query(filters, page - 1)} label="← Newer" rel="prev" /> : <span></span>}
              <span class="muted">Page {page}</span>
              {hasMore ? <NavButton href={base + query(filters, page + 1)} label="Older →" rel="next" /> : <span></span>}
            </nav>
          )}
        </>
      )}
    </Layout>
  );
}

/**
 * Live mode's hidden row: every 5 s htmx replaces it with what the server answers, a new poller
 * (with the new mark) followed by the rows written since, so they land at the top of the table.
 */
function LivePoller(props: { url: string }) {
  return <tr id="logs-live" class="live-poll" hidden hx-get={props.url} hx-trigger="every 5s" hx-swap="outerHTML"></tr>;
}

/**
 * The live partial: the next poller, then the new rows (newest first), and a note when there were
 * more. When there are new rows, an htmx partial puts their count in the page's status region.
 */
export function LiveRows(props: { url: string; rows: LogListItem[]; base: string; more: boolean; refresh: string }) {
  const n = props.rows.length;
  return (
    <>
      <LivePoller url={props.url} />
      {n > 0 && (
        <template {...partial("#logs-live-status")} safe>
          {`${props.more ? "More than " : ""}${formatInt(n)} new ${n === 1 && !props.more ? "request" : "requests"}`}
        </template>
      )}
      {props.more && (
        <tr class="live-more">
          <td colspan="11">
            More new requests than shown: <a {...nav(props.refresh)}>refresh</a> to see them all.
          </td>
        </tr>
      )}
      {props.rows.map((r) => (
        <LogTableRow row={r} base={props.base} />
      ))}
    </>
  );
}

function LogTableRow(props: { row: LogListItem; base: string }) {
  const r = props.row;
  const href = `${props.base}/${encodeURIComponent(r.id)}`;
  return (
    <Row class={isError(r) ? "row-error" : ""} href={href}>
      <Cell label="Time" class="cell-time">
        <a class="row-link" {...nav(href)} aria-label={`Request ${r.request_id} at ${formatDateTime(r.created_at)}`}>
          <Time value={r.created_at} stacked />
        </a>
      </Cell>
      <Cell label="Model" class="mono cell-model" text={r.model_requested}>
        <Sub text={!!r.model_used && r.model_used !== r.model_requested && `→ ${r.model_used}`} />
      </Cell>
      <Cell label="Provider" text={r.provider_name ?? "—"}>
        {r.attempt_count > 1 && <span class="sub">{r.attempt_count} attempts</span>}
      </Cell>
      <Cell label="Key">
        {r.api_key_name !== null ? <span safe>{r.api_key_name}</span> : <span class="muted">{r.api_key_id ? "(deleted key)" : "—"}</span>}
        <TagList tags={r.tags} />
      </Cell>
      <Cell label="Status" class="cell-status">
        <StatusBadge row={r} />
      </Cell>
      <Cell label="Stream">{r.stream ? "Yes" : <span class="muted">No</span>}</Cell>
      <Cell label="TTFT" class="num">
        {r.stream && r.ttft_ms !== null ? (
          <span safe>{formatMs(r.ttft_ms)}</span>
        ) : (
          <span class="muted" aria-label="not streamed">
            —
          </span>
        )}
      </Cell>
      <Cell label="Latency" class="num" text={formatMs(r.latency_ms)} />
      <Cell label="Tokens in → out" class="num" text={`${formatInt(r.prompt_tokens)} → ${formatInt(r.completion_tokens)}`}>
        {r.usage_estimated && (
          <abbr class="sub" title="The provider reported no usage; estimated.">
            est.
          </abbr>
        )}
      </Cell>
      <Cell label="Cost" class="num cell-cost" text={formatCost(r.cost_usd)} />
      <Cell label="Request ID" class="mono cell-request-id" title={r.request_id} text={shortId(r.request_id)} />
    </Row>
  );
}

export function StatusBadge(props: { row: { status: number; error_class: string | null } }) {
  const { status, error_class } = props.row;
  return (
    <span class={isError(props.row) ? "badge badge-error" : "badge badge-ok"}>
      {status}
      {!!error_class && <span safe>{` ${error_class}`}</span>}
    </span>
  );
}
