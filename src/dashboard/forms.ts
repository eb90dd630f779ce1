import * as v from "valibot";
import type { FormErrors } from "../../views/context.ts";
import { ApiError, sentence } from "../http/errors.ts";

/** An urlencoded form as Elysia parses it: repeated names become arrays. */
export type FormBody = Record<string, string | string[] | undefined>;

export function formBody(body: unknown): FormBody {
  return body && typeof body === "object" && !Array.isArray(body) ? (body as FormBody) : {};
}

/** The last value sent for a name ("" when absent). */
export function text(body: FormBody, name: string): string {
  const raw = body[name];
  const value = Array.isArray(raw) ? raw[raw.length - 1] : raw;
  return typeof value === "string" ? value : "";
}

/** A checkbox with a hidden "off" companion: checked when any value is "on". */
export function checkbox(body: FormBody, name: string): boolean {
  const raw = body[name];
  const values = Array.isArray(raw) ? raw : raw === undefined ? [] : [raw];
  return values.some((x) => x === "on" || x === "true" || x === "1");
}

/**
 * A whole number from a text input: empty → undefined (the schema's default or "required"),
 * digits → number, anything else stays a string so the schema reports it as not a number.
 */
export function integer(body: FormBody, name: string): number | string | undefined {
  const s = text(body, name).trim();
  if (s === "") return undefined;
  return /^-?\d{1,15}$/.test(s) ? Number(s) : s;
}

/** Values separated by commas or newlines (or `separators`), trimmed, empties dropped. */
export function items(s: string, separators = /[\n,]/): string[] {
  return s
    .split(separators)
    .map((x) => x.trim())
    .filter(Boolean);
}

/**
 * `alias=model` lines into an object. A line without `=` is reported back as an error message
 * for the field rather than silently dropped.
 */
export function keyValueLines(body: FormBody, name: string): { value: Record<string, string>; error: string | null } {
  const value: Record<string, string> = {};
  const lines = text(body, name).split("\n");
  for (const [i, raw] of lines.entries()) {
    const line = raw.trim();
    if (!line) continue;
    const eq = line.indexOf("=");
    if (eq <= 0 || eq === line.length - 1) return { value, error: `line ${i + 1} must look like alias=model` };
    value[line.slice(0, eq).trim()] = line.slice(eq + 1).trim();
  }
  return { value, error: null };
}

export function formatKeyValueLines(map: Record<string, string> | null | undefined): string {
  return Object.entries(map ?? {})
    .map(([k, val]) => `${k}=${val}`)
    .join("\n");
}

/**
 * Valibot issues → one message per top-level field, worded for a label beside the field:
 * "name must not be empty" next to "Name" reads as "Must not be empty".
 */
export function issuesToErrors(issues: readonly v.BaseIssue<unknown>[], form?: string): FormErrors {
  const fields: Record<string, string> = {};
  for (const issue of issues) {
    const key = issue.path?.[0]?.key;
    const name = typeof key === "string" ? key : "_form";
    if (fields[name]) continue;
    fields[name] = fieldMessage(name, issue);
  }
  const formMessage = fields._form;
  delete fields._form;
  return { fields, form: form ?? formMessage };
}

function fieldMessage(name: string, issue: v.BaseIssue<unknown>): string {
  if (issue.input === undefined && (issue.kind === "schema" || issue.type === "object")) return "This field is required.";
  const msg = issue.message ?? "is invalid";
  // Valibot's own wording speaks of types; a form field is a number, a checkbox, or not valid.
  if (/^Invalid type: Expected number/.test(msg)) return sentence("must be a whole number");
  if (/^Invalid type: Expected boolean/.test(msg)) return sentence("must be on or off");
  if (/^Invalid /.test(msg)) return sentence("is not valid");
  return sentence(msg, name);
}

export function errorsFor(fields: Record<string, string>, form?: string): FormErrors {
  return { fields, form };
}

/** Whether a form comes back with anything to show. */
export const hasErrors = (errors: FormErrors): boolean => Object.keys(errors.fields).length > 0 || !!errors.form;

/** The message a query code (`?done=saved`) stands for in `table`; null for any other value. */
export function noticeFor(table: Record<string, string>, code: unknown): string | null {
  const key = String(code);
  return Object.hasOwn(table, key) ? table[key] : null;
}

/**
 * Runs a service call whose refusals a person can act on: an ApiError that `shown` accepts (by
 * default any below 500) is returned, to show beside the form; anything else is thrown on.
 */
export async function attempt<T>(work: () => Promise<T>, shown = (err: ApiError) => err.status < 500): Promise<T | ApiError> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof ApiError && shown(err)) return err;
    throw err;
  }
}
