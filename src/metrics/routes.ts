import { Elysia } from "elysia";
import { createHash, timingSafeEqual } from "node:crypto";
import type { AppDeps } from "../deps.ts";
import { ApiError } from "../http/errors.ts";
import { CONTENT_TYPE } from "./registry.ts";

const digest = (s: string) => createHash("sha256").update(s, "utf8").digest();

/** Whether the Authorization header carries the token. Digests first: equal lengths, so the comparison time says nothing about the token. */
export function metricsAuthorized(header: string | null, token: string): boolean {
  const m = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  return timingSafeEqual(digest(m ? m[1]! : ""), digest(token)) && m !== null;
}

/** `GET /metrics` for Prometheus, behind METRICS_TOKEN; without one it does not exist. */
export function metricsRoutes(deps: AppDeps) {
  return new Elysia().get(
    "/metrics",
    ({ request }) => {
      const token = deps.config.metricsToken;
      if (!token) throw new ApiError(404, "no route for GET /metrics (set METRICS_TOKEN to turn metrics on)", { code: "unknown_route" });
      if (!metricsAuthorized(request.headers.get("authorization"), token)) {
        throw new ApiError(401, "send the metrics token: Authorization: Bearer <METRICS_TOKEN>", {
          code: "unauthorized",
          headers: { "www-authenticate": 'Bearer realm="metrics"' },
        });
      }
      return new Response(deps.metrics.render(), { headers: { "content-type": CONTENT_TYPE, "cache-control": "no-store" } });
    },
    { detail: { summary: "Prometheus metrics (Bearer METRICS_TOKEN; 404 when it is unset)", security: [{ metricsToken: [] }] } },
  );
}
