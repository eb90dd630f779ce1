import { canManage, type FormErrors, type ViewContext } from "../context.ts";
import { Layout } from "../layout.tsx";
import { Checkbox, Csrf, ErrorSummary, Submit, TextField } from "../components/form.tsx";
import { nav, postForm } from "../components/hx.ts";
import { Notice, PageHeader } from "../components/ui.tsx";

export interface SettingsValues {
  name: string;
  retention_days: string | number;
  log_content: boolean;
}

export interface SettingsProps {
  ctx: ViewContext;
  values: SettingsValues;
  errors: FormErrors;
  saved?: boolean;
}

export function SettingsPage(props: SettingsProps) {
  const { ctx, errors, values } = props;
  const w = ctx.workspace!;
  const editable = canManage(w);
  return (
    <Layout ctx={ctx} title={`Settings · ${w.name}`} section="settings">
      <PageHeader title="Settings" subtitle="Name, log retention and what the request logs may contain." />
      {props.saved ? <Notice tone="success">Settings saved.</Notice> : ""}
      {editable ? "" : <Notice tone="info">Only owners and admins can change these settings.</Notice>}
      <form {...postForm(`/app/w/${encodeURIComponent(w.id)}/settings`, "replace")} class="panel stack" novalidate>
        <Csrf token={ctx.csrf} />
        <ErrorSummary errors={errors} />
        <fieldset disabled={!editable}>
          <legend>General</legend>
          <TextField name="name" label="Workspace name" value={values.name} errors={errors} maxlength={100} required />
        </fieldset>
        <fieldset disabled={!editable}>
          <legend>Request logs</legend>
          <TextField
            name="retention_days"
            label="Keep logs for (days)"
            type="number"
            inputmode="numeric"
            min={1}
            max={3650}
            value={values.retention_days}
            hint="Older request logs are deleted every night. Usage totals are kept."
            errors={errors}
            required
          />
          <Checkbox
            name="log_content"
            label="Log request and response content"
            checked={values.log_content}
            hint="Off by default: logs then hold only metadata (model, tokens, latency, status). Turn on to debug prompts; content may contain personal data."
            errors={errors}
          />
        </fieldset>
        {editable ? <Submit label="Save settings" /> : ""}
      </form>
      <p class="muted">
        Members, roles and invitations are on the <a {...nav(`/app/w/${encodeURIComponent(w.id)}/members`)}>Members</a> page.
      </p>
    </Layout>
  );
}
