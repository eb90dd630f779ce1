import type { FormErrors, ViewContext } from "../context.ts";
import { Layout } from "../layout.tsx";
import { SelectField, TextField, type Option } from "../components/form.tsx";
import { getForm, nav } from "../components/hx.ts";
import { EmptyState, PageHeader, StackedTime } from "../components/ui.tsx";
import { formatCost, formatDateTime, formatInt, formatMs } from "../components/format.ts";
import { Cell, DataTable, Row } from "../components/table.tsx";
import { TagList } from "../components/limits.tsx";

export interface LogRow {
  id: string;
  created_at: Date;
  model_requested: string;
  model_used: string | null;
  provider_name: string | null;
  status: number;
  error_class: string | null;
  latency_ms: number;
  prompt_tokens: number;
  completion_tokens: number;
  usage_estimated: boolean;
  cost_usd: number | null;
  attempt_count: number;
  stream: boolean;
  api_key_id: string | null;
  /** The key's current name; null without a key or when it was deleted. */
  api_key_name: string | null;
  tags: string[];
  request_id: string;
  ttft_ms: number | null;
}

/** The filters exactly as typed (strings), so the form shows them back. */
export interface LogFilterValues {
  status: string;
  provider: string;
  model: string;
  key: string;
  tag: string;
  from: string;
  to: string;
  request_id: string;
}

export interface LogsProps {
  ctx: ViewContext;
  rows: LogRow[];
  filters: LogFilterValues;
  errors: FormErrors;
  providers: Option[];
  keys: Option[];
  page: number;
  hasMore: boolean;
  total: number;
  totalIsEstimate: boolean;
  limit: number;
}

/** Request ids are long (req_ + 32 hex digits); the list shows the start, the title holds all of it. */
export function shortId(id: string): string {
  return id.length > 14 ? `${id.slice(0, 12)}…` : id;
}

export const isError = (r: { status: number; error_class: string | null }) => r.status >= 400 || r.error_class !== null;

function query(filters: LogFilterValues, page: number): string {
  const q = new URLSearchParams();
  for (const [k, val] of Object.entries(filters)) if (val) q.set(k, val);
  if (page > 1) q.set("page", String(page));
  const s = q.toString();
  return s ? `?${s}` : "";
}

