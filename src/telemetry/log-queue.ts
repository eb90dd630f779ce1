/**
 * The request log writer's public surface (app.ts, tests, benches import it from here): the
 * writer loop in log-writer.ts, the disk spool in log-spool.ts, record → row and the batch
 * statement in log-rows.ts.
 */
export { LogQueue } from "./log-writer.ts";
export { backoffDelay } from "./log-retry.ts";
export type { LogQueueOptions, LogQueueStats } from "./types.ts";
export { encodeBatch, insertLogs, toRow } from "./log-rows.ts";
