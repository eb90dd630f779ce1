import { Elysia } from "elysia";
import type { AppDeps } from "../deps.ts";
import { authPlugin } from "../http/auth.ts";
import { notFound } from "../http/errors.ts";
import { actorFor } from "../events.ts";
import { createKeyring } from "./keyring.ts";
import { CreateProviderBody, ProviderParams, ProvidersParams, ReorderBody, UpdateProviderBody } from "./model.ts";
import { createProvider, deleteProvider, getProvider, listProviders, reorderProviders, updateProvider } from "./service.ts";
import { testProvider } from "./connection-test.ts";

/** BYOK provider entries of a workspace. Reads (and the connection test) need membership; changes need admin. */
export function providersRoutes(deps: AppDeps) {
  const keyring = createKeyring(deps.config);

  return new Elysia({ prefix: "/workspaces/:id/providers" })
    .use(authPlugin(deps))
    .get("/", async ({ params }) => ({ data: await listProviders(deps.sql, params.id) }), {
      workspace: "member",
      params: ProvidersParams,
      detail: { summary: "List the workspace's provider keys" },
    })
    .post(
      "/",
      async ({ params, body, session, set }) => {
        const provider = await createProvider(actorFor(deps, session.user.id), keyring, params.id, body, deps.config);
        set.status = 201;
        return provider;
      },
      { workspace: "admin", params: ProvidersParams, body: CreateProviderBody, detail: { summary: "Add a provider key (admin)" } },
    )
    .post(
      "/reorder",
      async ({ params, body, session }) => ({ data: await reorderProviders(actorFor(deps, session.user.id), params.id, body.ids) }),
      { workspace: "admin", params: ProvidersParams, body: ReorderBody, detail: { summary: "Set the providers' priority order (admin)" } },
    )
    .get("/:pid", async ({ params }) => (await getProvider(deps.sql, params.id, params.pid)) ?? Promise.reject(notFound("provider")), {
      workspace: "member",
      params: ProviderParams,
      detail: { summary: "Get a provider key (the key itself is never returned)" },
    })
    .put(
      "/:pid",
      async ({ params, body, session }) => {
        const provider = await updateProvider(actorFor(deps, session.user.id), keyring, params.id, params.pid, body, deps.config);
        return provider ?? Promise.reject(notFound("provider"));
      },
      { workspace: "admin", params: ProviderParams, body: UpdateProviderBody, detail: { summary: "Update a provider key (admin)" } },
    )
    .delete(
      "/:pid",
      async ({ params, session, set }) => {
        if (!(await deleteProvider(actorFor(deps, session.user.id), params.id, params.pid))) throw notFound("provider");
        set.status = 204;
      },
      { workspace: "admin", params: ProviderParams, detail: { summary: "Delete a provider key (admin)" } },
    )
    .post(
      "/:pid/test",
      async ({ params }) =>
        (await testProvider(deps.sql, keyring, params.id, params.pid, { fetch: deps.gateway.fetch })) ??
        Promise.reject(notFound("provider")),
      { workspace: "member", params: ProviderParams, detail: { summary: "Test a provider key against its provider" } },
    );
}
