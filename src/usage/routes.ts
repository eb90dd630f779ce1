import { Elysia } from "elysia";
import type { AppDeps } from "../deps.ts";
import { authPlugin } from "../http/auth.ts";
import { UsageParams, UsageQuery } from "./model.ts";
import { usageByKey, usageByModel, usageByProvider, usageRange, usageSummary } from "./service.ts";

/** A workspace's usage counters (usage_daily); any member may read them. */
export function usageRoutes(deps: AppDeps) {
  return new Elysia({ prefix: "/workspaces/:id/usage" })
    .use(authPlugin(deps))
    .get("/", ({ params, query }) => usageSummary(deps.sql, params.id, usageRange(query)), {
      ...read,
      detail: { summary: "Usage and cost over a period" },
    })
    .get("/by-provider", ({ params, query }) => usageByProvider(deps.sql, params.id, usageRange(query)), {
      ...read,
      detail: { summary: "Usage and cost by provider" },
    })
    .get("/by-key", ({ params, query }) => usageByKey(deps.sql, params.id, usageRange(query)), {
      ...read,
      detail: { summary: "Usage and cost by gateway key" },
    })
    .get("/by-model", ({ params, query }) => usageByModel(deps.sql, params.id, usageRange(query)), {
      ...read,
      detail: { summary: "Usage and cost by model" },
    });
}

const read = { workspace: "member", params: UsageParams, query: UsageQuery } as const;
