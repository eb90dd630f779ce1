import type { Sql } from "../db/client.ts";
import type { ChangeBus } from "../events.ts";
import type { Logger } from "../logger.ts";
import type { Config } from "../config.ts";
import { adapterFor } from "../adapters/index.ts";
import { authenticateApiKey, LastUsedTracker, limitsFrom, type LimitColumns } from "../api-keys/service.ts";
import { loadProviderConfigs } from "../providers/service.ts";
import { createKeyring, KeyringError } from "../providers/keyring.ts";
import { ApiError } from "../http/errors.ts";
import type { LogSink } from "../telemetry/types.ts";
import { createUpstreamFetch, type Lookup, type UpstreamFetch } from "../net/fetch.ts";
import { GatewayCache } from "./cache.ts";
import { ModelLists, type ModelListTimes } from "./model-lists.ts";
import { readBounded } from "../http/body.ts";
import { MAX_UPSTREAM_BODY_BYTES } from "./attempt.ts";
import { Cooldowns } from "./router.ts";
import type { ProviderConfig } from "../providers/model.ts";
import { Governance } from "../governance/admit.ts";
import type { GovernorOptions } from "../governance/governor.ts";

export type GatewayServices = ReturnType<typeof createGatewayServices>;

export function createGatewayServices(opts: {
  sql: Sql;
  config: Config;
  events: ChangeBus;
  logger: Logger;
  sink: LogSink | null;
  tracker?: LastUsedTracker | null;
  /** DNS for the address checks; tests inject their own. */
  lookup?: Lookup;
  /** Sync interval and clock of the rate limiter (tests). */
  governance?: GovernorOptions;
  /** Deadlines and lifetimes of cached model listings (model-lists.ts); tests shorten them. */
  modelListing?: Partial<ModelListTimes>;
}) {
  const keyring = createKeyring(opts.config);
  const upstreamFetch = createUpstreamFetch({ allowPrivate: opts.config.allowPrivateBaseUrls, lookup: opts.lookup });
  const lookupFailed = throttled(opts.logger, "error", "gateway: a key or workspace lookup failed; answering 503");
  const syncFailed = throttled(
    opts.logger,
    "warn",
    "governance: could not sync limits and spend with the database; counting locally meanwhile",
  );
  // A cache miss while the database is away is an outage, not a bug in the request: 503, so clients retry.
  const unavailable = (err: unknown): never => {
    if (err instanceof ApiError || err instanceof KeyringError) throw err;
    lookupFailed(err);
    throw new ApiError(503, "the gateway cannot reach its database right now; retry shortly", {
      code: "service_unavailable",
      headers: { "retry-after": "1" },
    });
  };
  const cache = new GatewayCache(
    {
      authenticate: (token) => authenticateApiKey(opts.sql, token).catch(unavailable),
      async workspace(id) {
        const [providers, [ws]] = await Promise.all([
          loadProviderConfigs(opts.sql, id, keyring),
          opts.sql<({ log_content: boolean | null } & LimitColumns)[]>`
            select (settings->>'log_content')::boolean as log_content, rpm_limit, tpm_limit, budget_usd::text as budget_usd, budget_period
            from workspaces where id = ${id}`,
        ]).catch(unavailable);
        return { providers, logContent: ws?.log_content === true, limits: ws ? limitsFrom(ws) : undefined };
      },
    },
    opts.events,
  );
  const tracker =
    opts.tracker === undefined
      ? new LastUsedTracker(opts.sql, { onError: (err) => opts.logger.warn("could not record key use", { error: err }) })
      : opts.tracker;

  const governance = new Governance(opts.sql, {
    unpricedModels: opts.config.unpricedModels,
    onError: syncFailed,
    ...opts.governance,
  });
  // The log writer tells governance which rows the usage counters now include.
  const storedHook = opts.sink as (LogSink & { onStored?: (l: (ids: string[]) => void) => () => void }) | null;
  const unhook = storedHook?.onStored?.((ids) => governance.governor.stored(ids)) ?? null;

  const draining = new AbortController();
  const modelLists = new ModelLists(opts.modelListing);
  opts.events.on((e) => {
    if (e.type === "provider") modelLists.clear();
  });

  return {
    cache,
    logger: opts.logger,
    cooldowns: new Cooldowns(),
    tracker,
    /** The log writer behind a governance wrapper: every record settles rate limits and budgets first. */
    sink: opts.sink ? governance.wrap(opts.sink) : null,
    /** Limits, budgets and model allow-lists: `governance.admit(...)` before any provider is tried. */
    governance,
    /** The only way to reach a provider: addresses checked after DNS and pinned (src/net/fetch.ts). */
    fetch: upstreamFetch,
    /** Aborted by drain(): in-flight upstream calls stop, open streams end with a server_shutting_down error event. */
    draining: draining.signal,
    /** Shutdown's deadline passed: end what is still open (each request still writes its log row). */
    drain: () => draining.abort(),
    /** Model ids an entry's provider reports (model-lists.ts: short deadline, stale-while-revalidate; [] when never listed). */
    upstreamModels(p: ProviderConfig): Promise<string[]> {
      return modelLists.get(p.id, async (signal) => {
        const adapter = adapterFor(p.type);
        const req = adapter.buildModelsRequest({ baseUrl: p.base_url, apiKey: p.api_key });
        // Never follow a redirect with the provider key attached.
        const res = await upstreamFetch(req.url, { method: req.method, headers: req.headers, signal, redirect: "manual" });
        if (!res.ok) {
          res.body?.cancel().catch(() => {});
          throw new Error(`models listing answered ${res.status}`);
        }
        const bytes = await readBounded(res.body, MAX_UPSTREAM_BODY_BYTES);
        if (!bytes) throw new Error("models listing too large");
        return adapter.parseModelsResponse(JSON.parse(new TextDecoder().decode(bytes)));
      });
    },
    async stop() {
      cache.close();
      await governance.stop().catch((err) => opts.logger.warn("governance: could not send the last counts", { error: errorText(err) }));
      unhook?.();
      await tracker?.stop().catch((err) => opts.logger.warn("could not record key use", { error: err }));
    },
  };
}

const errorText = (err: unknown) => (err instanceof Error ? err.message : String(err));

/** Logs `message` with the error at most once per 10 s, not once per request, while an outage lasts. */
function throttled(logger: Logger, level: "warn" | "error", message: string) {
  let at = 0;
  return (err: unknown) => {
    if (Date.now() - at < 10_000) return;
    at = Date.now();
    logger[level](message, { error: errorText(err) });
  };
}
