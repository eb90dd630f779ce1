import type { Children } from "@kitajs/html";
import type { FormErrors } from "../context.ts";
import { nav } from "./hx.ts";

/** The session-bound CSRF token every state-changing form carries (checked server-side). */
export function Csrf(props: { token: string }) {
  return <input type="hidden" name="_csrf" value={props.token} />;
}

/** A summary at the top of a form that failed: announced by screen readers, links to each field. */
export function ErrorSummary(props: { errors: FormErrors; labels?: Record<string, string> }) {
  const { errors } = props;
  const names = Object.keys(errors.fields);
  if (!errors.form && names.length === 0) return "";
  return (
    <div class="alert alert-error" role="alert" tabindex="-1" data-focus>
      {errors.form ? (
        <p safe>{errors.form}</p>
      ) : (
        <p>
          <strong>Please fix the highlighted {names.length === 1 ? "field" : "fields"}.</strong>
        </p>
      )}
      {names.length > 0 && errors.form ? <p>Please fix the highlighted fields.</p> : ""}
    </div>
  );
}

interface FieldBase {
  name: string;
  label: string;
  errors: FormErrors;
  hint?: string;
  id?: string;
  required?: boolean;
  /** Marks the label "(optional)". */
  optional?: boolean;
}

function describedBy(id: string, hint: boolean, error: boolean): string | undefined {
  const ids = [hint ? `${id}-hint` : "", error ? `${id}-error` : ""].filter(Boolean);
  return ids.length ? ids.join(" ") : undefined;
}

function FieldShell(props: FieldBase & { id: string; children?: Children; wide?: boolean }) {
  const error = props.errors.fields[props.name];
  return (
    <div class={["field", error ? "field-invalid" : "", props.wide ? "field-wide" : ""].filter(Boolean).join(" ")}>
      <label for={props.id}>
        <span safe>{props.label}</span>
        {props.optional ? <span class="optional"> (optional)</span> : ""}
      </label>
      {props.children}
      {props.hint ? (
        <p class="hint" id={`${props.id}-hint`} safe>
          {props.hint}
        </p>
      ) : (
        ""
      )}
      {error ? (
        <p class="field-error" id={`${props.id}-error`} safe>
          {error}
        </p>
      ) : (
        ""
      )}
    </div>
  );
}

export function TextField(
  props: FieldBase & {
    value?: string | number | null;
    type?: "text" | "email" | "password" | "url" | "number" | "search";
    autocomplete?: string;
    placeholder?: string;
    min?: number;
    max?: number;
    maxlength?: number;
    minlength?: number;
    inputmode?: "numeric" | "text" | "url" | "email";
    autofocus?: boolean;
  },
) {
  const id = props.id ?? `f-${props.name}`;
  const error = props.errors.fields[props.name];
  return (
    <FieldShell {...props} id={id}>
      <input
        id={id}
        name={props.name}
        type={props.type ?? "text"}
        value={props.value === null || props.value === undefined ? undefined : String(props.value)}
        autocomplete={props.autocomplete}
        placeholder={props.placeholder}
        required={props.required}
        min={props.min === undefined ? undefined : String(props.min)}
        max={props.max === undefined ? undefined : String(props.max)}
        maxlength={props.maxlength === undefined ? undefined : String(props.maxlength)}
        minlength={props.minlength === undefined ? undefined : String(props.minlength)}
        inputmode={props.inputmode}
        autofocus={props.autofocus}
        aria-invalid={error ? "true" : undefined}
        aria-describedby={describedBy(id, !!props.hint, !!error)}
      />
    </FieldShell>
  );
}

export function TextArea(props: FieldBase & { value?: string | null; rows?: number; placeholder?: string }) {
  const id = props.id ?? `f-${props.name}`;
  const error = props.errors.fields[props.name];
  return (
    <FieldShell {...props} id={id} wide>
      <textarea
        id={id}
        name={props.name}
        rows={String(props.rows ?? 3)}
        placeholder={props.placeholder}
        aria-invalid={error ? "true" : undefined}
        aria-describedby={describedBy(id, !!props.hint, !!error)}
        safe
      >
        {props.value ?? ""}
      </textarea>
    </FieldShell>
  );
}

export interface Option {
  value: string;
  label: string;
}

export function SelectField(props: FieldBase & { value?: string | null; options: Option[]; attrs?: Record<string, string> }) {
  const id = props.id ?? `f-${props.name}`;
  const error = props.errors.fields[props.name];
  return (
    <FieldShell {...props} id={id}>
      <select
        id={id}
        name={props.name}
        required={props.required}
        aria-invalid={error ? "true" : undefined}
        aria-describedby={describedBy(id, !!props.hint, !!error)}
        {...(props.attrs ?? {})}
      >
        {props.options.map((o) => (
          <option value={o.value} selected={o.value === props.value} safe>
            {o.label}
          </option>
        ))}
      </select>
    </FieldShell>
  );
}

export function Checkbox(props: { name: string; label: string; checked: boolean; hint?: string; errors: FormErrors }) {
  const id = `f-${props.name}`;
  const error = props.errors.fields[props.name];
  return (
    <div class={error ? "field field-check field-invalid" : "field field-check"}>
      {/* Unchecked boxes send nothing; the hidden field makes "off" explicit for the server. */}
      <input type="hidden" name={props.name} value="off" />
      <input
        type="checkbox"
        id={id}
        name={props.name}
        value="on"
        checked={props.checked}
        aria-describedby={describedBy(id, !!props.hint, !!error)}
      />
      <label for={id} safe>
        {props.label}
      </label>
      {props.hint ? (
        <p class="hint" id={`${id}-hint`} safe>
          {props.hint}
        </p>
      ) : (
        ""
      )}
      {error ? (
        <p class="field-error" id={`${id}-error`} safe>
          {error}
        </p>
      ) : (
        ""
      )}
    </div>
  );
}

/** A form's submit button(s) and, beside them, the way back without saving. */
export function FormActions(props: { cancel: string; children: Children }) {
  return (
    <div class="form-actions">
      {props.children}
      <a class="btn btn-secondary" {...nav(props.cancel)}>
        Cancel
      </a>
    </div>
  );
}

/** The date-range filters' button: a plain GET submit, so no htmx spinner. */
export function RangeSubmit() {
  return (
    <div class="filter-actions">
      <button type="submit" class="btn btn-primary">
        Show
      </button>
    </div>
  );
}

export function Submit(props: { label: string; kind?: "primary" | "danger" | "secondary"; name?: string; value?: string }) {
  return (
    <button type="submit" class={`btn btn-${props.kind ?? "primary"}`} name={props.name} value={props.value}>
      <span safe>{props.label}</span>
      <span class="spinner htmx-indicator" aria-hidden="true"></span>
    </button>
  );
}
