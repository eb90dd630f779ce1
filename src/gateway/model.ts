import * as v from "valibot";
import { modelNameProblem } from "../adapters/util.ts";
import { firstIssueOnly } from "../http/first-issue.ts";

// The OpenAI Chat Completions request, checked as far as the gateway must rely on it. Objects are
// loose: fields we do not know pass through untouched to OpenAI-compatible upstreams.

const TextPart = v.looseObject({ type: v.literal("text"), text: v.string("text must be a string") });
const ImagePart = v.looseObject({
  type: v.literal("image_url"),
  image_url: v.looseObject({
    url: v.pipe(v.string(), v.regex(/^(https?:|data:)/i, "must be an http(s) URL or a data: URL")),
    detail: v.optional(v.picklist(["auto", "low", "high"])),
  }),
});
const FilePart = v.looseObject({
  type: v.literal("file"),
  file: v.pipe(
    v.looseObject({
      file_data: v.optional(v.string("file_data must be a string")),
      file_id: v.optional(v.string("file_id must be a string")),
      filename: v.optional(v.string()),
    }),
    v.check((f) => f.file_data !== undefined || f.file_id !== undefined, "a file part needs file_data or file_id"),
  ),
});
const OtherPart = v.looseObject({ type: v.picklist(["input_audio", "refusal"], "is not a known content part type") });
const Part = v.variant(
  "type",
  [TextPart, ImagePart, FilePart, OtherPart],
  "content parts must have a type of text, image_url, input_audio or file",
);

const ToolCall = v.looseObject({
  id: v.string(),
  type: v.literal("function"),
  function: v.looseObject({ name: v.string(), arguments: v.string("arguments must be a JSON string") }),
});

const Message = v.variant(
  "role",
  [
    v.looseObject({
      role: v.picklist(["system", "developer"]),
      content: v.union([v.string(), v.array(TextPart)], "content must be a string or an array of text parts"),
    }),
    v.looseObject({
      role: v.literal("user"),
      content: v.union([v.string(), v.array(Part)], "content must be a string or an array of content parts"),
    }),
    v.looseObject({
      role: v.literal("assistant"),
      content: v.nullish(v.union([v.string(), v.array(v.union([TextPart, v.looseObject({ type: v.literal("refusal") })]))])),
      tool_calls: v.optional(v.array(ToolCall)),
    }),
    v.looseObject({
      role: v.literal("tool"),
      content: v.union([v.string(), v.array(TextPart)]),
      tool_call_id: v.string("tool_call_id is required"),
    }),
  ],
  "role must be one of system, developer, user, assistant, tool",
);

const Tool = v.looseObject({
  type: v.literal("function"),
  function: v.looseObject({
    name: v.pipe(v.string(), v.regex(/^[a-zA-Z0-9_-]{1,64}$/, "must be 1-64 letters, digits, _ or -")),
    description: v.optional(v.string()),
    parameters: v.optional(v.record(v.string(), v.unknown())),
  }),
});

/** The model a client names, for every /v1 request that names one. */
export const ModelField = v.pipe(
  v.string("model is required"),
  v.nonEmpty("model must not be empty"),
  v.maxLength(256),
  // Some providers put the model in the URL path (Gemini): nothing that could leave base_url.
  v.rawCheck(({ dataset, addIssue }) => {
    const problem = dataset.typed ? modelNameProblem(dataset.value) : null;
    if (problem) addIssue({ message: `model ${problem}` });
  }),
);

export const ChatCompletionBody = firstIssueOnly(
  v.looseObject({
    model: ModelField,
    messages: v.pipe(v.array(Message, "messages must be an array"), v.minLength(1, "messages must contain at least one message")),
    stream: v.nullish(v.boolean()),
    stream_options: v.nullish(v.looseObject({ include_usage: v.nullish(v.boolean()) })),
    n: v.nullish(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(128))),
    temperature: v.nullish(v.pipe(v.number(), v.minValue(0), v.maxValue(2))),
    top_p: v.nullish(v.pipe(v.number(), v.minValue(0), v.maxValue(1))),
    max_tokens: v.nullish(v.pipe(v.number(), v.integer(), v.minValue(1))),
    max_completion_tokens: v.nullish(v.pipe(v.number(), v.integer(), v.minValue(1))),
    stop: v.nullish(v.union([v.string(), v.pipe(v.array(v.string()), v.maxLength(16))])),
    presence_penalty: v.nullish(v.pipe(v.number(), v.minValue(-2), v.maxValue(2))),
    frequency_penalty: v.nullish(v.pipe(v.number(), v.minValue(-2), v.maxValue(2))),
    logprobs: v.nullish(v.boolean()),
    top_logprobs: v.nullish(v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(20))),
    seed: v.nullish(v.pipe(v.number(), v.integer())),
    user: v.optional(v.string()),
    tools: v.optional(v.array(Tool)),
    tool_choice: v.nullish(
      v.union([
        v.picklist(["none", "auto", "required"]),
        v.looseObject({ type: v.literal("function"), function: v.looseObject({ name: v.string() }) }),
      ]),
    ),
    parallel_tool_calls: v.nullish(v.boolean()),
    response_format: v.nullish(
      v.variant("type", [
        v.looseObject({ type: v.literal("text") }),
        v.looseObject({ type: v.literal("json_object") }),
        v.looseObject({
          type: v.literal("json_schema"),
          json_schema: v.looseObject({ name: v.string(), schema: v.optional(v.record(v.string(), v.unknown())) }),
        }),
      ]),
    ),
  }),
);

/**
 * The chat request every adapter takes: what the schema guarantees, plus unknown fields (they pass
 * through to OpenAI-compatible upstreams). The Responses and Messages translations build one too.
 */
export type ChatRequest = v.InferOutput<typeof ChatCompletionBody>;
