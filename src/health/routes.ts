import { Elysia } from "elysia";
import type { AppDeps } from "../deps.ts";

export function healthRoutes(deps: AppDeps) {
  return new Elysia()
    .get("/healthz", () => ({ status: "ok" }), { detail: { summary: "Liveness: the process is up" } })
    .get(
      "/readyz",
      async ({ set }) => {
        try {
          await deps.sql`select 1`;
          return { status: "ready", database: "ok" };
        } catch {
          set.status = 503;
          return { status: "unavailable", database: "unreachable" };
        }
      },
      { detail: { summary: "Readiness: the database answers" } },
    );
}
