import type { ViewContext, WorkspaceRef } from "../../views/context.ts";
import type { PublicUser } from "../accounts/service.ts";
import { assetUrl } from "./assets.ts";
import { applySecurityHeaders } from "./security.ts";

type Headers = Record<string, string | undefined>;
/** The part of Elysia's `set` the dashboard writes to. */
export interface SetLike {
  status?: number | string;
  headers: Record<string, unknown>;
}

/**
 * htmx asks for a fragment (the page frame) unless it targets the whole body — which it does when
 * restoring history after Back — so those requests get the whole document.
 */
function wantsFragment(headers: Headers): boolean {
  return headers["hx-request"] === "true" && headers["hx-request-type"] !== "full" && headers["hx-history-restore-request"] !== "true";
}

/** The htmx request swaps something smaller than the page frame (a form section, a result cell). */
export function targetsInline(headers: Headers): boolean {
  const target = headers["hx-target"];
  return wantsFragment(headers) && !!target && target !== "div#frame";
}

const HTML_HEADERS = {
  "content-type": "text/html; charset=utf-8",
  // Pages and fragments share URLs; caches must key on the header that picks between them.
  vary: "HX-Request",
  // Every dashboard page is private to a session.
  "cache-control": "no-store",
} as const;

/**
 * htmx 4 rewrites every `<hx-…` in a response to `<template hx type="…"` (its partials), inside an
 * attribute value too, where the quotes it adds end the value: a key named `<hx-x hx-get=… ` would
 * become attributes on the page. Text is escaped already, so a `<hx-` left in the markup is in an
 * attribute value, where `&lt;` reads the same. (Our partials are written <template hx type="partial">.)
 */
const defuseHxTags = (markup: string) => markup.replace(/<(\/?hx-)/gi, "&lt;$1");

/** Sets the status and HTML headers, awaits the view (Kita may return a promise) and returns the markup. */
export async function html(set: SetLike, view: JSX.Element, status = 200): Promise<string> {
  set.status = status;
  Object.assign(set.headers, HTML_HEADERS);
  applySecurityHeaders(set.headers);
  return defuseHxTags(await view);
}

/** A complete Response, for places that cannot use Elysia's `set` (the error handler). */
export async function htmlResponse(view: JSX.Element, status: number, extra: Record<string, string> = {}): Promise<Response> {
  const headers: Record<string, string> = { ...HTML_HEADERS, ...extra };
  applySecurityHeaders(headers);
  return new Response(defuseHxTags(await view), { status, headers });
}

export function viewContext(opts: {
  headers: Headers;
  path: string;
  csrf: string;
  user?: PublicUser | null;
  workspaces?: WorkspaceRef[];
  workspace?: WorkspaceRef | null;
}): ViewContext {
  return {
    hx: wantsFragment(opts.headers),
    user: opts.user ? { email: opts.user.email, name: opts.user.name } : null,
    csrf: opts.csrf,
    path: opts.path,
    workspaces: opts.workspaces ?? [],
    workspace: opts.workspace ?? null,
    assets: { css: assetUrl("app.css"), htmx: assetUrl("htmx.min.js"), js: assetUrl("app.js") },
  };
}

/** Path and query of a request URL. */
export function pathOf(request: Request): string {
  const u = new URL(request.url);
  return u.pathname + u.search;
}

/** Path and query of an absolute URL a header names (HX-Current-URL, Referer); null when absent or unreadable. */
export function localPath(href: string | undefined): string | null {
  if (!href) return null;
  try {
    const u = new URL(href);
    return u.pathname + u.search;
  } catch {
    return null;
  }
}
