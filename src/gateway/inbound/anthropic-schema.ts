import * as v from "valibot";
import { isRecord } from "../../adapters/types.ts";
import { ModelField } from "../model.ts";
import { firstIssueOnly } from "../../http/first-issue.ts";

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
 * - Honoured only by Anthropic entries (relayed; other entries are skipped, and with none left the
 *   answer is a 400 naming the field): server tools, `mcp_servers`, `container`,
 *   `context_management`, `inference_geo`, documents by URL, a final assistant turn (prefill).
 * - Refused with a 400 naming the field: any other top-level field (Anthropic refuses unknown
 *   fields too), unknown block types.
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
        media_type: v.picklist(
          ["image/jpeg", "image/png", "image/gif", "image/webp"],
          "media_type must be image/jpeg, image/png, image/gif or image/webp",
        ),
        data: v.pipe(v.string("data must be a base64 string"), v.nonEmpty("data must not be empty")),
      }),
      v.looseObject({
        type: v.literal("url"),
        url: v.pipe(v.string("url must be a string"), v.regex(/^https?:\/\//i, "url must be an http(s) URL")),
      }),
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
      v.looseObject({
        type: v.literal("base64"),
        media_type: v.literal("application/pdf", "media_type must be application/pdf"),
        data: v.pipe(v.string(), v.nonEmpty("data must not be empty")),
      }),
      v.looseObject({
        type: v.literal("text"),
        media_type: v.optional(v.literal("text/plain", "media_type must be text/plain")),
        data: v.string("data must be a string"),
      }),
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
    stringOr(
      v.variant("type", [TextBlock, ImageBlock], "tool_result content blocks must be text or image"),
      "content must be a string or an array of text and image blocks",
    ),
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

const UserBlock = v.variant(
  "type",
  [TextBlock, ImageBlock, DocumentBlock, ToolResultBlock],
  "user content blocks must be text, image, document or tool_result",
);
const AssistantBlock = v.variant(
  "type",
  [TextBlock, ToolUseBlock, ThinkingBlock, RedactedThinkingBlock],
  "assistant content blocks must be text, tool_use, thinking or redacted_thinking",
);

const Message = v.variant(
  "role",
  [
    v.looseObject({ role: v.literal("user"), content: stringOr(UserBlock, "content must be a string or an array of content blocks") }),
    v.looseObject({
      role: v.literal("assistant"),
      content: stringOr(AssistantBlock, "content must be a string or an array of content blocks"),
    }),
  ],
  "role must be user or assistant (the system prompt goes in the top-level system field)",
);

const CustomTool = v.looseObject({
  type: v.optional(v.literal("custom")),
  name: v.pipe(v.string("name is required"), v.regex(/^[a-zA-Z0-9_-]{1,128}$/, "name must be 1-128 letters, digits, _ or -")),
  description: v.optional(v.string()),
  input_schema: v.looseObject({ type: v.literal("object", "input_schema.type must be object") }),
  cache_control: hint,
});

/** Anthropic's server tools (web_search_20250305, code_execution_…): run by Anthropic, so relayed only. */
export const SERVER_TOOL_TYPE = /^[a-z][a-z0-9_]*_\d{8}$/;
const ServerTool = v.looseObject({
  type: v.pipe(v.string(), v.regex(SERVER_TOOL_TYPE, "type must be custom or a dated server tool type such as web_search_20250305")),
  name: v.pipe(v.string("name is required"), v.nonEmpty("name must not be empty")),
});

const Tool = v.lazy((input) => (isRecord(input) && input.type !== undefined && input.type !== "custom" ? ServerTool : CustomTool));

const parallel = { disable_parallel_tool_use: v.optional(v.boolean()) };
const ToolChoice = v.variant(
  "type",
  [
    v.looseObject({ type: v.picklist(["auto", "any"]), ...parallel }),
    v.looseObject({ type: v.literal("tool"), name: v.string("name is required"), ...parallel }),
    v.looseObject({ type: v.literal("none") }),
  ],
  "tool_choice.type must be auto, any, tool or none",
);

const Thinking = v.variant(
  "type",
  [
    v.looseObject({
      type: v.literal("enabled"),
      budget_tokens: v.pipe(v.number("budget_tokens must be a number"), v.integer(), v.minValue(1)),
    }),
    v.looseObject({ type: v.picklist(["disabled", "adaptive", "between_tools"]) }),
  ],
  "thinking.type must be enabled, disabled, adaptive or between_tools",
);

const OutputConfig = v.looseObject({
  effort: hint,
  format: v.nullish(
    v.looseObject({
      type: v.literal("json_schema", "output_config.format.type must be json_schema"),
      schema: v.record(v.string(), v.unknown(), "schema must be an object"),
    }),
  ),
});

/** Server-side features of Anthropic's API: honoured by relaying to Anthropic entries, which alone get such a request. */
export const ANTHROPIC_ONLY_FIELDS = ["mcp_servers", "container", "context_management"] as const;

const MessagesFields = v.looseObject({
  model: ModelField,
  max_tokens: v.pipe(
    v.number("max_tokens is required"),
    v.integer("max_tokens must be an integer"),
    v.minValue(1, "max_tokens must be at least 1"),
  ),
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
  // A data-residency requirement: only Anthropic itself can keep it.
  inference_geo: v.nullish(v.string()),
  mcp_servers: v.optional(v.unknown()),
  container: v.optional(v.unknown()),
  context_management: v.optional(v.unknown()),
});
/** Top-level fields this endpoint knows; any other is refused by name. */
const KNOWN = new Set(Object.keys(MessagesFields.entries));

export const MessagesBody = firstIssueOnly(
  v.pipe(
    MessagesFields,
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
  ),
);

export type MessagesRequest = v.InferOutput<typeof MessagesBody>;
export type UserContentBlock = v.InferOutput<typeof UserBlock>;
export type AssistantContentBlock = v.InferOutput<typeof AssistantBlock>;
export type TextContentBlock = v.InferOutput<typeof TextBlock>;
export type ImageContentBlock = v.InferOutput<typeof ImageBlock>;

/**
 * `POST /v1/messages/count_tokens`: the Messages request without max_tokens (what would be sent,
 * not how much may come back); one given is accepted and ignored.
 */
export const CountTokensBody = firstIssueOnly(
  v.pipe(
    v.record(v.string(), v.unknown(), "the body must be a JSON object"),
    v.transform((b) => (b.max_tokens === undefined ? { ...b, max_tokens: 1 } : b)),
    MessagesBody,
  ),
);
