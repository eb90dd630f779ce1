import { Elysia } from "elysia";
import type { AppDeps } from "../deps.ts";
import { authPlugin } from "../http/auth.ts";
import { notFound, orNotFound } from "../http/errors.ts";
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
      async ({ params, body, actor, set }) => {
        const provider = await createProvider(actor, keyring, params.id, body, deps.config);
        set.status = 201;
        return provider;
      },
      { workspace: "admin", params: ProvidersParams, body: CreateProviderBody, detail: { summary: "Add a provider key (admin)" } },
    )
    .post("/reorder", async ({ params, body, actor }) => ({ data: await reorderProviders(actor, params.id, body.ids) }), {
      workspace: "admin",
      params: ProvidersParams,
      body: ReorderBody,
      detail: { summary: "Set the providers' priority order (admin)" },
    })
    .get("/:pid", ({ params }) => orNotFound(getProvider(deps.sql, params.id, params.pid), "provider"), {
      workspace: "member",
      params: ProviderParams,
      detail: { summary: "Get a provider key (the key itself is never returned)" },
    })
    .put(
      "/:pid",
      ({ params, body, actor }) => orNotFound(updateProvider(actor, keyring, params.id, params.pid, body, deps.config), "provider"),
      { workspace: "admin", params: ProviderParams, body: UpdateProviderBody, detail: { summary: "Update a provider key (admin)" } },
    )
    .delete(
      "/:pid",
      async ({ params, actor, set }) => {
        if (!(await deleteProvider(actor, params.id, params.pid))) throw notFound("provider");
        set.status = 204;
      },
      { workspace: "admin", params: ProviderParams, detail: { summary: "Delete a provider key (admin)" } },
    )
    .post(
      "/:pid/test",
      ({ params }) => orNotFound(testProvider(deps.sql, keyring, params.id, params.pid, { fetch: deps.gateway.fetch }), "provider"),
      { workspace: "member", params: ProviderParams, detail: { summary: "Test a provider key against its provider" } },
    );
}
