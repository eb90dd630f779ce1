import { canManage, type ViewContext } from "../context.ts";
import { Layout } from "../layout.tsx";
import { Csrf, PostForm } from "../components/form.tsx";
import { ConfirmLink } from "../components/confirm.tsx";
import { Badge, EmptyState, Flash, NavButton, PageHeader, Text } from "../components/ui.tsx";
import { formatMs } from "../components/format.ts";
import { ActionsCell, Cell, DataTable, num, Row, RowHeader } from "../components/table.tsx";

export interface ProviderRow {
  id: string;
  name: string;
  label: string;
  base_url: string;
  models: string[];
  priority: number;
  enabled: boolean;
  key_hint: string | null;
}

export type TestResult =
  | { ok: true; model: string; latency_ms: number }
  | { ok: false; problem: string; status: number | null; model: string | null; message: string; latency_ms: number };

/** What failed, first, in the reader's terms; the provider's own (scrubbed) words follow. */
const PROBLEM_LABEL: Record<string, string> = {
  auth: "Key refused",
  model: "Model not found",
  network: "Network error",
  blocked: "Address refused",
  timeout: "Timed out",
  rate_limit: "Rate limited",
  upstream: "Provider error",
  config: "Check the settings",
};

interface ProvidersProps {
  ctx: ViewContext;
  providers: ProviderRow[];
  /** Results of "Test" to show inline (without JavaScript the page is re-rendered with one). */
  tests?: Record<string, TestResult>;
  notice?: string | null;
}

export function ProvidersPage(props: ProvidersProps) {
  const { ctx, providers } = props;
  const w = ctx.workspace!;
  const base = `/app/w/${encodeURIComponent(w.id)}/providers`;
  const manage = canManage(w);
  return (
    <Layout ctx={ctx} title={`Providers · ${w.name}`} section="providers">
      <PageHeader
        title="Providers"
        subtitle="Your upstream accounts. The gateway tries enabled providers in priority order and falls back to the next on failure."
      >
        {manage && <NavButton href={`${base}/new`} label="Add provider" class="btn-primary" />}
      </PageHeader>
      <Flash text={props.notice} />
      <div id="dialog-slot"></div>
      {providers.length === 0 ? (
        <EmptyState title="No providers yet">
          <p>
            Add an OpenAI, Anthropic or Gemini key — or any OpenAI-compatible server such as Ollama or vLLM — and the gateway can start
            routing requests.
          </p>
          {manage ? (
            <p>
              <NavButton href={`${base}/new`} label="Add your first provider" class="btn-primary" />
            </p>
          ) : (
            <p>Ask an owner or admin of this workspace to add one.</p>
          )}
        </EmptyState>
      ) : (
        <DataTable label="Providers" columns={["Name", "Type", "Models", num("Priority"), "Status", "Key"]} actions class="table-providers">
          {providers.map((p, i) => (
            <ProviderTableRow
              p={p}
              base={base}
              csrf={ctx.csrf}
              manage={manage}
              first={i === 0}
              last={i === providers.length - 1}
              test={props.tests?.[p.id]}
            />
          ))}
        </DataTable>
      )}
    </Layout>
  );
}

const MOVES = [
  ["up", "↑"],
  ["down", "↓"],
] as const;

function ProviderTableRow(props: {
  p: ProviderRow;
  base: string;
  csrf: string;
  manage: boolean;
  first: boolean;
  last: boolean;
  test?: TestResult;
}) {
  const { p, base } = props;
  const url = `${base}/${encodeURIComponent(p.id)}`;
  const shown = p.models.slice(0, 3);
  return (
    <Row class={p.enabled ? "" : "row-muted"}>
      <RowHeader label="Name">
        <Text class="strong" text={p.name} />
        <Text class="sub mono" text={p.base_url} />
      </RowHeader>
      <Cell label="Type" text={p.label} />
      <Cell label="Models">
        {p.models.length === 0 ? (
          <span class="muted">all models</span>
        ) : (
          <>
            {shown.map((m) => (
              <code class="chip" safe>
                {m}
              </code>
            ))}
            {p.models.length > shown.length && <span class="muted"> +{p.models.length - shown.length} more</span>}
          </>
        )}
      </Cell>
      <Cell label="Priority" class="num">
        <div class="reorder">
          <span class="mono">{p.priority}</span>
          {props.manage && (
            <PostForm action={`${url}/move`} csrf={props.csrf} replace class="inline-form">
              {MOVES.map(([direction, arrow]) => (
                <button
                  type="submit"
                  name="direction"
                  value={direction}
                  class="btn btn-icon"
                  disabled={direction === "up" ? props.first : props.last}
                  aria-label={`Move ${p.name} ${direction}`}
                  title={`Move ${direction}`}
                >
                  {arrow}
                </button>
              ))}
            </PostForm>
          )}
        </div>
      </Cell>
      <Cell label="Status">
        <div class="cell-row">
          {p.enabled ? <Badge tone="ok" label="Enabled" /> : <Badge tone="muted" label="Disabled" />}
          {props.manage && (
            <PostForm action={`${url}/enabled`} csrf={props.csrf} replace class="inline-form">
              <input type="hidden" name="enabled" value={p.enabled ? "off" : "on"} />
              <button type="submit" class="btn btn-link" aria-label={`${p.enabled ? "Disable" : "Enable"} ${p.name}`}>
                {p.enabled ? "Disable" : "Enable"}
              </button>
            </PostForm>
          )}
        </div>
      </Cell>
      <Cell label="Key">
        {p.key_hint ? (
          <span class="mono" safe>
            {p.key_hint}
          </span>
        ) : (
          <span class="muted">none</span>
        )}
      </Cell>
      <ActionsCell>
        <form
          method="post"
          action={`${url}/test`}
          hx-post={`${url}/test`}
          hx-target={`#test-${p.id}`}
          hx-swap="innerHTML"
          hx-disable="find button"
          class="inline-form"
        >
          <Csrf token={props.csrf} />
          <button type="submit" class="btn btn-small btn-secondary" aria-label={`Test ${p.name}`}>
            Test<span class="spinner htmx-indicator" aria-hidden="true"></span>
          </button>
        </form>
        {props.manage && (
          <>
            <NavButton href={`${url}/edit`} label="Edit" class="btn-small btn-secondary" aria={`Edit ${p.name}`} />
            <ConfirmLink href={`${url}/delete`} label="Delete" aria={`Delete ${p.name}`} danger />
          </>
        )}
        <div id={`test-${p.id}`} class="test-result" role="status" aria-live="polite">
          {!!props.test && <TestResultView result={props.test} />}
        </div>
      </ActionsCell>
    </Row>
  );
}

/** The outcome of "Test" (a one-token chat call), inline in the provider's row. */
export function TestResultView(props: { result: TestResult }) {
  const r = props.result;
  if (r.ok) {
    return (
      <span class="test-ok">
        ✓ Connected:{" "}
        <code class="mono" safe>
          {r.model}
        </code>{" "}
        answered in {formatMs(r.latency_ms) as "safe"}
      </span>
    );
  }
  return (
    <span class="test-fail">
      ✗ <strong safe>{PROBLEM_LABEL[r.problem] ?? "Failed"}</strong>
      {!!r.model && (
        <>
          {" "}
          (
          <code class="mono" safe>
            {r.model}
          </code>
          )
        </>
      )}
      {": "}
      <span safe>{`${r.status ? `HTTP ${r.status}: ` : ""}${r.message}`}</span>
    </span>
  );
}
