import type { FormErrors } from "../context.ts";
import { Checkbox, TextField } from "./form.tsx";

/** A provider type as the form needs it (from src/providers/catalog.ts, passed in as plain data). */
export interface ProviderTypeOption {
  value: string;
  label: string;
  defaultBaseUrl: string | null;
  keyRequired: boolean;
  keyPlaceholder: string;
  keyHelp: string;
}

interface TypeFieldsProps {
  /** The chosen type, or null for the version that fits every type (first render, no JavaScript). */
  type: ProviderTypeOption | null;
  baseUrl: string;
  errors: FormErrors;
  /** Editing an entry that has a key: `••••abcd`. The key itself is never sent back to the browser. */
  keyHint: string | null;
  editing: boolean;
  removeKey: boolean;
}

export const TYPE_FIELDS_ID = "provider-type-fields";

/**
 * The part of the provider form that depends on the type: base URL and API key. Rendered for every
 * type at first (hints cover all of them, so the form works without JavaScript); with htmx the
 * type <select> swaps in the version for the chosen type.
 */
export function ProviderTypeFields(props: TypeFieldsProps) {
  const { type, errors } = props;
  const baseHint = type
    ? type.defaultBaseUrl
      ? `Leave empty to use ${type.defaultBaseUrl}. Set it for a proxy or a self-hosted endpoint.`
      : "Required: the server's address, usually ending in /v1 (for example http://localhost:8000/v1)."
    : "Leave empty to use the provider's standard address. Required for OpenAI-compatible servers (usually ends in /v1).";
  const keyHelp = type ? type.keyHelp : "Required for hosted providers; Ollama needs none and it is optional for OpenAI-compatible servers.";
  const keyHint = props.editing && props.keyHint ? `A key ending ${props.keyHint} is stored; leave empty to keep it. ${keyHelp}` : keyHelp;
  return (
    <div id={TYPE_FIELDS_ID} class="type-fields" aria-live="polite">
      <TextField
        name="base_url"
        label="Base URL"
        type="url"
        inputmode="url"
        value={props.baseUrl}
        placeholder={type?.defaultBaseUrl ?? "https://api.example.com/v1"}
        hint={baseHint}
        errors={errors}
        required={type ? !type.defaultBaseUrl : false}
        optional={type ? !!type.defaultBaseUrl : false}
      />
      <TextField
        name="api_key"
        label={props.editing && props.keyHint ? "Replace API key" : "API key"}
        type="password"
        autocomplete="off"
        placeholder={type?.keyPlaceholder ?? ""}
        hint={keyHint}
        errors={errors}
        required={type ? type.keyRequired && !(props.editing && props.keyHint) : false}
        optional={type ? !type.keyRequired || !!(props.editing && props.keyHint) : false}
      />
      {props.editing && props.keyHint && (!type || !type.keyRequired) ? (
        <Checkbox name="remove_key" label="Remove the stored key" checked={props.removeKey} errors={errors} />
      ) : (
        ""
      )}
    </div>
  );
}
