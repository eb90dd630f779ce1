import * as v from "valibot";
import { isRecord } from "../../adapters/types.ts";
import { ModelField } from "../model.ts";
import { firstIssueOnly } from "../../http/first-issue.ts";

// The OpenAI Responses API request (`POST /v1/responses`), checked as far as its translation to a
// chat request relies on it. Perpetuo keeps no state: whatever would need stored responses,
// uploaded files or OpenAI-hosted tools is refused by name instead of being silently dropped.

/** A quoted, bounded echo of a client value inside an error message. */
const quoted = (x: unknown) => `'${String(x).slice(0, 40)}'`;

/** A schema that refuses any value with `message` (wrapped in nullish, it refuses any non-null value). */
const refuse = (message: string) => v.custom<never>(() => false, message);

const STATELESS = "Perpetuo is a stateless gateway and stores no responses: send the whole conversation in input";
const NO_FILES = "Perpetuo has no file storage";

const InputText = v.looseObject({ type: v.literal("input_text"), text: v.string("text must be a string") });
const OutputText = v.looseObject({ type: v.literal("output_text"), text: v.string("text must be a string") });
const Refusal = v.looseObject({ type: v.literal("refusal"), refusal: v.string("refusal must be a string") });
const InputImage = v.looseObject({
  type: v.literal("input_image"),
  // Before image_url: a client sending a file id learns why, not that image_url is missing.
  file_id: v.nullish(refuse(`is not supported: ${NO_FILES}; send the image as image_url (an http(s) or data: URL)`)),
  image_url: v.pipe(v.string("image_url must be a string"), v.regex(/^(https?:|data:)/i, "must be an http(s) URL or a data: URL")),
  detail: v.nullish(v.picklist(["auto", "low", "high"], "detail must be auto, low or high")),
});
const InputFile = v.looseObject({
  type: v.literal("input_file"),
  file_id: v.nullish(refuse(`is not supported: ${NO_FILES}; send the content as file_data (a data: URL)`)),
  file_url: v.nullish(refuse("is not supported; send the content as file_data (a data: URL)")),
  file_data: v.pipe(v.string("file_data must be a string"), v.nonEmpty("file_data must not be empty")),
  filename: v.optional(v.string("filename must be a string")),
});

/** Picks the schema for a discriminated value, so errors name the one shape the client meant. */
function byType<T extends v.GenericSchema>(field: string, table: Record<string, T>, what: string) {
  return v.lazy((input: unknown) => {
    if (!isRecord(input)) return refuse(`must be an object`) as unknown as T;
    const kind = input[field];
    const schema = typeof kind === "string" && Object.hasOwn(table, kind) ? table[kind] : undefined;
    if (schema) return schema;
    const known = Object.keys(table).join(", ");
    return refuse(
      kind === undefined ? `needs a ${field} (${known})` : `has ${field} ${quoted(kind)}, which ${what}; use one of ${known}`,
    ) as unknown as T;
  });
}

const UserPart = byType(
  "type",
  { input_text: InputText, input_image: InputImage, input_file: InputFile },
  "is not a known content part type",
);
/** A string or a list of parts; dispatched so that an error names the part at fault. */
const stringOr = <T extends v.GenericSchema>(part: T, what: string) =>
  v.lazy((input: unknown) =>
    typeof input === "string" ? v.string() : Array.isArray(input) ? v.array(part) : refuse(`must be a string or an array of ${what}`),
  );
const content = <T extends v.GenericSchema>(part: T) => stringOr(part, "content parts");

const messageFields = { type: v.optional(v.literal("message")), id: v.optional(v.string()), status: v.optional(v.string()) };
const UserMessage = v.looseObject({ ...messageFields, role: v.literal("user"), content: content(UserPart) });
const SystemMessage = v.looseObject({
  ...messageFields,
  role: v.picklist(["system", "developer"]),
  content: content(byType("type", { input_text: InputText }, "is not allowed in a system or developer message")),
});
const AssistantMessage = v.looseObject({
  ...messageFields,
  role: v.literal("assistant"),
  // Clients replaying a conversation send output_text; some send input_text for assistant turns too.
  content: content(
    byType("type", { output_text: OutputText, input_text: InputText, refusal: Refusal }, "is not allowed in an assistant message"),
  ),
});
const Message = byType(
  "role",
  { user: UserMessage, system: SystemMessage, developer: SystemMessage, assistant: AssistantMessage },
  "is not a role",
);

const FunctionCall = v.looseObject({
  type: v.literal("function_call"),
  id: v.optional(v.string()),
  call_id: v.pipe(v.string("call_id is required"), v.nonEmpty("call_id must not be empty")),
  name: v.pipe(v.string("name is required"), v.nonEmpty("name must not be empty")),
  arguments: v.string("arguments must be a JSON string"),
});
const FunctionCallOutput = v.looseObject({
  type: v.literal("function_call_output"),
  id: v.optional(v.string()),
  call_id: v.pipe(v.string("call_id is required"), v.nonEmpty("call_id must not be empty")),
  output: stringOr(byType("type", { input_text: InputText }, "cannot be sent to chat providers as a tool result"), "input_text parts"),
});
const ItemReference = v.looseObject({
  type: v.literal("item_reference"),
  id: v.pipe(v.string("id is required"), v.nonEmpty("id must not be empty")),
});
// Reasoning items carry provider-encrypted state only OpenAI can read back; chat requests have no place for them.
const Reasoning = v.looseObject({ type: v.literal("reasoning") });

