/**
 * OpenAI Chat Completions ⇄ Anthropic Messages.
 *
 * Choices where OpenAI and Anthropic do not line up (each documented where it is made):
 * - `response_format` json_object/json_schema becomes a tool named JSON_TOOL whose input is
 *   mapped back to `message.content` (finish_reason "stop"); text the model writes beside it is
 *   dropped, so the content is only the JSON. The name is fixed rather than the schema's so the
 *   stateless response side can recognise it; the schema's name and description go into the
 *   tool description. With the client's tools too (see `toolsWithAnswer`): tool_choice auto
 *   becomes "any" over the client's tools plus the answer tool (the model either calls a tool or
 *   answers in JSON), none forces the answer tool, required and a named function leave the answer
 *   tool out (the reply is a tool call, never content).
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
import { readFilePart } from "./files.ts";
import { reasoningEffort, REASONING_BUDGETS } from "./reasoning.ts";
import {
  ANSWER_TOOL,
  classForStatus,
  contextOverflowError,
  fallbackMessage,
  isRecord,
  joinUrl,
  num,
  parseToolArguments,
  reportedModel,
  retryAfterFromHeaders,
  str,
  toCompletionUsage,
  tryParseJson,
  UnsupportedFeatureError,
  upstreamError,
  UpstreamResponseError,
  wantsJson,
  type Adapter,
  type ChatCompletion,
  type ChatCompletionChunk,
  type ChatRequest,
  type ChunkDelta,
  type ErrorClass,
  type FinishReason,
  type ResponseContext,
  type SSEEvent,
  type StreamResult,
  type StreamTransformer,
  type ToolCall,
  type UpstreamError,
  type UpstreamRequest,
  type UpstreamTarget,
  type Usage,
} from "./types.ts";

export const ANTHROPIC_VERSION = "2023-06-01";
export const DEFAULT_MAX_TOKENS = 4096;
/** The forced tool that carries structured output (see the header comment). */
export const JSON_TOOL = ANSWER_TOOL;
/** The image types Anthropic reads. */
const IMAGE_TYPES = new Set(["image/jpeg", "image/png", "image/gif", "image/webp"]);

type Block = Record<string, unknown>;
type AnthropicMessage = { role: "user" | "assistant"; content: string | Block[] };

function headersFor(apiKey: string | null): Record<string, string> {
  const h: Record<string, string> = { "content-type": "application/json", "anthropic-version": ANTHROPIC_VERSION };
  if (apiKey !== null) h["x-api-key"] = apiKey;
  return h;
}

// ---------------------------------------------------------------------------------------------
// Request
// ---------------------------------------------------------------------------------------------

function textBlock(part: Record<string, unknown>, param: string): Block | null {
  const text = part.text;
  if (typeof text !== "string") throw new UnsupportedFeatureError(param, `${param}.text must be a string`);
  if (text === "") return null; // Anthropic rejects empty text blocks; an empty one says nothing
  const b: Block = { type: "text", text };
  if (isRecord(part.cache_control)) b.cache_control = part.cache_control;
  return b;
}

const DATA_URL = /^data:([^;,]+)((?:;[^;,]*)*?);base64,/;

function imageBlock(part: Record<string, unknown>, param: string): Block {
  const iu = part.image_url;
  const url = typeof iu === "string" ? iu : isRecord(iu) ? str(iu.url) : undefined;
  if (!url) throw new UnsupportedFeatureError(param, `${param}.image_url.url must be a string`);
  const m = DATA_URL.exec(url);
  if (m) return { type: "image", source: { type: "base64", media_type: m[1], data: url.slice(m[0].length) } };
  if (url.startsWith("https://") || url.startsWith("http://")) return { type: "image", source: { type: "url", url } };
  throw new UnsupportedFeatureError(param, "images must be base64 data URLs or http(s) URLs");
}

