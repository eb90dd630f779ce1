import { Elysia } from "elysia";
import type { AppDeps } from "../deps.ts";
import { authPlugin } from "../http/auth.ts";
import { notFound } from "../http/errors.ts";
import { ApiKeyParams, ApiKeysParams, CreateApiKeyBody, UpdateApiKeyBody } from "./model.ts";
import { createApiKey, deleteApiKey, getApiKey, listApiKeys, revokeApiKey, updateApiKey } from "./service.ts";

/** Gateway API keys of a workspace. Reads need membership; minting, changing limits, revoking and deleting need admin. */
export function apiKeysRoutes(deps: AppDeps) {
  const changed = (workspaceId: string, keyHash: string) =>
    deps.events.emit({ type: "api_key", workspace_id: workspaceId, key_hash: keyHash });

  return new Elysia({ prefix: "/workspaces/:id/api-keys" })
    .use(authPlugin(deps))
    .get("/", async ({ params }) => ({ data: await listApiKeys(deps.sql, params.id) }), {
      workspace: "member",
      params: ApiKeysParams,
    })
    .post(
      "/",
      async ({ params, body, session, set }) => {
        const { view, key, key_hash } = await createApiKey(deps.sql, params.id, session.user.id, body);
        changed(params.id, key_hash);
        deps.logger.info("api key created", { workspace_id: params.id, api_key_id: view.id, prefix: view.prefix, user_id: session.user.id });
        set.status = 201;
        // The only time the key is ever shown.
        return { ...view, key };
      },
      { workspace: "admin", params: ApiKeysParams, body: CreateApiKeyBody },
    )
    .get(
      "/:kid",
      async ({ params }) => (await getApiKey(deps.sql, params.id, params.kid)) ?? Promise.reject(notFound("API key")),
      { workspace: "member", params: ApiKeyParams },
    )
    .patch(
      "/:kid",
      async ({ params, body, session }) => {
        const updated = await updateApiKey(deps.sql, params.id, params.kid, body);
        if (!updated) throw notFound("API key");
        // The gateway caches a key with its limits: the same event as a revocation makes it reload them.
        changed(params.id, updated.key_hash);
        deps.logger.info("api key updated", { workspace_id: params.id, api_key_id: params.kid, fields: Object.keys(body), user_id: session.user.id });
        return updated.view;
      },
      { workspace: "admin", params: ApiKeyParams, body: UpdateApiKeyBody },
    )
    .post(
      "/:kid/revoke",
      async ({ params, session }) => {
        const revoked = await revokeApiKey(deps.sql, params.id, params.kid);
        if (!revoked) throw notFound("API key");
        changed(params.id, revoked.key_hash);
        deps.logger.info("api key revoked", { workspace_id: params.id, api_key_id: params.kid, user_id: session.user.id });
        return revoked.view;
      },
      { workspace: "admin", params: ApiKeyParams },
    )
    .delete(
      "/:kid",
      async ({ params, session, set }) => {
        const keyHash = await deleteApiKey(deps.sql, params.id, params.kid);
        if (!keyHash) throw notFound("API key");
        changed(params.id, keyHash);
        deps.logger.info("api key deleted", { workspace_id: params.id, api_key_id: params.kid, user_id: session.user.id });
        set.status = 204;
      },
      { workspace: "admin", params: ApiKeyParams },
    );
}
