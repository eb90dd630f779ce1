import * as v from "valibot";
import { ModelField } from "./model.ts";
import { firstIssueOnly } from "../http/first-issue.ts";

/** OpenAI's own limit on inputs per request. */
const MAX_EMBEDDING_INPUTS = 2048;

/** A list of inputs: at least one, at most OpenAI's limit. */
const inputs = <T extends v.GenericSchema>(item: T) =>
  v.pipe(
    v.array(item),
    v.minLength(1, "must not be an empty array"),
    v.maxLength(MAX_EMBEDDING_INPUTS, `must have at most ${MAX_EMBEDDING_INPUTS} items`),
  );

const tokenIds = v.pipe(
  v.array(
    v.pipe(v.number(), v.integer("token ids must be whole numbers"), v.minValue(0, "token ids must not be negative")),
    "must be an array of token ids",
  ),
  v.minLength(1, "must not be an empty array"),
);

// The OpenAI Embeddings request. Loose: fields we do not know pass through to OpenAI-compatible upstreams.
export const EmbeddingsBody = firstIssueOnly(
  v.looseObject({
    model: ModelField,
    input: v.union(
      [
        v.pipe(v.string(), v.nonEmpty("must not be an empty string")),
        inputs(v.pipe(v.string(), v.nonEmpty("must not contain empty strings"))),
        tokenIds,
        inputs(tokenIds),
      ],
      "input must be a non-empty string, an array of strings, an array of token ids, or an array of token-id arrays",
    ),
    encoding_format: v.optional(v.picklist(["float", "base64"], "encoding_format must be float or base64")),
    dimensions: v.optional(
      v.pipe(
        v.number("dimensions must be a number"),
        v.integer("dimensions must be a whole number"),
        v.minValue(1, "dimensions must be at least 1"),
        v.maxValue(65_536, "dimensions must be at most 65536"),
      ),
    ),
    user: v.optional(v.string("user must be a string")),
  }),
);

export type EmbeddingsRequest = v.InferOutput<typeof EmbeddingsBody>;
