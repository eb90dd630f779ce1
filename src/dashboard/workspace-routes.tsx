import * as v from "valibot";
import type { AppDeps } from "../deps.ts";
import { needs, signedInRoutes } from "../http/routes.ts";
import { LimitsBody, SettingsBody, WorkspaceBody, WorkspaceParams } from "../workspaces/model.ts";
import { createWorkspace, getWorkspace, listWorkspaces, renameWorkspace, updateSettings } from "../workspaces/service.ts";
import { notFound, orNotFound } from "../http/errors.ts";
import { WorkspacesPage } from "../../views/pages/workspaces.tsx";
import { SettingsPage, type LimitsPanelProps, type SettingsValues } from "../../views/pages/settings.tsx";
import { limitValues } from "../../views/components/limits.tsx";
import { getWorkspaceLimits } from "../workspaces/limits.ts";
import { limitFormValues, limitsInput, saveLimits } from "./limits-form.ts";
import type { FormErrors } from "../../views/context.ts";
import { checkbox, errorsFor, formBody, integer, issuesToErrors, text } from "./forms.ts";
import { html } from "./render.ts";
import { pageContext, toWorkspace, type PageBits } from "./context.tsx";

/** The settings page edits the name and the log settings together: the JSON API's two schemas in one form. */
const SettingsForm = v.object({
  ...WorkspaceBody.entries,
  // A form always sends both, so neither is optional here.
  retention_days: SettingsBody.entries.retention_days.wrapped,
  log_content: SettingsBody.entries.log_content.wrapped,
});

/** The settings page; invitations moved to the members page (member-routes.tsx). */
async function settingsPage(
  deps: AppDeps,
  c: PageBits,
  id: string,
  opts: {
    values?: SettingsValues;
    errors?: FormErrors;
    saved?: boolean;
    limits?: Partial<Omit<LimitsPanelProps, "stored">>;
    status?: number;
  } = {},
) {
  const ctx = await pageContext(deps, c, id);
  const ws = await orNotFound(getWorkspace(deps.sql, id, c.session.user.id), "workspace");
  const values = opts.values ?? { name: ws.name, retention_days: ws.settings.retention_days, log_content: ws.settings.log_content };
  const stored = await orNotFound(getWorkspaceLimits(deps.sql, id), "workspace");
  const limits: LimitsPanelProps = { stored, values: limitValues(stored), errors: errorsFor({}), ...opts.limits };
  return html(
    c.set,
    <SettingsPage ctx={ctx} values={values} errors={opts.errors ?? errorsFor({})} saved={opts.saved} limits={limits} />,
    opts.status ?? 200,
  );
}

/** /app (workspace list and creation) and /app/w/:id/settings. */
export function workspacePages(deps: AppDeps) {
  async function workspacesPage(c: PageBits, values: { name?: string }, errors: FormErrors, status = 200) {
    const ctx = await pageContext(deps, c);
    const workspaces = await listWorkspaces(deps.sql, c.session.user.id);
    return html(c.set, <WorkspacesPage ctx={ctx} workspaces={workspaces} values={values} errors={errors} />, status);
  }

  return signedInRoutes(deps, "/app")
    .get("/", (c) => workspacesPage(c, {}, errorsFor({})), { auth: true, detail: { summary: "Dashboard home: your workspaces" } })
    .post(
      "/workspaces",
      async (c) => {
        const name = text(formBody(c.body), "name");
        const parsed = v.safeParse(WorkspaceBody, { name });
        if (!parsed.success) return workspacesPage(c, { name }, issuesToErrors(parsed.issues), 422);
        const ws = await createWorkspace(c.actor, parsed.output.name);
        return toWorkspace(ws.id);
      },
      { auth: true, detail: { summary: "Create a workspace (form)" } },
    )
    .get(
      "/w/:id/settings",
      (c) => settingsPage(deps, c, c.params.id, { saved: c.query.saved === "1", limits: { saved: c.query.saved === "limits" } }),
      needs("member", WorkspaceParams, "Workspace settings page"),
    )
    .post(
      "/w/:id/settings",
      async (c) => {
        const { params, body, actor } = c;
        const form = formBody(body);
        const input = {
          name: text(form, "name"),
          retention_days: integer(form, "retention_days"),
          log_content: checkbox(form, "log_content"),
        };
        const parsed = v.safeParse(SettingsForm, input);
        if (!parsed.success) {
          const values = { name: input.name, retention_days: text(form, "retention_days"), log_content: input.log_content };
          return settingsPage(deps, c, params.id, { values, errors: issuesToErrors(parsed.issues), status: 422 });
        }
        const { name, ...settings } = parsed.output;
        await renameWorkspace(actor, params.id, name);
        if (!(await updateSettings(actor, params.id, settings))) throw notFound("workspace");
        return toWorkspace(params.id, "/settings?saved=1");
      },
      needs("admin", WorkspaceParams, "Save workspace settings (form)"),
    )
    .post(
      "/w/:id/settings/limits",
      async (c) => {
        const { params, body, actor } = c;
        const values = limitFormValues(formBody(body), false);
        const saved = await saveLimits(LimitsBody, limitsInput(values), (value) => updateSettings(actor, params.id, value));
        if ("errors" in saved) return settingsPage(deps, c, params.id, { limits: { values, errors: saved.errors }, status: 422 });
        return toWorkspace(params.id, "/settings?saved=limits#limits");
      },
      needs("admin", WorkspaceParams, "Save the workspace's rate limits and budget (form)"),
    );
}