function fileBlock(part: Record<string, unknown>, param: string): Block | null {
  const f = readFilePart(part, param, "Anthropic");
  if (f.kind === "text") return f.text === "" ? null : { type: "text", text: f.text };
  if (f.kind === "pdf") {
    const b: Block = { type: "document", source: { type: "base64", media_type: f.mediaType, data: f.data } };
    if (f.filename) b.title = f.filename;
    return b;
  }
  if (!IMAGE_TYPES.has(f.mediaType))
    throw new UnsupportedFeatureError(`${param}.file.file_data`, `images of type '${f.mediaType}' are not supported by Anthropic; JPEG, PNG, GIF and WebP are`);
  return { type: "image", source: { type: "base64", media_type: f.mediaType, data: f.data } };
}

function contentBlocks(content: unknown, param: string, allowImages: boolean): Block[] {
  if (typeof content === "string") return content === "" ? [] : [{ type: "text", text: content }];
  if (content === null || content === undefined) return [];
  if (!Array.isArray(content)) throw new UnsupportedFeatureError(param, `${param} must be a string or an array of parts`);
  const out: Block[] = [];
  for (let j = 0; j < content.length; j++) {
    const part: unknown = content[j];
    const p = `${param}[${j}]`;
    if (!isRecord(part)) throw new UnsupportedFeatureError(p, `${p} must be an object`);
    if (part.type === "text") {
      const b = textBlock(part, p);
      if (b) out.push(b);
    } else if (part.type === "image_url" && allowImages) out.push(imageBlock(part, p));
    else if (part.type === "file" && allowImages) {
      const b = fileBlock(part, p);
      if (b) out.push(b);
    } else throw new UnsupportedFeatureError(p, `content part type '${String(part.type)}' is not supported by Anthropic here`);
  }
  return out;
}

function push(out: AnthropicMessage[], role: "user" | "assistant", content: string | Block[]): void {
  const last = out[out.length - 1];
  if (last && last.role === role) {
    // Anthropic requires alternation: fold the new content into the previous turn.
    const a = typeof last.content === "string" ? (last.content === "" ? [] : [{ type: "text", text: last.content }]) : last.content;
    const b = typeof content === "string" ? (content === "" ? [] : [{ type: "text", text: content }]) : content;
    last.content = a.concat(b);
  } else out.push({ role, content });
}

function convertMessages(messages: unknown): { system: Block[]; messages: AnthropicMessage[] } {
  if (!Array.isArray(messages) || messages.length === 0) throw new UnsupportedFeatureError("messages", "messages must be a non-empty array");
  const system: Block[] = [];
  const out: AnthropicMessage[] = [];
  for (let i = 0; i < messages.length; i++) {
    const m: unknown = messages[i];
    const p = `messages[${i}]`;
    if (!isRecord(m)) throw new UnsupportedFeatureError(p, `${p} must be an object`);
    switch (m.role) {
      case "system":
      case "developer":
        // Anthropic has one system prompt; instructions given mid-conversation join it.
        system.push(...contentBlocks(m.content, `${p}.content`, false));
        break;
      case "user": {
        const c = m.content;
        push(out, "user", typeof c === "string" ? c : contentBlocks(c, `${p}.content`, true));
        break;
      }
      case "assistant": {
        const blocks = contentBlocks(m.content, `${p}.content`, false);
        const calls = m.tool_calls;
        if (Array.isArray(calls)) {
          for (let j = 0; j < calls.length; j++) {
            const tc: unknown = calls[j];
            const tp = `${p}.tool_calls[${j}]`;
            if (!isRecord(tc) || !isRecord(tc.function)) throw new UnsupportedFeatureError(tp, `${tp} must be a function call`);
            blocks.push({
              type: "tool_use",
              id: str(tc.id) ?? "",
              name: str(tc.function.name) ?? "",
              input: parseToolArguments(tc.function.arguments, `${tp}.function.arguments`),
            });
          }
        }
        if (blocks.length === 0) break; // an empty assistant turn carries nothing and Anthropic rejects it
        const single = typeof m.content === "string" && blocks.length === 1 && !(Array.isArray(calls) && calls.length > 0);
        push(out, "assistant", single ? (m.content as string) : blocks);
        break;
      }
      case "tool": {
        const c = m.content;
        const content = typeof c === "string" ? c : contentBlocks(c, `${p}.content`, false);
        push(out, "user", [{ type: "tool_result", tool_use_id: str(m.tool_call_id) ?? "", content }]);
        break;
      }
      default:
        throw new UnsupportedFeatureError(`${p}.role`, `role '${String(m.role)}' is not supported`);
    }
  }
  return { system, messages: out };
}

