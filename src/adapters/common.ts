/**
 * The skeleton the translating adapters (Anthropic, Gemini) share, and the pieces the OpenAI
 * pass-through shares with them: walking the chat request, flat parameter renames as tables,
 * tools and the answer tool for structured output, and building completions, chunks, headers and
 * model lists. Each provider file keeps only what is its own: its encodings and its refusals.
 */
import { readFilePart, type InlineFile } from "./files.ts";
import { UnsupportedFeatureError, upstreamError, UpstreamResponseError, type UpstreamError } from "./errors.ts";
import type { SSEEvent } from "./sse.ts";
import type { ResponseContext, StreamResult, StreamTransformer, UpstreamRequest, UpstreamTarget } from "./types.ts";
import { toCompletionUsage, type Usage } from "./usage.ts";
import { isRecord, joinUrl, str, tryParseJson } from "./util.ts";
import type {
  AssistantMessage,
  ChatCompletion,
  ChatCompletionChoice,
  ChatCompletionChunk,
  ChatMessage,
  ChatRequest,
  ChunkDelta,
  ContentPart,
  FinishReason,
  JsonFormat,
  JsonSchema,
  ResponseMessage,
  SystemMessage,
  TextPart,
  ToolCall,
  ToolMessage,
  UserMessage,
} from "./wire.ts";

/**
 * The tool (Anthropic) or function (Gemini) that carries structured output when the provider
 * cannot be asked for JSON directly. A fixed name, so the stateless response side recognises it.
 */
export const ANSWER_TOOL = "perpetuo_json_output";

// ---------------------------------------------------------------------------------------------
// Request: flat parameters
// ---------------------------------------------------------------------------------------------

/** A request field's name at the provider, or its name and how its value reads there (undefined: left out). */
export type Rename = string | [to: string, map: (value: unknown, req: ChatRequest) => unknown];

const asNumber = (v: unknown) => (typeof v === "number" ? v : undefined);

/** `stop` as a list: one string or a non-empty array; an empty one says nothing. */
export const stopList = (stop: unknown) =>
  typeof stop === "string" && stop ? [stop] : Array.isArray(stop) && stop.length > 0 ? stop : undefined;

/** Copies the request's flat parameters under the provider's names; a bare name carries numbers only. */
export function renameParams(req: ChatRequest, table: Record<string, Rename>, into: Record<string, unknown>): void {
  for (const [from, rule] of Object.entries(table)) {
    const [to, map] = typeof rule === "string" ? [rule, asNumber] : rule;
    const value = map(req[from], req);
    if (value !== undefined) into[to] = value;
  }
}

/** The client's cap on the answer, whichever of OpenAI's two names it used. */
export function maxTokens(req: ChatRequest): number | undefined {
  return asNumber(req.max_completion_tokens) ?? asNumber(req.max_tokens);
}

/** What neither translating provider returns or takes; OpenAI-compatible candidates may still honour it. */
export function refuseLogprobs(req: ChatRequest, provider: string): void {
  const refuse = (param: string, what: string) => new UnsupportedFeatureError(param, `${provider} does not ${what}`);
  if (req.logprobs === true) throw refuse("logprobs", "return logprobs");
  if ((req.top_logprobs ?? 0) > 0) throw refuse("top_logprobs", "return logprobs");
  if (isRecord(req.logit_bias) && Object.keys(req.logit_bias).length > 0) throw refuse("logit_bias", "support logit_bias");
}

// ---------------------------------------------------------------------------------------------
// Request: messages and content
// ---------------------------------------------------------------------------------------------

type ImageSource = { kind: "base64"; mediaType: string; data: string } | { kind: "url"; url: string };

/** How one provider writes each kind of content part; null leaves a part out. Without media, only text is taken. */
export interface PartWriter<P> {
  provider: string;
  text(part: TextPart): P | null;
  image(source: ImageSource): P;
  file(file: InlineFile, param: string): P | null;
}

const DATA_URL = /^data:([^;,]+)((?:;[^;,]*)*?);base64,/;

function imageSource(url: string, param: string): ImageSource {
  const m = DATA_URL.exec(url);
  if (m) return { kind: "base64", mediaType: m[1], data: url.slice(m[0].length) };
  if (url.startsWith("https://") || url.startsWith("http://")) return { kind: "url", url };
  throw new UnsupportedFeatureError(param, "images must be base64 data URLs or http(s) URLs");
}

