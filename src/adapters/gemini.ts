/**
 * OpenAI Chat Completions ⇄ Gemini generateContent (v1beta, API key in x-goog-api-key only).
 *
 * Choices where OpenAI and Gemini do not line up:
 * - Dropped as harmless hints: `user`, message `name`, image `detail`, tool `strict`,
 *   `parallel_tool_calls` (Gemini has no switch for it), unknown fields.
 * - response_format with tools: Gemini 2.x refuses responseMimeType application/json together
 *   with function calling, so the answer becomes one more function (ANSWER_TOOL, whose arguments
 *   are the JSON; for json_object, which has no schema, JSON_TEXT_TOOL with the JSON as a string
 *   argument, as Gemini refuses an object without properties), with tool_choice as `answerMode`
 *   (common.ts) says. The answer comes back as content, finish_reason stop.
 * - reasoning_effort: Gemini 2.5 gets `thinkingConfig.thinkingBudget` (reasoning.ts budgets),
 *   with maxOutputTokens raised by that budget (thinking counts against it; the client's cap is
 *   the answer's, as for Anthropic), Gemini 3+ `thinkingLevel` low/high (Google's advice for
 *   those models); models whose name shows no version of 2.5 or later (older ones cannot
 *   think) get nothing. Thought parts are never content.
 * - `file` parts: images and PDF → inlineData, text files → text (files.ts); file_id is refused.
 * - Unsupported (another candidate may honour them): logprobs, top_logprobs, non-empty
 *   logit_bias, audio parts, tool-call arguments that are not a JSON object, a tool result
 *   whose call id matches no earlier tool call (Gemini needs the function name).
 * - JSON Schema → Gemini Schema: see gemini-schema.ts.
 * - Gemini 3+ rejects replayed function calls without a thought signature, which OpenAI-shaped
 *   history cannot carry; Google documents a sentinel value for exactly this case.
 * - finishReason OTHER maps to content_filter: Gemini uses it for blocks it does not name.
 * - Usage: completion_tokens = candidates + thoughts (thinking is billed as output);
 *   prompt_tokens = prompt + tool-use prompt; total = prompt + completion.
 */
import { ANSWER_TOOL, answerSpec, contentParts, functionTools, jsonHeaders, maxTokens, modelIds, modelsRequest } from "./common.ts";
import { postJson, refuseLogprobs, renameParams, stopList, toolsWithAnswer, visitMessages } from "./common.ts";
import type { ChoiceTable, PartWriter, Rename } from "./common.ts";
import { classifyError, createStreamTransformer, JSON_TEXT_TOOL, parseChatResponse } from "./gemini-response.ts";
import { typeFromName } from "./files.ts";
import { toGeminiSchema } from "./gemini-schema.ts";
import { reasoningEffort, REASONING_BUDGETS, thinkingLevel } from "./reasoning.ts";
import { isRecord, modelNameProblem, tryParseJson, UnsupportedFeatureError, wantsJson } from "./types.ts";
import type { Adapter, ChatRequest, JsonFormat, UpstreamRequest, UpstreamTarget } from "./types.ts";

export const THOUGHT_SIGNATURE_SENTINEL = "skip_thought_signature_validator";

type Part = Record<string, unknown>;
type Declaration = Part & { name: string };
type Content = { role: "user" | "model"; parts: Part[] };

export const geminiHeaders = (apiKey: string | null) => jsonHeaders(apiKey, "x-goog-api-key");

/** The model as path segments under /v1beta/models/; a name that would climb out of it is refused. */
export function modelPath(model: string): string {
  const problem = modelNameProblem(model);
  if (problem) throw new UnsupportedFeatureError("model", `model ${problem}`);
  const m = model.startsWith("models/") ? model.slice(7) : model;
  return m.split("/").map(encodeURIComponent).join("/");
}

/** "gemini-2.5-flash" → 2.5; null for names that are not Gemini's own. */
function geminiVersion(model: string): number | null {
  const m = /^(?:models\/)?gemini-(\d+(?:\.\d+)?)/.exec(model);
  return m ? Number(m[1]) : null;
}

