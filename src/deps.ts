// What every route and service is built from. A leaf: it imports no route file, so routes can name AppDeps
// without an import cycle through app.ts.
import { join } from "node:path";
import type { Config } from "./config.ts";
import type { Sql } from "./db/client.ts";
import type { Logger } from "./logger.ts";
import { LoginGuard, WorkLimiter, type PasswordOptions } from "./accounts/service.ts";
import { SessionStore } from "./accounts/sessions.ts";
import { ChangeBus } from "./events.ts";
import { createGatewayServices, type GatewayServices } from "./gateway/services.ts";
import type { ModelListTimes } from "./gateway/model-lists.ts";
import { LogQueue } from "./telemetry/log-queue.ts";
import type { Lookup } from "./net/fetch.ts";
import type { GovernorOptions } from "./governance/governor.ts";
import { GatewayMetrics, metricsSink } from "./metrics/gateway.ts";

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
  /** Server-side sessions (revocation) with their short cache. */
  sessions: SessionStore;
  /** The gateway's caches, cooldowns and log sink. */
  gateway: GatewayServices;
  /** Request log writer (batches, counters, spool); the gateway's sink. flush() before closing the database. */
  logQueue: LogQueue;
  /** Request metrics (GET /metrics), counted as the gateway hands its records to the log queue. */
  metrics: GatewayMetrics;
}

type Defaulted = "events" | "gateway" | "logQueue" | "loginGuard" | "sessions" | "metrics";

/** What callers hand createApp; anything optional here gets a default. */
export type AppInput = Omit<AppDeps, Defaulted> &
  Partial<Pick<AppDeps, Defaulted>> & {
    /** DNS for the gateway's address checks (tests). */
    lookup?: Lookup;
    /** Rate limiter sync interval and clock (tests). */
    governance?: GovernorOptions;
    /** Model listing deadlines and lifetimes (gateway/model-lists.ts); tests shorten them. */
    modelListing?: Partial<ModelListTimes>;
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
  let gateway: GatewayServices | undefined = input.gateway;
  const metrics =
    input.metrics ??
    new GatewayMetrics({
      cooldownsStarted: () => gateway?.cooldowns.started ?? 0,
      logQueue: () => logQueue.stats(),
      dbPoolMax: () => (typeof input.sql.options?.max === "number" ? input.sql.options.max : null),
    });
  gateway ??= createGatewayServices({
    sql: input.sql,
    config: input.config,
    events,
    logger: input.logger,
    sink: metricsSink(metrics, logQueue),
    lookup: input.lookup,
    governance: input.governance,
    modelListing: input.modelListing,
  });
  // argon2 holds ~64 MiB per hash: a few at a time, a bounded queue, the rest refused (503).
  const limiter =
    input.passwordOptions?.limiter ?? new WorkLimiter(input.config.passwordHashConcurrency, 32 * input.config.passwordHashConcurrency);
  const passwordOptions = { ...input.passwordOptions, limiter };
  const sessions = input.sessions ?? new SessionStore(input.sql);
  return { ...input, events, gateway, logQueue, metrics, passwordOptions, sessions, loginGuard: input.loginGuard ?? new LoginGuard() };
}
