import { Elysia } from "elysia";
import type { AppDeps } from "../deps.ts";
import { authPlugin } from "../http/auth.ts";
import { notFound } from "../http/errors.ts";
import { SettingsBody, WorkspaceBody, WorkspaceParams } from "./model.ts";
import { createWorkspace, getSettings, getWorkspace, listWorkspaces, renameWorkspace, updateSettings } from "./service.ts";
import { getWorkspaceLimits, updateWorkspaceLimits } from "./limits.ts";

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
      async ({ params }) => {
        const [settings, limits] = await Promise.all([getSettings(deps.sql, params.id), getWorkspaceLimits(deps.sql, params.id)]);
        if (!settings || !limits) throw notFound("workspace");
        return { ...settings, ...limits };
      },
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
        // Limits first: a half budget is refused (422) before anything is stored.
        const limitsChanged = await updateWorkspaceLimits(deps.sql, params.id, {
          rpm_limit: body.rpm_limit,
          tpm_limit: body.tpm_limit,
          budget_usd: body.budget_usd,
          budget_period: body.budget_period,
        });
        const changed = Object.entries(patch).some(([k, val]) => before[k as keyof typeof before] !== val);
        if (changed) await updateSettings(deps.sql, params.id, patch);
        // The gateway caches log_content and the limits per workspace; retention is read by the hourly job.
        if (changed || limitsChanged) deps.events.emit({ type: "workspace", workspace_id: params.id });
        const limits = await getWorkspaceLimits(deps.sql, params.id);
        if (!limits) throw notFound("workspace");
        return { ...before, ...patch, ...limits };
      },
      { workspace: "admin", params: WorkspaceParams, body: SettingsBody },
    );
}
