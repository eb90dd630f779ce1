import type { FormErrors, ViewContext } from "../context.ts";
import { Layout } from "../layout.tsx";
import { Checkbox, Csrf, ErrorSummary, SelectField, Submit, TextArea, TextField } from "../components/form.tsx";
import { nav, postForm } from "../components/hx.ts";
import { PageHeader } from "../components/ui.tsx";
import { ProviderTypeFields, TYPE_FIELDS_ID, type ProviderTypeOption } from "../components/provider-fields.tsx";

/** The form's values as the browser sent them (strings), never including the API key. */
export interface ProviderFormValues {
  name: string;
  type: string;
  base_url: string;
  models: string;
  model_map: string;
  priority: string;
  timeout_ms: string;
  enabled: boolean;
  remove_key: boolean;
}

export interface ProviderFormProps {
  ctx: ViewContext;
  types: ProviderTypeOption[];
  values: ProviderFormValues;
  errors: FormErrors;
  /**
   * The type whose hints to show: null on a first render (hints for every type, as the type can
   * change without JavaScript); the submitted type when the form comes back with errors.
   */
  fieldsFor: ProviderTypeOption | null;
  /** Editing: the entry's id and its key hint (••••abcd) if it has a key. */
  editing: { id: string; name: string; keyHint: string | null } | null;
}

export function ProviderFormPage(props: ProviderFormProps) {
  const { ctx, values, errors, editing } = props;
  const base = `/app/w/${encodeURIComponent(ctx.workspace!.id)}/providers`;
  const action = editing ? `${base}/${encodeURIComponent(editing.id)}` : base;
  const fieldsUrl = `${base}/fields${editing ? `?provider=${encodeURIComponent(editing.id)}` : ""}`;
  const title = editing ? `Edit ${editing.name}` : "Add a provider";
  return (
    <Layout ctx={ctx} title={title} section="providers">
      <PageHeader
        title={title}
        subtitle="A provider entry is one upstream account: its type, where it lives, its key and the models it serves."
      />
      <form {...postForm(action)} class="panel stack" novalidate autocomplete="off">
        <Csrf token={ctx.csrf} />
        <ErrorSummary errors={errors} />
        <div class="grid-2">
          <TextField
            name="name"
            label="Name"
            value={values.name}
            errors={errors}
            required
            maxlength={64}
            placeholder="e.g. openai-main"
            hint="Letters, digits, '.', '_' and '-'. Clients can pin it as name/model."
          />
          <SelectField
            name="type"
            label="Type"
            value={values.type}
            options={props.types.map((t) => ({ value: t.value, label: t.label }))}
            errors={errors}
            required
            attrs={{ "hx-get": fieldsUrl, "hx-target": `#${TYPE_FIELDS_ID}`, "hx-swap": "outerHTML" }}
          />
        </div>
        <ProviderTypeFields
          type={props.fieldsFor}
          baseUrl={values.base_url}
          errors={errors}
          keyHint={editing?.keyHint ?? null}
          editing={editing !== null}
          removeKey={values.remove_key}
        />
        <TextArea
          name="models"
          label="Models"
          value={values.models}
          rows={3}
          placeholder={"gpt-4o-mini\ngpt-4o*"}
          hint="One per line or comma-separated; * matches anything (gpt-4o*). Leave empty to accept every model."
          errors={errors}
          optional
        />
        <TextArea
          name="model_map"
          label="Model aliases"
          value={values.model_map}
          rows={2}
          placeholder="fast=gpt-4o-mini"
          hint="One alias=model per line: clients ask for the alias, this provider receives the model."
          errors={errors}
          optional
        />
        <div class="grid-2">
          <TextField
            name="priority"
            label="Priority"
            type="number"
            inputmode="numeric"
            min={0}
            value={values.priority}
            hint="Lower goes first. Leave empty to put it after the others."
            errors={errors}
            optional
          />
          <TextField
            name="timeout_ms"
            label="Timeout (ms)"
            type="number"
            inputmode="numeric"
            min={1000}
            max={600000}
            value={values.timeout_ms}
            hint="Per attempt, 1000–600000. Default 60000."
            errors={errors}
            optional
          />
        </div>
        <Checkbox name="enabled" label="Enabled" checked={values.enabled} hint="Disabled providers are skipped by the gateway." errors={errors} />
        <div class="form-actions">
          <Submit label={editing ? "Save changes" : "Add provider"} />
          <a class="btn btn-secondary" {...nav(base)}>
            Cancel
          </a>
        </div>
      </form>
    </Layout>
  );
}
