import * as v from "valibot";
import type { AppDeps } from "../deps.ts";
import { needs, signedInRoutes } from "../http/routes.ts";
import { ApiError, notFound, orNotFound, sentence } from "../http/errors.ts";
import type { Actor } from "../events.ts";
import { PROVIDER_CATALOG, PROVIDER_TYPES } from "../providers/catalog.ts";
import { PROVIDER_TYPE_HINTS } from "../providers/type-hints.ts";
import { createKeyring } from "../providers/keyring.ts";
import { CreateProviderBody, ProviderParams, ProvidersParams, UpdateProviderBody } from "../providers/model.ts";
import {
  createProvider,
  deleteProvider,
  getProvider,
  listProviders,
  reorderProviders,
  updateProvider,
  type ProviderView,
} from "../providers/service.ts";
import { testProvider, type ProviderTestResult } from "../providers/connection-test.ts";
import type { FormErrors } from "../../views/context.ts";
import { ProvidersPage, TestResultView } from "../../views/pages/providers.tsx";
import { ProviderFormPage, ProviderTypeStep, type ProviderFormValues } from "../../views/pages/provider-form.tsx";
import { ProviderTypeFields, type ProviderTypeOption } from "../../views/components/provider-fields.tsx";
import {
  attempt,
  checkbox,
  errorsFor,
  formatKeyValueLines,
  formBody,
  integer,
  issuesToErrors,
  keyValueLines,
  items,
  noticeFor,
  text,
  type FormBody,
} from "./forms.ts";
import { html, targetsInline } from "./render.ts";
import { confirmPage, pageContext, toWorkspace, type PageBits } from "./context.tsx";

const TYPE_OPTIONS: ProviderTypeOption[] = PROVIDER_TYPES.map((t) => ({ value: t, ...PROVIDER_CATALOG[t], ...PROVIDER_TYPE_HINTS[t] }));
/** The option for a `type` a form or query sent; null for anything else (absent, a list, unknown). */
const typeOption = (t: unknown): ProviderTypeOption | null => TYPE_OPTIONS.find((o) => o.value === t) ?? null;

/** The form's fields: text inputs, and checkboxes (each with its hidden "off" companion). */
const TEXT_FIELDS = ["name", "type", "base_url", "models", "model_map", "priority", "timeout_ms"] as const;
const CHECKBOXES = ["enabled", "remove_key"] as const;

/** What the browser sent, to show again after an error (the API key is never echoed); `{}` gives a blank form. */
function valuesFrom(form: FormBody): ProviderFormValues {
  const texts = TEXT_FIELDS.map((name) => [name, text(form, name)]);
  const boxes = CHECKBOXES.map((name) => [name, checkbox(form, name)]);
  return Object.fromEntries([...texts, ...boxes]) as ProviderFormValues;
}

/** A stored provider as its edit form shows it. */
function valuesOf(p: ProviderView): ProviderFormValues {
  return {
    name: p.name,
    type: p.type,
    base_url: p.base_url_is_default ? "" : p.base_url,
    models: p.models.join("\n"),
    model_map: formatKeyValueLines(p.model_map),
    priority: String(p.priority),
    timeout_ms: String(p.timeout_ms),
    enabled: p.enabled,
    remove_key: false,
  };
}

