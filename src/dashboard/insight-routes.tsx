import { Elysia } from "elysia";
import * as v from "valibot";
import type { AppDeps } from "../deps.ts";
import { authPlugin } from "../http/auth.ts";
import { ApiError, notFound, sentence } from "../http/errors.ts";
import { WorkspaceParams } from "../workspaces/model.ts";
import { LogParams, LogsParams, LogsQuery } from "../logs/model.ts";
import { getLog, listLogs, type LogPage } from "../logs/service.ts";
import { UsageParams, UsageQuery } from "../usage/model.ts";
import { usageByKey, usageByModel, usageByProvider, usageRange, usageSummary, type UsageRange } from "../usage/service.ts";
import { listProviders } from "../providers/service.ts";
import { listApiKeys } from "../api-keys/service.ts";
import { OverviewPage } from "../../views/pages/overview.tsx";
import { LogsPage, type LogFilterValues } from "../../views/pages/logs.tsx";
import { LogDetailPage } from "../../views/pages/log-detail.tsx";
import { UsagePage, type KeyUsageRow } from "../../views/pages/usage.tsx";
import { errorsFor, issuesToErrors } from "./forms.ts";
import { html } from "./render.ts";
import { pageContext, workspacePath } from "./context.ts";

const LOGS_PER_PAGE = 50;
const DAY_MS = 86_400_000;
const isoDay = (t: number) => new Date(t).toISOString().slice(0, 10);

const str = (x: unknown): string => (typeof x === "string" ? x : "");

/** Overview, logs and usage: read-only pages over src/logs and src/usage. */
export function insightPages(deps: AppDeps) {
  return new Elysia({ prefix: "/app/w/:id" })
    .use(authPlugin(deps))
    .get(
      "/",
      async (c) => {
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
      },
      { workspace: "member", params: WorkspaceParams },
    )
    .get(
      "/logs",
      async (c) => {
        const id = c.params.id;
        const q = c.query as Record<string, unknown>;
        // Filters stay in the URL; empty form fields mean "any".
        const values: LogFilterValues = {
          status: str(q.status),
          provider: str(q.provider),
          model: str(q.model).trim(),
          key: str(q.key),
          tag: str(q.tag).trim(),
          from: str(q.from),
          to: str(q.to),
          request_id: str(q.request_id).trim(),
        };
        const input: Record<string, string> = {};
        for (const [k, val] of Object.entries(values)) if (val) input[k] = val;
        if (str(q.page)) input.page = str(q.page);
        input.limit = String(LOGS_PER_PAGE);
        const parsed = v.safeParse(LogsQuery, input);
        let errors = parsed.success ? errorsFor({}) : issuesToErrors(parsed.issues);
        let page: LogPage = { items: [], page: 1, limit: LOGS_PER_PAGE, has_more: false, next_cursor: null, total: 0, total_is_estimate: false };
        if (parsed.success) {
          try {
            const { cursor: _ignored, ...opts } = parsed.output;
            page = await listLogs(deps.sql, id, opts);
          } catch (err) {
            if (!(err instanceof ApiError) || err.status >= 500) throw err;
            errors = err.formErrors();
          }
        }
        const ctx = await pageContext(deps, c, id);
        const [providers, keys] = await Promise.all([listProviders(deps.sql, id), listApiKeys(deps.sql, id)]);
        const failed = Object.keys(errors.fields).length > 0 || errors.form;
        return html(
          c.set,
          <LogsPage
            ctx={ctx}
            rows={page.items}
            filters={values}
            errors={errors}
            providers={providers.map((p) => ({ value: p.id, label: p.name }))}
            keys={keys.map((k) => ({ value: k.id, label: `${k.name} (${k.prefix}…)` }))}
            page={page.page}
            hasMore={page.has_more}
            total={page.total}
            totalIsEstimate={page.total_is_estimate}
            limit={page.limit}
          />,
          failed ? 422 : 200,
        );
      },
      { workspace: "member", params: LogsParams },
    )
    .get(
      "/logs/:logId",
      async (c) => {
        const { id, logId } = c.params;
        const log = await getLog(deps.sql, id, logId);
        if (!log) throw notFound("log");
        const ctx = await pageContext(deps, c, id);
        const key = log.api_key_id ? (await listApiKeys(deps.sql, id)).find((k) => k.id === log.api_key_id) : null;
        // Back to the list the user came from, when that was this workspace's logs.
        const ref = localLogsUrl(c.headers["hx-current-url"] ?? c.headers.referer, workspacePath(id, "/logs"));
        return html(
          c.set,
          <LogDetailPage ctx={ctx} log={{ ...log, api_key_name: key ? `${key.name} (${key.prefix}…)` : log.api_key_id ? "(deleted key)" : null }} back={ref} />,
        );
      },
      { workspace: "member", params: LogParams },
    )
    .get(
      "/usage",
      async (c) => {
        const id = c.params.id;
        const q = c.query as Record<string, unknown>;
        const values = { from: str(q.from), to: str(q.to) };
        const input: Record<string, string> = {};
        if (values.from) input.from = values.from;
        if (values.to) input.to = values.to;
        let errors = errorsFor({});
        let range: UsageRange = usageRange({});
        const parsed = v.safeParse(UsageQuery, input);
        if (!parsed.success) errors = issuesToErrors(parsed.issues);
        else {
          try {
            range = usageRange(parsed.output);
          } catch (err) {
            if (!(err instanceof ApiError) || err.status >= 500) throw err;
            errors = errorsFor({}, sentence(err.message));
          }
        }
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
            budget: k && k.budget_usd !== null && k.budget_period ? { spend: k.spend_usd, budget: k.budget_usd, period: k.budget_period, resetsAt: k.budget_resets_at } : null,
          };
        });
        const ctx = await pageContext(deps, c, id);
        const today = Date.parse(`${isoDay(Date.now())}T00:00:00Z`);
        const presets = [7, 30, 90].map((n) => {
          const from = isoDay(today - (n - 1) * DAY_MS);
          const to = isoDay(today);
          return { label: `Last ${n} days`, from, to, current: range.from === from && range.to === to };
        });
        const failed = Object.keys(errors.fields).length > 0 || errors.form;
        return html(
          c.set,
          <UsagePage
            ctx={ctx}
            range={range}
            values={{ from: values.from || range.from, to: values.to || range.to }}
            errors={errors}
            totals={summary.totals}
            days={summary.days}
            byProvider={byProvider.data.map((p) => ({ ...p, label: p.provider_name ?? (p.provider_id ? "(deleted provider)" : "(no provider)") }))}
            byModel={byModel.data.map((m) => ({ ...m, label: m.model }))}
            byKey={keyRows}
            presets={presets}
          />,
          failed ? 422 : 200,
        );
      },
      { workspace: "member", params: UsageParams },
    );
}

/** The referring logs list (with its filters), if it is this workspace's; else the plain list. */
function localLogsUrl(href: string | undefined, fallback: string): string {
  if (!href) return fallback;
  try {
    const u = new URL(href);
    return u.pathname === fallback ? u.pathname + u.search : fallback;
  } catch {
    return fallback;
  }
}
