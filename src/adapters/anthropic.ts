/**
 * OpenAI Chat Completions ⇄ Anthropic Messages.
 *
 * Choices where OpenAI and Anthropic do not line up (each documented where it is made):
 * - `response_format` json_object/json_schema becomes the answer tool (ANSWER_TOOL, common.ts)
 *   whose input is mapped back to `message.content` (finish_reason "stop"); text the model writes
 *   beside it is dropped, so the content is only the JSON. The schema's name and description go
 *   into the tool description. With the client's tools too, tool_choice becomes what `answerMode`
 *   (common.ts) says.
 * - temperature and top_p: newer Claude models refuse the pair. top_p 1 is the default and is
 *   dropped; when both are set, temperature is sent and top_p dropped, as temperature is the knob
 *   OpenAI clients set most and Anthropic recommends adjusting only one.
 * - reasoning_effort becomes `thinking` with the budget of reasoning.ts; max_tokens becomes that
 *   budget plus the client's cap (or DEFAULT_MAX_TOKENS), so the answer keeps what the client
 *   allowed and max_tokens stays above the budget; temperature/top_p/top_k, which Anthropic
 *   forbids with thinking, are dropped. Thinking is left off where Anthropic would refuse it:
 *   models before Claude 3.7, a forced tool_choice (JSON mode, required, a named function), and a
 *   conversation whose last assistant turn called tools (Anthropic then wants that turn's signed
 *   thinking block back, which OpenAI-shaped history cannot carry). Thinking text is not content.
 * - `file` parts: images → image blocks, PDF → document blocks (base64), text files → text
 *   blocks (files.ts); file_id is refused.
 * - Dropped as harmless hints: seed (OpenAI itself promises only best effort), presence/frequency
 *   penalties, message `name`, image `detail`, tool `strict`, `parallel_tool_calls: true`,
 *   store/metadata and other unknown fields.
 * - Unsupported (another candidate may honour them): n > 1, logprobs, top_logprobs, non-empty
 *   logit_bias, temperature > 1 (Anthropic's range is 0–1), audio parts, tool-call arguments that
 *   are not a JSON object.
 * - Usage: prompt_tokens = input + cache_read + cache_creation, so it means what OpenAI's does
 *   (every prompt token, cached or not); the cache figures are reported separately too.
 */
import { ANSWER_TOOL, answerSpec, contentParts, functionTools, jsonHeaders, maxTokens, modelIds, modelsRequest } from "./common.ts";
import { postJson, refuseLogprobs, renameParams, stopList, toolsWithAnswer, visitMessages } from "./common.ts";
import type { ChoiceTable, PartWriter, Rename } from "./common.ts";
import { reasoningEffort, REASONING_BUDGETS } from "./reasoning.ts";
import { classifyError, createStreamTransformer, parseChatResponse } from "./anthropic-response.ts";
import { isRecord, UnsupportedFeatureError, wantsJson, type Adapter, type ChatRequest, type JsonFormat } from "./types.ts";

const ANTHROPIC_VERSION = "2023-06-01";
const DEFAULT_MAX_TOKENS = 4096;
/** The image types Anthropic reads. */
const IMAGE_TYPES = new Set(["image/jpeg", "image/png", "image/gif", "image/webp"]);

type Block = Record<string, unknown>;
type Tool = Block & { name: string };
type AnthropicMessage = { role: "user" | "assistant"; content: string | Block[] };

export const anthropicHeaders = (apiKey: string | null) => jsonHeaders(apiKey, "x-api-key", "", { "anthropic-version": ANTHROPIC_VERSION });

// ---------------------------------------------------------------------------------------------
// Request
// ---------------------------------------------------------------------------------------------