/** A message's content as the provider's parts: a string reads as one text part. */
export function contentParts<P>(
  content: string | readonly ContentPart[] | null | undefined,
  param: string,
  w: PartWriter<P>,
  media: boolean,
): P[] {
  const parts: readonly ContentPart[] = typeof content === "string" ? [{ type: "text", text: content }] : (content ?? []);
  const out: P[] = [];
  parts.forEach((part, j) => {
    const p = `${param}[${j}]`;
    let written: P | null;
    if (part.type === "text") written = w.text(part);
    else if (part.type === "image_url" && media) written = w.image(imageSource(part.image_url.url, p));
    else if (part.type === "file" && media) written = w.file(readFilePart(part.file, p, w.provider), p);
    else throw new UnsupportedFeatureError(p, `content part type '${String(part.type)}' is not supported by ${w.provider} here`);
    if (written !== null) out.push(written);
  });
  return out;
}

/** An assistant's tool call with its arguments as the object every provider but OpenAI wants. */
interface CallIn {
  id: string;
  name: string;
  input: Record<string, unknown>;
}

/** Tool-call arguments must become an object; a string that is not one cannot be sent faithfully. */
function parseToolArguments(args: string, param: string): Record<string, unknown> {
  if (args.trim() === "") return {};
  const parsed = tryParseJson(args);
  if (!isRecord(parsed)) throw new UnsupportedFeatureError(param, `${param} is not a JSON object; this provider needs one`);
  return parsed;
}

interface MessageVisitor {
  system(m: SystemMessage, param: string): void;
  user(m: UserMessage, param: string): void;
  assistant(m: AssistantMessage, calls: CallIn[], param: string): void;
  tool(m: ToolMessage, param: string): void;
}

/**
 * Each message by role. The translations of /v1/responses and /v1/messages build chat requests
 * without the schema, so an empty list is still refused here.
 */
export function visitMessages(messages: readonly ChatMessage[], v: MessageVisitor): void {
  if (messages.length === 0) throw new UnsupportedFeatureError("messages", "messages must be a non-empty array");
  messages.forEach((m, i) => {
    const p = `messages[${i}]`;
    switch (m.role) {
      case "system":
      case "developer":
        return v.system(m, p);
      case "user":
        return v.user(m, p);
      case "assistant": {
        const calls = (m.tool_calls ?? []).map((tc, j) => ({
          id: tc.id,
          name: tc.function.name,
          input: parseToolArguments(tc.function.arguments, `${p}.tool_calls[${j}].function.arguments`),
        }));
        return v.assistant(m, calls, p);
      }
      case "tool":
        return v.tool(m, p);
    }
  });
}

// ---------------------------------------------------------------------------------------------
// Request: tools and structured output
// ---------------------------------------------------------------------------------------------

/** The client's function tools, each as what every provider takes alike (name, description) and its parameters. */
export function functionTools(req: ChatRequest): { decl: { name: string; description?: string }; parameters?: JsonSchema }[] {
  return (req.tools ?? []).map(({ function: { name, description, parameters } }) => ({
    decl: description === undefined ? { name } : { name, description },
    parameters,
  }));
}

/** How a provider writes each OpenAI tool_choice. */
export interface ChoiceTable<T> {
  none: T;
  auto: T;
  required: T;
  named(name: string): T;
}

export function toolChoiceAs<T extends object>(choice: ChatRequest["tool_choice"], table: ChoiceTable<T>): T | undefined {
  if (choice === undefined || choice === null) return undefined;
  return typeof choice === "string" ? { ...table[choice] } : table.named(choice.function.name);
}

/**
 * With JSON asked for and the client's tools given, the answer tool joins them; what the client's
 * tool_choice becomes: auto lets the model pick any tool (the answer included), none forces the
 * answer, required and a named function leave the answer out (the reply is a tool call).
 */
export function answerMode(choice: unknown): "any" | "answer" | "keep" {
  if (choice === undefined || choice === null || choice === "auto") return "any";
  return choice === "none" ? "answer" : "keep";
}

/** The client's tools and tool_choice in the provider's terms, with the answer tool (made only when it joins) as answerMode says. */
export function toolsWithAnswer<T extends { name: string }, C extends object>(
  req: ChatRequest,
  tools: T[],
  choices: ChoiceTable<C>,
  answer: (() => T) | null,
): { tools: T[]; choice?: C } {
  const choice = toolChoiceAs(req.tool_choice, choices);
  const mode = answer ? answerMode(req.tool_choice) : "keep";
  if (!answer || mode === "keep") return { tools, choice };
  const tool = answer();
  return { tools: [...tools, tool], choice: mode === "any" ? { ...choices.required } : choices.named(tool.name) };
}

/** The schema a json_schema format carries (undefined for json_object), and words naming it for a tool description. */
export function answerSpec(rf: JsonFormat): { schema?: JsonSchema; naming: string } {
  const js = rf.type === "json_schema" ? rf.json_schema : undefined;
  const desc = str(js?.description);
  return { schema: js?.schema, naming: `the '${js?.name ?? "response"}' schema${desc ? ` (${desc})` : ""}` };
}

// ---------------------------------------------------------------------------------------------
// Response and stream
// ---------------------------------------------------------------------------------------------

