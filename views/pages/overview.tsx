import { canManage, type ViewContext } from "../context.ts";
import { Cell, DataTable, Row } from "../components/table.tsx";
import { Layout } from "../layout.tsx";
import { nav } from "../components/hx.ts";
import { NavButton, PageHeader, Sub, Time } from "../components/ui.tsx";
import { ChartPanel } from "../components/chart.tsx";
import { formatCompact, formatCost, formatInt, formatPercent } from "../components/format.ts";
import type { LogListItem } from "../../src/logs/service.ts";
import { Stat, errorRate, rateTone } from "../components/usage-bits.tsx";
import type { UsageTotals } from "../../src/usage/counters.ts";

export function OverviewPage(props: {
  ctx: ViewContext;
  today: UsageTotals;
  month: UsageTotals;
  days: { day: string; requests: number; cost_usd: number }[];
  errors: LogListItem[];
  setup: { providers: number; keys: number };
}) {
  const { ctx, today, month } = props;
  const w = ctx.workspace!;
  const base = `/app/w/${encodeURIComponent(w.id)}`;
  const fresh = props.setup.providers === 0 || props.setup.keys === 0 || month.requests === 0;
  // The getting-started steps, shown while the workspace is fresh.
  const steps = [
    {
      done: props.setup.providers > 0,
      label: "Add a provider",
      text: "Store an upstream key (OpenAI, Anthropic, Gemini, …).",
      href: `${base}/providers/new`,
    },
    { done: props.setup.keys > 0, label: "Create an API key", text: "Your applications authenticate with it.", href: `${base}/keys` },
    { done: month.requests > 0, label: "Send your first request", text: "Point any OpenAI SDK at this gateway.", href: `${base}/keys` },
  ];
  return (
    <Layout ctx={ctx} title={w.name} section="overview">
      <PageHeader title={w.name} subtitle="Overview of the last 30 days (UTC).">
        <NavButton href={`${base}/usage`} label="Usage details" />
      </PageHeader>
      {fresh && (
        <section class="panel get-started" aria-labelledby="get-started">
          <div class="panel-header">
            <h2 id="get-started">Get started</h2>
            <NavButton href={`${base}/start`} label="Checklist with code snippets →" class="btn-link" />
          </div>
          <ol class="steps">
            {steps.map((s) => (
              <li class={s.done ? "step step-done" : "step"}>
                <span class="step-mark" aria-hidden="true">
                  {s.done ? "✓" : ""}
                </span>
                <span>
                  {s.done || !canManage(w) ? (
                    <strong safe>{s.label}</strong>
                  ) : (
                    <a {...nav(s.href)} safe>
                      {s.label}
                    </a>
                  )}
                  {s.done && <span class="visually-hidden"> (done)</span>}
                  <Sub text={s.text} />
                </span>
              </li>
            ))}
          </ol>
        </section>
      )}
      <dl class="stats stats-3">
        <Stat label="Requests today" value={formatInt(today.requests)} sub={`${formatInt(today.errors)} failed`} tone={rateTone(today)} />
        <Stat label="Requests · 30 days" value={formatInt(month.requests)} sub={`${formatInt(month.errors)} failed`} />
        <Stat label="Error rate · 30 days" value={formatPercent(errorRate(month))} tone={rateTone(month)} />
        <Stat
          label="Tokens · 30 days"
          value={formatCompact(month.prompt_tokens + month.completion_tokens)}
          sub={`${formatCompact(month.prompt_tokens)} in · ${formatCompact(month.completion_tokens)} out`}
        />
        <Stat label="Cost today" value={formatCost(today.cost_usd)} />
        <Stat
          label="Cost · 30 days"
          value={formatCost(month.cost_usd)}
          sub={month.unpriced_requests > 0 ? `${formatInt(month.unpriced_requests)} requests without a known price` : undefined}
        />
      </dl>
      <ChartPanel
        heading="Requests per day"
        id="overview-requests"
        title="Requests per day, last 30 days"
        summary={`${formatInt(month.requests)} requests in total, ${formatInt(Math.max(0, ...props.days.map((d) => d.requests)))} on the busiest day.`}
        points={props.days.map((d) => ({ label: d.day, value: d.requests, display: `${formatInt(d.requests)} requests` }))}
        yLabel="Requests"
        format={formatInt}
        integer
        width={900}
        height={200}
      />
      <section class="panel">
        <div class="panel-header">
          <h2>Latest errors</h2>
          <NavButton href={`${base}/logs?status=error`} label="All errors →" class="btn-link" />
        </div>
        {props.errors.length === 0 ? (
          <p class="muted">No failed requests recently.</p>
        ) : (
          <DataTable label="Latest errors" class="table-compact table-logs" columns={["Time", "Model", "Provider", "Status", "Error"]}>
            {props.errors.map((e) => {
              const href = `${base}/logs/${encodeURIComponent(e.id)}`;
              return (
                <Row href={href}>
                  <Cell label="Time">
                    <a class="row-link" {...nav(href)}>
                      <Time value={e.created_at} />
                    </a>
                  </Cell>
                  <Cell label="Model" class="mono cell-model" text={e.model_requested} />
                  <Cell label="Provider" text={e.provider_name ?? "—"} />
                  <Cell label="Status" class="cell-status">
                    <span class="badge badge-error">{e.status}</span>
                  </Cell>
                  <Cell label="Error" class="truncate" text={e.error_message ?? e.error_class ?? ""} />
                </Row>
              );
            })}
          </DataTable>
        )}
      </section>
    </Layout>
  );
}
