import * as v from "valibot";
import { ModelPattern, text } from "../http/fields.ts";
import { IdParam } from "../workspaces/model.ts";
import { baseUrlProblem, normalizeBaseUrl } from "./base-url.ts";
import { PROVIDER_TYPES } from "./catalog.ts";
import { modelNameProblem, type WireFormat } from "../adapters/types.ts";
import type { ProviderType } from "./catalog.ts";

// Messages name no field: the error renderer puts the field path (`models[2]`, `model_map.gpt-4`) in front.

export const MAX_PROVIDERS_PER_WORKSPACE = 50;
export const DEFAULT_TIMEOUT_MS = 60_000;

const ProviderName = v.pipe(
  text(64),
  // Names pin a provider in `name/model`, so no slash.
  v.regex(/^[A-Za-z0-9._-]+$/, "may contain only letters, digits, '.', '_' and '-'"),
);

const ProviderTypeSchema = v.picklist(PROVIDER_TYPES, `must be one of ${PROVIDER_TYPES.join(", ")}`);

const BaseUrl = v.pipe(
  v.string("must be a string"),
  v.trim(),
  v.nonEmpty("must not be empty; use null for the type's default"),
  v.maxLength(2000, "must be at most 2000 characters"),
  v.rawCheck(({ dataset, addIssue }) => {
    if (!dataset.typed) return;
    const problem = baseUrlProblem(dataset.value);
    if (problem) addIssue({ message: problem });
  }),
  v.transform(normalizeBaseUrl),
);

/** Write-only. Blank means "not given" (a form's empty password field); null removes a stored key. */
const ApiKeyInput = v.pipe(
  v.string("must be a string"),
  v.trim(),
  v.maxLength(4096, "must be at most 4096 characters"),
  v.regex(/^[\x21-\x7e]*$/, "must be printable ASCII without spaces"),
  v.transform((s) => (s === "" ? undefined : s)),
);

const ModelPatterns = v.pipe(
  v.array(ModelPattern, "must be a list of model names or patterns"),
  v.maxLength(100, "may hold at most 100 patterns"),
);

const MapKey = v.pipe(v.string(), v.nonEmpty("alias must not be empty"), v.maxLength(200, "alias must be at most 200 characters"));

// v.record alone takes an array as an object with keys "0", "1"…, and silently drops the keys below
// (they would reach Object.prototype), so they are refused out loud instead.
const RESERVED_KEYS = ["__proto__", "constructor", "prototype"];
const plainObject = (message: string) =>
  v.pipe(
    v.custom<Record<string, unknown>>((x) => typeof x === "object" && x !== null && !Array.isArray(x), message),
    v.check((x) => !RESERVED_KEYS.some((k) => Object.hasOwn(x, k)), `must not use ${RESERVED_KEYS.join(", ")} as a name`),
  );

// The provider's model name may end up in a URL path (Gemini): nothing that climbs out of base_url.
const MappedModel = v.pipe(
  ModelPattern,
  v.rawCheck(({ dataset, addIssue }) => {
    const problem = dataset.typed ? modelNameProblem(dataset.value) : null;
    if (problem) addIssue({ message: problem });
  }),
);

/** An object of at most `max` entries, keyed by model name or alias. */
const modelRecord = <T extends v.GenericSchema>(value: T, message: string, max: number) =>
  v.pipe(
    plainObject(message),
    v.record(MapKey, value, message),
    v.check((m) => Object.keys(m).length <= max, `may hold at most ${max} entries`),
  );

const ModelMap = modelRecord(MappedModel, "must be an object mapping alias to provider model name", 100);

const Price = v.pipe(
  v.number("must be a number (USD per 1M tokens)"),
  v.minValue(0, "must be ≥ 0"),
  v.maxValue(1_000_000, "must be at most 1000000"),
);

export const ModelPrice = v.object(
  { input: Price, output: Price, cached_input: v.optional(Price) },
  "must be an object {input, output, cached_input?} in USD per 1M tokens",
);

const Pricing = modelRecord(ModelPrice, "must be an object mapping model (or pattern) to {input, output, cached_input?}", 200);

/** A whole number from min to max; `whole` is the message for a fraction. */
const integerBetween = (min: number, max: number, whole: string) => {
  const range = `must be between ${min} and ${max}`;
  return v.pipe(v.number("must be a number"), v.integer(whole), v.minValue(min, range), v.maxValue(max, range));
};

const TimeoutMs = integerBetween(1000, 600_000, "must be a whole number of milliseconds");
export const Priority = integerBetween(0, 1_000_000, "must be a whole number");

const Enabled = v.boolean("must be true or false");

export const CreateProviderBody = v.object({
  name: ProviderName,
  type: ProviderTypeSchema,
  base_url: v.optional(v.nullable(BaseUrl)),
  api_key: v.optional(v.nullable(ApiKeyInput)),
  priority: v.optional(Priority),
  enabled: v.optional(Enabled),
  models: v.optional(ModelPatterns),
  model_map: v.optional(ModelMap),
  timeout_ms: v.optional(TimeoutMs),
  pricing: v.optional(Pricing),
});

/** Every field optional; an absent field keeps its value (api_key included), null resets base_url or removes the key. */
export const UpdateProviderBody = v.partial(CreateProviderBody);

export const ReorderBody = v.object({
  ids: v.pipe(
    v.array(v.pipe(v.string("must be a provider id"), v.maxLength(64, "is not a provider id")), "must be a list of provider ids"),
    v.maxLength(MAX_PROVIDERS_PER_WORKSPACE, `may hold at most ${MAX_PROVIDERS_PER_WORKSPACE} ids`),
  ),
});

export const ProvidersParams = v.object({ id: IdParam });
export const ProviderParams = v.object({ id: IdParam, pid: IdParam });

export type CreateProviderInput = v.InferOutput<typeof CreateProviderBody>;
export type UpdateProviderInput = v.InferOutput<typeof UpdateProviderBody>;
type ModelPriceValue = v.InferOutput<typeof ModelPrice>;
type Pricing = Record<string, ModelPriceValue>;

/** What the API and the gateway both see of a provider entry. */
export interface ProviderEntry {
  id: string;
  name: string;
  type: ProviderType;
  format: WireFormat;
  /** Effective URL: the entry's own or the type's default. */
  base_url: string;
  priority: number;
  enabled: boolean;
  models: string[];
  model_map: Record<string, string>;
  timeout_ms: number;
  pricing: Pricing;
}

/** One entry as the gateway uses it, with its key decrypted. */
export interface ProviderConfig extends ProviderEntry {
  api_key: string | null;
}
