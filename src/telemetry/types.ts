import type { Sql } from "../db/client.ts";
import type { Logger } from "../logger.ts";

/**
 * The record the gateway hands to the log queue, one per request. The queue owns everything after
 * `enqueue`: batching, the database write, the per-day counters and, when PostgreSQL is away, the
 * spool on disk. The hot path never waits on any of it.
 */

/** One try against one provider entry, in the order they were made. */
export interface AttemptRecord {
  provider_id: string;
  provider_name: string;
  provider_type: string;
  model: string;
  /** Upstream HTTP status; null = no response (network error, timeout). */
  status: number | null;
  /** null = success. */
  error_class: string | null;
  /** Short and already redacted. */
  message: string | null;
  latency_ms: number;
}

export interface RequestRecord {
  /** Primary key of the log row (cuid2); replays of the same record are stored once. */
  id: string;
  request_id: string;
  workspace_id: string;
  api_key_id: string | null;
  /** The entry that answered (or the last one tried); null when none was tried. */
  provider_id: string | null;
  provider_name: string | null;
  provider_type: string | null;
  model_requested: string;
  model_used: string | null;
  /** The gateway endpoint: 'chat' (also when absent), 'embeddings', … (request_logs.endpoint). */
  endpoint?: string;
  stream: boolean;
  /** Status sent to the client. */
  status: number;
  /** null = success. */
  error_class: string | null;
  error_message: string | null;
  latency_ms: number;
  ttft_ms: number | null;
  /** Includes cached (and cache-written) prompt tokens, as OpenAI reports them. */
  prompt_tokens: number;
  /** Includes reasoning tokens, as OpenAI reports them. */
  completion_tokens: number;
  cached_tokens: number;
  reasoning_tokens: number;
  /** True when the provider reported no usage and the figures come from estimate.ts. */
  usage_estimated: boolean;
  /** null = unknown price, never 0 for unknown (see pricing.ts costFor). */
  cost_usd: number | null;
  attempts: AttemptRecord[];
  /** Only when the workspace turned content logging on; already truncated (see content.ts). */
  request_body: string | null;
  response_body: string | null;
  /** ISO 8601; the request's start. */
  created_at: string;
  /** The gateway key's tags when the request was made; absent or null when it had none. */
  tags?: string[] | null;
}

export interface LogSink {
  enqueue(record: RequestRecord): void;
}

export interface LogQueueOptions {
  sql: Sql;
  logger?: Logger;
  /**
   * Where records go when PostgreSQL cannot take them (DATA_DIR/spool). Created on first use.
   * null: no spool, records stay in memory until the database is back.
   */
  spoolDir?: string | null;
  /** Rows per insert statement. */
  batchSize?: number;
  /** A partial batch is written after waiting this long for more records. */
  flushIntervalMs?: number;
  /**
   * Records held in memory while the database is away before they are spilled to the spool. Also
   * the memory bound when there is no spool, or the spool is full or failing: beyond it the newest
   * records are dropped, counted in stats().discarded.
   */
  maxMemoryRecords?: number;
  /** Bound on the spool files waiting to be replayed (rejected.ndjson aside); beyond it records stay in memory, then are dropped. */
  maxSpoolBytes?: number;
  /** First retry delay after a failed write; doubles per failure up to retryMaxMs. */
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** A write that has not answered by then counts as failed (it may still commit: replays are idempotent). */
  writeTimeoutMs?: number;
}
