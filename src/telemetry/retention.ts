import type { Sql } from "../db/client.ts";
import { silentLogger, type Logger } from "../logger.ts";

interface RetentionResult {
  /** Log rows deleted. */
  deleted: number;
  /** Workspaces that had rows past their retention. */
  workspaces: number;
}

interface RetentionOptions {
  /** Rows per DELETE statement: each is a short transaction holding few row locks. */
  batchSize?: number;
  /** Pause between statements so the job never monopolises the database (the embedded one has a single connection). */
  pauseMs?: number;
  /** Checked between statements: an aborted run stops early (shutdown). */
  signal?: AbortSignal;
}

const DEFAULT_RETENTION_DAYS = 30;

/**
 * Deletes request logs older than each workspace's `retention_days` (default 30), in batches of
 * batchSize rows picked through request_logs_recent (workspace_id, created_at). usage_daily is
 * not touched: counters outlive the logs. Safe to run from several instances at once.
 */
export async function runRetention(sql: Sql, opts: RetentionOptions = {}): Promise<RetentionResult> {
  const batchSize = opts.batchSize ?? 5_000;
  const pauseMs = opts.pauseMs ?? 10;
  // Only workspaces that have something to delete (one index probe each).
  const due = await sql<{ id: string; days: number }[]>`
    select w.id, s.days
    from workspaces w
    cross join lateral (
      select case when w.settings->>'retention_days' ~ '^[0-9]{1,5}$'
                  then greatest((w.settings->>'retention_days')::int, 1)
                  else ${DEFAULT_RETENTION_DAYS}::int end as days
    ) s
    where exists (
      select 1 from request_logs l
      where l.workspace_id = w.id and l.created_at < now() - make_interval(days => s.days)
    )`;
  let deleted = 0;
  for (const ws of due) {
    for (;;) {
      if (opts.signal?.aborted) return { deleted, workspaces: due.length };
      const result = await sql`
        delete from request_logs
        where id in (
          select id from request_logs
          where workspace_id = ${ws.id} and created_at < now() - make_interval(days => ${ws.days}::int)
          limit ${batchSize}
        )`;
      deleted += result.count;
      if (result.count < batchSize) break;
      if (pauseMs > 0) await Bun.sleep(pauseMs);
    }
  }
  return { deleted, workspaces: due.length };
}

/** Runs runRetention every intervalMs (first run after firstRunMs); timers never keep the process alive. */
export function startRetention(
  sql: Sql,
  opts: RetentionOptions & { logger?: Logger; intervalMs?: number; firstRunMs?: number } = {},
): { stop(): Promise<void> } {
  const logger = opts.logger ?? silentLogger;
  const intervalMs = opts.intervalMs ?? 3_600_000;
  let running: Promise<void> | null = null;
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | null = null;
  const abort = new AbortController();
  const tick = () => {
    timer = null;
    if (stopped || running) return;
    running = runRetention(sql, { ...opts, signal: abort.signal })
      .then((r) => {
        if (r.deleted > 0) logger.info("log retention: old request logs deleted", { ...r });
      })
      .catch((err) => logger.warn("log retention run failed; will try again", { error: err instanceof Error ? err.message : String(err) }))
      .finally(() => {
        running = null;
        if (!stopped) arm(intervalMs);
      });
  };
  const arm = (ms: number) => {
    timer = setTimeout(tick, ms);
    timer.unref?.();
  };
  arm(opts.firstRunMs ?? 60_000);
  return {
    async stop() {
      stopped = true;
      abort.abort();
      if (timer) clearTimeout(timer);
      if (running) await running;
    },
  };
}
