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
  /** Change notifications for caches. */
  events: ChangeBus;
}

/** What callers hand createApp; anything optional here gets a default. */
export type AppInput = Omit<AppDeps, "events"> & { events?: ChangeBus };

export function createApp(input: AppInput) {
  const deps: AppDeps = { ...input, events: input.events ?? new ChangeBus() };
  return new Elysia()
    .onError(({ code, error, request }) => renderError(code, error, request, deps.logger))
    .use(healthRoutes(deps))
    .use(accountsRoutes(deps))
    .use(workspacesRoutes(deps));
}

export type App = ReturnType<typeof createApp>;
