import { Elysia } from "elysia";
import type { AppDeps } from "../deps.ts";
import { authPlugin } from "../http/auth.ts";
import { notFound } from "../http/errors.ts";
import { LogParams, LogsParams, LogsQuery } from "./model.ts";
import { getLog, listLogs } from "./service.ts";

/** A workspace's request logs; any member may read them. */
export function logsRoutes(deps: AppDeps) {
  return new Elysia({ prefix: "/workspaces/:id/logs" })
    .use(authPlugin(deps))
    .get("/", ({ params, query }) => listLogs(deps.sql, params.id, query), {
      workspace: "member",
      params: LogsParams,
      query: LogsQuery,
    })
    .get(
      "/:logId",
      async ({ params }) => (await getLog(deps.sql, params.id, params.logId)) ?? Promise.reject(notFound("log")),
      { workspace: "member", params: LogParams },
    );
}
