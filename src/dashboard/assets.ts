/**
 * The dashboard's static files (public/), embedded at build time so `bun build --compile` carries
 * them. Only these files are served: there is no path on disk to traverse.
 */
// @ts-expect-error -- a Bun text import of the vendored htmx build; TypeScript has no types for it.
import htmxText from "../../public/htmx.min.js" with { type: "text" };
// @ts-expect-error -- a Bun text import of our small script; TypeScript has no types for it.
import appJsText from "../../public/app.js" with { type: "text" };
import appCssText from "../../public/app.css" with { type: "text" };

interface Asset {
  body: string;
  contentType: string;
  etag: string;
  /** The URL to reference from pages: versioned by content hash, so it can be cached forever. */
  url: string;
}

function asset(name: string, body: string, contentType: string): Asset {
  const hash = new Bun.CryptoHasher("sha256").update(body).digest("hex").slice(0, 16);
  return { body, contentType, etag: `"${hash}"`, url: `/public/${name}?v=${hash}` };
}

export const ASSETS: ReadonlyMap<string, Asset> = new Map([
  ["htmx.min.js", asset("htmx.min.js", htmxText as string, "text/javascript; charset=utf-8")],
  ["app.js", asset("app.js", appJsText as string, "text/javascript; charset=utf-8")],
  ["app.css", asset("app.css", appCssText, "text/css; charset=utf-8")],
]);

export const assetUrl = (name: "htmx.min.js" | "app.js" | "app.css"): string => ASSETS.get(name)!.url;
