import type { AppDeps } from "../deps.ts";
import { csrfTokenFor, type Session } from "../http/auth.ts";
import { ApiError, NOT_FOUND_PAGE, type DashboardPage } from "../http/errors.ts";
import { listWorkspaces } from "../workspaces/service.ts";
import { ErrorPage } from "../../views/pages/error.tsx";
import { htmlResponse, localPath, pathOf, targetsInline, viewContext } from "./render.ts";
import { safeNext } from "./session.ts";

/** Paths whose errors are pages for people, not JSON for programs: /, /app…, /login, /signup, /logout, /invite/…. */
const DASHBOARD_PATH = /^\/(?:app(?:\/.*)?|login|signup|logout|invite\/.*)?$/;

interface ErrorContext {
  code: string | number;
  error: unknown;
  request: Request;
  /** Resolved by the auth macro before the failure, when it got that far. */
  session?: Session;
}

function describe(deps: AppDeps, ctx: ErrorContext, path: string): DashboardPage {
  const { code, error } = ctx;
  const page = error instanceof ApiError ? error.page() : null;
  if (page) return page;
  switch (code) {
    case "NOT_FOUND":
    case "VALIDATION":
      return NOT_FOUND_PAGE;
    case "PARSE":
      return { status: 400, title: "Bad request", message: "The form could not be read. Go back and try again." };
  }
  const status = (error as { status?: unknown } | null)?.status;
  if (typeof status === "number" && status >= 400 && status < 500) {
    return { status, title: "Something is not right", message: "The request could not be handled. Go back and try again." };
  }
  const id = crypto.randomUUID();
  deps.logger.error("unhandled dashboard error", {
    error_id: id,
    path,
    error: error instanceof Error ? error.message : String(error),
  });
  return {
    status: 500,
    title: "Something went wrong",
    message: `An unexpected error stopped this page. It has been logged with reference ${id}; please try again.`,
  };
}

/**
 * The dashboard's error rendering: sign-in redirects for anonymous visitors and HTML pages (or
 * htmx fragments) for everything else. Returns null for paths outside the dashboard, which keep
 * the JSON error shape.
 */
export function dashboardError(deps: AppDeps, ctx: ErrorContext): Promise<Response> | null {
  const url = new URL(ctx.request.url);
  return DASHBOARD_PATH.test(url.pathname) ? render(deps, ctx, url) : null;
}

async function render(deps: AppDeps, ctx: ErrorContext, url: URL): Promise<Response> {
  const headers: Record<string, string> = ctx.request.headers.toJSON();
  const hx = headers["hx-request"] === "true";

  if (ctx.error instanceof ApiError && ctx.error.status === 401) {
    const here = hx ? localPath(headers["hx-current-url"]) : ctx.request.method === "GET" ? url.pathname + url.search : null;
    const next = safeNext(here);
    const login = next ? `/login?next=${encodeURIComponent(next)}` : "/login";
    // An expired or forged session cookie is dropped on the way.
    const clear: Record<string, string> = /(?:^|;\s*)perpetuo_session=/.test(headers.cookie ?? "")
      ? { "set-cookie": "perpetuo_session=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax" }
      : {};
    const common = { vary: "HX-Request", "cache-control": "no-store", ...clear };
    // htmx follows HX-Redirect with a full page load; a plain browser follows the 303.
    if (hx) return new Response(null, { status: 401, headers: { "hx-redirect": login, ...common } });
    return new Response(null, { status: 303, headers: { location: login, ...common } });
  }

  const d = describe(deps, ctx, url.pathname);
  // The error page must render even when the database is what failed.
  const workspaces = ctx.session ? await listWorkspaces(deps.sql, ctx.session.user.id).catch(() => []) : [];
  const view = viewContext({
    headers,
    path: pathOf(ctx.request),
    csrf: ctx.session ? csrfTokenFor(deps, ctx.session.sessionId) : "",
    user: ctx.session?.user ?? null,
    workspaces: workspaces.map((w) => ({ id: w.id, name: w.name, role: w.role })),
  });
  const inline = targetsInline(headers);
  return htmlResponse(<ErrorPage ctx={view} status={d.status} title={d.title} message={d.message} inline={inline} />, d.status);
}
