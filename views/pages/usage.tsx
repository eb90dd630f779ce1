import type { FormErrors, ViewContext } from "../context.ts";
import { Layout } from "../layout.tsx";
import { RangeBar, RangeForm } from "../components/range.tsx";
import { EmptyState, PageHeader, Sub, Text } from "../components/ui.tsx";
import { ChartPanel } from "../components/chart.tsx";
import { formatCompact, formatCost, formatCostTick, formatInt, formatPercent } from "../components/format.ts";
import { TotalsStats, errorRate } from "../components/usage-bits.tsx";
import type { UsageTotals } from "../../src/usage/counters.ts";
import { BudgetMeter } from "../components/limits.tsx";
import type { BudgetPeriod } from "../../src/governance/limits.ts";
import { Cell, DataTable, num, Row } from "../components/table.tsx";

/** One gateway key's usage in the range, and its budget (spend this budget period) when it has one. */
export interface KeyUsageRow {
  label: string;
  prefix: string | null;
  state: "active" | "revoked" | "deleted";
  requests: number;
  errors: number;
  prompt_tokens: number;
  completion_tokens: number;
  cost_usd: number;
  budget: { spend: number; budget: number; period: BudgetPeriod; resetsAt: Date | null } | null;
}

interface UsageProps {
  ctx: ViewContext;
  /** The range shown (UTC days), and what the form should show back. */
  range: { from: string; to: string };
  values: { from: string; to: string };
  errors: FormErrors;
  totals: UsageTotals;
  days: (UsageTotals & { day: string })[];
  byProvider: (UsageTotals & { label: string })[];
  byModel: (UsageTotals & { label: string })[];
  byKey: KeyUsageRow[];
  presets: { label: string; from: string; to: string; current: boolean }[];
}

export function UsagePage(props: UsageProps) {
  const { ctx, totals, days } = props;
  const w = ctx.workspace!;
  const base = `/app/w/${encodeURIComponent(w.id)}/usage`;
  const busiest = days.reduce((a, d) => (d.requests > a.requests ? d : a), days[0] ?? { day: "", requests: 0, cost_usd: 0 });
  const costliest = days.reduce((a, d) => (d.cost_usd > a.cost_usd ? d : a), days[0] ?? { day: "", requests: 0, cost_usd: 0 });
  return (
    <Layout ctx={ctx} title={`Usage · ${w.name}`} section="usage">
      <PageHeader title="Usage" subtitle={`${props.range.from} to ${props.range.to} (UTC days, both included).`} />
      <RangeBar presets={props.presets.map((p) => ({ ...p, href: `${base}?from=${p.from}&to=${p.to}` }))}>
        <RangeForm action={base} label="Date range" {...props.values} errors={props.errors} days />
      </RangeBar>
      {!!props.errors.form && (
        <div class="alert alert-error" role="alert">
          <span safe>{props.errors.form}</span>
        </div>
      )}
      <TotalsStats totals={totals} period={`${days.length} days`} />
      {totals.requests === 0 && (
        <EmptyState title="No requests in this range">
          <p>Usage is counted as requests pass through the gateway. Pick a wider range, or send a request with one of your API keys.</p>
        </EmptyState>
      )}
      <div class="grid-2 charts">
        <ChartPanel
          heading="Requests per day"
          id="usage-requests"
          title="Requests per day"
          summary={`${formatInt(totals.requests)} requests from ${props.range.from} to ${props.range.to}; most on ${busiest.day || "no day"} (${formatInt(busiest.requests)}).`}
          points={days.map((d) => ({
            label: d.day,
            value: d.requests,
            display: `${formatInt(d.requests)} requests, ${formatInt(d.errors)} failed`,
          }))}
          yLabel="Requests"
          format={formatCompact}
          integer
          width={480}
        />
        <ChartPanel
          heading="Cost per day"
          id="usage-cost"
          title="Cost per day in US dollars"
          summary={`${formatCost(totals.cost_usd)} from ${props.range.from} to ${props.range.to}; highest on ${costliest.day || "no day"} (${formatCost(costliest.cost_usd)}).`}
          points={days.map((d) => ({ label: d.day, value: d.cost_usd, display: formatCost(d.cost_usd) }))}
          yLabel="Cost (USD)"
          format={formatCostTick}
          tone="accent"
          width={480}
        />
      </div>
      <BreakdownTable title="By provider" rows={props.byProvider} firstColumn="Provider" />
      <BreakdownTable title="By model" rows={props.byModel} firstColumn="Model" mono />
      <BreakdownTable title="By key" rows={props.byKey} firstColumn="Key" budgets />
    </Layout>
  );
}

const FIGURE_COLUMNS = ["Requests", "Error rate", "Tokens in", "Tokens out", "Cost"].map(num);

/** A row of a breakdown: its name and figures; rows per key also say which key, its state and its budget. */
type BreakdownRow = Omit<KeyUsageRow, "prefix" | "state" | "budget"> & Partial<KeyUsageRow>;

/**
 * Requests, error rate, tokens and cost per provider, model or key. `budgets` adds the key's budget
 * column, which shows the key's current budget period, whatever the range.
 */
function BreakdownTable(props: { title: string; rows: BreakdownRow[]; firstColumn: string; mono?: boolean; budgets?: boolean }) {
  const columns = [props.firstColumn, ...FIGURE_COLUMNS, ...(props.budgets ? ["Budget (current period)"] : [])];
  return (
    <section class="panel">
      <h2 safe>{props.title}</h2>
      {props.rows.length === 0 ? (
        <p class="muted">Nothing in this range.</p>
      ) : (
        <DataTable label={props.title} class="table-compact" columns={columns}>
          {props.rows.map((r) => (
            <Row class={r.state && r.state !== "active" ? "row-muted" : ""}>
              <Cell header label={props.firstColumn} class={props.mono ? "mono" : ""} text={r.label}>
                <Text tag="code" class="sub mono" text={r.prefix && `${r.prefix}…`} />
                <Sub text={r.state !== "active" && r.state} />
              </Cell>
              <Cell label="Requests" class="num" text={formatInt(r.requests)} />
              <Cell label="Error rate" class="num" text={formatPercent(errorRate(r))} />
              <Cell label="Tokens in" class="num" text={formatInt(r.prompt_tokens)} />
              <Cell label="Tokens out" class="num" text={formatInt(r.completion_tokens)} />
              <Cell label="Cost" class="num" text={formatCost(r.cost_usd)} />
              {props.budgets && (
                <Cell label="Budget (current period)">
                  {r.budget ? <BudgetMeter {...r.budget} label={`Budget spent by ${r.label}`} /> : <span class="muted">—</span>}
                </Cell>
              )}
            </Row>
          ))}
        </DataTable>
      )}
    </section>
  );
}
