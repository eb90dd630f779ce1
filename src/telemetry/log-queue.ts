/**
 * The request log writer's public surface (app.ts, tests, benches import it from here): the
 * writer loop in log-writer.ts, the disk spool in log-spool.ts, record → row and the batch
 * statement in log-rows.ts.
 */
export { backoffDelay, LogQueue, type LogQueueOptions, type LogQueueStats } from "./log-writer.ts";
export { encodeBatch, insertLogs, toRow, type LogRow } from "./log-rows.ts";
