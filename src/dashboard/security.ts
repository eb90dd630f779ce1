/**
 * Response headers that make the dashboard safe to render in a browser. They are cheap and
 * harmless on JSON and gateway responses too, so the app sets them on every response.
 */
export const CONTENT_SECURITY_POLICY =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'self'; form-action 'self'";

const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "content-security-policy": CONTENT_SECURITY_POLICY,
  "x-content-type-options": "nosniff",
  "referrer-policy": "same-origin",
};

type HeaderBag = Record<string, string | number | undefined> | { [k: string]: unknown };

/** Adds the security headers to Elysia's `set.headers` (values already set by a route win). */
export function applySecurityHeaders(headers: HeaderBag): void {
  const h = headers as Record<string, unknown>;
  for (const [k, v] of Object.entries(SECURITY_HEADERS)) h[k] ??= v;
}
