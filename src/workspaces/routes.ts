import { Elysia } from "elysia";
import type { AppDeps } from "../app.ts";
import { authPlugin } from "../http/auth.ts";
import { notFound } from "../http/errors.ts";
import { WorkspaceBody, WorkspaceParams } from "./model.ts";
import { createWorkspace, getWorkspace, listWorkspaces, renameWorkspace } from "./service.ts";

export function workspacesRoutes(deps: AppDeps) {
  return new Elysia({ prefix: "/workspaces" })
    .use(authPlugin(deps))
    .get("/", async ({ session }) => ({ data: await listWorkspaces(deps.sql, session.user.id) }), { auth: true })
    .post(
      "/",
      async ({ session, body, set }) => {
        set.status = 201;
        return createWorkspace(deps.sql, session.user.id, body.name);
      },
      { auth: true, body: WorkspaceBody },
    )
    .get(
      "/:id",
      async ({ session, params }) => (await getWorkspace(deps.sql, params.id, session.user.id)) ?? Promise.reject(notFound("workspace")),
      { workspace: "member", params: WorkspaceParams },
    )
    .put(
      "/:id",
      async ({ session, params, body }) => {
        await renameWorkspace(deps.sql, params.id, body.name);
        return getWorkspace(deps.sql, params.id, session.user.id);
      },
      { workspace: "admin", params: WorkspaceParams, body: WorkspaceBody },
    );
}
