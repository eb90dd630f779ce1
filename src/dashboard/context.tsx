import { redirect } from "elysia";
import type { AppDeps } from "../deps.ts";
import { csrfTokenFor, type Session } from "../http/auth.ts";
import { notFound } from "../http/errors.ts";
import { listWorkspaces } from "../workspaces/service.ts";
import type { ViewContext } from "../../views/context.ts";
import type { Section } from "../../views/layout.tsx";
import type { ConfirmProps } from "../../views/components/confirm.tsx";
import { ConfirmPage } from "../../views/pages/confirm.tsx";
import { html, pathOf, targetsInline, viewContext, type SetLike } from "./render.ts";
import { loginCsrfToken, type CookieJar } from "./session.ts";

interface RequestBits {
  headers: Record<string, string | undefined>;
  request: Request;
  session: Session;
}

/** What a signed-in page's handler passes on: Elysia's context has these and more. */
export type PageBits = RequestBits & { set: SetLike };

/** The view context of a signed-in page; with `workspaceId`, that workspace is the current one. */
export async function pageContext(deps: AppDeps, c: RequestBits, workspaceId?: string): Promise<ViewContext> {
  const all = await listWorkspaces(deps.sql, c.session.user.id);
  const workspaces = all.map((w) => ({ id: w.id, name: w.name, role: w.role }));
  const workspace = workspaceId ? (workspaces.find((w) => w.id === workspaceId) ?? null) : null;
  // The workspace macro has already checked membership; this only guards a race with a removal.
  if (workspaceId && !workspace) throw notFound("workspace");
  return viewContext({
    headers: c.headers,
    path: pathOf(c.request),
    csrf: csrfTokenFor(deps, c.session.sessionId),
    user: c.session.user,
    workspaces,
    workspace,
  });
}

/** The view context of a page for someone not signed in: its forms carry the pre-session CSRF token. */
export function guestContext(deps: AppDeps, c: Omit<RequestBits, "session"> & { cookie: CookieJar }): ViewContext {
  return viewContext({ headers: c.headers, path: pathOf(c.request), csrf: loginCsrfToken(deps, c.cookie) });
}

export const workspacePath = (id: string, rest = "") => `/app/w/${encodeURIComponent(id)}${rest}`;

/** A form post's answer: on to a workspace's page (303, so reloading it does not post again). */
export const toWorkspace = (id: string, rest = "") => redirect(workspacePath(id, rest), 303);

/**
 * "Are you sure?" before a destructive change in a workspace section: a page of its own without
 * JavaScript, the card alone for htmx's dialog slot. Cancel leads back to the section's list.
 */
export async function confirmPage(
  deps: AppDeps,
  c: PageBits,
  id: string,
  section: Section,
  confirm: Omit<ConfirmProps, "action" | "cancelHref" | "csrf">,
) {
  const ctx = await pageContext(deps, c, id);
  // Confirming posts to the URL that asked: GET shows the question, POST makes the change.
  const card = { ...confirm, action: new URL(c.request.url).pathname, cancelHref: workspacePath(id, `/${section}`), csrf: ctx.csrf };
  return html(c.set, <ConfirmPage ctx={ctx} section={section} inline={targetsInline(c.headers)} confirm={card} />);
}
