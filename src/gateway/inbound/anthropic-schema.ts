import * as v from "valibot";
import { modelNameProblem } from "../../adapters/types.ts";

/**
 * Anthropic's Messages request (`POST /v1/messages`), checked as far as the translation relies on
 * it. Per field (see also anthropic-messages.ts):
 * - Honoured: model, max_tokens, messages (text, image, document, tool_use, tool_result blocks),
 *   system, stop_sequences, temperature, top_p, top_k, metadata.user_id, stream, tools, tool_choice.
 * - Honoured by translation: `output_config.format` (JSON schema output → response_format).
 * - Accepted and ignored as hints: `cache_control` anywhere, document `citations`, `service_tier`,
 *   `speed`, `diagnostics`, `output_config.effort`, `thinking` (a budget the model may use, not a
 *   promise of thinking blocks) and the thinking blocks clients send back in assistant turns
 *   (signed by Anthropic, meaningless to other models).
 * - Refused with a 400 naming the field: `inference_geo` (a residency promise the gateway cannot
 *   keep), anything else at the top level (Anthropic refuses unknown
 *   fields too, and server-side features such as `mcp_servers` or `container` cannot be honoured by
 *   another provider), server tools, unknown block types, URL documents.
 */

/**
 * A string, or an array of `item`. Not v.union: a union reports only its own message, while this
 * lets an array's issue name the offending block (`messages[0].content[1].type`).
 */
function stringOr<T extends v.GenericSchema>(item: T, message: string) {
  return v.lazy((input) => (typeof input === "string" ? v.string() : v.array(item, message)));
}

/** A hint with no effect on the translated request. */
const hint = v.optional(v.unknown());

const TextBlock = v.looseObject({ type: v.literal("text"), text: v.string("text must be a string"), cache_control: hint, citations: hint });

