import type { AppDeps } from "../deps.ts";
import { finding, needs, signedInRoutes } from "../http/routes.ts";
import { HealthQuery, LogParams, LogsExportQuery, LogsParams, LogsQuery, MAX_EXPORT_ROWS, healthRange, resolveRange } from "./model.ts";
import { countLogs, getLog, listLogs } from "./service.ts";
import { exportStream } from "./export.ts";
import { providerHealth } from "./health.ts";

/** A workspace's request logs and the provider health read from them; any member may read them. */
export function logsRoutes(deps: AppDeps) {
  return signedInRoutes(deps, "/workspaces/:id")
    .get(
      "/logs",
      ({ params, query }) => listLogs(deps.sql, params.id, { ...query, ...resolveRange(query, Date.now()) }),
      needs("member", LogsParams, "List request logs, newest first", { query: LogsQuery }),
    )
    .get(
      "/logs/export",
      async ({ params, query }) => {
        const filters = { ...query, ...resolveRange(query, Date.now()) };
        const format = query.format ?? "csv";
        const limit = query.limit ?? MAX_EXPORT_ROWS;
        // Counted before the rows stream, so CSV readers learn of a cut-off range too (JSON also says so at its end).
        const { total } = await countLogs(deps.sql, params.id, filters, limit);
        const body = await exportStream(deps.sql, params.id, filters, { format, limit });
        const stamp = new Date().toISOString().slice(0, 19).replaceAll(":", "").replace("T", "-");
        return new Response(body, {
          headers: {
            "content-type": format === "json" ? "application/json; charset=utf-8" : "text/csv; charset=utf-8",
            "content-disposition": `attachment; filename="logs-${stamp}Z.${format}"`,
            "cache-control": "no-store",
            "x-perpetuo-row-cap": String(limit),
            "x-perpetuo-truncated": String(total > limit),
          },
        });
      },
      needs(
        "member",
        LogsParams,
        `Export request logs (CSV or JSON) with the list's filters, newest first, streamed; at most ${MAX_EXPORT_ROWS} rows`,
        { query: LogsExportQuery },
      ),
    )
    .get("/logs/:logId", finding(deps, getLog, "logId", "log"), needs("member", LogParams, "Get one request log with its attempts"))
    .get(
      "/provider-health",
      ({ params, query }) =>
        providerHealth(deps.sql, params.id, healthRange(query, Date.now()), (pid) => deps.gateway.cooldowns.coolingUntil(pid)),
      needs(
        "member",
        LogsParams,
        "Provider health over a range (default: the last 24 h): attempts, failures by class, fallback rate, latency p50/p95, cooldown",
        { query: HealthQuery },
      ),
    );
}
