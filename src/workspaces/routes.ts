import type { AppDeps } from "../deps.ts";
import { needs, signedInRoutes } from "../http/routes.ts";
import { notFound, orNotFound } from "../http/errors.ts";
import { SettingsBody, WorkspaceBody, WorkspaceParams } from "./model.ts";
import { createWorkspace, getSettings, getWorkspace, listWorkspaces, renameWorkspace, updateSettings } from "./service.ts";
import { getWorkspaceLimits } from "./limits.ts";

export function workspacesRoutes(deps: AppDeps) {
  const settingsOf = async (id: string) => {
    const [settings, limits] = await Promise.all([getSettings(deps.sql, id), getWorkspaceLimits(deps.sql, id)]);
    if (!settings || !limits) throw notFound("workspace");
    return { ...settings, ...limits };
  };

  return signedInRoutes(deps, "/workspaces")
    .get("/", async ({ session }) => ({ data: await listWorkspaces(deps.sql, session.user.id) }), {
      auth: true,
      detail: { summary: "List your workspaces" },
    })
    .post(
      "/",
      async ({ actor, body, set }) => {
        set.status = 201;
        return createWorkspace(actor, body.name);
      },
      { auth: true, body: WorkspaceBody, detail: { summary: "Create a workspace (you become its owner)" } },
    )
    .get(
      "/:id",
      ({ session, params }) => orNotFound(getWorkspace(deps.sql, params.id, session.user.id), "workspace"),
      needs("member", WorkspaceParams, "Get a workspace"),
    )
    .put(
      "/:id",
      async ({ session, actor, params, body }) => {
        await renameWorkspace(actor, params.id, body.name);
        return getWorkspace(deps.sql, params.id, session.user.id);
      },
      needs("admin", WorkspaceParams, "Rename a workspace (admin)", { body: WorkspaceBody }),
    )
    .get("/:id/settings", ({ params }) => settingsOf(params.id), needs("member", WorkspaceParams, "Get the workspace's settings"))
    .put(
      "/:id/settings",
      async ({ params, body, actor }) => {
        if (!(await updateSettings(actor, params.id, body))) throw notFound("workspace");
        return settingsOf(params.id);
      },
      needs("admin", WorkspaceParams, "Update the workspace's settings (admin)", { body: SettingsBody }),
    );
}
