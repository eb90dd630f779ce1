import { Elysia } from "elysia";
import type { AppDeps } from "../app.ts";
import { authPlugin } from "../http/auth.ts";
import { notFound } from "../http/errors.ts";
import { SettingsBody, WorkspaceBody, WorkspaceParams } from "./model.ts";
import { createWorkspace, getSettings, getWorkspace, listWorkspaces, renameWorkspace, updateSettings } from "./service.ts";

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
    )
    .get(
      "/:id/settings",
      async ({ params }) => (await getSettings(deps.sql, params.id)) ?? Promise.reject(notFound("workspace")),
      { workspace: "member", params: WorkspaceParams },
    )
    .put(
      "/:id/settings",
      async ({ params, body }) => {
        const before = await getSettings(deps.sql, params.id);
        if (!before) throw notFound("workspace");
        const patch = {
          ...(body.retention_days !== undefined ? { retention_days: body.retention_days } : {}),
          ...(body.log_content !== undefined ? { log_content: body.log_content } : {}),
        };
        const changed = Object.entries(patch).some(([k, val]) => before[k as keyof typeof before] !== val);
        if (!changed) return before;
        await updateSettings(deps.sql, params.id, patch);
        // The gateway caches log_content per workspace; retention is read by the hourly job.
        deps.events.emit({ type: "workspace", workspace_id: params.id });
        return { ...before, ...patch };
      },
      { workspace: "admin", params: WorkspaceParams, body: SettingsBody },
    );
}