function convertTools(tools: unknown): Block[] {
  if (!Array.isArray(tools)) throw new UnsupportedFeatureError("tools", "tools must be an array");
  return tools.map((t: unknown, i) => {
    if (!isRecord(t) || (t.type !== undefined && t.type !== "function") || !isRecord(t.function))
      throw new UnsupportedFeatureError(`tools[${i}]`, "only function tools are supported by Anthropic");
    const f = t.function;
    const out: Block = { name: str(f.name) ?? "" };
    if (typeof f.description === "string") out.description = f.description;
    out.input_schema = isRecord(f.parameters) ? f.parameters : { type: "object", properties: {} };
    return out;
  });
}

function convertToolChoice(choice: unknown): Block | undefined {
  if (choice === undefined || choice === null) return undefined;
  if (choice === "none") return { type: "none" };
  if (choice === "auto") return { type: "auto" };
  if (choice === "required") return { type: "any" };
  if (isRecord(choice) && isRecord(choice.function) && typeof choice.function.name === "string")
    return { type: "tool", name: choice.function.name };
  throw new UnsupportedFeatureError("tool_choice", "tool_choice must be none, auto, required or a named function");
}

function jsonTool(format: Record<string, unknown>): Block {
  if (format.type === "json_object")
    return { name: JSON_TOOL, description: "Respond with a JSON object. Put the whole answer in this tool's input.", input_schema: { type: "object" } };
  const js = isRecord(format.json_schema) ? format.json_schema : {};
  const schema = isRecord(js.schema) ? js.schema : { type: "object" };
  if (schema.type !== undefined && schema.type !== "object")
    throw new UnsupportedFeatureError("response_format", "Anthropic can only produce a JSON object at the top level");
  const name = str(js.name) ?? "response";
  const desc = str(js.description);
  return {
    name: JSON_TOOL,
    description: `Respond with JSON matching the '${name}' schema${desc ? ` (${desc})` : ""}. Put the whole answer in this tool's input.`,
    input_schema: schema.type === undefined ? { ...schema, type: "object" } : schema,
  };
}

/**
 * The client's tools plus the answer tool for structured output, and the tool_choice that keeps
 * the client's meaning (see the header comment).
 */
function toolsWithAnswer(req: ChatRequest, answer: Block): { tools: Block[]; choice: Block } {
  const tools = convertTools(req.tools);
  const tc = convertToolChoice(req.tool_choice);
  if (tc === undefined || tc.type === "auto") return { tools: [...tools, answer], choice: { type: "any" } };
  if (tc.type === "none") return { tools: [...tools, answer], choice: { type: "tool", name: JSON_TOOL } };
  return { tools, choice: tc };
}

/** Claude models before 3.7 have no extended thinking. */
function canThink(model: string): boolean {
  return !/^claude-(?:instant|[12](?:[.-]|$)|3-(?:[0-6]|haiku|sonnet|opus))/.test(model);
}

/** The last assistant turn called tools: its signed thinking block would be needed, and is lost. */
function midToolLoop(messages: AnthropicMessage[]): boolean {
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i];
    if (m.role !== "assistant") continue;
    return Array.isArray(m.content) && m.content.some((b) => b.type === "tool_use");
  }
  return false;
}