const ImageBlock = v.looseObject({
  type: v.literal("image"),
  source: v.variant(
    "type",
    [
      v.looseObject({
        type: v.literal("base64"),
        media_type: v.picklist(["image/jpeg", "image/png", "image/gif", "image/webp"], "media_type must be image/jpeg, image/png, image/gif or image/webp"),
        data: v.pipe(v.string("data must be a base64 string"), v.nonEmpty("data must not be empty")),
      }),
      v.looseObject({ type: v.literal("url"), url: v.pipe(v.string("url must be a string"), v.regex(/^https?:\/\//i, "url must be an http(s) URL")) }),
    ],
    "source.type must be base64 or url",
  ),
  cache_control: hint,
});

const DocumentBlock = v.looseObject({
  type: v.literal("document"),
  source: v.variant(
    "type",
    [
      v.looseObject({ type: v.literal("base64"), media_type: v.literal("application/pdf", "media_type must be application/pdf"), data: v.pipe(v.string(), v.nonEmpty("data must not be empty")) }),
      v.looseObject({ type: v.literal("text"), media_type: v.optional(v.literal("text/plain", "media_type must be text/plain")), data: v.string("data must be a string") }),
      v.looseObject({ type: v.literal("content"), content: stringOr(TextBlock, "content must be a string or an array of text blocks") }),
      v.looseObject({ type: v.literal("url"), url: v.string() }),
    ],
    "source.type must be base64, text, content or url",
  ),
  title: v.nullish(v.string()),
  context: v.nullish(v.string()),
  citations: hint,
  cache_control: hint,
});

const ToolResultBlock = v.looseObject({
  type: v.literal("tool_result"),
  tool_use_id: v.pipe(v.string("tool_use_id is required"), v.nonEmpty("tool_use_id must not be empty")),
  content: v.optional(
    stringOr(v.variant("type", [TextBlock, ImageBlock], "tool_result content blocks must be text or image"), "content must be a string or an array of text and image blocks"),
  ),
  is_error: v.optional(v.boolean()),
  cache_control: hint,
});

const ToolUseBlock = v.looseObject({
  type: v.literal("tool_use"),
  id: v.pipe(v.string("id is required"), v.nonEmpty("id must not be empty")),
  name: v.pipe(v.string("name is required"), v.nonEmpty("name must not be empty")),
  input: v.record(v.string(), v.unknown(), "input must be an object"),
  cache_control: hint,
});

const ThinkingBlock = v.looseObject({ type: v.literal("thinking"), thinking: v.string() });
const RedactedThinkingBlock = v.looseObject({ type: v.literal("redacted_thinking") });

const UserBlock = v.variant("type", [TextBlock, ImageBlock, DocumentBlock, ToolResultBlock], "user content blocks must be text, image, document or tool_result");
const AssistantBlock = v.variant("type", [TextBlock, ToolUseBlock, ThinkingBlock, RedactedThinkingBlock], "assistant content blocks must be text, tool_use, thinking or redacted_thinking");

const Message = v.variant(
  "role",
  [
    v.looseObject({ role: v.literal("user"), content: stringOr(UserBlock, "content must be a string or an array of content blocks") }),
    v.looseObject({ role: v.literal("assistant"), content: stringOr(AssistantBlock, "content must be a string or an array of content blocks") }),
  ],
  "role must be user or assistant (the system prompt goes in the top-level system field)",
);

const Tool = v.looseObject({
  type: v.optional(v.literal("custom", "only custom tools (name, description, input_schema) are supported; server tools are not")),
  name: v.pipe(v.string("name is required"), v.regex(/^[a-zA-Z0-9_-]{1,128}$/, "name must be 1-128 letters, digits, _ or -")),
  description: v.optional(v.string()),
  input_schema: v.looseObject({ type: v.literal("object", "input_schema.type must be object") }),
  cache_control: hint,
});

const parallel = { disable_parallel_tool_use: v.optional(v.boolean()) };
const ToolChoice = v.variant(
  "type",
  [
    v.looseObject({ type: v.literal("auto"), ...parallel }),
    v.looseObject({ type: v.literal("any"), ...parallel }),
    v.looseObject({ type: v.literal("tool"), name: v.string("name is required"), ...parallel }),
    v.looseObject({ type: v.literal("none") }),
  ],
  "tool_choice.type must be auto, any, tool or none",
);

const Thinking = v.variant(
  "type",
  [
    v.looseObject({ type: v.literal("enabled"), budget_tokens: v.pipe(v.number("budget_tokens must be a number"), v.integer(), v.minValue(1)) }),
    v.looseObject({ type: v.literal("disabled") }),
    v.looseObject({ type: v.literal("adaptive") }),
    v.looseObject({ type: v.literal("between_tools") }),
  ],
  "thinking.type must be enabled, disabled, adaptive or between_tools",
);

const OutputConfig = v.looseObject({
  effort: hint,
  format: v.nullish(v.looseObject({ type: v.literal("json_schema", "output_config.format.type must be json_schema"), schema: v.record(v.string(), v.unknown(), "schema must be an object") })),
});

/** Top-level fields this endpoint knows; any other is refused by name. */
const KNOWN = new Set([
  "model",
  "messages",
  "max_tokens",
  "system",
  "stop_sequences",
  "stream",
  "temperature",
  "top_p",
  "top_k",
  "metadata",
  "tools",
  "tool_choice",
  "thinking",
  "service_tier",
  "output_config",
  "cache_control",
  "speed",
  "diagnostics",
  "inference_geo",
]);

export const MessagesBody = v.pipe(
  v.looseObject({
    model: v.pipe(
      v.string("model is required"),
      v.nonEmpty("model must not be empty"),
      v.maxLength(256),
      v.rawCheck(({ dataset, addIssue }) => {
        const problem = dataset.typed ? modelNameProblem(dataset.value) : null;
        if (problem) addIssue({ message: `model ${problem}` });
      }),
    ),
    max_tokens: v.pipe(v.number("max_tokens is required"), v.integer("max_tokens must be an integer"), v.minValue(1, "max_tokens must be at least 1")),
    messages: v.pipe(v.array(Message, "messages must be an array"), v.minLength(1, "messages must contain at least one message")),
    system: v.optional(stringOr(TextBlock, "system must be a string or an array of text blocks")),
    stop_sequences: v.optional(v.pipe(v.array(v.pipe(v.string(), v.nonEmpty("stop sequences must not be empty"))), v.maxLength(64))),
    stream: v.optional(v.boolean()),
    temperature: v.optional(v.pipe(v.number(), v.minValue(0), v.maxValue(1))),
    top_p: v.optional(v.pipe(v.number(), v.minValue(0), v.maxValue(1))),
    top_k: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0))),
    metadata: v.optional(v.looseObject({ user_id: v.nullish(v.pipe(v.string(), v.maxLength(256))) })),
    tools: v.optional(v.array(Tool)),
    tool_choice: v.optional(ToolChoice),
    thinking: v.optional(Thinking),
    service_tier: v.optional(v.picklist(["auto", "standard_only"])),
    output_config: v.optional(OutputConfig),
    cache_control: hint,
    speed: hint,
    diagnostics: hint,
    // A data-residency requirement: the gateway may route anywhere, so it cannot promise one.
    inference_geo: v.nullish(v.null("inference_geo cannot be honoured: this gateway may route the request to any provider and region")),
  }),
  v.rawCheck(({ dataset, addIssue }) => {
    if (!dataset.typed) return;
    for (const key of Object.keys(dataset.value)) {
      if (KNOWN.has(key)) continue;
      addIssue({
        message: `${key} is not supported by this gateway's Messages endpoint`,
        path: [{ type: "object", origin: "value", input: dataset.value, key, value: (dataset.value as Record<string, unknown>)[key] }],
      });
    }
  }),
);

export type MessagesRequest = v.InferOutput<typeof MessagesBody>;
export type UserContentBlock = v.InferOutput<typeof UserBlock>;
export type AssistantContentBlock = v.InferOutput<typeof AssistantBlock>;
export type TextContentBlock = v.InferOutput<typeof TextBlock>;
export type ImageContentBlock = v.InferOutput<typeof ImageBlock>;
