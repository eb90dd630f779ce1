import { Elysia } from "elysia";
import type { Config } from "./config.ts";
import type { Sql } from "./db/client.ts";
import type { Logger } from "./logger.ts";
import { LoginGuard, type PasswordOptions } from "./accounts/service.ts";
import { renderError } from "./http/errors.ts";
import { accountsRoutes } from "./accounts/routes.ts";
import { workspacesRoutes } from "./workspaces/routes.ts";
import { providersRoutes } from "./providers/routes.ts";
import { apiKeysRoutes } from "./api-keys/routes.ts";
import { healthRoutes } from "./health/routes.ts";
import { openapiRoutes } from "./openapi/routes.ts";
import { ChangeBus } from "./events.ts";
import { gatewayRoutes } from "./gateway/routes.ts";
import { createGatewayServices, type GatewayServices } from "./gateway/services.ts";
import { join } from "node:path";
import { LogQueue } from "./telemetry/log-queue.ts";
import { logsRoutes } from "./logs/routes.ts";
import { usageRoutes } from "./usage/routes.ts";
import { applySecurityHeaders, dashboardError, dashboardRoutes } from "./dashboard/index.ts";

export interface AppDeps {
  sql: Sql;
  config: Config;
  logger: Logger;
  /** Lower argon2 cost for tests; production uses Bun's defaults. */
  passwordOptions?: PasswordOptions;
  sessionTtlSeconds?: number;
  /** Change notifications for caches. */
  events: ChangeBus;
  /** Sign-in throttling shared by the JSON API and the dashboard. */
  loginGuard: LoginGuard;
  /** The gateway's caches, cooldowns and log sink. */
  gateway: GatewayServices;
  /** Request log writer (batches, counters, spool); the gateway's sink. flush() before closing the database. */
  logQueue: LogQueue;
}

/** What callers hand createApp; anything optional here gets a default. */
export type AppInput = Omit<AppDeps, "events" | "gateway" | "logQueue" | "loginGuard"> & {
  events?: ChangeBus;
  gateway?: GatewayServices;
  logQueue?: LogQueue;
  loginGuard?: LoginGuard;
};

/** Fills in the defaults; callers that manage lifecycles (index.ts, tests) keep the result. */
export function buildDeps(input: AppInput): AppDeps {
  const events = input.events ?? new ChangeBus();
  // The embedded database has one connection: smaller batches keep other queries from waiting long behind a log write.
  const logQueue =
    input.logQueue ??
    new LogQueue({
      sql: input.sql,
      logger: input.logger,
      spoolDir: join(input.config.dataDir, "spool"),
      batchSize: input.config.databaseUrl ? 500 : 100,
      maxMemoryRecords: input.config.logQueueMax,
      maxSpoolBytes: input.config.logSpoolMaxBytes,
    });
  const gateway =
    input.gateway ?? createGatewayServices({ sql: input.sql, config: input.config, events, logger: input.logger, sink: logQueue });
  return { ...input, events, gateway, logQueue, loginGuard: input.loginGuard ?? new LoginGuard() };
}

export function createApp(input: AppInput | AppDeps) {
  const deps = buildDeps(input);
  const gateway = deps.gateway;
  return new Elysia()
    // CSP, nosniff and Referrer-Policy on every response (see src/dashboard/security.ts).
    .onRequest(({ set }) => applySecurityHeaders(set.headers))
    // Dashboard paths render HTML error pages (or redirect to /login); everything else keeps the JSON shape.
    .onError((ctx) => dashboardError(deps, ctx) ?? renderError(ctx.code, ctx.error, ctx.request, deps.logger))
    .use(healthRoutes(deps))
    .use(openapiRoutes(deps))
    .use(accountsRoutes(deps))
    .use(workspacesRoutes(deps))
    .use(providersRoutes(deps))
    .use(apiKeysRoutes(deps))
    .use(logsRoutes(deps))
    .use(usageRoutes(deps))
    .use(gatewayRoutes(deps, gateway))
    .use(dashboardRoutes(deps));
}

export type App = ReturnType<typeof createApp>;
