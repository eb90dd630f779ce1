import * as v from "valibot";
import type { FormErrors } from "../../views/context.ts";
import type { LimitValues } from "../../views/components/limits.tsx";
import { ApiError } from "../http/errors.ts";
import { attempt, issuesToErrors, items, text, type FormBody } from "./forms.ts";

/** The JSON API's wording ("or null for no limit") in the form's terms, for the limits every form has. */
const FORM_WORDING: Record<string, string> = {
  rpm_limit: "Must be a whole number of at least 1; leave empty for no limit.",
  tpm_limit: "Must be a whole number of at least 1; leave empty for no limit.",
  budget_usd: "Must be an amount in US dollars above 0 such as 50 or 12.50; leave empty for no budget.",
  budget_period: "Choose per day, per month or in total.",
};

/** The limit fields as typed, to show back; a key's form also has its allowed models and tags. */
export function limitFormValues(form: FormBody, forKey: boolean): LimitValues {
  const values: LimitValues = {
    rpm_limit: text(form, "rpm_limit").trim(),
    tpm_limit: text(form, "tpm_limit").trim(),
    budget_usd: text(form, "budget_usd").trim(),
    budget_period: text(form, "budget_period").trim(),
  };
  if (forKey) {
    values.allowed_models = text(form, "allowed_models");
    values.tags = text(form, "tags");
  }
  return values;
}

// An empty field means "none" (null): a form always sends every field, so absence never means "keep".
const whole = (s: string): number | string | null => (s === "" ? null : /^\d{1,15}$/.test(s) ? Number(s) : s);
const dollars = (s: string): number | string | null => {
  const plain = s.replace(/^\$/, "").replace(/,/g, "");
  return plain === "" ? null : /^\d{1,12}(\.\d{1,12})?$/.test(plain) ? Number(plain) : s;
};

/**
 * Form values → the JSON API's input. Without an amount there is no budget, whatever the period
 * select says (it always has a value).
 */
export function limitsInput(values: LimitValues) {
  const budget = dollars(values.budget_usd);
  return {
    rpm_limit: whole(values.rpm_limit),
    tpm_limit: whole(values.tpm_limit),
    budget_usd: budget,
    budget_period: budget === null ? null : values.budget_period || null,
    ...(values.allowed_models !== undefined ? { allowed_models: items(values.allowed_models) } : {}),
    ...(values.tags !== undefined ? { tags: items(values.tags, /,/) } : {}),
  };
}

function formLimitErrors(errors: FormErrors): FormErrors {
  const fields = { ...errors.fields };
  for (const name of Object.keys(FORM_WORDING)) {
    if (fields[name] && /null|Invalid|whole number|amount|one of/i.test(fields[name])) fields[name] = FORM_WORDING[name];
  }
  return { ...errors, fields };
}

/** A service's 422 naming a field (the budget's missing half) as that field's error, in the form's words. */
function refusalToForm(err: ApiError): FormErrors {
  const msg =
    err.param === "budget_period"
      ? "Choose a period for the budget."
      : err.param === "budget_usd"
        ? "Give an amount for the budget."
        : err.message;
  return { fields: { [String(err.param)]: msg } };
}

/**
 * A form with limit fields: validated by the JSON API's `schema`, then `work` runs. What the schema
 * refuses, and a service's 422 naming a field, come back as `errors` to show beside the form (422).
 */
export async function saveLimits<S extends v.GenericSchema, T>(
  schema: S,
  input: unknown,
  work: (value: v.InferOutput<S>) => Promise<T>,
): Promise<{ errors: FormErrors } | { done: T }> {
  const parsed = v.safeParse(schema, input);
  if (!parsed.success) return { errors: formLimitErrors(issuesToErrors(parsed.issues)) };
  const done = await attempt(
    () => work(parsed.output),
    (err) => err.status === 422 && !!err.param,
  );
  return done instanceof ApiError ? { errors: refusalToForm(done) } : { done };
}
