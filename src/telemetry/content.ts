import { redactSecrets } from "../adapters/types.ts";

/**
 * Request and response bodies are stored only when the workspace turned `log_content` on, and
 * then at most this many characters of each (the rest is cut and marked). The log detail API
 * reports the limit so the dashboard can say a body was cut.
 */
export const LOG_BODY_LIMIT = 16_384;

const MARK = /…\[truncated: (\d+) characters in all\]$/;

/**
 * What the gateway stores as `request_body` / `response_body`: credentials masked (the gateway's
 * one redaction, with the provider's key when there is one), then cut to `limit` characters with
 * a marker saying how long the original was. Only the part kept is redacted (a body may be
 * megabytes), plus a margin so a secret straddling the cut is still recognised whole.
 */
export function bodyForLog(text: string, limit: number = LOG_BODY_LIMIT, key: string | null = null): string {
  if (text.length <= limit) return redactSecrets(text, key);
  const head = redactSecrets(text.slice(0, limit + 4096), key);
  return `${head.slice(0, limit)}…[truncated: ${text.length} characters in all]`;
}

/** Whether a stored body was cut by bodyForLog. */
export function isTruncated(stored: string | null): boolean {
  return stored !== null && MARK.test(stored);
}
