import { redact } from "../logger.ts";

/**
 * Request and response bodies are stored only when the workspace turned `log_content` on, and
 * then at most this many characters of each (the rest is cut and marked). The log detail API
 * reports the limit so the dashboard can say a body was cut.
 */
export const LOG_BODY_LIMIT = 16_384;

const MARK = /…\[truncated: (\d+) characters in all\]$/;

/**
 * What the gateway stores as `request_body` / `response_body`: credentials masked (the logger's
 * patterns), then cut to `limit` characters with a marker saying how long the original was.
 */
export function bodyForLog(text: string, limit: number = LOG_BODY_LIMIT): string {
  const clean = redact(text);
  if (clean.length <= limit) return clean;
  return `${clean.slice(0, limit)}…[truncated: ${clean.length} characters in all]`;
}

/** Whether a stored body was cut by bodyForLog. */
export function isTruncated(stored: string | null): boolean {
  return stored !== null && MARK.test(stored);
}
