import { formatCompact, formatCost, formatInt, formatPercent } from "./format.ts";
import { Text } from "./ui.tsx";
import type { UsageTotals } from "../../src/usage/counters.ts";

export const errorRate = (t: Pick<UsageTotals, "requests" | "errors">): number | null => (t.requests > 0 ? t.errors / t.requests : null);

/** An error rate of 5% or more is shown as a problem. */
export const rateTone = (t: UsageTotals) => ((errorRate(t) ?? 0) >= 0.05 ? "error" : undefined);

export function Stat(props: { label: string; value: string; sub?: string; tone?: "error" | "ok" }) {
  return (
    <div class={props.tone ? `stat stat-${props.tone}` : "stat"}>
      <dt safe>{props.label}</dt>
      <dd>
        <Text class="stat-value" text={props.value} />
        <Text class="stat-sub" text={props.sub} />
      </dd>
    </div>
  );
}

/** Requests, error rate, tokens and cost of a period as a row of figures. */
export function TotalsStats(props: { totals: UsageTotals; period: string }) {
  const t = props.totals;
  return (
    <dl class="stats">
      <Stat label={`Requests · ${props.period}`} value={formatInt(t.requests)} />
      <Stat
        label={`Error rate · ${props.period}`}
        value={formatPercent(errorRate(t))}
        sub={`${formatInt(t.errors)} failed`}
        tone={rateTone(t)}
      />
      <Stat
        label={`Tokens · ${props.period}`}
        value={formatCompact(t.prompt_tokens + t.completion_tokens)}
        sub={`${formatCompact(t.prompt_tokens)} in · ${formatCompact(t.completion_tokens)} out`}
      />
      <Stat
        label={`Cost · ${props.period}`}
        value={formatCost(t.cost_usd)}
        sub={t.unpriced_requests > 0 ? `${formatInt(t.unpriced_requests)} requests without a known price` : undefined}
      />
    </dl>
  );
}
