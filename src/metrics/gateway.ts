import type { LogQueueStats } from "../telemetry/log-health.ts";
import type { LogSink, RequestRecord } from "../telemetry/types.ts";
import { Collected, Counter, Histogram, Registry } from "./registry.ts";

/** Distinct model label values kept; later ones are counted as "other" (clients choose model names). */
export const MAX_MODEL_LABELS = 200;
const OTHER = "other";

type QueueStats = Pick<LogQueueStats, "queued" | "spilled" | "spool_bytes" | "discarded" | "written">;

/** What the scrape reads from elsewhere in the process; any of it may be absent. */
interface MetricSources {
  /** Cooldowns started since start (Cooldowns.started). */
  cooldownsStarted?: () => number;
  /** LogQueue.stats(). */
  logQueue?: () => QueueStats;
  /** The database pool's configured size (postgres.js does not tell how many connections are busy). */
  dbPoolMax?: () => number | null;
}

/**
 * The gateway's request metrics. Everything a request did is in its log record, so recording
 * happens where records are handed to the log queue (metricsSink): every endpoint that logs is
 * counted, and nothing on the request path itself changes.
 */
export class GatewayMetrics {
  readonly registry = new Registry();
  private readonly models = new Set<string>();
  private readonly requests = this.registry.register(
    new Counter(
      "perpetuo_requests_total",
      "Gateway requests answered, by endpoint, HTTP status sent, provider type that answered (or none) and model requested.",
      ["endpoint", "status", "provider", "model"],
    ),
  );
  private readonly latency = this.registry.register(
    new Histogram("perpetuo_request_duration_seconds", "Time until the gateway's answer was complete (streams: until the stream ended).", [
      "endpoint",
      "provider",
    ]),
  );
  private readonly ttft = this.registry.register(
    new Histogram("perpetuo_time_to_first_token_seconds", "Streamed requests: time until the first content was sent.", [
      "endpoint",
      "provider",
    ]),
  );
  private readonly fallbacks = this.registry.register(
    new Counter("perpetuo_fallbacks_total", "Requests that needed more than one provider attempt.", ["endpoint"]),
  );

  constructor(sources: MetricSources = {}) {
    // Read at each scrape; a source this process does not have leaves its metric out.
    const queue = (n: keyof QueueStats) => () => sources.logQueue?.()[n] ?? null;
    const collected: [name: string, help: string, type: "gauge" | "counter", read: () => number | null][] = [
      [
        "perpetuo_cooldowns_started_total",
        "Provider entries put in cooldown after a 429, 5xx, timeout or network failure.",
        "counter",
        () => sources.cooldownsStarted?.() ?? null,
      ],
      ["perpetuo_log_queue_depth", "Request-log records in memory, not yet committed.", "gauge", queue("queued")],
      [
        "perpetuo_log_spooled_records_total",
        "Request-log records written to the disk spool while the database was unavailable.",
        "counter",
        queue("spilled"),
      ],
      ["perpetuo_log_spool_bytes", "Bytes in spool files waiting to be replayed.", "gauge", queue("spool_bytes")],
      [
        "perpetuo_log_records_discarded_total",
        "Request-log records dropped because memory and spool were both full.",
        "counter",
        queue("discarded"),
      ],
      ["perpetuo_log_rows_written_total", "Request-log rows committed to the database.", "counter", queue("written")],
      [
        "perpetuo_db_pool_max_connections",
        "Configured size of the database connection pool.",
        "gauge",
        () => sources.dbPoolMax?.() ?? null,
      ],
    ];
    for (const [name, help, type, read] of collected) this.registry.register(new Collected(name, help, type, read));
  }

  /** The model's label value: itself while fewer than MAX_MODEL_LABELS are known, else "other". */
  modelLabel(model: string): string {
    if (!model) return "none";
    if (this.models.has(model)) return model;
    if (this.models.size >= MAX_MODEL_LABELS) return OTHER;
    this.models.add(model);
    return model;
  }

  observe(r: RequestRecord): void {
    const endpoint = r.endpoint ?? "chat";
    const provider = r.provider_type ?? "none";
    this.requests.inc(endpoint, statusLabel(r.status), provider, this.modelLabel(r.model_requested));
    this.latency.observe(r.latency_ms / 1000, endpoint, provider);
    if (r.stream && r.ttft_ms !== null && r.status < 400) this.ttft.observe(r.ttft_ms / 1000, endpoint, provider);
    if (r.attempts.length > 1) this.fallbacks.inc(endpoint);
  }

  render(): string {
    return this.registry.render();
  }
}

// Status codes as strings, made once: the label is read on every request.
const STATUS_TEXT: string[] = Array.from({ length: 600 }, (_, i) => String(i));
function statusLabel(status: number): string {
  return Number.isInteger(status) && status >= 0 && status < 600 ? STATUS_TEXT[status]! : OTHER;
}

/** Counts each record, then hands it on: wraps the gateway's log sink. */
export function metricsSink(metrics: GatewayMetrics, inner: LogSink): LogSink {
  return {
    enqueue(record) {
      try {
        metrics.observe(record);
      } catch {
        // Metrics must never cost a log row.
      }
      inner.enqueue(record);
    },
  };
}