export function buildAnthropicBody(req: ChatRequest, model = ""): Record<string, unknown> {
  if (!isRecord(req)) throw new UnsupportedFeatureError("messages", "request must be an object");
  const n = req.n;
  if (n !== undefined && n !== null && n !== 1) throw new UnsupportedFeatureError("n", "Anthropic returns a single choice; n > 1 is not supported");
  if (req.logprobs === true) throw new UnsupportedFeatureError("logprobs", "Anthropic does not return logprobs");
  if (typeof req.top_logprobs === "number" && req.top_logprobs > 0) throw new UnsupportedFeatureError("top_logprobs", "Anthropic does not return logprobs");
  if (isRecord(req.logit_bias) && Object.keys(req.logit_bias).length > 0) throw new UnsupportedFeatureError("logit_bias", "Anthropic does not support logit_bias");
  if (typeof req.temperature === "number" && req.temperature > 1)
    throw new UnsupportedFeatureError("temperature", "Anthropic accepts temperature between 0 and 1");
  const effort = reasoningEffort(req.reasoning_effort);

  const { system, messages } = convertMessages(req.messages);
  const cap = num(req.max_completion_tokens) ?? num(req.max_tokens);
  const body: Record<string, unknown> = { model, max_tokens: cap ?? DEFAULT_MAX_TOKENS, messages };
  if (system.length === 1 && system[0].cache_control === undefined) body.system = system[0].text;
  else if (system.length > 0) body.system = system;
  if (typeof req.temperature === "number") body.temperature = req.temperature;
  // Newer Claude models refuse temperature with top_p: top_p 1 is the default anyway, and with
  // both set temperature wins (see the header comment).
  if (typeof req.top_p === "number" && req.top_p !== 1 && typeof req.temperature !== "number") body.top_p = req.top_p;
  if (typeof req.top_k === "number") body.top_k = req.top_k;
  const stop = req.stop;
  if (typeof stop === "string" && stop) body.stop_sequences = [stop];
  else if (Array.isArray(stop) && stop.length > 0) body.stop_sequences = stop;
  if (typeof req.user === "string" && req.user) body.metadata = { user_id: req.user };

  const rf: unknown = req.response_format;
  const json = wantsJson(rf);
  if (isRecord(rf) && !json && rf.type !== "text" && rf.type !== undefined)
    throw new UnsupportedFeatureError("response_format", `response_format type '${String(rf.type)}' is not supported`);
  const hasTools = Array.isArray(req.tools) && req.tools.length > 0;
  let choice: Block | undefined;
  if (json && hasTools) {
    const t = toolsWithAnswer(req, jsonTool(rf));
    body.tools = t.tools;
    choice = t.choice;
  } else if (json) {
    body.tools = [jsonTool(rf)];
    choice = { type: "tool", name: JSON_TOOL };
  } else if (hasTools) {
    body.tools = convertTools(req.tools);
    choice = convertToolChoice(req.tool_choice);
  }
  // parallel_tool_calls:false limits the answer to one call: a real constraint, so kept.
  if (hasTools && req.parallel_tool_calls === false && choice?.type !== "none") body.tool_choice = { ...(choice ?? { type: "auto" }), disable_parallel_tool_use: true };
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

function buildChatRequest(req: ChatRequest, target: UpstreamTarget): UpstreamRequest {
  const body = buildAnthropicBody(req, target.model);
  return { url: joinUrl(target.baseUrl, "/v1/messages"), method: "POST", headers: headersFor(target.apiKey), body: JSON.stringify(body) };
}

// ---------------------------------------------------------------------------------------------
// Response
// ---------------------------------------------------------------------------------------------

export function mapStopReason(reason: unknown, jsonMode: boolean): FinishReason {
  switch (reason) {
    case "max_tokens":
    case "model_context_window_exceeded":
      return "length";
    case "tool_use":
      return jsonMode ? "stop" : "tool_calls";
    case "refusal":
      return "content_filter";
    default: // end_turn, stop_sequence, pause_turn
      return "stop";
  }
}

interface InputUsage {
  input: number;
  cacheRead?: number;
  cacheCreation?: number;
}

function readInputUsage(u: Record<string, unknown>, into: InputUsage): void {
  const input = num(u.input_tokens);
  if (input !== undefined) into.input = input;
  const read = num(u.cache_read_input_tokens);
  if (read !== undefined) into.cacheRead = read;
  const created = num(u.cache_creation_input_tokens);
  if (created !== undefined) into.cacheCreation = created;
}

function toUsage(i: InputUsage, output: number): Usage {
  const prompt = i.input + (i.cacheRead ?? 0) + (i.cacheCreation ?? 0);
  const u: Usage = { prompt_tokens: prompt, completion_tokens: output, total_tokens: prompt + output };
  if (i.cacheRead !== undefined) u.cached_tokens = i.cacheRead;
  if (i.cacheCreation !== undefined) u.cache_creation_tokens = i.cacheCreation;
  return u;
}

export function anthropicUsage(raw: unknown): Usage | null {
  if (!isRecord(raw)) return null;
  const i: InputUsage = { input: 0 };
  readInputUsage(raw, i);
  return toUsage(i, num(raw.output_tokens) ?? 0);
}

function parseChatResponse(body: unknown, ctx: ResponseContext): ChatCompletion {
  if (!isRecord(body)) throw new UpstreamResponseError(upstreamError("server", "upstream returned a response that is not a JSON object"));
  if (body.type === "error") {
    const e = isRecord(body.error) ? body.error : {};
    throw new UpstreamResponseError(fromAnthropicError(undefined, str(e.type), str(e.message) ?? "upstream reported an error", null));
  }
  if (!Array.isArray(body.content)) throw new UpstreamResponseError(upstreamError("server", "upstream response has no content"));
  let text = "";
  let hasText = false;
  let answer: string | null = null;
  const toolCalls: ToolCall[] = [];
  for (const block of body.content as unknown[]) {
    if (!isRecord(block)) continue;
    if (block.type === "text" && typeof block.text === "string") {
      text += block.text;
      hasText = true;
    } else if (block.type === "tool_use") {
      const args = JSON.stringify(isRecord(block.input) ? block.input : {});
      if (block.name === JSON_TOOL) answer ??= args;
      else toolCalls.push({ id: str(block.id) ?? "", type: "function", function: { name: str(block.name) ?? "", arguments: args } });
    }
    // thinking / redacted_thinking blocks are reasoning, not content.
  }
  const jsonMode = answer !== null;
  // In JSON mode the content is the JSON alone: text beside the answer tool would break parsing.
  if (answer !== null) {
    text = answer;
    hasText = true;
  }
  const completion: ChatCompletion = {
    id: ctx.id,
    object: "chat.completion",
    created: ctx.created,
    model: reportedModel(body.model, ctx),
    choices: [
      {
        index: 0,
        message: toolCalls.length ? { role: "assistant", content: hasText ? text : null, tool_calls: toolCalls } : { role: "assistant", content: hasText ? text : null },
        logprobs: null,
        finish_reason: toolCalls.length ? "tool_calls" : mapStopReason(body.stop_reason, jsonMode),
      },
    ],
  };
  const usage = anthropicUsage(body.usage);
  if (usage) completion.usage = toCompletionUsage(usage);
  return completion;
}

// ---------------------------------------------------------------------------------------------
// Stream
// ---------------------------------------------------------------------------------------------

const TEXT = 1;
const TOOL = 2;
const JSON_BLOCK = 3;

function createStreamTransformer(ctx: ResponseContext): StreamTransformer {
  let model = reportedModel(undefined, ctx);
  let done = false;
  let finished = false;
  let jsonMode = false;
  let toolCount = 0;
  let sawStart = false;
  const input: InputUsage = { input: 0 };
  let output = 0;
  // Per content-block index: its kind, and for tool blocks the OpenAI tool_calls index.
  const kinds: number[] = [];
  const toolIndex: number[] = [];
  // JSON mode: text is held until it is known whether the answer tool answered (then it is dropped).
  let hold = ctx.structured === true;
  let held = "";

  function chunk(delta: ChunkDelta, finish: FinishReason | null): ChatCompletionChunk {
    return { id: ctx.id, object: "chat.completion.chunk", created: ctx.created, model, choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }] };
  }

  /** Text for the client, or for later while JSON mode still holds it; never after the answer tool. */
  function text(t: unknown): ChatCompletionChunk[] {
    if (typeof t !== "string" || t === "" || jsonMode) return [];
    if (hold) {
      held += t;
      return [];
    }
    return [chunk({ content: t }, null)];
  }

  /** The held text turned out to be the answer's companion to a tool call or the answer itself. */
  function release(): ChatCompletionChunk[] {
    hold = false;
    const t = held;
    held = "";
    return t && !jsonMode ? [chunk({ content: t }, null)] : [];
  }

  function push(ev: SSEEvent): StreamResult {
    if (done) return { chunks: [] };
    let obj: unknown;
    try {
      obj = JSON.parse(ev.data);
    } catch {
      return { chunks: [], error: upstreamError("stream_error", "upstream sent malformed stream data") };
    }
    if (!isRecord(obj)) return { chunks: [], error: upstreamError("stream_error", "upstream sent malformed stream data") };
    const type = typeof obj.type === "string" ? obj.type : ev.event;
    switch (type) {
      case "message_start": {
        sawStart = true;
        const msg = isRecord(obj.message) ? obj.message : {};
        if (typeof msg.model === "string" && msg.model) model = msg.model;
        if (isRecord(msg.usage)) {
          readInputUsage(msg.usage, input);
          output = num(msg.usage.output_tokens) ?? output;
        }
        return { chunks: [chunk({ role: "assistant", content: "" }, null)] };
      }
      case "content_block_start": {
        const idx = num(obj.index) ?? 0;
        const block = isRecord(obj.content_block) ? obj.content_block : {};
        if (block.type === "text") {
          kinds[idx] = TEXT;
          return { chunks: text(block.text) };
        }
        if (block.type === "tool_use") {
          if (block.name === JSON_TOOL) {
            kinds[idx] = JSON_BLOCK;
            jsonMode = true;
            held = "";
            return { chunks: [] };
          }
          kinds[idx] = TOOL;
          const ti = toolCount++;
          toolIndex[idx] = ti;
          // A call to the client's tool: the text before it is a normal preamble.
          const chunks = release();
          chunks.push(chunk({ tool_calls: [{ index: ti, id: str(block.id) ?? "", type: "function", function: { name: str(block.name) ?? "", arguments: "" } }] }, null));
          return { chunks };
        }
        return { chunks: [] }; // thinking, redacted_thinking, server tools: not content
      }
      case "content_block_delta": {
        const idx = num(obj.index) ?? 0;
        const d = isRecord(obj.delta) ? obj.delta : {};
        if (d.type === "text_delta") return { chunks: kinds[idx] === JSON_BLOCK ? [] : text(d.text) };
        if (d.type === "input_json_delta") {
          const pj = d.partial_json;
          if (typeof pj !== "string" || pj === "") return { chunks: [] };
          if (kinds[idx] === JSON_BLOCK) return { chunks: [chunk({ content: pj }, null)] };
          if (kinds[idx] === TOOL) return { chunks: [chunk({ tool_calls: [{ index: toolIndex[idx], function: { arguments: pj } }] }, null)] };
        }
        return { chunks: [] };
      }
      case "message_delta": {
        if (isRecord(obj.usage)) {
          // Cumulative figures; newer API versions repeat the input side here too.
          readInputUsage(obj.usage, input);
          output = num(obj.usage.output_tokens) ?? output;
        }
        const d = isRecord(obj.delta) ? obj.delta : {};
        finished = true;
        const chunks = release();
        chunks.push(chunk({}, toolCount > 0 ? "tool_calls" : mapStopReason(d.stop_reason, jsonMode)));
        return { chunks };
      }
      case "message_stop": {
        done = true;
        const chunks: ChatCompletionChunk[] = [];
        if (!finished) {
          finished = true;
          chunks.push(...release(), chunk({}, "stop"));
        }
        if (ctx.includeUsage) chunks.push({ id: ctx.id, object: "chat.completion.chunk", created: ctx.created, model, choices: [], usage: toCompletionUsage(toUsage(input, output)) });
        return { chunks, done: true };
      }
      case "error": {
        const e = isRecord(obj.error) ? obj.error : {};
        return { chunks: [], error: fromAnthropicError(undefined, str(e.type), str(e.message) ?? "upstream reported an error", null) };
      }
      default: // ping, content_block_stop, and event types added later
        return { chunks: [] };
    }
  }

  function finish(): StreamResult {
    if (done) return { chunks: [], done: true };
    return { chunks: [], error: upstreamError("stream_error", "upstream stream ended before message_stop") };
  }

  return { push, finish, usage: () => (sawStart || output > 0 ? toUsage(input, output) : null) };
}

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

