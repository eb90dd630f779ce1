import type { AnyElysia } from "elysia";
import type { AppDeps } from "../deps.ts";
import { VERSION } from "../cli/usage.ts";
import { buildOpenApiDocument, type OpenApiDocument } from "./document.ts";
import { DOCS_CSP, renderDocsPage } from "./docs-page.ts";

/**
 * GET /openapi.json and GET /docs, describing every route of the app this is used on.
 * A function plugin: it receives the app itself, so routes registered after it are documented too.
 * The document is built on first request and again only when the app's routes change.
 */
export function openapiRoutes(deps: Pick<AppDeps, "config">) {
  return <A extends AnyElysia>(app: A) => {
    let cached: { routes: number; doc: OpenApiDocument; json: string; html: string } | null = null;
    const current = () => {
      const routes = app.routes.length;
      if (!cached || cached.routes !== routes) {
        const doc = buildOpenApiDocument(app, { version: VERSION, publicUrl: deps.config.publicUrl });
        cached = { routes, doc, json: JSON.stringify(doc), html: renderDocsPage(doc) };
      }
      return cached;
    };
    // Rebuilt whenever the routes change, so never served from a cache.
    const answer = (body: string, headers: Record<string, string>) =>
      new Response(body, { headers: { ...headers, "cache-control": "no-cache" } });
    return app
      .get("/openapi.json", () => answer(current().json, { "content-type": "application/json; charset=utf-8" }), { detail: { hide: true } })
      .get(
        "/docs",
        () =>
          answer(current().html, {
            "content-type": "text/html; charset=utf-8",
            "content-security-policy": DOCS_CSP,
            "x-content-type-options": "nosniff",
            "referrer-policy": "same-origin",
          }),
        { detail: { hide: true } },
      );
  };
}
