import * as v from "valibot";

// Field schemas shared by the request models. Messages name the field only when `field` is given:
// otherwise the error renderer puts the field path (`tags[2]`) in front.

/** A trimmed, non-empty string of at most `max` characters. */
export const text = (max: number, field = "") => {
  const name = field ? `${field} ` : "";
  return v.pipe(
    v.string(`${name}must be a string`),
    v.trim(),
    v.nonEmpty(`${name}must not be empty`),
    v.maxLength(max, `${name}must be at most ${max} characters`),
  );
};

/** A whole number from min to max; `rule` is the message for every way of missing it. */
export const wholeNumber = (min: number, max: number, rule: string) =>
  v.pipe(v.number(rule), v.integer(rule), v.minValue(min, rule), v.maxValue(max, rule));

/** A model name or a pattern with `*` wildcards, as providers list them and keys allow them. */
export const ModelPattern = v.pipe(text(200), v.regex(/^\S+$/, "must not contain spaces"));
