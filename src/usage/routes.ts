import type { AppDeps } from "../deps.ts";
import { needs, signedInRoutes } from "../http/routes.ts";
import { UsageParams, UsageQuery } from "./model.ts";
import { usageByKey, usageByModel, usageByProvider, usageRange, usageSummary, type UsageRange } from "./service.ts";

/** A workspace's usage counters (usage_daily); any member may read them. */
export function usageRoutes(deps: AppDeps) {
  // Each view reads the workspace's counters over the query's range of days.
  const read =
    <T>(view: (sql: AppDeps["sql"], workspaceId: string, range: UsageRange) => Promise<T>) =>
    ({ params, query }: { params: { id: string }; query: { from?: string; to?: string } }) =>
      view(deps.sql, params.id, usageRange(query));
  const member = (summary: string) => needs("member", UsageParams, summary, { query: UsageQuery });
  return signedInRoutes(deps, "/workspaces/:id/usage")
    .get("/", read(usageSummary), member("Usage and cost over a period"))
    .get("/by-provider", read(usageByProvider), member("Usage and cost by provider"))
    .get("/by-key", read(usageByKey), member("Usage and cost by gateway key"))
    .get("/by-model", read(usageByModel), member("Usage and cost by model"));
}
