import type { AppDeps } from "../deps.ts";
import { csrfTokenFor, type Session } from "../http/auth.ts";
import { notFound } from "../http/errors.ts";
import { listWorkspaces } from "../workspaces/service.ts";
import type { ViewContext } from "../../views/context.ts";
import { pathOf, viewContext } from "./render.ts";

interface RequestBits {
  headers: Record<string, string | undefined>;
  request: Request;
  session: Session;
}

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

export const workspacePath = (id: string, rest = "") => `/app/w/${encodeURIComponent(id)}${rest}`;
