import type { FormErrors, ViewContext } from "../context.ts";
import { Layout } from "../layout.tsx";
import { FormActions, NameField, PostForm, Submit } from "../components/form.tsx";
import { PageHeader } from "../components/ui.tsx";
import { LimitFields, StoredBudgetMeter, type LimitValues, type StoredBudget } from "../components/limits.tsx";

/** A key's name, limits, budget, allow-list and tags; the key itself never changes. */
export function KeyEditPage(props: {
  ctx: ViewContext;
  apiKey: StoredBudget & { id: string; name: string; prefix: string };
  values: { name: string; limits: LimitValues };
  errors: FormErrors;
}) {
  const { ctx, apiKey: key, values, errors } = props;
  const base = `/app/w/${encodeURIComponent(ctx.workspace!.id)}/keys`;
  const title = `Edit key ${key.name}`;
  return (
    <Layout ctx={ctx} title={title} section="keys">
      <PageHeader title={title} subtitle={`${key.prefix}… · Changes apply to the next request made with the key.`} />
      <PostForm action={`${base}/${encodeURIComponent(key.id)}`} csrf={ctx.csrf} errors={errors} class="panel stack">
        <NameField value={values.name} errors={errors} />
        {key.budget_usd !== null && !!key.budget_period && (
          <div class="field">
            <span class="label">Spent</span>
            <StoredBudgetMeter budget={key} label={`Budget spent by ${key.name}`} />
          </div>
        )}
        <fieldset>
          <legend>Limits</legend>
          <LimitFields values={values.limits} errors={errors} forKey />
        </fieldset>
        <FormActions cancel={base}>
          <Submit label="Save changes" />
        </FormActions>
      </PostForm>
    </Layout>
  );
}