// ---------------------------------------------------------------------------------------------
// Request
// ---------------------------------------------------------------------------------------------

/** Flat parameters by their names in generationConfig. */
const GENERATION: Record<string, Rename> = {
  temperature: "temperature",
  top_p: "topP",
  top_k: "topK",
  max_tokens: ["maxOutputTokens", (_v, req) => maxTokens(req)],
  stop: ["stopSequences", stopList],
  n: "candidateCount",
  seed: "seed",
  presence_penalty: "presencePenalty",
  frequency_penalty: "frequencyPenalty",
};

/** The type of an image (or PDF) Gemini fetches by URL, from its extension; JPEG when it names none. */
export function guessMimeType(url: string): string {
  const type = typeFromName(url.split(/[?#]/, 1)[0]);
  return type && (type.startsWith("image/") || type === "application/pdf") ? type : "image/jpeg";
}

const PARTS: PartWriter<Part> = {
  provider: "Gemini",
  text: ({ text }) => ({ text }),
  image: (src) =>
    src.kind === "url"
      ? { fileData: { mimeType: guessMimeType(src.url), fileUri: src.url } }
      : { inlineData: { mimeType: src.mediaType, data: src.data } },
  file: (f) => (f.kind === "text" ? { text: f.text } : { inlineData: { mimeType: f.mediaType, data: f.data } }),
};

/** functionResponse.response must be an object: JSON objects pass, anything else is wrapped. */
function toolResponse(content: string | { text: string }[]): Record<string, unknown> {
  const text = typeof content === "string" ? content : content.map((p) => p.text).join("");
  const parsed = tryParseJson(text);
  if (isRecord(parsed)) return parsed;
  return { result: parsed === undefined ? text : parsed };
}

function push(out: Content[], role: "user" | "model", parts: Part[]): void {
  const last = out[out.length - 1];
  if (last && last.role === role) last.parts.push(...parts);
  else out.push({ role, parts });
}

function convertMessages(req: ChatRequest, model: string): { system: Part[]; contents: Content[] } {
  // Gemini 3+ rejects replayed function calls without a thought signature (see the header comment).
  const signature = (geminiVersion(model) ?? 0) >= 3;
  const system: Part[] = [];
  const contents: Content[] = [];
  const callNames = new Map<string, string>();
  visitMessages(req.messages, {
    system: (m, p) => system.push(...contentParts(m.content, `${p}.content`, PARTS, false)),
    user: (m, p) => push(contents, "user", contentParts(m.content, `${p}.content`, PARTS, true)),
    assistant(m, calls, p) {
      const parts = contentParts(m.content, `${p}.content`, PARTS, false).filter((x) => x.text !== "");
      for (const c of calls) {
        callNames.set(c.id, c.name);
        const part: Part = { functionCall: { name: c.name, args: c.input } };
        if (signature) part.thoughtSignature = THOUGHT_SIGNATURE_SENTINEL;
        parts.push(part);
      }
      if (parts.length > 0) push(contents, "model", parts);
    },
    tool(m, p) {
      const id = m.tool_call_id ?? "";
      const name = callNames.get(id) ?? (typeof m.name === "string" ? m.name : undefined);
      if (!name)
        throw new UnsupportedFeatureError(
          `${p}.tool_call_id`,
          `tool_call_id '${id}' matches no earlier tool call; Gemini needs the function name`,
        );
      push(contents, "user", [{ functionResponse: { name, response: toolResponse(m.content) } }]);
    },
  });
  return { system, contents };
}

const convertTools = (req: ChatRequest): Declaration[] =>
  functionTools(req).map(({ decl, parameters }, i) => {
    if (!parameters) return decl;
    const params = toGeminiSchema(parameters, `tools[${i}].function.parameters`);
    // Gemini rejects an OBJECT with no properties; a function without parameters omits them.
    const empty = !isRecord(params.properties) || Object.keys(params.properties).length === 0;
    return empty && (params.type === "object" || params.type === undefined) ? decl : { ...decl, parameters: params };
  });

const CHOICES: ChoiceTable<Part> = {
  none: { mode: "NONE" },
  auto: { mode: "AUTO" },
  required: { mode: "ANY" },
  named: (name) => ({ mode: "ANY", allowedFunctionNames: [name] }),
};

/** The function that carries structured output when tools are present (see the header comment). */
function answerFunction(rf: JsonFormat): Declaration {
  const spec = answerSpec(rf);
  const schema = spec.schema ? toGeminiSchema(spec.schema, "response_format") : {};
  if (schema.type !== undefined && schema.type !== "object")
    throw new UnsupportedFeatureError("response_format", "with tools, Gemini can only produce a JSON object at the top level");
  // Without properties there is nothing to declare as arguments: the answer travels as text.
  if (!isRecord(schema.properties) || Object.keys(schema.properties).length === 0)
    return {
      name: JSON_TEXT_TOOL,
      description: "Give your final answer by calling this function, with the whole answer as a JSON object serialized in `json`.",
      parameters: {
        type: "object",
        properties: { json: { type: "string", description: "The answer: one JSON object, serialized." } },
        required: ["json"],
      },
    };
  return {
    name: ANSWER_TOOL,
    description: `Give your final answer by calling this function; its arguments are the answer, matching ${spec.naming}.`,
    parameters: { ...schema, type: "object" },
  };
}

function buildGeminiBody(req: ChatRequest, model: string): Record<string, unknown> {
  refuseLogprobs(req, "Gemini");
  const { system, contents } = convertMessages(req, model);
  const body: Record<string, unknown> = { contents };
  if (system.length > 0) body.systemInstruction = { parts: system };

  const gc: Record<string, unknown> = {};
  renameParams(req, GENERATION, gc);
  const rf = req.response_format;
  const json = wantsJson(rf);
  const hasTools = !!req.tools?.length;
  // With tools the JSON is carried by the answer function below: responseMimeType with tools is refused.
  if (json && !hasTools) {
    gc.responseMimeType = "application/json";
    const { schema } = answerSpec(rf);
    if (schema) gc.responseSchema = toGeminiSchema(schema, "response_format");
  }
  const effort = reasoningEffort(req.reasoning_effort);
  const version = geminiVersion(model);
  if (effort && version !== null && version >= 3) gc.thinkingConfig = { thinkingLevel: thinkingLevel(effort) };
  else if (effort && version !== null && version >= 2.5) {
    gc.thinkingConfig = { thinkingBudget: REASONING_BUDGETS[effort] };
    // Thinking counts against maxOutputTokens: as for Anthropic, the client's cap is the answer's.
    const cap = maxTokens(req);
    if (cap !== undefined) gc.maxOutputTokens = cap + REASONING_BUDGETS[effort];
  }
  if (Object.keys(gc).length > 0) body.generationConfig = gc;

  if (hasTools) {
    const { tools, choice } = toolsWithAnswer(req, convertTools(req), CHOICES, json ? () => answerFunction(rf) : null);
    body.tools = [{ functionDeclarations: tools }];
    if (choice) body.toolConfig = { functionCallingConfig: choice };
  }
  return body;
}

function buildChatRequest(req: ChatRequest, target: UpstreamTarget): UpstreamRequest {
  const body = buildGeminiBody(req, target.model);
  const path = `/v1beta/models/${modelPath(target.model)}:${req.stream === true ? "streamGenerateContent?alt=sse" : "generateContent"}`;
  return postJson(target, path, geminiHeaders(target.apiKey), body);
}

export const geminiAdapter: Adapter = {
  format: "gemini",
  buildChatRequest,
  parseChatResponse,
  createStreamTransformer,
  classifyError,
  buildModelsRequest: (target) => modelsRequest(target, "/v1beta/models?pageSize=1000", geminiHeaders(target.apiKey)),
  parseModelsResponse: (body) => modelIds(isRecord(body) ? body.models : undefined, "name"),
};
