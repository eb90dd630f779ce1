import type { FormErrors, ViewContext } from "../context.ts";
import { Layout } from "../layout.tsx";
import { Checkbox, FormActions, PostForm, SelectField, Submit, TextField } from "../components/form.tsx";
import { getForm } from "../components/hx.ts";
import { NavButton, PageHeader, Sub } from "../components/ui.tsx";
import { ProviderTypeFields, TYPE_FIELDS_ID, typeSummary, type ProviderTypeOption } from "../components/provider-fields.tsx";

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

interface ProviderFormProps {
  ctx: ViewContext;
  types: ProviderTypeOption[];
  values: ProviderFormValues;
  errors: FormErrors;
  /** The type whose hints to show: the chosen (or stored, or submitted) one; null only for a type nobody knows. */
  fieldsFor: ProviderTypeOption | null;
  /** Editing: the entry's id and its key hint (••••abcd) if it has a key. */
  editing: { id: string; name: string; keyHint: string | null } | null;
}

/** Optional figures: left empty, the entry goes last and waits the default time. */
const NUMBER_FIELDS = [
  { name: "priority", label: "Priority", min: 0, hint: "Lower goes first. Leave empty to put it after the others." },
  { name: "timeout_ms", label: "Timeout (ms)", min: 1000, max: 600000, hint: "Per attempt, 1000–600000. Default 60000." },
] as const;

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
      <PostForm action={action} csrf={ctx.csrf} errors={errors} class="panel stack" autocomplete="off">
        <div class="type-choice">
          <SelectField
            name="type"
            label="Type"
            value={values.type}
            options={props.types.map((t) => ({ value: t.value, label: t.label }))}
            errors={errors}
            required
            hint="Which API the provider speaks. Its hints below follow the type."
            attrs={{
              "hx-get": fieldsUrl,
              "hx-target": `#${TYPE_FIELDS_ID}`,
              "hx-swap": "outerHTML",
              "hx-include": "#f-name, #f-models, #f-model_map",
            }}
          />
          {!editing && <NavButton href={`${base}/new`} label="Choose another type" class="btn-link" />}
        </div>
        <ProviderTypeFields
          type={props.fieldsFor}
          values={values}
          errors={errors}
          keyHint={editing?.keyHint ?? null}
          editing={editing !== null}
        />
        <div class="grid-2">
          {NUMBER_FIELDS.map((f) => (
            <TextField {...f} type="number" value={values[f.name]} errors={errors} optional />
          ))}
        </div>
        <Checkbox
          name="enabled"
          label="Enabled"
          checked={values.enabled}
          hint="Disabled providers are skipped by the gateway."
          errors={errors}
        />
        <FormActions cancel={base}>
          <Submit label={editing ? "Save changes" : "Add provider"} />
        </FormActions>
      </PostForm>
    </Layout>
  );
}

/**
 * The first question when adding a provider: which type. A plain GET form (or htmx navigation) to
 * the same page with ?type=, so the form that follows is rendered for that type, with or without JavaScript.
 */
export function ProviderTypeStep(props: { ctx: ViewContext; types: ProviderTypeOption[] }) {
  const { ctx } = props;
  const base = `/app/w/${encodeURIComponent(ctx.workspace!.id)}/providers`;
  return (
    <Layout ctx={ctx} title="Add a provider" section="providers">
      <PageHeader
        title="Add a provider"
        subtitle="Step 1 of 2: which kind of provider is it? The next step asks only what that type needs."
      />
      <form {...getForm(`${base}/new`)} class="panel stack">
        <fieldset class="type-picker">
          <legend>Type</legend>
          <div class="type-grid">
            {props.types.map((t, i) => (
              <label class="type-option">
                <input type="radio" name="type" value={t.value} checked={i === 0} required />
                <span class="type-option-text">
                  <strong safe>{t.label}</strong>
                  <Sub text={typeSummary(t)} />
                </span>
              </label>
            ))}
          </div>
        </fieldset>
        <FormActions cancel={base}>
          <button type="submit" class="btn btn-primary">
            Continue
          </button>
        </FormActions>
      </form>
    </Layout>
  );
}