// item_reference: only OpenAI can resolve these (items it stored); see untranslatable() in responses.ts.
const ITEMS = {
  message: Message,
  function_call: FunctionCall,
  function_call_output: FunctionCallOutput,
  reasoning: Reasoning,
  item_reference: ItemReference,
};

const Item = v.lazy((input: unknown) => {
  if (!isRecord(input)) return refuse("must be an object (a message or an item)");
  const type = input.type ?? ("role" in input ? "message" : undefined);
  if (typeof type === "string" && Object.hasOwn(ITEMS, type)) return ITEMS[type as keyof typeof ITEMS];
  return refuse(
    type === undefined
      ? "needs a role (a message) or a type (function_call, function_call_output)"
      : `has type ${quoted(type)}, which this gateway cannot translate; use messages, function_call and function_call_output items`,
  );
});

const FunctionTool = v.looseObject({
  type: v.literal("function"),
  name: v.pipe(v.string("name is required"), v.regex(/^[a-zA-Z0-9_-]{1,64}$/, "must be 1-64 letters, digits, _ or -")),
  description: v.nullish(v.string()),
  parameters: v.nullish(v.record(v.string(), v.unknown(), "parameters must be a JSON schema object")),
  strict: v.nullish(v.boolean()),
});
const Tool = v.lazy((input: unknown) =>
  isRecord(input) && input.type === "function"
    ? FunctionTool
    : refuse(
        isRecord(input) && typeof input.type === "string"
          ? `is a built-in tool (${quoted(input.type)}), which only OpenAI itself runs; Perpetuo forwards function tools only`
          : 'must be a function tool: {type: "function", name, parameters}',
      ),
);

const ToolChoice = v.union(
  [v.picklist(["none", "auto", "required"]), v.looseObject({ type: v.literal("function"), name: v.string() })],
  'tool_choice must be none, auto, required or {type: "function", name}',
);

const Format = byType(
  "type",
  {
    text: v.looseObject({ type: v.literal("text") }),
    json_object: v.looseObject({ type: v.literal("json_object") }),
    json_schema: v.looseObject({
      type: v.literal("json_schema"),
      name: v.pipe(v.string("name is required"), v.regex(/^[a-zA-Z0-9_-]{1,64}$/, "must be 1-64 letters, digits, _ or -")),
      schema: v.record(v.string(), v.unknown(), "schema must be a JSON schema object"),
      description: v.nullish(v.string()),
      strict: v.nullish(v.boolean()),
    }),
  },
  "is not a known output format",
);

export const ResponsesBody = firstIssueOnly(
  v.looseObject({
    model: ModelField,
    // Dispatched rather than a union, so that an error names the item at fault, not just `input`.
    input: v.lazy((input: unknown) =>
      typeof input === "string"
        ? v.pipe(v.string(), v.nonEmpty("must not be empty"))
        : Array.isArray(input)
          ? v.pipe(v.array(Item), v.minLength(1, "must contain at least one item"))
          : refuse(
              input === undefined || input === null
                ? "is required: a string or an array of input items"
                : "must be a string or an array of input items",
            ),
    ),
    instructions: v.nullish(v.string("instructions must be a string")),
    tools: v.nullish(v.array(Tool, "tools must be an array")),
    tool_choice: v.nullish(ToolChoice),
    parallel_tool_calls: v.nullish(v.boolean()),
    text: v.nullish(v.looseObject({ format: v.nullish(Format) })),
    max_output_tokens: v.nullish(v.pipe(v.number(), v.integer(), v.minValue(1))),
    temperature: v.nullish(v.pipe(v.number(), v.minValue(0), v.maxValue(2))),
    top_p: v.nullish(v.pipe(v.number(), v.minValue(0), v.maxValue(1))),
    reasoning: v.nullish(
      v.looseObject({
        effort: v.nullish(
          v.picklist(["none", "minimal", "low", "medium", "high", "xhigh"], "effort must be none, minimal, low, medium, high or xhigh"),
        ),
      }),
    ),
    metadata: v.nullish(
      v.pipe(
        v.record(v.pipe(v.string(), v.maxLength(64)), v.pipe(v.string(), v.maxLength(512))),
        v.check((m) => Object.keys(m).length <= 16, "metadata holds at most 16 keys"),
      ),
    ),
    user: v.nullish(v.string()),
    stream: v.nullish(v.boolean()),
    store: v.nullish(v.boolean()),
    previous_response_id: v.nullish(refuse(`is not supported: ${STATELESS}`)),
    conversation: v.nullish(refuse(`is not supported: ${STATELESS}`)),
    prompt: v.nullish(refuse("is not supported: prompt templates live in OpenAI's dashboard; send instructions and input instead")),
    background: v.nullish(
      v.pipe(
        v.boolean(),
        v.check((b) => !b, "background mode is not supported: it needs stored responses"),
      ),
    ),
  }),
);

export type ResponsesRequest = v.InferOutput<typeof ResponsesBody>;
export type ResponsesItem = Exclude<ResponsesRequest["input"], string>[number];
