import { Elysia } from "elysia";
import { ApiError, renderError } from "./http/errors.ts";
import { accountsRoutes } from "./accounts/routes.ts";
import { workspacesRoutes } from "./workspaces/routes.ts";
import { providersRoutes } from "./providers/routes.ts";
import { apiKeysRoutes } from "./api-keys/routes.ts";
import { healthRoutes } from "./health/routes.ts";
import { openapiRoutes } from "./openapi/routes.ts";
import { gatewayKeyFor, gatewayPosts, gatewayRoutes, recordRefusal } from "./gateway/routes.ts";
import { leanV1 } from "./gateway/v1.ts";
import { anthropicErrorResponse, isMessagesRequest, messagesRoutes } from "./gateway/inbound/messages-routes.ts";
import { bodyParser, refuseNulInUrl, SERVER_MAX_BODY } from "./http/body.ts";
import { buildDeps, type AppDeps, type AppInput } from "./deps.ts";
import { logsRoutes } from "./logs/routes.ts";
import { usageRoutes } from "./usage/routes.ts";
import { invitationsRoutes } from "./invitations/routes.ts";
import { membersRoutes } from "./members/routes.ts";
import { dashboardRoutes } from "./dashboard/index.ts";
import { dashboardError } from "./dashboard/errors.tsx";
import { applySecurityHeaders } from "./dashboard/security.ts";
import { metricsRoutes } from "./metrics/routes.ts";
import { applyCors, corsPolicy, isGatewayPath, pathOf } from "./http/cors.ts";

export function createApp(input: AppInput | AppDeps) {
  const deps = buildDeps(input);
  const gateway = deps.gateway;
  const cors = corsPolicy(deps.config.corsOrigins);
  const posts = gatewayPosts(gateway);
  // The hot /v1 endpoints skip Elysia's lifecycle (see gateway/v1.ts); their Elysia routes stay for docs.
  const v1 = leanV1(posts, gateway, cors, deps.logger);
  return (
    // Bun refuses bodies above this itself (413, empty body) before any route sees them: a backstop
    // above every route's own limit, which answers in our error shape (see http/body.ts).
    new Elysia({ serve: { maxRequestBodySize: SERVER_MAX_BODY } })
      .onRequest(({ set, request }) => {
        const path = pathOf(request.url);
        const lean = isGatewayPath(path) ? v1.answer(request, path) : undefined;
        if (lean) return lean;
        // CSP, nosniff and Referrer-Policy on every other response (see src/dashboard/security.ts).
        applySecurityHeaders(set.headers);
        refuseNulInUrl(request);
        // /v1 only, when CORS_ORIGINS is set; a preflight is answered here (see src/http/cors.ts).
        return applyCors(cors, request, set.headers);
      })
      // Every body is read here, within its route's size limit; /v1 authenticates before reading.
      .onParse(
        { as: "global" },
        bodyParser((request, path) => (path.startsWith("/v1/") ? gatewayKeyFor(gateway, request) : undefined)),
      )
      // Dashboard paths render HTML error pages (or redirect to /login); everything else keeps the JSON shape.
      .onError(async (raw) => {
        // What the body parser refused arrives wrapped in Elysia's ParseError.
        const cause = raw.code === "PARSE" ? (raw.error as { cause?: unknown }).cause : undefined;
        const ctx = cause instanceof ApiError ? { ...raw, error: cause } : raw;
        const dashboard = dashboardError(deps, ctx);
        if (dashboard) return dashboard;
        const rendered = renderError(ctx.code, ctx.error, ctx.request, deps.logger);
        // Anthropic's SDKs only understand their own error shape: /v1/messages answers in it.
        const res = isMessagesRequest(ctx.request) ? await anthropicErrorResponse(rendered) : rendered;
        void recordRefusal(gateway, ctx.request, res);
        return res;
      })
      .use(healthRoutes(deps))
      .use(metricsRoutes(deps))
      .use(openapiRoutes(deps))
      .use(accountsRoutes(deps))
      .use(workspacesRoutes(deps))
      .use(providersRoutes(deps))
      .use(apiKeysRoutes(deps))
      .use(logsRoutes(deps))
      .use(usageRoutes(deps))
      .use(invitationsRoutes(deps))
      .use(membersRoutes(deps))
      .use(gatewayRoutes(gateway, posts))
      .use(messagesRoutes(gateway))
      .use(dashboardRoutes(deps))
  );
}