export function LogsPage(props: LogsProps) {
  const { ctx, filters, errors } = props;
  const w = ctx.workspace!;
  const base = `/app/w/${encodeURIComponent(w.id)}/logs`;
  const filtered = Object.values(filters).some(Boolean);
  const firstRow = (props.page - 1) * props.limit + 1;
  return (
    <Layout ctx={ctx} title={`Logs · ${w.name}`} section="logs">
      <PageHeader title="Logs" subtitle="Every request through the gateway, newest first. Open one to see each provider it tried." />
      <form {...getForm(base)} class="filters" aria-label="Filter logs" role="search">
        <SelectField
          name="status"
          label="Status"
          value={filters.status}
          options={[
            { value: "", label: "Any" },
            { value: "ok", label: "Succeeded" },
            { value: "error", label: "Failed" },
          ]}
          errors={errors}
        />
        <SelectField name="provider" label="Provider" value={filters.provider} options={[{ value: "", label: "Any" }, ...props.providers]} errors={errors} />
        <TextField name="model" label="Model" value={filters.model} errors={errors} placeholder="exact name" />
        <SelectField name="key" label="API key" value={filters.key} options={[{ value: "", label: "Any" }, ...props.keys]} errors={errors} />
        <TextField name="tag" label="Tag" value={filters.tag} errors={errors} placeholder="e.g. team:search" />
        <TextField name="from" label="From (UTC)" type="date" value={filters.from} errors={errors} />
        <TextField name="to" label="To (UTC)" type="date" value={filters.to} errors={errors} />
        <TextField name="request_id" label="Request ID" value={filters.request_id} errors={errors} placeholder="x-request-id, exact" />
        <div class="filter-actions">
          <button type="submit" class="btn btn-primary">
            Apply
          </button>
          {filtered ? (
            <a class="btn btn-link" {...nav(base)}>
              Clear
            </a>
          ) : (
            ""
          )}
        </div>
      </form>
      {props.rows.length === 0 ? (
        filtered ? (
          <EmptyState title="No requests match these filters">
            <p>
              Widen the date range or <a {...nav(base)}>clear the filters</a>.
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
          <p class="result-count muted" safe>
            {props.page === 1 && !props.hasMore
              ? `${formatInt(props.rows.length)} ${props.rows.length === 1 ? "request" : "requests"}`
              : `${formatInt(firstRow)}–${formatInt(firstRow + props.rows.length - 1)} of ${props.totalIsEstimate ? "about " : ""}${formatInt(props.total)} requests`}
          </p>
          <DataTable
            label="Request logs"
            class="table-logs"
            columns={["Time", "Model", "Provider", "Key", "Status", "Stream", { label: "TTFT", num: true }, { label: "Latency", num: true }, { label: "Tokens in → out", num: true }, { label: "Cost", num: true }, "Request ID"]}
          >
            {props.rows.map((r) => {
              const href = `${base}/${encodeURIComponent(r.id)}`;
              return (
                <Row class={isError(r) ? "row-error" : ""} href={href}>
                  <Cell label="Time" class="cell-time">
                    <a class="row-link" {...nav(href)} aria-label={`Request ${r.request_id} at ${formatDateTime(r.created_at)}`}>
                      <StackedTime value={r.created_at} />
                    </a>
                  </Cell>
                  <Cell label="Model" class="mono cell-model">
                    <span safe>{r.model_requested}</span>
                    {r.model_used && r.model_used !== r.model_requested ? (
                      <span class="sub" safe>
                        {`→ ${r.model_used}`}
                      </span>
                    ) : (
                      ""
                    )}
                  </Cell>
                  <Cell label="Provider">
                    <span safe>{r.provider_name ?? "—"}</span>
                    {r.attempt_count > 1 ? <span class="sub">{r.attempt_count} attempts</span> : ""}
                  </Cell>
                  <Cell label="Key">
                    {r.api_key_name !== null ? <span safe>{r.api_key_name}</span> : <span class="muted">{r.api_key_id ? "(deleted key)" : "—"}</span>}
                    <TagList tags={r.tags} />
                  </Cell>
                  <Cell label="Status" class="cell-status">
                    <StatusBadge status={r.status} errorClass={r.error_class} />
                  </Cell>
                  <Cell label="Stream">{r.stream ? "Yes" : <span class="muted">No</span>}</Cell>
                  <Cell label="TTFT" class="num">
                    {r.stream && r.ttft_ms !== null ? <span safe>{formatMs(r.ttft_ms)}</span> : <span class="muted" aria-label="not streamed">—</span>}
                  </Cell>
                  <Cell label="Latency" class="num">
                    <span safe>{formatMs(r.latency_ms)}</span>
                  </Cell>
                  <Cell label="Tokens in → out" class="num">
                    <span safe>{`${formatInt(r.prompt_tokens)} → ${formatInt(r.completion_tokens)}`}</span>
                    {r.usage_estimated ? (
                      <abbr class="sub" title="The provider reported no usage; estimated.">
                        est.
                      </abbr>
                    ) : (
                      ""
                    )}
                  </Cell>
                  <Cell label="Cost" class="num cell-cost">
                    <span safe>{formatCost(r.cost_usd)}</span>
                  </Cell>
                  <Cell label="Request ID" class="mono cell-request-id" title={r.request_id}>
                    <span safe>{shortId(r.request_id)}</span>
                  </Cell>
                </Row>
              );
            })}
          </DataTable>
          {props.page === 1 && !props.hasMore ? (
            ""
          ) : (
            <nav class="pager" aria-label="Pages">
              {props.page > 1 ? (
                <a class="btn btn-secondary" rel="prev" {...nav(base + query(filters, props.page - 1))}>
                  ← Newer
                </a>
              ) : (
                <span></span>
              )}
              <span class="muted">Page {props.page}</span>
              {props.hasMore ? (
                <a class="btn btn-secondary" rel="next" {...nav(base + query(filters, props.page + 1))}>
                  Older →
                </a>
              ) : (
                <span></span>
              )}
            </nav>
          )}
        </>
      )}
    </Layout>
  );
}

export function StatusBadge(props: { status: number; errorClass: string | null }) {
  const bad = props.status >= 400 || props.errorClass !== null;
  return (
    <span class={bad ? "badge badge-error" : "badge badge-ok"}>
      {props.status}
      {props.errorClass ? <span safe>{` ${props.errorClass}`}</span> : ""}
    </span>
  );
}
