import type { FormErrors } from "../context.ts";
import { SelectField, TextArea, TextField } from "./form.tsx";
import { formatCost, formatInt } from "./format.ts";
import { Text, Time } from "./ui.tsx";
import type { BudgetPeriod } from "../../src/governance/limits.ts";
import type { Limits } from "../../src/api-keys/limits.ts";

/** The limit fields as typed (strings), so a failed form shows them back. */
export interface LimitValues {
  rpm_limit: string;
  tpm_limit: string;
  budget_usd: string;
  budget_period: string;
  /** Keys only. */
  allowed_models?: string;
  tags?: string;
}

export const LIMIT_FIELDS = ["rpm_limit", "tpm_limit", "budget_usd", "budget_period", "allowed_models", "tags"] as const;

/** A key's or workspace's limits as stored; keys also have allowed models and tags. */
interface StoredLimits extends Limits {
  allowed_models?: string[];
  tags?: string[];
}

/** A stored budget, and what was spent in its current period. */
export interface StoredBudget extends Pick<Limits, "budget_usd" | "budget_period"> {
  spend_usd: number;
  budget_resets_at: Date | null;
}

/** Stored limits → form values. */
export function limitValues(l: StoredLimits): LimitValues {
  return {
    rpm_limit: l.rpm_limit === null ? "" : String(l.rpm_limit),
    tpm_limit: l.tpm_limit === null ? "" : String(l.tpm_limit),
    budget_usd: l.budget_usd === null ? "" : String(l.budget_usd),
    budget_period: l.budget_period ?? "month",
    allowed_models: (l.allowed_models ?? []).join("\n"),
    tags: (l.tags ?? []).join(", "),
  };
}

/** What a budget's spend is counted over, in words ("$3 of $10 this month"). */
export const PERIOD_WORDS: Record<BudgetPeriod, string> = { day: "today", month: "this month", total: "in total" };
const PER: Record<BudgetPeriod, string> = { day: "per day", month: "per month", total: "in total" };

const PERIOD_OPTIONS = [
  { value: "day", label: "Per day (UTC)" },
  { value: "month", label: "Per calendar month (UTC)" },
  { value: "total", label: "In total (never resets)" },
];

const PER_MINUTE = [
  { name: "rpm_limit", label: "Requests per minute", hint: "Empty: no limit." },
  { name: "tpm_limit", label: "Tokens per minute", hint: "Prompt plus completion tokens. Empty: no limit." },
] as const;

/** The fields of a key's (or, without allowed models and tags, a workspace's) limits. */
export function LimitFields(props: { values: LimitValues; errors: FormErrors; forKey: boolean; idPrefix?: string }) {
  const { values, errors } = props;
  const field = (name: keyof LimitValues) => ({ id: `${props.idPrefix ?? "f"}-${name}`, name, value: values[name], errors });
  return (
    <div class="limit-fields">
      {PER_MINUTE.map((f) => (
        <TextField {...field(f.name)} label={f.label} type="number" min={1} hint={f.hint} optional />
      ))}
      <TextField
        {...field("budget_usd")}
        label="Budget (US dollars)"
        inputmode="text"
        placeholder="e.g. 50"
        hint="Requests are refused once spend reaches it. Empty: no budget."
        optional
      />
      <SelectField {...field("budget_period")} label="Budget period" options={PERIOD_OPTIONS} />
      {props.forKey && (
        <>
          <TextArea
            {...field("allowed_models")}
            label="Allowed models"
            rows={3}
            placeholder={"e.g. gpt-4o*\nclaude-*"}
            hint="One name or pattern per line (or comma-separated); * matches anything. Empty: any model."
            optional
          />
          <TextField
            {...field("tags")}
            label="Tags"
            placeholder="e.g. team:search, env:prod"
            hint="Comma-separated labels, copied onto every log row of the key."
            optional
          />
        </>
      )}
    </div>
  );
}

/** "in 3 days", "in 5 hours", "in 12 minutes": rough on purpose, the exact time is beside it. */
export function timeUntil(when: Date | string, now: Date = new Date()): string {
  const ms = new Date(when).getTime() - now.getTime();
  if (ms <= 60_000) return "in a minute";
  const minutes = Math.round(ms / 60_000);
  if (minutes < 60) return `in ${minutes} minute${minutes === 1 ? "" : "s"}`;
  const hours = Math.round(ms / 3_600_000);
  if (hours < 48) return `in ${hours} hour${hours === 1 ? "" : "s"}`;
  const days = Math.round(ms / 86_400_000);
  return `in ${days} days`;
}

/**
 * Spend against a budget: a native <progress> (announced by screen readers) with the same figures
 * in text, and when the budget starts over.
 */
export function BudgetMeter(props: { spend: number; budget: number; period: BudgetPeriod; resetsAt: Date | string | null; label: string }) {
  const ratio = Math.min(1, Math.max(0, props.spend / props.budget));
  const pct = Math.round(ratio * 100);
  const tone = ratio >= 1 ? "meter-over" : ratio >= 0.8 ? "meter-warn" : "meter-ok";
  const text = `${formatCost(props.spend)} of ${formatCost(props.budget)} ${PERIOD_WORDS[props.period]} (${pct}%)`;
  return (
    <div class={`meter ${tone}`}>
      <progress max="100" value={String(pct)} aria-label={props.label} aria-valuetext={text}>
        {pct}%
      </progress>
      <Text class="meter-text" text={text} />
      {props.resetsAt ? (
        <span class="sub">
          <span safe>{`resets ${timeUntil(props.resetsAt)}`}</span> (<Time value={props.resetsAt} />)
        </span>
      ) : (
        <span class="sub">never resets</span>
      )}
    </div>
  );
}

/** The meter of a key's or the workspace's stored budget, or `otherwise` when it has none. */
export function StoredBudgetMeter(props: { budget: StoredBudget; label: string; otherwise?: JSX.Element }) {
  const b = props.budget;
  if (b.budget_usd === null || !b.budget_period) return props.otherwise ?? "";
  return (
    <BudgetMeter spend={b.spend_usd} budget={b.budget_usd} period={b.budget_period} resetsAt={b.budget_resets_at} label={props.label} />
  );
}

/** A key's or workspace's limits in a few words; "No limits" when there are none. */
export function LimitsSummary(props: StoredLimits) {
  const parts: string[] = [];
  if (props.rpm_limit !== null) parts.push(`${formatInt(props.rpm_limit)} requests/min`);
  if (props.tpm_limit !== null) parts.push(`${formatInt(props.tpm_limit)} tokens/min`);
  if (props.budget_usd !== null && props.budget_period) parts.push(`${formatCost(props.budget_usd)} ${PER[props.budget_period]}`);
  const models = props.allowed_models ?? [];
  return (
    <div class="limits-summary">
      {parts.length === 0 && models.length === 0 && <span class="muted">None</span>}
      {parts.map((p) => (
        <Text class="sub-line" text={p} />
      ))}
      {models.length > 0 && (
        <span class="sub-line">
          Models:{" "}
          {models.map((m) => (
            <Text tag="code" class="chip mono" text={m} />
          ))}
        </span>
      )}
    </div>
  );
}

export function TagList(props: { tags: string[] }) {
  if (props.tags.length === 0) return "";
  return (
    <span class="tags">
      {props.tags.map((tag) => (
        <Text class="chip chip-tag" text={tag} />
      ))}
    </span>
  );
}
