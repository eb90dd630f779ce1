import { Elysia } from "elysia";
import type { Config } from "./config.ts";
import type { Sql } from "./db/client.ts";
import type { Logger } from "./logger.ts";
import type { PasswordOptions } from "./accounts/service.ts";
import { renderError } from "./http/errors.ts";
import { accountsRoutes } from "./accounts/routes.ts";
import { workspacesRoutes } from "./workspaces/routes.ts";
import { healthRoutes } from "./health/routes.ts";
import { ChangeBus } from "./events.ts";

export interface AppDeps {
  sql: Sql;
  config: Config;
  logger: Logger;
  /** Lower argon2 cost for tests; production uses Bun's defaults. */
  passwordOptions?: PasswordOptions;
  sessionTtlSeconds?: number;
  /** Change notifications for caches; createApp makes one when absent. */
  events?: ChangeBus;
}

export function createApp(input: AppDeps) {
  const deps: AppDeps & { events: ChangeBus } = { ...input, events: input.events ?? new ChangeBus() };
  return new Elysia()
    .onError(({ code, error, request }) => renderError(code, error, request, deps.logger))
    .use(healthRoutes(deps))
    .use(accountsRoutes(deps))
    .use(workspacesRoutes(deps));
}

export type App = ReturnType<typeof createApp>;