const TYPE_CLASS: Record<string, ErrorClass> = {
  overloaded_error: "overloaded",
  rate_limit_error: "rate_limit",
  api_error: "server",
  timeout_error: "timeout",
  authentication_error: "auth",
  permission_error: "auth",
  billing_error: "auth",
  not_found_error: "not_found",
  request_too_large: "too_large",
  invalid_request_error: "bad_request",
};

/** Anthropic prefixes validation messages with the offending field ("temperature: …"). */
const FIELD_PARAM: Record<string, string> = {
  temperature: "temperature",
  top_p: "top_p",
  top_k: "top_k",
  max_tokens: "max_tokens",
  stop_sequences: "stop",
  tools: "tools",
  tool_choice: "tool_choice",
  messages: "messages",
  system: "messages",
  model: "model",
};

function fromAnthropicError(status: number | undefined, etype: string | undefined, message: string, headers: Headers | null): UpstreamError {
  let cls: ErrorClass = status !== undefined ? classForStatus(status) : (etype && Object.hasOwn(TYPE_CLASS, etype) && TYPE_CLASS[etype]) || "server";
  if (etype === "overloaded_error") cls = "overloaded";
  // An exhausted credit balance arrives as a 400, but it is the provider account that failed,
  // so another provider should be tried.
  if (cls === "bad_request" && /credit balance/i.test(message)) cls = "auth";
  const extra: Parameters<typeof upstreamError>[2] = {};
  if (status !== undefined) extra.upstreamStatus = status;
  if (cls === "bad_request") {
    const overflow = contextOverflowError(message, status);
    if (overflow) return overflow;
    const m = /^([a-z_]+)(?:\.[\w.]+)?\s*:/.exec(message);
    if (m && Object.hasOwn(FIELD_PARAM, m[1])) extra.param = FIELD_PARAM[m[1]];
  }
  if (headers && (cls === "rate_limit" || cls === "overloaded" || cls === "server")) {
    const ms = retryAfterFromHeaders(headers);
    if (ms !== undefined) extra.retryAfterMs = ms;
  }
  return upstreamError(cls, message, extra);
}

