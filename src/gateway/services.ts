import type { Sql } from "../db/client.ts";
import type { ChangeBus } from "../events.ts";
import type { Logger } from "../logger.ts";
import type { Config } from "../config.ts";
import { adapterFor } from "../adapters/index.ts";
import { authenticateApiKey, LastUsedTracker } from "../api-keys/service.ts";
import { loadProviderConfigs } from "../providers/service.ts";
import { createKeyring, KeyringError } from "../providers/keyring.ts";
import { ApiError } from "../http/errors.ts";
import type { LogSink } from "../telemetry/types.ts";
import { createUpstreamFetch, type Lookup, type UpstreamFetch } from "../net/fetch.ts";
import { GatewayCache } from "./cache.ts";
import { ModelLists, type ModelListTimes } from "./model-lists.ts";
import { readBounded } from "../http/body.ts";
import { MAX_UPSTREAM_BODY_BYTES } from "./proxy.ts";
import { Cooldowns, type GatewayProvider } from "./router.ts";

export interface GatewayServices {
  cache: GatewayCache;
  cooldowns: Cooldowns;
  tracker: LastUsedTracker | null;
  sink: LogSink | null;
  /** The only way to reach a provider: addresses checked after DNS and pinned (src/net/fetch.ts). */
  fetch: UpstreamFetch;
  /** Model ids an entry's provider reports (model-lists.ts: short deadline, stale-while-revalidate; [] when never listed). */
  upstreamModels(p: GatewayProvider): Promise<string[]>;
  /** Aborted by drain(): in-flight upstream calls stop, open streams end with a server_shutting_down error event. */
  draining: AbortSignal;
  /** Shutdown's deadline passed: end what is still open (each request still writes its log row). */
  drain(): void;
  stop(): Promise<void>;
}

export function createGatewayServices(opts: {
  sql: Sql;
  config: Config;
  events: ChangeBus;
  logger: Logger;
  sink: LogSink | null;
  tracker?: LastUsedTracker | null;
  /** DNS for the address checks; tests inject their own. */
  lookup?: Lookup;
  /** Deadlines and lifetimes of cached model listings (model-lists.ts); tests shorten them. */
  modelListing?: Partial<ModelListTimes>;
}): GatewayServices {
  const keyring = createKeyring(opts.config);
  const upstreamFetch = createUpstreamFetch({ allowPrivate: opts.config.allowPrivateBaseUrls, lookup: opts.lookup });
  // A cache miss while the database is away is an outage, not a bug in the request: 503, so clients retry.
  let loggedAt = 0;
  const unavailable = (err: unknown): never => {
    if (err instanceof ApiError || err instanceof KeyringError) throw err;
    // One line per 10 s, not one per request, during an outage.
    if (Date.now() - loggedAt >= 10_000 && (loggedAt = Date.now())) opts.logger.error("gateway: a key or workspace lookup failed; answering 503", { error: err instanceof Error ? err.message : String(err) });
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
          opts.sql<{ log_content: boolean | null }[]>`select (settings->>'log_content')::boolean as log_content from workspaces where id = ${id}`,
        ]).catch(unavailable);
        return { providers, logContent: ws?.log_content === true };
      },
    },
    opts.events,
  );
  const tracker =
    opts.tracker === undefined
      ? new LastUsedTracker(opts.sql, { onError: (err) => opts.logger.warn("could not record key use", { error: err }) })
      : opts.tracker;

  const draining = new AbortController();
  const modelLists = new ModelLists(opts.modelListing);
  opts.events.on((e) => {
    if (e.type === "provider") modelLists.clear();
  });

  return {
    cache,
    cooldowns: new Cooldowns(),
    tracker,
    sink: opts.sink,
    fetch: upstreamFetch,
    draining: draining.signal,
    drain: () => draining.abort(),
    upstreamModels(p) {
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
      await tracker?.stop().catch((err) => opts.logger.warn("could not record key use", { error: err }));
    },
  };
}
