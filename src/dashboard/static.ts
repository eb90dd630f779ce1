import { Elysia } from "elysia";
import { ASSETS } from "./assets.ts";
import { applySecurityHeaders } from "./security.ts";

/**
 * GET /public/<name>: the embedded files only (see assets.ts), so nothing else on disk is reachable.
 * A URL carrying the file's content hash (`?v=…`, what pages link to) is immutable; anything else
 * is revalidated with the ETag.
 */
export function staticRoutes() {
  return new Elysia().get("/public/*", ({ params, query, request }) => {
    const name = params["*"];
    const asset = ASSETS.get(name);
    const headers: Record<string, string> = {};
    applySecurityHeaders(headers);
    if (!asset) {
      return new Response("not found\n", { status: 404, headers: { ...headers, "content-type": "text/plain; charset=utf-8" } });
    }
    const versioned = typeof query.v === "string" && asset.url.endsWith(`?v=${query.v}`);
    headers["cache-control"] = versioned ? "public, max-age=31536000, immutable" : "public, max-age=300, must-revalidate";
    headers.etag = asset.etag;
    headers["content-type"] = asset.contentType;
    if (request.headers.get("if-none-match") === asset.etag) return new Response(null, { status: 304, headers });
    return new Response(request.method === "HEAD" ? null : asset.body, { status: 200, headers });
  });
}
