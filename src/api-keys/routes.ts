import { Elysia } from "elysia";
import type { AppDeps } from "../deps.ts";
import { authPlugin } from "../http/auth.ts";
import { notFound, orNotFound } from "../http/errors.ts";
import { ApiKeyParams, ApiKeysParams, CreateApiKeyBody, UpdateApiKeyBody } from "./model.ts";
import { createApiKey, deleteApiKey, getApiKey, listApiKeys, revokeApiKey, updateApiKey } from "./service.ts";

/** Gateway API keys of a workspace. Reads need membership; minting, changing limits, revoking and deleting need admin. */
export function apiKeysRoutes(deps: AppDeps) {
  return new Elysia({ prefix: "/workspaces/:id/api-keys" })
    .use(authPlugin(deps))
    .get("/", async ({ params }) => ({ data: await listApiKeys(deps.sql, params.id) }), {
      workspace: "member",
      params: ApiKeysParams,
      detail: { summary: "List the workspace's gateway keys" },
    })
    .post(
      "/",
      async ({ params, body, actor, set }) => {
        const { view, key } = await createApiKey(actor, params.id, body);
        set.status = 201;
        // The only time the key is ever shown.
        return { ...view, key };
      },
      {
        workspace: "admin",
        params: ApiKeysParams,
        body: CreateApiKeyBody,
        detail: { summary: "Create a gateway key (prp_…; shown once)" },
      },
    )
    .get("/:kid", ({ params }) => orNotFound(getApiKey(deps.sql, params.id, params.kid), "API key"), {
      workspace: "member",
      params: ApiKeyParams,
      detail: { summary: "Get a gateway key" },
    })
    .patch("/:kid", ({ params, body, actor }) => orNotFound(updateApiKey(actor, params.id, params.kid, body), "API key"), {
      workspace: "admin",
      params: ApiKeyParams,
      body: UpdateApiKeyBody,
      detail: { summary: "Change a gateway key's name, limits, budget, allowed models or tags (admin)" },
    })
    .post("/:kid/revoke", ({ params, actor }) => orNotFound(revokeApiKey(actor, params.id, params.kid), "API key"), {
      workspace: "admin",
      params: ApiKeyParams,
      detail: { summary: "Revoke a gateway key" },
    })
    .delete(
      "/:kid",
      async ({ params, actor, set }) => {
        if (!(await deleteApiKey(actor, params.id, params.kid))) throw notFound("API key");
        set.status = 204;
      },
      { workspace: "admin", params: ApiKeyParams, detail: { summary: "Delete a gateway key" } },
    );
}