/** /app/w/:id/providers… — the dashboard face of src/providers. */
export function providerPages(deps: AppDeps) {
  const keyring = createKeyring(deps.config);

  async function listPage(
    c: PageBits & { params: { id: string } },
    extra: { tests?: Record<string, ProviderTestResult>; notice?: string | null },
  ) {
    const ctx = await pageContext(deps, c, c.params.id);
    const providers = await listProviders(deps.sql, c.params.id);
    return html(c.set, <ProvidersPage ctx={ctx} providers={providers} tests={extra.tests} notice={extra.notice} />);
  }

  async function formPage(
    c: PageBits & { params: { id: string } },
    values: ProviderFormValues,
    editing: ProviderView | null,
    errors = errorsFor({}),
    status = 200,
  ) {
    const ctx = await pageContext(deps, c, c.params.id);
    const view = (
      <ProviderFormPage
        ctx={ctx}
        types={TYPE_OPTIONS}
        values={values}
        errors={errors}
        fieldsFor={typeOption(values.type)}
        editing={editing ? { id: editing.id, name: editing.name, keyHint: editing.key_hint } : null}
      />
    );
    return html(c.set, view, status);
  }

  /**
   * The add and edit forms' post: the form → the JSON API's body shape, coerced from strings (numbers,
   * checkboxes, lists, alias lines) and validated by the providers feature's own schema. The form comes
   * back with its errors (422, or 409 for a taken name); else on to the list.
   */
  async function save<S extends typeof CreateProviderBody | typeof UpdateProviderBody>(
    c: PageBits & { params: { id: string }; body: unknown; actor: Actor },
    schema: S,
    current: ProviderView | null,
    work: (actor: Actor, value: v.InferOutput<S>) => Promise<ProviderView | null>,
  ) {
    const form = formBody(c.body);
    const again = (errors: FormErrors, status: number) => formPage(c, valuesFrom(form), current, errors, status);
    const map = keyValueLines(form, "model_map");
    const baseUrl = text(form, "base_url").trim();
    const parsed = v.safeParse(schema, {
      name: text(form, "name"),
      type: text(form, "type"),
      // Empty: the type's default (null on edit resets a custom URL).
      base_url: baseUrl === "" ? (current ? null : undefined) : baseUrl,
      api_key: current && checkbox(form, "remove_key") ? null : text(form, "api_key"),
      priority: integer(form, "priority"),
      timeout_ms: integer(form, "timeout_ms"),
      enabled: checkbox(form, "enabled"),
      models: items(text(form, "models")),
      model_map: map.value,
    });
    if (!parsed.success || map.error) {
      const errors = parsed.success ? errorsFor({}) : issuesToErrors(parsed.issues);
      if (map.error) errors.fields.model_map ??= sentence(map.error);
      return again(errors, 422);
    }
    const saved = await attempt(() => work(c.actor, parsed.output));
    if (saved instanceof ApiError) return again(saved.formErrors(), saved.status === 409 ? 409 : 422);
    if (!saved) throw notFound("provider");
    return toWorkspace(c.params.id, `/providers?done=${current ? "updated" : "created"}`);
  }

  const providerOf = (params: { id: string; pid: string }) => orNotFound(getProvider(deps.sql, params.id, params.pid), "provider");

  const notices: Record<string, string> = { created: "Provider added.", updated: "Provider saved.", deleted: "Provider deleted." };

  return (
    signedInRoutes(deps, "/app/w/:id/providers")
      .get("/", (c) => listPage(c, { notice: noticeFor(notices, c.query.done) }), needs("member", ProvidersParams, "Provider keys page"))
      // Type first: without a known ?type= the page asks for one; the form that follows is that type's.
      .get(
        "/new",
        async (c) => {
          const type = typeOption(c.query.type);
          if (type) return formPage(c, { ...valuesFrom({}), type: type.value, enabled: true }, null);
          const ctx = await pageContext(deps, c, c.params.id);
          return html(c.set, <ProviderTypeStep ctx={ctx} types={TYPE_OPTIONS} />);
        },
        needs("admin", ProvidersParams, "New provider key form"),
      )
      // The type-dependent part of the form, for htmx when the type changes (name, models and aliases as typed).
      .get(
        "/fields",
        async ({ params, query, set }) => {
          const asked = formBody(query);
          const pid = text(asked, "provider");
          const editing = pid ? await getProvider(deps.sql, params.id, pid) : null;
          const baseUrl = editing && !editing.base_url_is_default ? editing.base_url : "";
          const values = { ...valuesFrom(asked), base_url: baseUrl, remove_key: false };
          return html(
            set,
            <ProviderTypeFields
              type={typeOption(values.type)}
              values={values}
              errors={errorsFor({})}
              keyHint={editing?.key_hint ?? null}
              editing={editing !== null}
            />,
          );
        },
        needs("member", ProvidersParams, "Provider form fields for a type (htmx fragment)"),
      )
      .post(
        "/",
        (c) => save(c, CreateProviderBody, null, (actor, value) => createProvider(actor, keyring, c.params.id, value, deps.config)),
        needs("admin", ProvidersParams, "Add a provider key (form)"),
      )
      .get(
        "/:pid/edit",
        async (c) => {
          const provider = await providerOf(c.params);
          return formPage(c, valuesOf(provider), provider);
        },
        needs("admin", ProviderParams, "Edit provider key form"),
      )
      .post(
        "/:pid",
        async (c) => {
          const { id, pid } = c.params;
          const current = await providerOf(c.params);
          return save(c, UpdateProviderBody, current, (actor, value) => updateProvider(actor, keyring, id, pid, value, deps.config));
        },
        needs("admin", ProviderParams, "Save a provider key (form)"),
      )
      .post(
        "/:pid/enabled",
        async ({ params, body, actor }) => {
          const enabled = checkbox(formBody(body), "enabled");
          await orNotFound(updateProvider(actor, keyring, params.id, params.pid, { enabled }, deps.config), "provider");
          return toWorkspace(params.id, "/providers");
        },
        needs("admin", ProviderParams, "Enable or disable a provider key"),
      )
      .post(
        "/:pid/move",
        async ({ params, body, actor }) => {
          const direction = text(formBody(body), "direction");
          const ids = (await listProviders(deps.sql, params.id)).map((p) => p.id);
          const i = ids.indexOf(params.pid);
          if (i < 0) throw notFound("provider");
          const j = direction === "up" ? i - 1 : direction === "down" ? i + 1 : i;
          if (j >= 0 && j < ids.length && j !== i) {
            [ids[i], ids[j]] = [ids[j], ids[i]];
            await reorderProviders(actor, params.id, ids);
          }
          return toWorkspace(params.id, "/providers");
        },
        needs("admin", ProviderParams, "Move a provider key up or down"),
      )
      .post(
        "/:pid/test",
        async (c) => {
          const { id, pid } = c.params;
          const result = await orNotFound(testProvider(deps.sql, keyring, id, pid, { fetch: deps.gateway.fetch }), "provider");
          // htmx: only the result, into the row. Without JavaScript: the list with the result in place.
          if (targetsInline(c.headers)) return html(c.set, <TestResultView result={result} />);
          return listPage(c, { tests: { [pid]: result } });
        },
        needs("member", ProviderParams, "Test a provider key (htmx fragment)"),
      )
      .get(
        "/:pid/delete",
        async (c) => {
          const provider = await providerOf(c.params);
          return confirmPage(deps, c, c.params.id, "providers", {
            title: `Delete provider ${provider.name}?`,
            message:
              "Its stored key is erased and the gateway stops using it at once. Logs and usage that mention it are kept. This cannot be undone.",
            confirmLabel: "Delete provider",
          });
        },
        needs("admin", ProviderParams, "Confirm deleting a provider key"),
      )
      .post(
        "/:pid/delete",
        async ({ params, actor }) => {
          if (!(await deleteProvider(actor, params.id, params.pid))) throw notFound("provider");
          return toWorkspace(params.id, "/providers?done=deleted");
        },
        needs("admin", ProviderParams, "Delete a provider key (form)"),
      )
  );
}
