/**
 * OpenAI Chat Completions ⇄ Gemini generateContent (v1beta, API key in x-goog-api-key only).
 *
 * Choices where OpenAI and Gemini do not line up:
 * - Dropped as harmless hints: `user`, message `name`, image `detail`, tool `strict`,
 *   `parallel_tool_calls` (Gemini has no switch for it), unknown fields.
 * - response_format with tools: Gemini 2.x refuses responseMimeType application/json together
 *   with function calling, so the answer becomes one more function (ANSWER_TOOL, whose arguments
 *   are the JSON; for json_object, which has no schema, JSON_TEXT_TOOL with the JSON as a string
 *   argument, as Gemini refuses an object without properties) and the mode becomes ANY: the model
 *   either calls a client tool or answers through that function. tool_choice none forces the
 *   answer function; required and a named function leave it out. The answer comes back as
 *   content, finish_reason stop.
 * - reasoning_effort: Gemini 2.5 gets `thinkingConfig.thinkingBudget` (reasoning.ts budgets),
 *   with maxOutputTokens raised by that budget (thinking counts against it; the client's cap is
 *   the answer's, as for Anthropic), Gemini 3+ `thinkingLevel` low/high (Google's advice for
 *   those models); models whose name shows no version of 2.5 or later (older ones cannot
 *   think) get nothing. Thought parts are never content.
 * - `file` parts: images and PDF → inlineData, text files → text (files.ts); file_id is refused.
 * - Unsupported (another candidate may honour them): logprobs, top_logprobs, non-empty
 *   logit_bias, audio parts, tool-call arguments that are not a JSON object, a tool result
 *   whose call id matches no earlier tool call (Gemini needs the function name).
 * - JSON Schema → Gemini Schema keeps only what Gemini is known to accept (type, nullable,
 *   enum of strings, properties, required, items, anyOf, description, min/max bounds, a few
 *   formats); local $refs are inlined; everything else is dropped rather than sent to fail.
 * - Gemini 3+ rejects replayed function calls without a thought signature, which OpenAI-shaped
 *   history cannot carry; Google documents a sentinel value for exactly this case.
 * - finishReason OTHER maps to content_filter: Gemini uses it for blocks it does not name.
 * - Usage: completion_tokens = candidates + thoughts (thinking is billed as output);
 *   prompt_tokens = prompt + tool-use prompt; total = prompt + completion.
 */
import { readFilePart } from "./files.ts";
import { reasoningEffort, REASONING_BUDGETS, thinkingLevel } from "./reasoning.ts";
import {
  ANSWER_TOOL,
  classForStatus,
  contextOverflowError,
  fallbackMessage,
  isRecord,
  joinUrl,
  modelNameProblem,
  num,
  parseDuration,
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
  type ChatCompletionChoice,
  type ChatCompletionChunk,
  type ChatRequest,
  type ChunkDelta,
  type ErrorClass,
  type FinishReason,
  type JsonSchema,
  type ResponseContext,
  type SSEEvent,
  type StreamResult,
  type StreamTransformer,
  type ToolCall,
  type ToolCallDelta,
  type UpstreamError,
  type UpstreamRequest,
  type UpstreamTarget,
  type Usage,
} from "./types.ts";

export const THOUGHT_SIGNATURE_SENTINEL = "skip_thought_signature_validator";
/** json_object with tools: the answer function's single string argument holds the JSON. */
export const JSON_TEXT_TOOL = "perpetuo_json_text";

type Part = Record<string, unknown>;
type Content = { role: "user" | "model"; parts: Part[] };

function headersFor(apiKey: string | null): Record<string, string> {
  const h: Record<string, string> = { "content-type": "application/json" };
  if (apiKey !== null) h["x-goog-api-key"] = apiKey;
  return h;
}

/** The model as path segments under /v1beta/models/; a name that would climb out of it is refused. */
export function modelPath(model: string): string {
  const problem = modelNameProblem(model);
  if (problem) throw new UnsupportedFeatureError("model", `model ${problem}`);
  const m = model.startsWith("models/") ? model.slice(7) : model;
  return m.split("/").map(encodeURIComponent).join("/");
}

function needsThoughtSignature(model: string): boolean {
  const m = /^(?:models\/)?gemini-(\d+)/.exec(model);
  return m !== null && Number(m[1]) >= 3;
}

