import { canManage, type FormErrors, type ViewContext } from "../context.ts";
import { Layout } from "../layout.tsx";
import { Checkbox, NameField, PostForm, Submit, TextField } from "../components/form.tsx";
import { nav } from "../components/hx.ts";
import { Notice, PageHeader } from "../components/ui.tsx";
import { LimitFields, PERIOD_WORDS, StoredBudgetMeter, type LimitValues, type StoredBudget } from "../components/limits.tsx";
import type { BudgetPeriod } from "../../src/governance/limits.ts";
import { formatCost } from "../components/format.ts";

export interface LimitsPanelProps {
  /** The workspace's stored limits and its spend this period (for the meter). */
  stored: StoredBudget & { spend_period: BudgetPeriod };
  values: LimitValues;
  errors: FormErrors;
  saved?: boolean;
}

export interface SettingsValues {
  name: string;
  retention_days: string | number;
  log_content: boolean;
}

interface SettingsProps {
  ctx: ViewContext;
  values: SettingsValues;
  errors: FormErrors;
  saved?: boolean;
  limits: LimitsPanelProps;
}

export function SettingsPage(props: SettingsProps) {
  const { ctx, errors, values, limits } = props;
  const w = ctx.workspace!;
  const base = `/app/w/${encodeURIComponent(w.id)}`;
  const editable = canManage(w);
  return (
    <Layout ctx={ctx} title={`Settings · ${w.name}`} section="settings">
      <PageHeader title="Settings" subtitle="Name, log retention and what the request logs may contain." />
      {props.saved && <Notice tone="success">Settings saved.</Notice>}
      {!editable && <Notice tone="info">Only owners and admins can change these settings.</Notice>}
      <PostForm action={`${base}/settings`} csrf={ctx.csrf} errors={errors} replace class="panel stack">
        <fieldset disabled={!editable}>
          <legend>General</legend>
          <NameField label="Workspace name" value={values.name} errors={errors} />
        </fieldset>
        <fieldset disabled={!editable}>
          <legend>Request logs</legend>
          <TextField
            name="retention_days"
            label="Keep logs for (days)"
            type="number"
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
        {editable && <Submit label="Save settings" />}
      </PostForm>
      {/* Limits for the whole workspace, over every key: a separate form so saving one never resets the other. */}
      <section class="panel" aria-labelledby="limits-title" id="limits">
        <h2 id="limits-title">Workspace limits and budget</h2>
        <p class="muted">Apply to all of the workspace's keys together, on top of each key's own limits.</p>
        {limits.saved && <Notice tone="success">Limits saved.</Notice>}
        <StoredBudgetMeter
          budget={limits.stored}
          label="Workspace budget spent"
          otherwise={<p safe>{`Spent ${PERIOD_WORDS[limits.stored.spend_period]}: ${formatCost(limits.stored.spend_usd)} (no budget).`}</p>}
        />
        <PostForm action={`${base}/settings/limits`} csrf={ctx.csrf} errors={limits.errors} replace class="stack">
          <fieldset disabled={!editable}>
            <legend class="visually-hidden">Workspace limits</legend>
            <LimitFields values={limits.values} errors={limits.errors} forKey={false} idPrefix="ws" />
          </fieldset>
          {editable && <Submit label="Save limits" />}
        </PostForm>
      </section>
      <p class="muted">
        Members, roles and invitations are on the <a {...nav(`${base}/members`)}>Members</a> page.
      </p>
    </Layout>
  );
}
