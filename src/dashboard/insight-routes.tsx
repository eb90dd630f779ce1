import * as v from "valibot";
import type { FormErrors } from "../../views/context.ts";
import type { AppDeps } from "../deps.ts";
import { needs, signedInRoutes } from "../http/routes.ts";
import { ApiError, orNotFound, sentence } from "../http/errors.ts";
import { WorkspaceParams } from "../workspaces/model.ts";
import {
  decodeCursor,
  encodeCursor,
  HealthQuery,
  LogParams,
  LogsParams,
  LogsQuery,
  MAX_EXPORT_ROWS,
  healthRange,
  resolveRange,
} from "../logs/model.ts";
import { liveMark, logsSince } from "../logs/live.ts";
import { providerHealth } from "../logs/health.ts";
import { getLog, listLogs, type LogPage } from "../logs/service.ts";
import { UsageParams, UsageQuery } from "../usage/model.ts";
import { usageByKey, usageByModel, usageByProvider, usageRange, usageSummary } from "../usage/service.ts";
import { listProviders } from "../providers/service.ts";
import { listApiKeys } from "../api-keys/service.ts";
import { OverviewPage } from "../../views/pages/overview.tsx";
import { LiveRows, LogsPage, query as logsQuery, type LogFilterValues } from "../../views/pages/logs.tsx";
import { HealthPage } from "../../views/pages/health.tsx";
import { LogDetailPage } from "../../views/pages/log-detail.tsx";
import { UsagePage, type KeyUsageRow } from "../../views/pages/usage.tsx";
import { attempt, errorsFor, hasErrors, issuesToErrors } from "./forms.ts";
import { html, localPath } from "./render.ts";
import { pageContext, workspacePath, type PageBits } from "./context.tsx";

const LOGS_PER_PAGE = 50;
/** What the logs page lists while its filters do not parse or the service refuses them. */
const NO_LOGS: LogPage = {
  items: [],
  page: 1,
  limit: LOGS_PER_PAGE,
  has_more: false,
  next_cursor: null,
  total: 0,
  total_is_estimate: false,
};
const DAY_MS = 86_400_000;
const isoDay = (t: number) => new Date(t).toISOString().slice(0, 10);

const str = (x: unknown): string => (typeof x === "string" ? x : "");
/** The query fields that hold something: an empty field means "any", so the schema never sees it. */
const filled = (values: Record<string, string>) => Object.fromEntries(Object.entries(values).filter(([, s]) => s !== ""));

/** What these pages read of a request: the workspace in the path and the filters in the query. */
type Insight = PageBits & { params: { id: string }; query: Record<string, unknown> };

