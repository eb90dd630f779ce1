import type { Children } from "@kitajs/html";
import type { FormErrors } from "../context.ts";
import { postForm } from "./hx.ts";
import { NavButton, Text } from "./ui.tsx";

/** The session-bound CSRF token every state-changing form carries (checked server-side). */
export function Csrf(props: { token: string }) {
  return <input type="hidden" name="_csrf" value={props.token} />;
}

/**
 * A dashboard form that posts through htmx (see postForm), CSRF token first. A form given `errors`
 * shows their summary and leaves validation to the server, whose messages it shows.
 */
export function PostForm(props: {
  action: string;
  csrf: string;
  errors?: FormErrors;
  replace?: boolean;
  class?: string;
  autocomplete?: string;
  children?: Children;
}) {
  return (
    <form
      {...postForm(props.action, props.replace ? "replace" : "push")}
      class={props.class}
      novalidate={!!props.errors}
      autocomplete={props.autocomplete}
    >
      <Csrf token={props.csrf} />
      {!!props.errors && <ErrorSummary errors={props.errors} />}
      {props.children}
    </form>
  );
}

/** A summary at the top of a form that failed: announced by screen readers, links to each field. */
export function ErrorSummary(props: { errors: FormErrors }) {
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
      {names.length > 0 && !!errors.form && <p>Please fix the highlighted fields.</p>}
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

/** A field's hint and error message, which the control names in aria-describedby. */
function FieldNotes(props: { id: string; hint?: string; error?: string }) {
  return (
    <>
      <Text tag="p" class="hint" id={`${props.id}-hint`} text={props.hint} />
      <Text tag="p" class="field-error" id={`${props.id}-error`} text={props.error} />
    </>
  );
}

/** What every control needs from its field: its id, and the aria attributes that tie it to the notes. */
function control(props: FieldBase) {
  const id = props.id ?? `f-${props.name}`;
  const error = props.errors.fields[props.name];
  const described = [props.hint ? `${id}-hint` : "", error ? `${id}-error` : ""].filter(Boolean).join(" ");
  return { id, error, aria: { "aria-invalid": error ? "true" : undefined, "aria-describedby": described || undefined } };
}

function FieldShell(props: FieldBase & { children?: Children; wide?: boolean }) {
  const { id, error } = control(props);
  return (
    <div class={["field", error && "field-invalid", props.wide && "field-wide"]}>
      <label for={id}>
        <span safe>{props.label}</span>
        {props.optional && <span class="optional"> (optional)</span>}
      </label>
      {props.children}
      <FieldNotes id={id} hint={props.hint} error={error} />
    </div>
  );
}

/** A text input; `type="number"` fields get the numeric keyboard on phones. */
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
    inputmode?: "text" | "url" | "email";
    autofocus?: boolean;
  },
) {
  const { id, aria } = control(props);
  return (
    <FieldShell {...props}>
      <input
        id={id}
        name={props.name}
        type={props.type ?? "text"}
        value={props.value?.toString()}
        autocomplete={props.autocomplete}
        placeholder={props.placeholder}
        required={props.required}
        min={props.min}
        max={props.max}
        maxlength={props.maxlength}
        minlength={props.minlength}
        inputmode={props.type === "number" ? "numeric" : props.inputmode}
        autofocus={props.autofocus}
        {...aria}
      />
    </FieldShell>
  );
}

export function TextArea(props: FieldBase & { value?: string | null; rows?: number; placeholder?: string }) {
  const { id, aria } = control(props);
  return (
    <FieldShell {...props} wide>
      <textarea id={id} name={props.name} rows={String(props.rows ?? 3)} placeholder={props.placeholder} {...aria} safe>
        {props.value ?? ""}
      </textarea>
    </FieldShell>
  );
}

/** The name of a workspace or a key: required, and at most the 100 characters the server accepts. */
export function NameField(props: { label?: string; value?: string; errors: FormErrors; placeholder?: string }) {
  return <TextField label="Name" {...props} name="name" required maxlength={100} />;
}

export interface Option {
  value: string;
  label: string;
}

export function SelectField(props: FieldBase & { value?: string | null; options: Option[]; attrs?: Record<string, string> }) {
  const { id, aria } = control(props);
  return (
    <FieldShell {...props}>
      <select id={id} name={props.name} required={props.required} {...aria} {...(props.attrs ?? {})}>
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
  const { id, error, aria } = control(props);
  return (
    <div class={["field field-check", error && "field-invalid"]}>
      {/* Unchecked boxes send nothing; the hidden field makes "off" explicit for the server. */}
      <input type="hidden" name={props.name} value="off" />
      <input type="checkbox" id={id} name={props.name} value="on" checked={props.checked} aria-describedby={aria["aria-describedby"]} />
      <label for={id} safe>
        {props.label}
      </label>
      <FieldNotes id={id} hint={props.hint} error={error} />
    </div>
  );
}

/** A form's submit button(s) and, beside them, the way back without saving. */
export function FormActions(props: { cancel: string; children: Children }) {
  return (
    <div class="form-actions">
      {props.children}
      <NavButton href={props.cancel} label="Cancel" />
    </div>
  );
}

export function Submit(props: { label: string; kind?: "primary" | "secondary" }) {
  return (
    <button type="submit" class={`btn btn-${props.kind ?? "primary"}`}>
      <span safe>{props.label}</span>
      <span class="spinner htmx-indicator" aria-hidden="true"></span>
    </button>
  );
}
