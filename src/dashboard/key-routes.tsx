import type { AppDeps } from "../deps.ts";
import { needs, signedInRoutes } from "../http/routes.ts";
import type { Actor } from "../events.ts";
import { notFound, orNotFound } from "../http/errors.ts";
import { ApiKeyParams, ApiKeysParams, CreateApiKeyBody, UpdateApiKeyBody } from "../api-keys/model.ts";
import { createApiKey, deleteApiKey, getApiKey, listApiKeys, revokeApiKey, updateApiKey, type ApiKeyView } from "../api-keys/service.ts";
import { listProviders } from "../providers/service.ts";
import type { FormErrors } from "../../views/context.ts";
import { KeysPage } from "../../views/pages/keys.tsx";
import { KeyEditPage } from "../../views/pages/key-edit.tsx";
import { limitValues, type LimitValues } from "../../views/components/limits.tsx";
import { limitFormValues, limitsInput, saveLimits } from "./limits-form.ts";
import { errorsFor, formBody, noticeFor, text } from "./forms.ts";
import { html } from "./render.ts";
import { confirmPage, pageContext, toWorkspace, type PageBits } from "./context.tsx";

/** A model name for the snippets: the first exact model an enabled provider lists, else a common one. */
export async function exampleModel(deps: AppDeps, workspaceId: string): Promise<string> {
  const providers = await listProviders(deps.sql, workspaceId);
  for (const p of providers) {
    if (!p.enabled) continue;
    const exact = p.models.find((m) => !m.includes("*"));
    if (exact) return exact;
  }
  return "gpt-4o-mini";
}

/** Revoking and deleting a key: each asks first (the label titles the question and confirms it), then says so on the list. */
const ENDINGS = {
  revoke: {
    work: revokeApiKey,
    done: "revoked",
    label: "Revoke key",
    message: "Applications using it get 401 from their next request on. The key stays listed as revoked.",
  },
  delete: {
    work: deleteApiKey,
    done: "deleted",
    label: "Delete key",
    message: "The key stops working at once and disappears from this list. Its request logs are kept. This cannot be undone.",
  },
};

const NOTICES: Record<string, string> = {
  revoked: "Key revoked: requests with it are refused from now on.",
  deleted: "Key deleted.",
  saved: "Key saved: its limits apply from the next request on.",
};

/** /app/w/:id/keys… — the dashboard face of src/api-keys. */
export function keyPages(deps: AppDeps) {
  async function page(
    c: PageBits & { params: { id: string } },
    opts: {
      created?: { name: string; key: string };
      values?: { name?: string; expires?: string; limits?: LimitValues };
      errors?: FormErrors;
      notice?: string | null;
      status?: number;
    } = {},
  ) {
    const id = c.params.id;
    const ctx = await pageContext(deps, c, id);
    const keys = await listApiKeys(deps.sql, id);
    const view = (
      <KeysPage
        ctx={ctx}
        keys={keys}
        created={opts.created}
        apiBase={`${deps.config.publicUrl}/v1`}
        exampleModel={await exampleModel(deps, id)}
        values={opts.values ?? {}}
        errors={opts.errors ?? errorsFor({})}
        notice={opts.notice}
      />
    );
    return html(c.set, view, opts.status ?? 200);
  }

  async function editPage(
    c: PageBits & { params: { id: string } },
    key: ApiKeyView,
    values: { name: string; limits: LimitValues },
    errors: FormErrors,
    status = 200,
  ) {
    const ctx = await pageContext(deps, c, c.params.id);
    return html(c.set, <KeyEditPage ctx={ctx} apiKey={key} values={values} errors={errors} />, status);
  }

  const keyOf = (params: { id: string; kid: string }) => orNotFound(getApiKey(deps.sql, params.id, params.kid), "API key");

  async function confirm(c: PageBits & { params: { id: string; kid: string } }, kind: keyof typeof ENDINGS) {
    const key = await keyOf(c.params);
    const { label, message } = ENDINGS[kind];
    return confirmPage(deps, c, c.params.id, "keys", { title: `${label} ${key.name}?`, message, confirmLabel: label });
  }

  async function end(c: { params: { id: string; kid: string }; actor: Actor }, kind: keyof typeof ENDINGS) {
    if (!(await ENDINGS[kind].work(c.actor, c.params.id, c.params.kid))) throw notFound("API key");
    return toWorkspace(c.params.id, `/keys?done=${ENDINGS[kind].done}`);
  }

  return signedInRoutes(deps, "/app/w/:id/keys")
    .get("/", (c) => page(c, { notice: noticeFor(NOTICES, c.query.done) }), needs("member", ApiKeysParams, "Gateway keys page"))
    .post(
      "/",
      async (c) => {
        const { params, body, set, actor } = c;
        const form = formBody(body);
        const values = { name: text(form, "name"), expires: text(form, "expires").trim(), limits: limitFormValues(form, true) };
        // A date input gives a day; the key works through the end of it (UTC).
        const expires = /^\d{4}-\d{2}-\d{2}$/.test(values.expires) ? `${values.expires}T23:59:59Z` : values.expires || null;
        const input = { name: values.name, expires_at: expires, ...limitsInput(values.limits) };
        const saved = await saveLimits(CreateApiKeyBody, input, (value) => createApiKey(actor, params.id, value));
        if ("errors" in saved) {
          const { errors } = saved;
          if (errors.fields.expires_at) {
            errors.fields.expires = errors.fields.expires_at.startsWith("Must be in the future")
              ? "Must be a future date."
              : "Must be a date such as 2030-01-31.";
            delete errors.fields.expires_at;
          }
          return page(c, { values, errors, status: 422 });
        }
        // No redirect: the key is in this one response and nowhere else (no-store, never in a URL).
        set.headers["cache-control"] = "no-store";
        return page(c, { created: { name: saved.done.view.name, key: saved.done.key }, status: 201 });
      },
      needs("admin", ApiKeysParams, "Create a gateway key (form)"),
    )
    .get(
      "/:kid/edit",
      async (c) => {
        const key = await keyOf(c.params);
        return editPage(c, key, { name: key.name, limits: limitValues(key) }, errorsFor({}));
      },
      needs("admin", ApiKeyParams, "Edit a gateway key's name, limits, budget, allowed models and tags"),
    )
    .post(
      "/:kid",
      async (c) => {
        const { params, body, actor } = c;
        const key = await keyOf(params);
        const form = formBody(body);
        const values = { name: text(form, "name"), limits: limitFormValues(form, true) };
        const input = { name: values.name, ...limitsInput(values.limits) };
        const saved = await saveLimits(UpdateApiKeyBody, input, (value) => updateApiKey(actor, params.id, params.kid, value));
        if ("errors" in saved) return editPage(c, key, values, saved.errors, 422);
        if (!saved.done) throw notFound("API key");
        return toWorkspace(params.id, "/keys?done=saved");
      },
      needs("admin", ApiKeyParams, "Save a gateway key's name, limits, budget, allowed models and tags (form)"),
    )
    .get("/:kid/revoke", (c) => confirm(c, "revoke"), needs("admin", ApiKeyParams, "Confirm revoking a gateway key"))
    .post("/:kid/revoke", (c) => end(c, "revoke"), needs("admin", ApiKeyParams, "Revoke a gateway key (form)"))
    .get("/:kid/delete", (c) => confirm(c, "delete"), needs("admin", ApiKeyParams, "Confirm deleting a gateway key"))
    .post("/:kid/delete", (c) => end(c, "delete"), needs("admin", ApiKeyParams, "Delete a gateway key (form)"));
}
