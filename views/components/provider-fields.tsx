import type { FormErrors } from "../context.ts";
import { Checkbox, TextArea, TextField } from "./form.tsx";

/** A provider type as the form needs it (src/providers/catalog.ts and type-hints.ts, passed in as plain data). */
export interface ProviderTypeOption {
  value: string;
  label: string;
  defaultBaseUrl: string | null;
  keyRequired: boolean;
  keyHelp: string;
  /** Model names as this type spells them, for examples. */
  models: string[];
  baseUrlExample: string;
  /** The start of a key of this type ("sk-proj-…"), or null when keys have no telling shape. */
  keyExample: string | null;
}

interface TypeFieldsProps {
  /** The chosen type, or null for the version that fits every type (an unknown type sent back with errors). */
  type: ProviderTypeOption | null;
  values: { base_url: string; name: string; models: string; model_map: string; remove_key: boolean };
  errors: FormErrors;
  /** Editing an entry that has a key: `••••abcd`. The key itself is never sent back to the browser. */
  keyHint: string | null;
  editing: boolean;
}

export const TYPE_FIELDS_ID = "provider-type-fields";

/** One line saying what a type needs, for the type picker and the fields' heading. */
export function typeSummary(t: ProviderTypeOption): string {
  const needed = t.keyExample ? `Key like ${t.keyExample}` : "Needs a key";
  const key = t.keyRequired ? needed : t.defaultBaseUrl ? "No key needed" : "Key optional";
  const models = t.models.length ? `models like ${t.models.slice(0, 2).join(", ")}` : "models: whatever the server runs";
  return [t.defaultBaseUrl ? null : "Needs the server's address", key, models].filter((x) => x !== null).join(" · ");
}

/**
 * The part of the provider form that depends on the type: base URL and API key (in a box headed by
 * the type's summary), then name, models and aliases, whose examples are the type's. The server
 * renders it for the chosen type; with htmx the type <select> swaps in the version for another
 * type, sending name, models and aliases along to keep them as typed (never the key: it is a GET).
 * Placeholders are marked as examples ("e.g. …"), never a value that looks already filled in.
 */
export function ProviderTypeFields(props: TypeFieldsProps) {
  const { type, values, errors } = props;
  const models = type?.models.slice(0, 2) ?? [];
  // The start of the type's first model name as a wildcard: gpt-*, claude-*, openai/*.
  const wildcard = `${/^[^-/]*[-/]?/.exec(models[0] ?? "llama-")![0]}*`;
  const baseHint = type
    ? type.defaultBaseUrl
      ? `Optional: leave empty to use ${type.defaultBaseUrl}. Set it for a proxy or a self-hosted endpoint.`
      : "Required: the server's address, usually ending in /v1."
    : "Leave empty to use the provider's standard address. Required for OpenAI-compatible servers (usually ends in /v1).";
  const basePlaceholder = type && !type.defaultBaseUrl ? `e.g. ${type.baseUrlExample}` : undefined;
  const keyHelp = type
    ? type.keyHelp
    : "Required for hosted providers; Ollama needs none and it is optional for OpenAI-compatible servers.";
  const keyStored = props.editing && !!props.keyHint;
  const keyHint = keyStored ? `A key ending ${props.keyHint} is stored; leave empty to keep it. ${keyHelp}` : keyHelp;
  return (
    <div id={TYPE_FIELDS_ID} class="stack">
      <div class="type-fields" aria-live="polite">
        {!!type && (
          <p class="type-summary">
            <strong safe>{type.label}</strong> <span safe>{typeSummary(type)}</span>
          </p>
        )}
        <TextField
          name="base_url"
          label="Base URL"
          type="url"
          inputmode="url"
          value={values.base_url}
          placeholder={basePlaceholder}
          hint={baseHint}
          errors={errors}
          required={!!type && !type.defaultBaseUrl}
          optional={!!type && !!type.defaultBaseUrl}
        />
        <TextField
          name="api_key"
          label={keyStored ? "Replace API key" : "API key"}
          type="password"
          autocomplete="off"
          placeholder={type?.keyExample ? `e.g. ${type.keyExample}` : undefined}
          hint={keyHint}
          errors={errors}
          required={!!type && type.keyRequired && !keyStored}
          optional={!!type && (!type.keyRequired || keyStored)}
        />
        {keyStored && (!type || !type.keyRequired) && (
          <Checkbox name="remove_key" label="Remove the stored key" checked={values.remove_key} errors={errors} />
        )}
      </div>
      <TextField
        name="name"
        label="Name"
        value={values.name}
        errors={errors}
        required
        maxlength={64}
        placeholder={`e.g. ${type?.value.replace(/_/g, "-") ?? "openai"}-main`}
        hint="Letters, digits, '.', '_' and '-'. Clients can pin it as name/model."
      />
      <TextArea
        name="models"
        label="Models"
        value={values.models}
        rows={3}
        placeholder={models.length ? `e.g. ${models.join(", ")}` : "e.g. llama-3.1-8b, qwen2.5-*"}
        hint={
          `One per line or comma-separated; * matches anything (${wildcard}). Leave empty to accept every model. ` +
          "The first exact name is the one Test asks for."
        }
        errors={errors}
        optional
      />
      <TextArea
        name="model_map"
        label="Model aliases"
        value={values.model_map}
        rows={2}
        placeholder={`e.g. fast=${models[0] ?? "llama-3.1-8b"}`}
        hint="One alias=model per line: clients ask for the alias, this provider receives the model."
        errors={errors}
        optional
      />
    </div>
  );
}