function classifyError(status: number, bodyText: string, headers: Headers): UpstreamError {
  const parsed = tryParseJson(bodyText);
  const e = isRecord(parsed) && isRecord(parsed.error) ? parsed.error : undefined;
  const message = (e && str(e.message)) || fallbackMessage(status, bodyText);
  return fromAnthropicError(status, e ? str(e.type) : undefined, message, headers);
}

// ---------------------------------------------------------------------------------------------
// Models
// ---------------------------------------------------------------------------------------------

function buildModelsRequest(target: Omit<UpstreamTarget, "model">): UpstreamRequest {
  const headers = headersFor(target.apiKey);
  delete headers["content-type"];
  return { url: joinUrl(target.baseUrl, "/v1/models?limit=1000"), method: "GET", headers };
}

function parseModelsResponse(body: unknown): string[] {
  const list = isRecord(body) && Array.isArray(body.data) ? body.data : [];
  const out: string[] = [];
  for (const m of list) {
    const id = isRecord(m) ? str(m.id) : undefined;
    if (id) out.push(id);
  }
  return out;
}

export const anthropicAdapter: Adapter = {
  format: "anthropic",
  buildChatRequest,
  parseChatResponse,
  createStreamTransformer,
  classifyError,
  buildModelsRequest,
  parseModelsResponse,
};
