import { canManage, type FormErrors, type ViewContext } from "../context.ts";
import { Layout } from "../layout.tsx";
import { NameField, PostForm, Submit, TextField } from "../components/form.tsx";
import { ConfirmLink } from "../components/confirm.tsx";
import { Badge, CopyRow, EmptyState, Flash, NavButton, PageHeader, Sub, Text, Time } from "../components/ui.tsx";
import { ActionsCell, Cell, DataTable, Row } from "../components/table.tsx";
import { Snippets } from "../components/snippets.tsx";
import { LIMIT_FIELDS, LimitFields, LimitsSummary, StoredBudgetMeter, TagList, type LimitValues } from "../components/limits.tsx";
import type { ApiKeyView } from "../../src/api-keys/service.ts";

interface KeysProps {
  ctx: ViewContext;
  keys: ApiKeyView[];
  /** Right after creation: the full key, shown this once. */
  created?: { name: string; key: string } | null;
  /** The gateway's base URL for snippets: PUBLIC_URL + /v1. */
  apiBase: string;
  /** A model to put in the snippets. */
  exampleModel: string;
  values: { name?: string; expires?: string; limits?: LimitValues };
  errors: FormErrors;
  notice?: string | null;
}

const STATUS_TONE = { active: "ok", revoked: "error", expired: "warn" } as const;
const EMPTY_LIMITS: LimitValues = { rpm_limit: "", tpm_limit: "", budget_usd: "", budget_period: "month", allowed_models: "", tags: "" };

export function KeysPage(props: KeysProps) {
  const { ctx, keys, errors } = props;
  const w = ctx.workspace!;
  const base = `/app/w/${encodeURIComponent(w.id)}/keys`;
  const manage = canManage(w);
  return (
    <Layout ctx={ctx} title={`API keys · ${w.name}`} section="keys">
      <PageHeader title="API keys" subtitle="Gateway keys (prp_…) let your applications call Perpetuo. Perpetuo stores only their hash." />
      <Flash text={props.notice} />
      {!!props.created && (
        <section class="panel panel-highlight" aria-labelledby="created-title" tabindex="-1" data-focus>
          <h2 id="created-title">
            Key <span safe>{props.created.name}</span> created
          </h2>
          <p>
            <strong>Copy it now: it is shown only once.</strong> Perpetuo keeps only a hash and cannot show it again.
          </p>
          <CopyRow id="new-key" label="New API key" value={props.created.key} button="Copy key" hidden />
          <h3>Try it</h3>
          <Snippets apiBase={props.apiBase} model={props.exampleModel} setKey={props.created.key} />
        </section>
      )}
      <div id="dialog-slot"></div>
      {manage && (
        <section class="panel" id="new-key-form" aria-labelledby="new-key-title">
          <h2 id="new-key-title">Create a key</h2>
          <PostForm action={base} csrf={ctx.csrf} errors={errors} class="form-inline">
            <NameField value={props.values.name} errors={errors} placeholder="e.g. backend-prod" />
            <TextField
              name="expires"
              label="Expires on (UTC)"
              value={props.values.expires}
              errors={errors}
              placeholder="e.g. 2027-01-31"
              maxlength={10}
              hint="YYYY-MM-DD: the key stops working at the end of that day, UTC. Leave empty for a key that never expires."
              optional
            />
            <details
              class="limits-details"
              open={LIMIT_FIELDS.some((f) => errors.fields[f] || (f !== "budget_period" && props.values.limits?.[f]))}
            >
              <summary>Limits</summary>
              <fieldset>
                <legend class="visually-hidden">Limits, budget, allowed models and tags</legend>
                <LimitFields values={props.values.limits ?? EMPTY_LIMITS} errors={errors} forKey />
              </fieldset>
            </details>
            <Submit label="Create key" />
          </PostForm>
        </section>
      )}
      {keys.length === 0 ? (
        <EmptyState title="No API keys yet">
          <p>
            {manage
              ? "Create one above and use it as the api_key of any OpenAI SDK, with the base URL set to this Perpetuo."
              : "Ask an owner or admin of this workspace to create one."}
          </p>
        </EmptyState>
      ) : (
        <DataTable
          label="API keys"
          columns={["Name", "Key", "Created · last used", "Limits", "Budget", "Status"]}
          actions
          class="table-keys"
        >
          {keys.map((k) => {
            const url = `${base}/${encodeURIComponent(k.id)}`;
            return (
              <Row class={k.status === "active" ? "" : "row-muted"}>
                <Cell header label="Name">
                  <Text class="strong" text={k.name} />
                  <TagList tags={k.tags} />
                </Cell>
                <Cell label="Key">
                  <code class="mono" safe>{`${k.prefix}…`}</code>
                </Cell>
                <Cell label="Created · last used">
                  <Time value={k.created_at} />
                  <Sub text={k.created_by && `by ${k.created_by.email}`} />
                  <Sub text={!k.last_used_at && "never used"} />
                  {!!k.last_used_at && (
                    <span class="sub">
                      last used <Time value={k.last_used_at} />
                    </span>
                  )}
                </Cell>
                <Cell label="Limits">
                  <LimitsSummary {...k} budget_usd={null} />
                </Cell>
                <Cell label="Budget">
                  <StoredBudgetMeter budget={k} label={`Budget spent by ${k.name}`} otherwise={<span class="muted">No budget</span>} />
                </Cell>
                <Cell label="Status">
                  <Badge tone={STATUS_TONE[k.status]} label={k.status} />
                  {!!k.expires_at && k.status === "active" && (
                    <span class="sub">
                      expires <Time value={k.expires_at} />
                    </span>
                  )}
                </Cell>
                <ActionsCell>
                  {manage && <NavButton href={`${url}/edit`} label="Edit" class="btn-small btn-secondary" aria={`Edit ${k.name}`} />}
                  {manage && k.status === "active" && <ConfirmLink href={`${url}/revoke`} label="Revoke" aria={`Revoke ${k.name}`} />}
                  {manage && <ConfirmLink href={`${url}/delete`} label="Delete" aria={`Delete ${k.name}`} danger />}
                </ActionsCell>
              </Row>
            );
          })}
        </DataTable>
      )}
    </Layout>
  );
}
