/**
 * JSON Schema → the OpenAPI-3.0 subset Gemini's Schema accepts: only what Gemini is known to take
 * (type, nullable, enum of strings, properties, required, items, anyOf, description, min/max
 * bounds, a few formats); local $refs are inlined; everything else is dropped rather than sent to fail.
 */
import { isRecord, UnsupportedFeatureError, type JsonSchema } from "./types.ts";

const KEEP_NUMERIC = ["minItems", "maxItems", "minimum", "maximum", "minLength", "maxLength", "minProperties", "maxProperties"] as const;
const STRING_FORMATS = new Set(["enum", "date-time"]);
const NUMBER_FORMATS = new Set(["int32", "int64", "float", "double"]);

function resolveRef(ref: string, root: JsonSchema): JsonSchema | undefined {
  const m = /^#\/(\$defs|definitions)\/([^/]+)$/.exec(ref);
  if (!m) return undefined;
  const defs = root[m[1]];
  const def = isRecord(defs) ? defs[m[2].replace(/~1/g, "/").replace(/~0/g, "~")] : undefined;
  return isRecord(def) ? def : undefined;
}

/** JSON Schema → the OpenAPI-3.0 subset Gemini's Schema accepts. */
export function toGeminiSchema(schema: unknown, param: string, root?: JsonSchema, depth = 0, refs: readonly string[] = []): JsonSchema {
  if (!isRecord(schema)) return {};
  const top = root ?? schema;
  if (depth > 32) throw new UnsupportedFeatureError(param, "schema is too deeply nested for Gemini");
  if (typeof schema.$ref === "string") {
    const ref = schema.$ref;
    // Gemini's Schema has no references, and a recursive one cannot be inlined.
    if (refs.includes(ref)) throw new UnsupportedFeatureError(param, `recursive schema reference '${ref}' is not supported by Gemini`);
    const target = resolveRef(ref, top);
    if (!target) throw new UnsupportedFeatureError(param, `schema reference '${ref}' cannot be resolved`);
    const { $ref: _ref, ...rest } = schema;
    return toGeminiSchema({ ...target, ...rest }, param, top, depth + 1, [...refs, ref]);
  }
  const out: JsonSchema = {};
  let nullable = schema.nullable === true;
  let type: unknown = schema.type;
  if (Array.isArray(type)) {
    const types = type.filter((t) => t !== "null");
    if (types.length < type.length) nullable = true;
    if (types.length === 1) type = types[0];
    else if (types.length === 0) type = undefined;
    else {
      out.anyOf = types.map((t) => ({ type: t }));
      type = undefined;
    }
  }
  if (typeof type === "string" && type !== "null") out.type = type;
  if (typeof schema.description === "string") out.description = schema.description;
  if (typeof schema.format === "string") {
    const allowed = type === "string" ? STRING_FORMATS : type === "number" || type === "integer" ? NUMBER_FORMATS : undefined;
    if (allowed?.has(schema.format)) out.format = schema.format;
  }
  const en = schema.enum ?? (schema.const !== undefined ? [schema.const] : undefined);
  // Gemini enums are string-only; a numeric enum would be rejected, so it is dropped.
  if (Array.isArray(en) && en.every((x) => typeof x === "string")) {
    out.enum = en;
    if (out.type === undefined) out.type = "string";
  }
  for (const k of KEEP_NUMERIC) if (typeof schema[k] === "number") out[k] = schema[k];
  if (isRecord(schema.properties)) {
    // fromEntries defines own properties: a parameter named "__proto__" stays a parameter.
    const props: JsonSchema = Object.fromEntries(
      Object.entries(schema.properties).map(([k, v]) => [k, toGeminiSchema(v, param, top, depth + 1, refs)]),
    );
    out.properties = props;
    if (Array.isArray(schema.required)) {
      // Gemini rejects required names that are not properties.
      const req = schema.required.filter((r): r is string => typeof r === "string" && Object.hasOwn(props, r));
      if (req.length) out.required = req;
    }
    if (Array.isArray(schema.propertyOrdering)) out.propertyOrdering = schema.propertyOrdering;
  }
  if (isRecord(schema.items)) out.items = toGeminiSchema(schema.items, param, top, depth + 1, refs);
  const alts = Array.isArray(schema.anyOf) ? schema.anyOf : Array.isArray(schema.oneOf) ? schema.oneOf : undefined;
  if (alts) {
    const nonNull = alts.filter((a) => !(isRecord(a) && a.type === "null"));
    if (nonNull.length < alts.length) nullable = true;
    if (nonNull.length === 1) Object.assign(out, toGeminiSchema(nonNull[0], param, top, depth + 1, refs));
    else if (nonNull.length > 1) out.anyOf = nonNull.map((a) => toGeminiSchema(a, param, top, depth + 1, refs));
  }
  if (Array.isArray(schema.allOf)) {
    for (const sub of schema.allOf) {
      const s = toGeminiSchema(sub, param, top, depth + 1, refs);
      const { properties, required, ...rest } = s;
      Object.assign(out, rest);
      if (isRecord(properties)) out.properties = { ...(isRecord(out.properties) ? out.properties : {}), ...properties };
      if (Array.isArray(required)) out.required = [...(Array.isArray(out.required) ? out.required : []), ...required];
    }
  }
  if (nullable) out.nullable = true;
  return out;
}
