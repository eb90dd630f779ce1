import { canManage, type ViewContext } from "../context.ts";
import { Layout } from "../layout.tsx";
import { Csrf, PostForm } from "../components/form.tsx";
import { ConfirmLink } from "../components/confirm.tsx";
import { Badge, EmptyState, Flash, NavButton, PageHeader, Text } from "../components/ui.tsx";
import { formatMs } from "../components/format.ts";
import { ActionsCell, Cell, DataTable, num, Row } from "../components/table.tsx";
import type { ProviderView } from "../../src/providers/service.ts";
import type { ProviderTestResult } from "../../src/providers/connection-test.ts";

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
  providers: ProviderView[];
  /** Results of "Test" to show inline (without JavaScript the page is re-rendered with one). */
  tests?: Record<string, ProviderTestResult>;
  notice?: string | null;
}

const MOVES = [
  ["up", "↑"],
  ["down", "↓"],
] as const;

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
          {providers.map((p, i) => {
            const url = `${base}/${encodeURIComponent(p.id)}`;
            const shown = p.models.slice(0, 3);
            const test = props.tests?.[p.id];
            return (
              <Row class={p.enabled ? "" : "row-muted"}>
                <Cell header label="Name">
                  <Text class="strong" text={p.name} />
                  <Text class="sub mono" text={p.base_url} />
                </Cell>
                <Cell label="Type" text={p.label} />
                <Cell label="Models">
                  {p.models.length === 0 ? (
                    <span class="muted">all models</span>
                  ) : (
                    <>
                      {shown.map((m) => (
                        <Text tag="code" class="chip" text={m} />
                      ))}
                      {p.models.length > shown.length && <span class="muted"> +{p.models.length - shown.length} more</span>}
                    </>
                  )}
                </Cell>
                <Cell label="Priority" class="num">
                  <div class="reorder">
                    <span class="mono">{p.priority}</span>
                    {manage && (
                      <PostForm action={`${url}/move`} csrf={ctx.csrf} replace class="inline-form">
                        {MOVES.map(([direction, arrow]) => (
                          <button
                            type="submit"
                            name="direction"
                            value={direction}
                            class="btn btn-icon"
                            disabled={direction === "up" ? i === 0 : i === providers.length - 1}
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
                    {manage && (
                      <PostForm action={`${url}/enabled`} csrf={ctx.csrf} replace class="inline-form">
                        <input type="hidden" name="enabled" value={p.enabled ? "off" : "on"} />
                        <button type="submit" class="btn btn-link" aria-label={`${p.enabled ? "Disable" : "Enable"} ${p.name}`}>
                          {p.enabled ? "Disable" : "Enable"}
                        </button>
                      </PostForm>
                    )}
                  </div>
                </Cell>
                <Cell label="Key">
                  <Text class="mono" text={p.key_hint} />
                  {!p.key_hint && <span class="muted">none</span>}
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
                    <Csrf token={ctx.csrf} />
                    <button type="submit" class="btn btn-small btn-secondary" aria-label={`Test ${p.name}`}>
                      Test<span class="spinner htmx-indicator" aria-hidden="true"></span>
                    </button>
                  </form>
                  {manage && (
                    <>
                      <NavButton href={`${url}/edit`} label="Edit" class="btn-small btn-secondary" aria={`Edit ${p.name}`} />
                      <ConfirmLink href={`${url}/delete`} label="Delete" aria={`Delete ${p.name}`} danger />
                    </>
                  )}
                  <div id={`test-${p.id}`} class="test-result" role="status" aria-live="polite">
                    {!!test && <TestResultView result={test} />}
                  </div>
                </ActionsCell>
              </Row>
            );
          })}
        </DataTable>
      )}
    </Layout>
  );
}

/** The outcome of "Test" (a one-token chat call), inline in the provider's row. */
export function TestResultView(props: { result: ProviderTestResult }) {
  const r = props.result;
  if (r.ok) {
    return (
      <span class="test-ok">
        ✓ Connected: <Text tag="code" class="mono" text={r.model} /> answered in {formatMs(r.latency_ms) as "safe"}
      </span>
    );
  }
  return (
    <span class="test-fail">
      ✗ <strong safe>{PROBLEM_LABEL[r.problem] ?? "Failed"}</strong>
      {!!r.model && (
        <>
          {" "}
          (<Text tag="code" class="mono" text={r.model} />)
        </>
      )}
      {": "}
      <span safe>{`${r.status ? `HTTP ${r.status}: ` : ""}${r.message}`}</span>
    </span>
  );
}