// ---------------------------------------------------------------------------------------------
// Request
// ---------------------------------------------------------------------------------------------

const MIME_BY_EXT: Record<string, string> = {
  png: "image/png",
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  gif: "image/gif",
  webp: "image/webp",
  heic: "image/heic",
  heif: "image/heif",
  pdf: "application/pdf",
};

export function guessMimeType(url: string): string {
  const path = url.split(/[?#]/, 1)[0];
  const dot = path.lastIndexOf(".");
  const ext = dot === -1 ? "" : path.slice(dot + 1).toLowerCase();
  return MIME_BY_EXT[ext] ?? "image/jpeg";
}

const DATA_URL = /^data:([^;,]+)((?:;[^;,]*)*?);base64,/;

function imagePart(part: Record<string, unknown>, param: string): Part {
  const iu = part.image_url;
  const url = typeof iu === "string" ? iu : isRecord(iu) ? str(iu.url) : undefined;
  if (!url) throw new UnsupportedFeatureError(param, `${param}.image_url.url must be a string`);
  const m = DATA_URL.exec(url);
  if (m) return { inlineData: { mimeType: m[1], data: url.slice(m[0].length) } };
  if (url.startsWith("https://") || url.startsWith("http://")) return { fileData: { mimeType: guessMimeType(url), fileUri: url } };
  throw new UnsupportedFeatureError(param, "images must be base64 data URLs or http(s) URLs");
}

function contentParts(content: unknown, param: string, allowImages: boolean): Part[] {
  if (typeof content === "string") return [{ text: content }];
  if (content === null || content === undefined) return [];
  if (!Array.isArray(content)) throw new UnsupportedFeatureError(param, `${param} must be a string or an array of parts`);
  const out: Part[] = [];
  for (let j = 0; j < content.length; j++) {
    const part: unknown = content[j];
    const p = `${param}[${j}]`;
    if (!isRecord(part)) throw new UnsupportedFeatureError(p, `${p} must be an object`);
    if (part.type === "text") {
      if (typeof part.text !== "string") throw new UnsupportedFeatureError(p, `${p}.text must be a string`);
      out.push({ text: part.text });
    } else if (part.type === "image_url" && allowImages) out.push(imagePart(part, p));
    else if (part.type === "file" && allowImages) {
      const f = readFilePart(part, p, "Gemini");
      out.push(f.kind === "text" ? { text: f.text } : { inlineData: { mimeType: f.mediaType, data: f.data } });
    } else throw new UnsupportedFeatureError(p, `content part type '${String(part.type)}' is not supported by Gemini here`);
  }
  return out;
}

function textOf(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  let s = "";
  for (const p of content) if (isRecord(p) && typeof p.text === "string") s += p.text;
  return s;
}

/** functionResponse.response must be an object: JSON objects pass, anything else is wrapped. */
function toolResponse(content: unknown): Record<string, unknown> {
  const text = textOf(content);
  const parsed = tryParseJson(text);
  if (isRecord(parsed)) return parsed;
  return { result: parsed === undefined ? text : parsed };
}

function push(out: Content[], role: "user" | "model", parts: Part[]): void {
  const last = out[out.length - 1];
  if (last && last.role === role) last.parts.push(...parts);
  else out.push({ role, parts });
}

function convertMessages(messages: unknown, model: string): { system: Part[]; contents: Content[] } {
  if (!Array.isArray(messages) || messages.length === 0) throw new UnsupportedFeatureError("messages", "messages must be a non-empty array");
  const signature = needsThoughtSignature(model);
  const system: Part[] = [];
  const contents: Content[] = [];
  const callNames = new Map<string, string>();
  for (let i = 0; i < messages.length; i++) {
    const m: unknown = messages[i];
    const p = `messages[${i}]`;
    if (!isRecord(m)) throw new UnsupportedFeatureError(p, `${p} must be an object`);
    switch (m.role) {
      case "system":
      case "developer":
        system.push(...contentParts(m.content, `${p}.content`, false));
        break;
      case "user":
        push(contents, "user", contentParts(m.content, `${p}.content`, true));
        break;
      case "assistant": {
        const parts = contentParts(m.content, `${p}.content`, false).filter((x) => x.text !== "");
        const calls = m.tool_calls;
        if (Array.isArray(calls)) {
          for (let j = 0; j < calls.length; j++) {
            const tc: unknown = calls[j];
            const tp = `${p}.tool_calls[${j}]`;
            if (!isRecord(tc) || !isRecord(tc.function)) throw new UnsupportedFeatureError(tp, `${tp} must be a function call`);
            const name = str(tc.function.name) ?? "";
            if (typeof tc.id === "string") callNames.set(tc.id, name);
            const part: Part = { functionCall: { name, args: parseToolArguments(tc.function.arguments, `${tp}.function.arguments`) } };
            if (signature) part.thoughtSignature = THOUGHT_SIGNATURE_SENTINEL;
            parts.push(part);
          }
        }
        if (parts.length > 0) push(contents, "model", parts);
        break;
      }
      case "tool": {
        const id = str(m.tool_call_id) ?? "";
        const name = callNames.get(id) ?? str(m.name);
        if (!name) throw new UnsupportedFeatureError(`${p}.tool_call_id`, `tool_call_id '${id}' matches no earlier tool call; Gemini needs the function name`);
        push(contents, "user", [{ functionResponse: { name, response: toolResponse(m.content) } }]);
        break;
      }
      default:
        throw new UnsupportedFeatureError(`${p}.role`, `role '${String(m.role)}' is not supported`);
    }
  }
  return { system, contents };
}

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
    const props: JsonSchema = Object.fromEntries(Object.entries(schema.properties).map(([k, v]) => [k, toGeminiSchema(v, param, top, depth + 1, refs)]));
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

function convertTools(tools: unknown): Part[] {
  if (!Array.isArray(tools)) throw new UnsupportedFeatureError("tools", "tools must be an array");
  return tools.map((t: unknown, i) => {
    if (!isRecord(t) || (t.type !== undefined && t.type !== "function") || !isRecord(t.function))
      throw new UnsupportedFeatureError(`tools[${i}]`, "only function tools are supported by Gemini");
    const f = t.function;
    const decl: Part = { name: str(f.name) ?? "" };
    if (typeof f.description === "string") decl.description = f.description;
    if (isRecord(f.parameters)) {
      const params = toGeminiSchema(f.parameters, `tools[${i}].function.parameters`);
      // Gemini rejects an OBJECT with no properties; a function without parameters omits them.
      const empty = !isRecord(params.properties) || Object.keys(params.properties).length === 0;
      if (!(empty && (params.type === "object" || params.type === undefined))) decl.parameters = params;
    }
    return decl;
  });
}

function convertToolChoice(choice: unknown): Part | undefined {
  if (choice === undefined || choice === null) return undefined;
  if (choice === "none") return { mode: "NONE" };
  if (choice === "auto") return { mode: "AUTO" };
  if (choice === "required") return { mode: "ANY" };
  if (isRecord(choice) && isRecord(choice.function) && typeof choice.function.name === "string")
    return { mode: "ANY", allowedFunctionNames: [choice.function.name] };
  throw new UnsupportedFeatureError("tool_choice", "tool_choice must be none, auto, required or a named function");
}

/** "gemini-2.5-flash" → 2.5; null for names that are not Gemini's own. */
function geminiVersion(model: string): number | null {
  const m = /^(?:models\/)?gemini-(\d+(?:\.\d+)?)/.exec(model);
  return m ? Number(m[1]) : null;
}

/** The function that carries structured output when tools are present (see the header comment). */
function answerFunction(rf: Record<string, unknown>): Part {
  const js = isRecord(rf.json_schema) ? rf.json_schema : {};
  const schema = rf.type === "json_schema" && isRecord(js.schema) ? toGeminiSchema(js.schema, "response_format") : {};
  if (schema.type !== undefined && schema.type !== "object")
    throw new UnsupportedFeatureError("response_format", "with tools, Gemini can only produce a JSON object at the top level");
  // Without properties there is nothing to declare as arguments: the answer travels as text.
  if (!isRecord(schema.properties) || Object.keys(schema.properties).length === 0)
    return {
      name: JSON_TEXT_TOOL,
      description: "Give your final answer by calling this function, with the whole answer as a JSON object serialized in `json`.",
      parameters: { type: "object", properties: { json: { type: "string", description: "The answer: one JSON object, serialized." } }, required: ["json"] },
    };
  const name = str(js.name) ?? "response";
  const desc = str(js.description);
  return {
    name: ANSWER_TOOL,
    description: `Give your final answer by calling this function; its arguments are the answer, matching the '${name}' schema${desc ? ` (${desc})` : ""}.`,
    parameters: { ...schema, type: "object" },
  };
}

export function buildGeminiBody(req: ChatRequest, model: string): Record<string, unknown> {
  if (!isRecord(req)) throw new UnsupportedFeatureError("messages", "request must be an object");
  if (req.logprobs === true) throw new UnsupportedFeatureError("logprobs", "logprobs are not supported for Gemini");
  if (typeof req.top_logprobs === "number" && req.top_logprobs > 0) throw new UnsupportedFeatureError("top_logprobs", "logprobs are not supported for Gemini");
  if (isRecord(req.logit_bias) && Object.keys(req.logit_bias).length > 0) throw new UnsupportedFeatureError("logit_bias", "Gemini does not support logit_bias");

  const { system, contents } = convertMessages(req.messages, model);
  const body: Record<string, unknown> = { contents };
  if (system.length > 0) body.systemInstruction = { parts: system };

  const gc: Record<string, unknown> = {};
  if (typeof req.temperature === "number") gc.temperature = req.temperature;
  if (typeof req.top_p === "number") gc.topP = req.top_p;
  if (typeof req.top_k === "number") gc.topK = req.top_k;
  const maxTokens = num(req.max_completion_tokens) ?? num(req.max_tokens);
  if (maxTokens !== undefined) gc.maxOutputTokens = maxTokens;
  const stop = req.stop;
  if (typeof stop === "string" && stop) gc.stopSequences = [stop];
  else if (Array.isArray(stop) && stop.length > 0) gc.stopSequences = stop;
  if (typeof req.n === "number") gc.candidateCount = req.n;
  if (typeof req.seed === "number") gc.seed = req.seed;
  if (typeof req.presence_penalty === "number") gc.presencePenalty = req.presence_penalty;
  if (typeof req.frequency_penalty === "number") gc.frequencyPenalty = req.frequency_penalty;
  const rf: unknown = req.response_format;
  const hasTools = Array.isArray(req.tools) && req.tools.length > 0;
  if (isRecord(rf) && hasTools && wantsJson(rf)) {
    // Carried by the answer function below: responseMimeType with tools is refused.
  } else if (isRecord(rf)) {
    if (rf.type === "json_object") gc.responseMimeType = "application/json";
    else if (rf.type === "json_schema") {
      gc.responseMimeType = "application/json";
      const js = isRecord(rf.json_schema) ? rf.json_schema : {};
      if (isRecord(js.schema)) gc.responseSchema = toGeminiSchema(js.schema, "response_format");
    } else if (rf.type !== "text" && rf.type !== undefined)
      throw new UnsupportedFeatureError("response_format", `response_format type '${String(rf.type)}' is not supported`);
  }
  const effort = reasoningEffort(req.reasoning_effort);
  const version = geminiVersion(model);
  if (effort && version !== null && version >= 3) gc.thinkingConfig = { thinkingLevel: thinkingLevel(effort) };
  else if (effort && version !== null && version >= 2.5) {
    gc.thinkingConfig = { thinkingBudget: REASONING_BUDGETS[effort] };
    // Thinking counts against maxOutputTokens: as for Anthropic, the client's cap is the answer's.
    if (maxTokens !== undefined) gc.maxOutputTokens = maxTokens + REASONING_BUDGETS[effort];
  }
  if (Object.keys(gc).length > 0) body.generationConfig = gc;

  if (hasTools) {
    const decls = convertTools(req.tools);
    let tc = convertToolChoice(req.tool_choice);
    if (wantsJson(rf) && (tc === undefined || tc.mode === "AUTO" || tc.mode === "NONE")) {
      const answer = answerFunction(rf);
      decls.push(answer);
      tc = tc?.mode === "NONE" ? { mode: "ANY", allowedFunctionNames: [answer.name] } : { mode: "ANY" };
    }
    body.tools = [{ functionDeclarations: decls }];
    if (tc) body.toolConfig = { functionCallingConfig: tc };
  }
  return body;
}

function buildChatRequest(req: ChatRequest, target: UpstreamTarget): UpstreamRequest {
  const body = buildGeminiBody(req, target.model);
  const path = `/v1beta/models/${modelPath(target.model)}:${req.stream === true ? "streamGenerateContent?alt=sse" : "generateContent"}`;
  return { url: joinUrl(target.baseUrl, path), method: "POST", headers: headersFor(target.apiKey), body: JSON.stringify(body) };
}

// ---------------------------------------------------------------------------------------------
// Response
// ---------------------------------------------------------------------------------------------

export function mapFinishReason(reason: unknown): FinishReason | null {
  switch (reason) {
    case undefined:
    case null:
      return null;
    case "MAX_TOKENS":
      return "length";
    case "SAFETY":
    case "RECITATION":
    case "BLOCKLIST":
    case "PROHIBITED_CONTENT":
    case "SPII":
    case "IMAGE_SAFETY":
    case "LANGUAGE":
    case "OTHER":
      return "content_filter";
    default: // STOP, FINISH_REASON_UNSPECIFIED, MALFORMED_FUNCTION_CALL, …
      return "stop";
  }
}

export function geminiUsage(raw: unknown): Usage | null {
  if (!isRecord(raw)) return null;
  const prompt = (num(raw.promptTokenCount) ?? 0) + (num(raw.toolUsePromptTokenCount) ?? 0);
  const thoughts = num(raw.thoughtsTokenCount);
  const completion = (num(raw.candidatesTokenCount) ?? 0) + (thoughts ?? 0);
  const u: Usage = { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
  const cached = num(raw.cachedContentTokenCount);
  if (cached !== undefined) u.cached_tokens = cached;
  if (thoughts !== undefined) u.reasoning_tokens = thoughts;
  return u;
}

function newCallId(): string {
  return `call_${crypto.randomUUID().replace(/-/g, "").slice(0, 24)}`;
}

interface CandidateParts {
  text: string;
  hasText: boolean;
  calls: { id: string; name: string; arguments: string }[];
  /** The JSON the answer function was called with, when it was. */
  answer?: string;
}

function answerOf(fc: Record<string, unknown>): string | undefined {
  const args = isRecord(fc.args) ? fc.args : {};
  if (fc.name === ANSWER_TOOL) return JSON.stringify(args);
  if (fc.name === JSON_TEXT_TOOL) return typeof args.json === "string" ? args.json : JSON.stringify(args.json ?? {});
  return undefined;
}

function readParts(candidate: Record<string, unknown>): CandidateParts {
  const out: CandidateParts = { text: "", hasText: false, calls: [] };
  const content = candidate.content;
  const parts = isRecord(content) && Array.isArray(content.parts) ? content.parts : [];
  for (const p of parts) {
    if (!isRecord(p) || p.thought === true) continue;
    if (typeof p.text === "string") {
      out.text += p.text;
      out.hasText = true;
    } else if (isRecord(p.functionCall)) {
      const fc = p.functionCall;
      const answer = answerOf(fc);
      if (answer !== undefined) {
        out.answer ??= answer;
        continue;
      }
      out.calls.push({ id: typeof fc.id === "string" && fc.id ? fc.id : newCallId(), name: str(fc.name) ?? "", arguments: JSON.stringify(isRecord(fc.args) ? fc.args : {}) });
    }
  }
  // The answer is the content, alone: text beside it would break the client's JSON parsing.
  if (out.answer !== undefined) {
    out.text = out.answer;
    out.hasText = true;
  }
  return out;
}

function blockReason(body: Record<string, unknown>): string | undefined {
  return isRecord(body.promptFeedback) ? str(body.promptFeedback.blockReason) : undefined;
}

function parseChatResponse(body: unknown, ctx: ResponseContext): ChatCompletion {
  if (!isRecord(body)) throw new UpstreamResponseError(upstreamError("server", "upstream returned a response that is not a JSON object"));
  if (isRecord(body.error)) throw new UpstreamResponseError(fromGeminiError(undefined, body.error, null));
  const candidates = Array.isArray(body.candidates) ? body.candidates : [];
  const choices: ChatCompletionChoice[] = [];
  for (let i = 0; i < candidates.length; i++) {
    const c: unknown = candidates[i];
    if (!isRecord(c)) continue;
    const parts = readParts(c);
    const toolCalls: ToolCall[] = parts.calls.map((x) => ({ id: x.id, type: "function", function: { name: x.name, arguments: x.arguments } }));
    const content = parts.hasText ? parts.text : null;
    choices.push({
      index: num(c.index) ?? i,
      message: toolCalls.length ? { role: "assistant", content, tool_calls: toolCalls } : { role: "assistant", content },
      logprobs: null,
      finish_reason: toolCalls.length ? "tool_calls" : (mapFinishReason(c.finishReason) ?? "stop"),
    });
  }
  if (choices.length === 0) {
    // A blocked prompt yields no candidates at all, only promptFeedback.
    if (!blockReason(body)) throw new UpstreamResponseError(upstreamError("server", "Gemini returned no candidates"));
    choices.push({ index: 0, message: { role: "assistant", content: null }, logprobs: null, finish_reason: "content_filter" });
  }
  choices.sort((a, b) => a.index - b.index);
  const completion: ChatCompletion = { id: ctx.id, object: "chat.completion", created: ctx.created, model: reportedModel(body.modelVersion, ctx), choices };
  const usage = geminiUsage(body.usageMetadata);
  if (usage) completion.usage = toCompletionUsage(usage);
  return completion;
}

// ---------------------------------------------------------------------------------------------
// Stream
// ---------------------------------------------------------------------------------------------

interface ChoiceState {
  started: boolean;
  finished: boolean;
  tools: number;
}

function createStreamTransformer(ctx: ResponseContext): StreamTransformer {
  let model = reportedModel(undefined, ctx);
  let usage: Usage | null = null;
  let done = false;
  const states: ChoiceState[] = [];

  function chunk(index: number, delta: ChunkDelta, finish: FinishReason | null): ChatCompletionChunk {
    return { id: ctx.id, object: "chat.completion.chunk", created: ctx.created, model, choices: [{ index, delta, logprobs: null, finish_reason: finish }] };
  }

  function state(index: number): ChoiceState {
    return (states[index] ??= { started: false, finished: false, tools: 0 });
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
    if (isRecord(obj.error)) return { chunks: [], error: fromGeminiError(undefined, obj.error, null) };
    if (typeof obj.modelVersion === "string" && obj.modelVersion) model = obj.modelVersion;
    if (isRecord(obj.usageMetadata)) usage = geminiUsage(obj.usageMetadata);

    const chunks: ChatCompletionChunk[] = [];
    const candidates = Array.isArray(obj.candidates) ? obj.candidates : [];
    for (let i = 0; i < candidates.length; i++) {
      const c: unknown = candidates[i];
      if (!isRecord(c)) continue;
      const index = num(c.index) ?? i;
      const st = state(index);
      if (st.finished) continue;
      const parts = readParts(c);
      const delta: ChunkDelta = {};
      if (!st.started) {
        st.started = true;
        delta.role = "assistant";
        delta.content = "";
      }
      if (parts.hasText) delta.content = parts.text;
      if (parts.calls.length) {
        const tc: ToolCallDelta[] = [];
        for (const call of parts.calls) tc.push({ index: st.tools++, id: call.id, type: "function", function: { name: call.name, arguments: call.arguments } });
        delta.tool_calls = tc;
      }
      if (delta.role !== undefined || (parts.hasText && parts.text !== "") || delta.tool_calls) chunks.push(chunk(index, delta, null));
      const fr = mapFinishReason(c.finishReason);
      if (fr) {
        st.finished = true;
        chunks.push(chunk(index, {}, st.tools > 0 ? "tool_calls" : fr));
      }
    }
    if (candidates.length === 0 && blockReason(obj)) {
      const st = state(0);
      if (!st.started) chunks.push(chunk(0, { role: "assistant", content: "" }, null));
      st.started = st.finished = true;
      chunks.push(chunk(0, {}, "content_filter"));
    }
    return { chunks };
  }

  function finish(): StreamResult {
    if (done) return { chunks: [], done: true };
    // No end marker in Gemini streams: the answer is complete once every candidate finished.
    let any = false;
    for (const st of states) {
      if (!st) continue;
      any = true;
      if (!st.finished) return { chunks: [], error: upstreamError("stream_error", "upstream stream ended before a finishReason") };
    }
    if (!any) return { chunks: [], error: upstreamError("stream_error", "upstream stream ended without a candidate") };
    done = true;
    const chunks: ChatCompletionChunk[] = [];
    if (ctx.includeUsage && usage)
      chunks.push({ id: ctx.id, object: "chat.completion.chunk", created: ctx.created, model, choices: [], usage: toCompletionUsage(usage) });
    return { chunks, done: true };
  }

  return { push, finish, usage: () => usage };
}

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

const STATUS_CLASS: Record<string, ErrorClass> = {
  INVALID_ARGUMENT: "bad_request",
  FAILED_PRECONDITION: "auth",
  OUT_OF_RANGE: "bad_request",
  UNAUTHENTICATED: "auth",
  PERMISSION_DENIED: "auth",
  NOT_FOUND: "not_found",
  RESOURCE_EXHAUSTED: "rate_limit",
  CANCELLED: "server",
  INTERNAL: "server",
  UNKNOWN: "server",
  UNAVAILABLE: "overloaded",
  DEADLINE_EXCEEDED: "timeout",
};

function detailsOf(err: Record<string, unknown>): Record<string, unknown>[] {
  return Array.isArray(err.details) ? err.details.filter(isRecord) : [];
}

function fromGeminiError(status: number | undefined, err: Record<string, unknown>, headers: Headers | null, fallback?: string): UpstreamError {
  const gstatus = str(err.status);
  const message = str(err.message) || fallback || "upstream reported an error";
  const code = num(err.code);
  let cls: ErrorClass =
    status !== undefined ? classForStatus(status) : gstatus && STATUS_CLASS[gstatus] ? STATUS_CLASS[gstatus] : code !== undefined ? classForStatus(code) : "server";
  const details = detailsOf(err);
  // A bad key is a 400 INVALID_ARGUMENT with reason API_KEY_INVALID, not a 401.
  if (cls === "bad_request" && (details.some((d) => d.reason === "API_KEY_INVALID") || /api key (not valid|expired|invalid)/i.test(message))) cls = "auth";
  // FAILED_PRECONDITION: the account cannot be used (region, billing); another provider may work.
  if (cls === "bad_request" && gstatus === "FAILED_PRECONDITION") cls = "auth";
  if (cls === "bad_request") {
    const overflow = contextOverflowError(message, status);
    if (overflow) return overflow;
  }
  if (cls === "server" && gstatus === "UNAVAILABLE") cls = "overloaded";
  if (cls === "server" && gstatus === "DEADLINE_EXCEEDED") cls = "timeout";
  const extra: Parameters<typeof upstreamError>[2] = {};
  if (status !== undefined) extra.upstreamStatus = status;
  if (cls === "rate_limit" || cls === "overloaded" || cls === "server") {
    let ms = headers ? retryAfterFromHeaders(headers) : undefined;
    if (ms === undefined) {
      const info = details.find((d) => typeof d.retryDelay === "string");
      if (info) ms = parseDuration(info.retryDelay as string);
    }
    if (ms !== undefined) extra.retryAfterMs = ms;
  }
  return upstreamError(cls, message, extra);
}

function classifyError(status: number, bodyText: string, headers: Headers): UpstreamError {
  let parsed = tryParseJson(bodyText);
  // Without alt=sse Gemini streams a JSON array, and errors come wrapped in one too.
  if (Array.isArray(parsed)) parsed = parsed[0];
  const err = isRecord(parsed) && isRecord(parsed.error) ? parsed.error : {};
  return fromGeminiError(status, err, headers, fallbackMessage(status, bodyText));
}

// ---------------------------------------------------------------------------------------------
// Models
// ---------------------------------------------------------------------------------------------

function buildModelsRequest(target: Omit<UpstreamTarget, "model">): UpstreamRequest {
  const headers = headersFor(target.apiKey);
  delete headers["content-type"];
  return { url: joinUrl(target.baseUrl, "/v1beta/models?pageSize=1000"), method: "GET", headers };
}

function parseModelsResponse(body: unknown): string[] {
  const list = isRecord(body) && Array.isArray(body.models) ? body.models : [];
  const out: string[] = [];
  for (const m of list) {
    const name = isRecord(m) ? str(m.name) : undefined;
    if (name) out.push(name.startsWith("models/") ? name.slice(7) : name);
  }
  return out;
}

export const geminiAdapter: Adapter = {
  format: "gemini",
  buildChatRequest,
  parseChatResponse,
  createStreamTransformer,
  classifyError,
  buildModelsRequest,
  parseModelsResponse,
};
