import type { AppDeps } from "../deps.ts";
import { deleting, finding, listing, needs, signedInRoutes } from "../http/routes.ts";
import { orNotFound } from "../http/errors.ts";
import { createKeyring } from "./keyring.ts";
import { CreateProviderBody, ProviderParams, ProvidersParams, ReorderBody, UpdateProviderBody } from "./model.ts";
import { createProvider, deleteProvider, getProvider, listProviders, reorderProviders, updateProvider } from "./service.ts";
import { testProvider } from "./connection-test.ts";

/** BYOK provider entries of a workspace. Reads (and the connection test) need membership; changes need admin. */
export function providersRoutes(deps: AppDeps) {
  const keyring = createKeyring(deps.config);

  return signedInRoutes(deps, "/workspaces/:id/providers")
    .get("/", listing(deps, listProviders), needs("member", ProvidersParams, "List the workspace's provider keys"))
    .post(
      "/",
      async ({ params, body, actor, set }) => {
        const provider = await createProvider(actor, keyring, params.id, body, deps.config);
        set.status = 201;
        return provider;
      },
      needs("admin", ProvidersParams, "Add a provider key (admin)", { body: CreateProviderBody }),
    )
    .post(
      "/reorder",
      async ({ params, body, actor }) => ({ data: await reorderProviders(actor, params.id, body.ids) }),
      needs("admin", ProvidersParams, "Set the providers' priority order (admin)", { body: ReorderBody }),
    )
    .get(
      "/:pid",
      finding(deps, getProvider, "pid", "provider"),
      needs("member", ProviderParams, "Get a provider key (the key itself is never returned)"),
    )
    .put(
      "/:pid",
      ({ params, body, actor }) => orNotFound(updateProvider(actor, keyring, params.id, params.pid, body, deps.config), "provider"),
      needs("admin", ProviderParams, "Update a provider key (admin)", { body: UpdateProviderBody }),
    )
    .delete("/:pid", deleting(deleteProvider, "pid", "provider"), needs("admin", ProviderParams, "Delete a provider key (admin)"))
    .post(
      "/:pid/test",
      ({ params }) => orNotFound(testProvider(deps.sql, keyring, params.id, params.pid, { fetch: deps.gateway.fetch }), "provider"),
      needs("member", ProviderParams, "Test a provider key against its provider"),
    );
}
