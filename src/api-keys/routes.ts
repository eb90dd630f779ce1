import type { AppDeps } from "../deps.ts";
import { deleting, finding, listing, needs, signedInRoutes } from "../http/routes.ts";
import { orNotFound } from "../http/errors.ts";
import { ApiKeyParams, ApiKeysParams, CreateApiKeyBody, UpdateApiKeyBody } from "./model.ts";
import { createApiKey, deleteApiKey, getApiKey, listApiKeys, revokeApiKey, updateApiKey } from "./service.ts";

/** Gateway API keys of a workspace. Reads need membership; minting, changing limits, revoking and deleting need admin. */
export function apiKeysRoutes(deps: AppDeps) {
  return signedInRoutes(deps, "/workspaces/:id/api-keys")
    .get("/", listing(deps, listApiKeys), needs("member", ApiKeysParams, "List the workspace's gateway keys"))
    .post(
      "/",
      async ({ params, body, actor, set }) => {
        const { view, key } = await createApiKey(actor, params.id, body);
        set.status = 201;
        // The only time the key is ever shown.
        return { ...view, key };
      },
      needs("admin", ApiKeysParams, "Create a gateway key (prp_…; shown once)", { body: CreateApiKeyBody }),
    )
    .get("/:kid", finding(deps, getApiKey, "kid", "API key"), needs("member", ApiKeyParams, "Get a gateway key"))
    .patch(
      "/:kid",
      ({ params, body, actor }) => orNotFound(updateApiKey(actor, params.id, params.kid, body), "API key"),
      needs("admin", ApiKeyParams, "Change a gateway key's name, limits, budget, allowed models or tags (admin)", {
        body: UpdateApiKeyBody,
      }),
    )
    .post(
      "/:kid/revoke",
      ({ params, actor }) => orNotFound(revokeApiKey(actor, params.id, params.kid), "API key"),
      needs("admin", ApiKeyParams, "Revoke a gateway key"),
    )
    .delete("/:kid", deleting(deleteApiKey, "kid", "API key"), needs("admin", ApiKeyParams, "Delete a gateway key"));
}
