import * as v from "valibot";
import type { BudgetPeriod } from "../governance/limits.ts";
import { invalid } from "../http/errors.ts";
import { ModelPattern, text, wholeNumber } from "../http/fields.ts";

// Messages name no field: the error renderer puts the field path (`tags[2]`) in front.

/** Postgres `integer`: a limit above this could not be stored. */
const MAX_LIMIT_VALUE = 2_000_000_000;
const MAX_BUDGET_USD = 1_000_000_000;
const MAX_ALLOWED_MODELS = 100;
const MAX_TAGS = 20;
const BUDGET_PERIODS = ["day", "month", "total"] as const satisfies readonly BudgetPeriod[];
export type { BudgetPeriod };

const LIMIT_RULE = `must be a whole number from 1 to ${MAX_LIMIT_VALUE}, or null for no limit`;

/** Requests or tokens per minute; null clears it. */
const PerMinuteLimit = v.nullable(wholeNumber(1, MAX_LIMIT_VALUE, LIMIT_RULE));

const BUDGET_RULE = `must be an amount in US dollars above 0 and at most ${MAX_BUDGET_USD}, or null for no budget`;
const BudgetUsd = v.nullable(
  v.pipe(
    v.number(BUDGET_RULE),
    v.gtValue(0, BUDGET_RULE),
    v.maxValue(MAX_BUDGET_USD, BUDGET_RULE),
    // Cents of a cent are the finest grain prices come in; more digits would only be noise.
    v.check((n) => Math.abs(n * 1e6 - Math.round(n * 1e6)) < 1e-6, "must have at most 6 decimal places"),
  ),
);

const BudgetPeriodSchema = v.nullable(v.picklist(BUDGET_PERIODS, `must be one of ${BUDGET_PERIODS.join(", ")}, or null`));

const unique = <T>(xs: T[]): T[] => [...new Set(xs)];

/** Empty: any model. */
const AllowedModels = v.pipe(
  v.array(ModelPattern, "must be a list of model names or patterns such as gpt-4o*"),
  v.maxLength(MAX_ALLOWED_MODELS, `may hold at most ${MAX_ALLOWED_MODELS} patterns`),
  v.transform(unique),
);

/** Printable, and no comma: forms and the logs filter write tags as a comma-separated list. */
const Tag = v.pipe(text(64), v.regex(/^[^\p{C},]+$/u, "must be printable text without commas, such as team:search"));

export const Tags = v.pipe(
  v.array(Tag, "must be a list of labels such as team:search"),
  v.maxLength(MAX_TAGS, `may hold at most ${MAX_TAGS} tags`),
  v.transform(unique),
);

/** The workspace's limits, all optional (absent: unchanged). */
export const WorkspaceLimitsEntries = {
  rpm_limit: v.optional(PerMinuteLimit),
  tpm_limit: v.optional(PerMinuteLimit),
  budget_usd: v.optional(BudgetUsd),
  budget_period: v.optional(BudgetPeriodSchema),
};

/** The governance fields of a key: the same limits, an allow-list and tags (create: absent = none; update: absent = unchanged). */
export const KeyLimitsEntries = {
  ...WorkspaceLimitsEntries,
  allowed_models: v.optional(v.nullable(AllowedModels)),
  tags: v.optional(v.nullable(Tags)),
};

export interface Limits {
  rpm_limit: number | null;
  tpm_limit: number | null;
  budget_usd: number | null;
  budget_period: BudgetPeriod | null;
}

export type LimitsPatch = Partial<Limits>;

/**
 * Applies a patch to stored limits. A budget needs both its amount and its period: setting one
 * keeps the stored other, clearing either (null) clears both. Returns the problem when the result
 * would be half a budget.
 */
export function mergeLimits(
  current: Limits,
  patch: LimitsPatch,
): { value: Limits } | { error: string; param: "budget_usd" | "budget_period" } {
  const next: Limits = {
    rpm_limit: patch.rpm_limit !== undefined ? patch.rpm_limit : current.rpm_limit,
    tpm_limit: patch.tpm_limit !== undefined ? patch.tpm_limit : current.tpm_limit,
    budget_usd: patch.budget_usd !== undefined ? patch.budget_usd : current.budget_usd,
    budget_period: patch.budget_period !== undefined ? patch.budget_period : current.budget_period,
  };
  if (patch.budget_usd === null || patch.budget_period === null) {
    const other = patch.budget_usd === null ? patch.budget_period : patch.budget_usd;
    if (other !== undefined && other !== null) {
      // Name the half that is missing (the null one).
      return {
        error: "budget_usd and budget_period are set and cleared together: give both, or null for both",
        param: patch.budget_usd === null ? "budget_usd" : "budget_period",
      };
    }
    next.budget_usd = null;
    next.budget_period = null;
  }
  if (next.budget_usd !== null && next.budget_period === null)
    return { error: "budget_period is required with budget_usd (day, month or total)", param: "budget_period" };
  if (next.budget_period !== null && next.budget_usd === null)
    return { error: "budget_usd is required with budget_period", param: "budget_usd" };
  return { value: next };
}

/** The limits after a patch, or a 422 naming the budget field that lacks its partner. */
export function checkedLimits(current: Limits, patch: LimitsPatch): Limits {
  const merged = mergeLimits(current, patch);
  if ("error" in merged) throw invalid(merged.error, merged.param);
  return merged.value;
}

export const NO_LIMITS: Limits = { rpm_limit: null, tpm_limit: null, budget_usd: null, budget_period: null };