/** Flat parameters by their Anthropic names. */
const PARAMS: Record<string, Rename> = {
  temperature: "temperature",
  // Newer Claude models refuse temperature with top_p: top_p 1 is the default anyway, and with
  // both set temperature wins (see the header comment).
  top_p: ["top_p", (p, req) => (typeof p === "number" && p !== 1 && typeof req.temperature !== "number" ? p : undefined)],
  top_k: "top_k",
  stop: ["stop_sequences", stopList],
  user: ["metadata", (u) => (typeof u === "string" && u ? { user_id: u } : undefined)],
};

const BLOCKS: PartWriter<Block> = {
  provider: "Anthropic",
  text({ text, cache_control }) {
    if (text === "") return null; // Anthropic rejects empty text blocks; an empty one says nothing
    const b: Block = { type: "text", text };
    if (isRecord(cache_control)) b.cache_control = cache_control;
    return b;
  },
  image: (src) => ({
    type: "image",
    source: src.kind === "url" ? { type: "url", url: src.url } : { type: "base64", media_type: src.mediaType, data: src.data },
  }),
  file(f, param) {
    if (f.kind === "text") return f.text === "" ? null : { type: "text", text: f.text };
    if (f.kind === "pdf") {
      const b: Block = { type: "document", source: { type: "base64", media_type: f.mediaType, data: f.data } };
      if (f.filename) b.title = f.filename;
      return b;
    }
    if (!IMAGE_TYPES.has(f.mediaType))
      throw new UnsupportedFeatureError(
        `${param}.file.file_data`,
        `images of type '${f.mediaType}' are not supported by Anthropic; JPEG, PNG, GIF and WebP are`,
      );
    return { type: "image", source: { type: "base64", media_type: f.mediaType, data: f.data } };
  },
};

const asBlocks = (content: string | Block[]): Block[] =>
  typeof content !== "string" ? content : content === "" ? [] : [{ type: "text", text: content }];

function push(out: AnthropicMessage[], role: "user" | "assistant", content: string | Block[]): void {
  const last = out[out.length - 1];
  // Anthropic requires alternation: fold the new content into the previous turn.
  if (last && last.role === role) last.content = asBlocks(last.content).concat(asBlocks(content));
  else out.push({ role, content });
}

function convertMessages(req: ChatRequest): { system: Block[]; messages: AnthropicMessage[] } {
  const system: Block[] = [];
  const out: AnthropicMessage[] = [];
  visitMessages(req.messages, {
    // Anthropic has one system prompt; instructions given mid-conversation join it.
    system: (m, p) => system.push(...contentParts(m.content, `${p}.content`, BLOCKS, false)),
    user: (m, p) => push(out, "user", typeof m.content === "string" ? m.content : contentParts(m.content, `${p}.content`, BLOCKS, true)),
    assistant(m, calls, p) {
      const blocks = contentParts(m.content, `${p}.content`, BLOCKS, false);
      for (const c of calls) blocks.push({ type: "tool_use", id: c.id, name: c.name, input: c.input });
      if (blocks.length === 0) return; // an empty assistant turn carries nothing and Anthropic rejects it
      push(out, "assistant", typeof m.content === "string" && blocks.length === 1 && calls.length === 0 ? m.content : blocks);
    },
    tool(m, p) {
      const content = typeof m.content === "string" ? m.content : contentParts(m.content, `${p}.content`, BLOCKS, false);
      push(out, "user", [{ type: "tool_result", tool_use_id: m.tool_call_id ?? "", content }]);
    },
  });
  return { system, messages: out };
}

const convertTools = (req: ChatRequest): Tool[] =>
  functionTools(req).map(({ decl, parameters }) => ({
    ...decl,
    input_schema: parameters ?? { type: "object", properties: {} },
  }));

const CHOICES: ChoiceTable<Block> = {
  none: { type: "none" },
  auto: { type: "auto" },
  required: { type: "any" },
  named: (name) => ({ type: "tool", name }),
};

