import type { AppDeps } from "../deps.ts";
import { needs, signedInRoutes } from "../http/routes.ts";
import { WorkspaceParams } from "../workspaces/model.ts";
import { firstRunState } from "../workspaces/first-run.ts";
import { ChecklistPage } from "../../views/pages/checklist.tsx";
import { exampleModel } from "./key-routes.tsx";
import { html } from "./render.ts";
import { pageContext } from "./context.tsx";

/** /app/w/:id/start: the first-run checklist, where sign-up lands. Every tick is read from the workspace. */
export function startPages(deps: AppDeps) {
  return signedInRoutes(deps, "/app/w/:id").get(
    "/start",
    async (c) => {
      const id = c.params.id;
      const ctx = await pageContext(deps, c, id);
      const [state, model] = await Promise.all([firstRunState(deps.sql, id), exampleModel(deps, id)]);
      return html(c.set, <ChecklistPage ctx={ctx} data={{ ...state, apiBase: `${deps.config.publicUrl}/v1`, exampleModel: model }} />);
    },
    needs("member", WorkspaceParams, "First-run checklist: provider, key, first request, logs"),
  );
}