/** Overview, logs, provider health and usage: read-only pages over src/logs and src/usage. */
export function insightPages(deps: AppDeps) {
  async function overviewPage(c: Insight) {
    const id = c.params.id;
    const ctx = await pageContext(deps, c, id);
    const month = await usageSummary(deps.sql, id, usageRange({}));
    const today = month.days[month.days.length - 1] ?? month.totals;
    const [errors, providers, keys] = await Promise.all([
      listLogs(deps.sql, id, { status: "error", limit: 5 }),
      listProviders(deps.sql, id),
      listApiKeys(deps.sql, id),
    ]);
    return html(
      c.set,
      <OverviewPage
        ctx={ctx}
        today={today}
        month={month.totals}
        days={month.days}
        errors={errors.items}
        setup={{ providers: providers.length, keys: keys.length }}
      />,
    );
  }

  async function logsPage(c: Insight) {
    const id = c.params.id;
    const { values, parsed } = parseLogFilters(c.query, str(c.query.page));
    const { errors, found } = await runFilters(
      parsed,
      ({ cursor: _ignored, ...opts }) => listLogs(deps.sql, id, { ...opts, ...resolveRange(opts, Date.now()) }),
      (refused) => refused.formErrors(),
    );
    const page = found ?? NO_LOGS;
    const live = str(c.query.live) === "1";
    const ctx = await pageContext(deps, c, id);
    const [providers, keys, mark] = await Promise.all([
      listProviders(deps.sql, id),
      listApiKeys(deps.sql, id),
      live ? liveMark(deps.sql, id) : null,
    ]);
    const failed = hasErrors(errors);
    return html(
      c.set,
      <LogsPage
        ctx={ctx}
        list={page}
        filters={values}
        errors={errors}
        providers={providers.map((p) => ({ value: p.id, label: p.name }))}
        keys={keys.map((k) => ({ value: k.id, label: `${k.name} (${k.prefix}…)` }))}
        live={live && !failed}
        liveMark={mark ? encodeCursor(mark) : null}
        exportCap={MAX_EXPORT_ROWS}
      />,
      failed ? 422 : 200,
    );
  }

  async function liveRows(c: Insight) {
    const id = c.params.id;
    const base = workspacePath(id, "/logs");
    const { values, parsed } = parseLogFilters(c.query, "");
    // Filters that do not parse stop the polling: the answer holds no new poller.
    if (!parsed.success) return html(c.set, "");
    const opts = { ...parsed.output, ...resolveRange(parsed.output, Date.now()) };
    const from = decodeCursor(str(c.query.mark)) ?? (await liveMark(deps.sql, id));
    const next = await logsSince(deps.sql, id, opts, from, LOGS_PER_PAGE);
    return html(
      c.set,
      <LiveRows
        url={`${base}/live${logsQuery(values, 1, { mark: encodeCursor(next.mark) })}`}
        rows={next.items}
        base={base}
        more={next.more}
        refresh={base + logsQuery(values, 1, { live: "1" })}
      />,
    );
  }

  async function healthPage(c: Insight) {
    const id = c.params.id;
    const values = { from: str(c.query.from).trim(), to: str(c.query.to).trim(), range: str(c.query.range) };
    const now = Date.now();
    const { errors, found: report = null } = await runFilters(
      v.safeParse(HealthQuery, filled(values)),
      (query) => providerHealth(deps.sql, id, healthRange(query, now), (pid) => deps.gateway.cooldowns.coolingUntil(pid)),
      // A range too long is refused like the service's own refusals: beside its field.
      (refused) => errorsFor({ [refused.param ?? "from"]: sentence(refused.message, refused.param) }),
    );
    const ctx = await pageContext(deps, c, id);
    const page = <HealthPage ctx={ctx} values={values} errors={errors} report={report} now={new Date(now)} />;
    return html(c.set, page, hasErrors(errors) ? 422 : 200);
  }

  async function logPage(c: Insight & { params: { logId: string } }) {
    const { id, logId } = c.params;
    const log = await orNotFound(getLog(deps.sql, id, logId), "log");
    const ctx = await pageContext(deps, c, id);
    const key = log.api_key_id ? (await listApiKeys(deps.sql, id)).find((k) => k.id === log.api_key_id) : null;
    // Back to the list the user came from, when that was this workspace's logs.
    const list = workspacePath(id, "/logs");
    const from = localPath(c.headers["hx-current-url"] ?? c.headers.referer);
    const ref = from?.split("?")[0] === list ? from : list;
    return html(
      c.set,
      <LogDetailPage
        ctx={ctx}
        log={{ ...log, api_key_name: key ? `${key.name} (${key.prefix}…)` : log.api_key_id ? "(deleted key)" : null }}
        back={ref}
      />,
    );
  }

  async function usagePage(c: Insight) {
    const id = c.params.id;
    const values = { from: str(c.query.from), to: str(c.query.to) };
    const { errors, found: range = usageRange({}) } = await runFilters(v.safeParse(UsageQuery, filled(values)), usageRange, (refused) =>
      errorsFor({}, sentence(refused.message)),
    );
    const [summary, byProvider, byModel, byKey, keys] = await Promise.all([
      usageSummary(deps.sql, id, range),
      usageByProvider(deps.sql, id, range),
      usageByModel(deps.sql, id, range),
      usageByKey(deps.sql, id, range),
      listApiKeys(deps.sql, id),
    ]);
    const keyById = new Map(keys.map((k) => [k.id, k]));
    const keyRows: KeyUsageRow[] = byKey.data.map((u) => {
      const k = keyById.get(u.api_key_id);
      return {
        ...u,
        label: u.name ?? "(deleted key)",
        state: u.deleted ? "deleted" : u.revoked ? "revoked" : "active",
        budget:
          k && k.budget_usd !== null && k.budget_period
            ? { spend: k.spend_usd, budget: k.budget_usd, period: k.budget_period, resetsAt: k.budget_resets_at }
            : null,
      };
    });
    const ctx = await pageContext(deps, c, id);
    const today = Date.parse(`${isoDay(Date.now())}T00:00:00Z`);
    const presets = [7, 30, 90].map((n) => {
      const from = isoDay(today - (n - 1) * DAY_MS);
      const to = isoDay(today);
      return { label: `Last ${n} days`, from, to, current: range.from === from && range.to === to };
    });
    return html(
      c.set,
      <UsagePage
        ctx={ctx}
        range={range}
        values={{ from: values.from || range.from, to: values.to || range.to }}
        errors={errors}
        totals={summary.totals}
        days={summary.days}
        byProvider={byProvider.data.map((p) => ({
          ...p,
          label: p.provider_name ?? (p.provider_id ? "(deleted provider)" : "(no provider)"),
        }))}
        byModel={byModel.data.map((m) => ({ ...m, label: m.model }))}
        byKey={keyRows}
        presets={presets}
      />,
      hasErrors(errors) ? 422 : 200,
    );
  }

  return signedInRoutes(deps, "/app/w/:id")
    .get("/", overviewPage, needs("member", WorkspaceParams, "Workspace overview page"))
    .get("/logs", logsPage, needs("member", LogsParams, "Request logs page"))
    .get(
      "/logs/live",
      liveRows,
      needs("member", LogsParams, "Logs page's live mode: rows written since a mark (htmx fragment, polled every few seconds)"),
    )
    .get(
      "/health",
      healthPage,
      needs("member", WorkspaceParams, "Provider health page (attempts, failures, fallbacks, latency, cooldowns)"),
    )
    .get("/logs/:logId", logPage, needs("member", LogParams, "One request's log page"))
    .get("/usage", usagePage, needs("member", UsageParams, "Usage page"));
}