function jsonTool(format: JsonFormat): Tool {
  const { schema = { type: "object" }, naming } = answerSpec(format);
  if (schema.type !== undefined && schema.type !== "object")
    throw new UnsupportedFeatureError("response_format", "Anthropic can only produce a JSON object at the top level");
  const what = format.type === "json_object" ? "a JSON object" : `JSON matching ${naming}`;
  return {
    name: ANSWER_TOOL,
    description: `Respond with ${what}. Put the whole answer in this tool's input.`,
    input_schema: schema.type === undefined ? { ...schema, type: "object" } : schema,
  };
}

/** The tools to send and the tool_choice that keeps the client's meaning (see the header comment). */
function toolsAndChoice(req: ChatRequest): { tools?: Block[]; choice?: Block } {
  const answer = wantsJson(req.response_format) ? jsonTool(req.response_format) : undefined;
  if (!req.tools?.length) return answer ? { tools: [answer], choice: CHOICES.named(ANSWER_TOOL) } : {};
  return toolsWithAnswer(req, convertTools(req), CHOICES, answer ? () => answer : null);
}

/** Claude models before 3.7 have no extended thinking. */
function canThink(model: string): boolean {
  return !/^claude-(?:instant|[12](?:[.-]|$)|3-(?:[0-6]|haiku|sonnet|opus))/.test(model);
}

/** The last assistant turn called tools: its signed thinking block would be needed, and is lost. */
function midToolLoop(messages: AnthropicMessage[]): boolean {
  const last = messages.findLast((m) => m.role === "assistant")?.content;
  return Array.isArray(last) && last.some((b) => b.type === "tool_use");
}

function buildAnthropicBody(req: ChatRequest, model = ""): Record<string, unknown> {
  if ((req.n ?? 1) !== 1) throw new UnsupportedFeatureError("n", "Anthropic returns a single choice; n > 1 is not supported");
  refuseLogprobs(req, "Anthropic");
  if ((req.temperature ?? 0) > 1) throw new UnsupportedFeatureError("temperature", "Anthropic accepts temperature between 0 and 1");
  const effort = reasoningEffort(req.reasoning_effort);

  const { system, messages } = convertMessages(req);
  const cap = maxTokens(req);
  const body: Record<string, unknown> = { model, max_tokens: cap ?? DEFAULT_MAX_TOKENS, messages };
  if (system.length === 1 && system[0].cache_control === undefined) body.system = system[0].text;
  else if (system.length > 0) body.system = system;
  renameParams(req, PARAMS, body);

  const { tools, choice } = toolsAndChoice(req);
  if (tools) body.tools = tools;
  // parallel_tool_calls:false limits the answer to one call: a real constraint, so kept.
  if (req.tools?.length && req.parallel_tool_calls === false && choice?.type !== "none")
    body.tool_choice = { ...(choice ?? { type: "auto" }), disable_parallel_tool_use: true };
  else if (choice) body.tool_choice = choice;
  const forced = choice !== undefined && (choice.type === "any" || choice.type === "tool");
  if (effort && canThink(model) && !forced && !midToolLoop(messages)) {
    const budget = REASONING_BUDGETS[effort];
    body.thinking = { type: "enabled", budget_tokens: budget };
    body.max_tokens = budget + (cap ?? DEFAULT_MAX_TOKENS);
    delete body.temperature;
    delete body.top_p;
    delete body.top_k;
  }
  if (req.stream === true) body.stream = true;
  return body;
}

export const anthropicAdapter: Adapter = {
  format: "anthropic",
  buildChatRequest: (req, target) =>
    postJson(target, "/v1/messages", anthropicHeaders(target.apiKey), buildAnthropicBody(req, target.model)),
  parseChatResponse,
  createStreamTransformer,
  classifyError,
  buildModelsRequest: (target) => modelsRequest(target, "/v1/models?limit=1000", anthropicHeaders(target.apiKey)),
  parseModelsResponse: (body) => modelIds(isRecord(body) ? body.data : undefined, "id"),
};