export function reportedModel(upstreamModel: unknown, ctx: ResponseContext): string {
  return typeof upstreamModel === "string" && upstreamModel ? upstreamModel : ctx.targetModel || ctx.requestedModel;
}

/** A provider's finish reason by table; what the table does not name is a normal stop. */
export function finishReasonBy(table: Record<string, FinishReason>, reason: unknown): FinishReason {
  return typeof reason === "string" && Object.hasOwn(table, reason) ? table[reason] : "stop";
}

export function toolCall(id: string, name: string, args: string): ToolCall {
  return { id, type: "function", function: { name, arguments: args } };
}

export function assistantMessage(content: string | null, toolCalls: ToolCall[]): ResponseMessage {
  return toolCalls.length ? { role: "assistant", content, tool_calls: toolCalls } : { role: "assistant", content };
}

export function completionOf(ctx: ResponseContext, model: string, choices: ChatCompletionChoice[], usage: Usage | null): ChatCompletion {
  const completion: ChatCompletion = { id: ctx.id, object: "chat.completion", created: ctx.created, model, choices };
  if (usage) completion.usage = toCompletionUsage(usage);
  return completion;
}

export function notAnObject(): UpstreamResponseError {
  return new UpstreamResponseError(upstreamError("server", "upstream returned a response that is not a JSON object"));
}

type Finish = FinishReason | null;

export function chunkOf(ctx: ResponseContext, model: string, index: number, delta: ChunkDelta, finish: Finish): ChatCompletionChunk {
  const choice = { index, delta, logprobs: null, finish_reason: finish };
  return { id: ctx.id, object: "chat.completion.chunk", created: ctx.created, model, choices: [choice] };
}

/** The final `choices: []` chunk of a client that asked for usage. */
export function usageChunk(ctx: ResponseContext, model: string, usage: Usage): ChatCompletionChunk {
  return { id: ctx.id, object: "chat.completion.chunk", created: ctx.created, model, choices: [], usage: toCompletionUsage(usage) };
}

export function streamFailure(message: string): StreamResult {
  return { chunks: [], error: upstreamError("stream_error", message) };
}

export function streamError(error: UpstreamError): StreamResult {
  return { chunks: [], error };
}

/** What a provider's stream does with each event; the shared part is reading them (jsonEvents). */
interface EventHandler {
  event(obj: Record<string, unknown>, ev: SSEEvent): StreamResult;
  /** `data: [DONE]`, for the streams that end with it. */
  marker?(): StreamResult;
  /** Upstream EOF before the stream said it was done. */
  end(): StreamResult;
  usage(): Usage | null;
}

/** A stream of JSON events: after its end nothing more is read, and an event that is not a JSON object fails it. */
export function jsonEvents(h: EventHandler): StreamTransformer {
  let done = false;
  const settle = (r: StreamResult) => {
    done ||= r.done === true;
    return r;
  };
  return {
    push(ev) {
      if (done) return { chunks: [] };
      if (h.marker && ev.data === "[DONE]") return settle(h.marker());
      const obj = tryParseJson(ev.data);
      return isRecord(obj) ? settle(h.event(obj, ev)) : streamFailure("upstream sent malformed stream data");
    },
    finish: () => (done ? { chunks: [], done: true } : settle(h.end())),
    usage: h.usage,
  };
}

// ---------------------------------------------------------------------------------------------
// Headers and models
// ---------------------------------------------------------------------------------------------

/** JSON request headers with the key in the provider's header (value prefixed, e.g. "Bearer "). */
export function jsonHeaders(apiKey: string | null, keyHeader: string, prefix = "", extra: Record<string, string> = {}) {
  const h: Record<string, string> = { "content-type": "application/json", ...extra };
  if (apiKey !== null) h[keyHeader] = prefix + apiKey;
  return h;
}

type Target = Omit<UpstreamTarget, "model">;

export function postJson(target: Target, path: string, headers: Record<string, string>, body: unknown): UpstreamRequest {
  return { url: joinUrl(target.baseUrl, path), method: "POST", headers, body: JSON.stringify(body) };
}

/** The GET that lists models: the same headers, no body so no content-type. */
export function modelsRequest(target: Target, path: string, headers: Record<string, string>): UpstreamRequest {
  const { "content-type": _json, ...rest } = headers;
  return { url: joinUrl(target.baseUrl, path), method: "GET", headers: rest };
}

/** The names in a models list: each entry's `field`, without Gemini's "models/" prefix. */
export function modelIds(list: unknown, field: "id" | "name"): string[] {
  const out: string[] = [];
  for (const m of Array.isArray(list) ? list : []) {
    const id = isRecord(m) ? str(m[field]) : undefined;
    if (id) out.push(field === "name" && id.startsWith("models/") ? id.slice(7) : id);
  }
  return out;
}