/**
 * Runs a page's service on its parsed filters. Filters that do not parse, or that the service refuses
 * (`refused` places its message), come back as the form's errors and leave the page without a result.
 */
async function runFilters<S extends v.GenericSchema, T>(
  parsed: v.SafeParseResult<S>,
  run: (query: v.InferOutput<S>) => T | Promise<T>,
  refused: (err: ApiError) => FormErrors,
): Promise<{ errors: FormErrors; found?: T }> {
  if (!parsed.success) return { errors: issuesToErrors(parsed.issues) };
  const found = await attempt(async () => run(parsed.output));
  return found instanceof ApiError ? { errors: refused(found) } : { errors: errorsFor({}), found };
}

/** The logs filters exactly as typed (so the form shows them back), and their parse for the services. */
function parseLogFilters(q: Record<string, unknown>, page: string) {
  // Filters stay in the URL; empty form fields mean "any".
  const values: LogFilterValues = {
    status: str(q.status),
    provider: str(q.provider),
    model: str(q.model).trim(),
    key: str(q.key),
    tag: str(q.tag).trim(),
    from: str(q.from).trim(),
    to: str(q.to).trim(),
    request_id: str(q.request_id).trim(),
    range: str(q.range),
  };
  const input = filled({ ...values, page });
  input.limit = String(LOGS_PER_PAGE);
  return { values, parsed: v.safeParse(LogsQuery, input) };
}
