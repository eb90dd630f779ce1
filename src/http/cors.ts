/**
 * CORS for browser clients of /v1 only (CORS_ORIGINS). The dashboard and the JSON API never send
 * Access-Control-* headers: they are same-origin by design, and their session credentials must
 * not be usable from another site. Gateway keys travel in the Authorization header, not cookies,
 * so no Allow-Credentials is needed, and "*" stays valid.
 */

/**
 * Request headers a browser client may send: the OpenAI SDK's, the Anthropic SDK's (its key in
 * x-api-key, for /v1/messages), ours, and both SDKs' x-stainless-* family.
 */
const CORS_ALLOW_HEADERS: readonly string[] = [
  "authorization",
  "content-type",
  "x-request-id",
  "openai-organization",
  "openai-project",
  "openai-beta",
  "idempotency-key",
  "x-api-key",
  "anthropic-version",
  "anthropic-beta",
  "anthropic-dangerous-direct-browser-access",
];
const STAINLESS = /^x-stainless-[a-z0-9-]{1,64}$/;

/** Response headers scripts may read (Expose-Headers takes no prefix wildcards: each is named). */
const CORS_EXPOSE_HEADERS = [
  "x-request-id",
  "x-perpetuo-provider",
  "x-perpetuo-attempts",
  "x-perpetuo-cost",
  "x-ratelimit-limit-requests",
  "x-ratelimit-remaining-requests",
  "x-ratelimit-reset-requests",
  "x-ratelimit-limit-tokens",
  "x-ratelimit-remaining-tokens",
  "x-ratelimit-reset-tokens",
  "retry-after",
  "x-should-retry",
].join(", ");

const CORS_MAX_AGE_SECONDS = 600;

export interface CorsPolicy {
  /** Any origin ("*" configured). */
  any: boolean;
  origins: ReadonlySet<string>;
}

/** null when CORS is off (CORS_ORIGINS unset). */
export function corsPolicy(configured: readonly string[]): CorsPolicy | null {
  if (configured.length === 0) return null;
  return { any: configured.includes("*"), origins: new Set(configured) };
}

/** The Access-Control-Allow-Origin value for this Origin header, or null when it is not allowed. */
function allowedOrigin(policy: CorsPolicy, origin: string | null): string | null {
  if (!origin) return null;
  if (policy.any) return "*";
  return policy.origins.has(origin) ? origin : null;
}

/** The Allow-Headers answer to a preflight: the fixed list plus the x-stainless-* headers asked for. */
export function allowHeaders(requested: string | null): string {
  const out = [...CORS_ALLOW_HEADERS];
  for (const raw of (requested ?? "").split(",")) {
    const h = raw.trim().toLowerCase();
    if (STAINLESS.test(h) && !out.includes(h)) out.push(h);
    if (out.length > 64) break;
  }
  return out.join(", ");
}

/** The path of a request URL without parsing all of it (this runs on every request). */
export function pathOf(url: string): string {
  const start = url.indexOf("/", url.indexOf("//") + 2);
  if (start < 0) return "/";
  const q = url.indexOf("?", start);
  return q < 0 ? url.slice(start) : url.slice(start, q);
}

export const isGatewayPath = (path: string) => path === "/v1" || path.startsWith("/v1/");

type HeaderBag = Record<string, unknown>;

/**
 * The request hook: adds the CORS headers of a /v1 response to `set.headers` (so errors and
 * streams get them too), and answers a preflight itself, before authentication (browsers send
 * preflights without credentials). Other paths, and disallowed origins, are left untouched.
 */
export function applyCors(policy: CorsPolicy | null, request: Request, headers: HeaderBag): Response | undefined {
  if (!policy) return;
  const path = pathOf(request.url);
  if (!isGatewayPath(path)) return;
  // Caches must not serve one origin's answer to another.
  headers.vary = "Origin";
  const allow = allowedOrigin(policy, request.headers.get("origin"));
  if (!allow) return;
  const preflight = request.method === "OPTIONS" && request.headers.has("access-control-request-method");
  if (preflight) {
    return new Response(null, {
      status: 204,
      headers: {
        "access-control-allow-origin": allow,
        "access-control-allow-methods": "GET, POST, OPTIONS",
        "access-control-allow-headers": allowHeaders(request.headers.get("access-control-request-headers")),
        "access-control-max-age": String(CORS_MAX_AGE_SECONDS),
        vary: "Origin, Access-Control-Request-Method, Access-Control-Request-Headers",
      },
    });
  }
  headers["access-control-allow-origin"] = allow;
  headers["access-control-expose-headers"] = CORS_EXPOSE_HEADERS;
}
