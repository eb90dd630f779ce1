/**
 * Responses requests to providers of type `openai` go to OpenAI's own `/responses`, unchanged but
 * for the model name, and its answer is relayed byte for byte: nothing is lost in translation
 * (reasoning items, annotations, logprobs). Usage is read on the side for the log row. Other
 * provider types in the same request still get the translated chat path (fallback included).
 */
import { jsonHeaders, postJson } from "../../adapters/common.ts";
import { isRecord, num, str, tryParseJson, upstreamError, UpstreamResponseError } from "../../adapters/types.ts";
import type { UpstreamError, UpstreamRequest, Usage } from "../../adapters/types.ts";
import type { Candidate } from "../router.ts";
import type { ResponsesRequest } from "./responses-model.ts";
import { untranslatable } from "./responses.ts";
import type { AnswerRead, RelayFormat, StreamDialect } from "../call.ts";

/** Responses usage in the gateway's accounting terms. */
function usageFromResponses(u: unknown): Usage | null {
  if (!isRecord(u)) return null;
  const input = num(u.input_tokens);
  const output = num(u.output_tokens);
  if (input === undefined || output === undefined) return null;
  const detail = (details: unknown, key: string) => (isRecord(details) ? num(details[key]) : undefined) ?? 0;
  return {
    prompt_tokens: input,
    completion_tokens: output,
    total_tokens: num(u.total_tokens) ?? input + output,
    cached_tokens: detail(u.input_tokens_details, "cached_tokens"),
    reasoning_tokens: detail(u.output_tokens_details, "reasoning_tokens"),
  };
}

/** The text and call arguments of a Response object, for estimates when usage is missing. */
function outputTextOf(response: Record<string, unknown>): string {
  if (!Array.isArray(response.output)) return "";
  let out = "";
  for (const item of response.output) {
    if (!isRecord(item)) continue;
    if (typeof item.arguments === "string") out += String(item.name ?? "") + item.arguments;
    if (Array.isArray(item.content)) for (const p of item.content) if (isRecord(p) && typeof p.text === "string") out += p.text;
  }
  return out;
}

/** Why a Response object (or the one in a response.failed event) says it failed. */
function failedMessage(response: Record<string, unknown> | null): string {
  const e = response?.error;
  return isRecord(e) && typeof e.message === "string" ? e.message : "the provider reported the response as failed";
}

/** A non-streamed answer's facts; a body that is no Response object, or a failed one, is the provider's failure. */
function readResponse(json: unknown): AnswerRead {
  const fail = (message: string) => new UpstreamResponseError(upstreamError("server", message));
  if (!isRecord(json) || json.object !== "response") throw fail("the provider answered with a body that is not a Response object");
  if (json.status === "failed") throw fail(failedMessage(json));
  return { model: typeof json.model === "string" ? json.model : null, usage: usageFromResponses(json.usage), output: outputTextOf(json) };
}

/** Events that are not yet an answer: a provider failing after them can still be fallen back from. */
const PREAMBLE = new Set(["response.created", "response.in_progress", "response.queued"]);

/** The Responses dialect of the stream relay (stream.ts): the provider's bytes as they came, usage read on the side. */
function responsesDialect(): StreamDialect {
  const held: Uint8Array[] = [];
  let usage: Usage | null = null;
  let model: string | null = null;
  let output = "";
  let lastSeq = -1;
  // What the relay reads after each event: plain fields, set by event().
  const d: StreamDialect & { committed: boolean; terminal: boolean; failure: UpstreamError | null } = {
    committed: false,
    terminal: false,
    failure: null,
    raw: (chunk) => void held.push(chunk),
    event(ev) {
      const data = tryParseJson(ev.data);
      if (data === undefined) d.failure ??= upstreamError("stream_error", "the provider sent an event that is not JSON");
      if (!isRecord(data)) return;
      const type = str(data.type) ?? ev.event ?? "";
      lastSeq = num(data.sequence_number) ?? lastSeq;
      const response = isRecord(data.response) ? data.response : null;
      model = str(response?.model) ?? model;
      if (type === "error") {
        d.failure ??= upstreamError("stream_error", str(data.message) ?? "the provider sent an error event");
      } else if (type === "response.completed" || type === "response.incomplete" || type === "response.failed") {
        d.terminal = true;
        usage = usageFromResponses(response?.usage) ?? usage;
        if (type === "response.failed") d.failure ??= upstreamError("stream_error", failedMessage(response));
      } else if (!PREAMBLE.has(type)) {
        d.committed = true;
        if (typeof data.delta === "string") output += data.delta;
      }
    },
    eof() {},
    take: () => held.splice(0),
    relaysFailures: true,
    done: () => "",
    /** Our own end for a stream the provider broke off: an error event in OpenAI's streaming shape. */
    errorEvent: (e) =>
      `event: error\ndata: ${JSON.stringify({ type: "error", code: e.code, message: e.message, param: null, sequence_number: lastSeq + 1 })}\n\n`,
    cutMessage: "the provider's stream ended before response.completed",
    result: () => ({ model, usage, output }),
  };
  return d;
}

/** The relay for one Responses request: OpenAI entries get `body` as sent, the model mapped. */
export function nativeResponses(body: ResponsesRequest): RelayFormat {
  return {
    untranslatable: untranslatable(body),
    request(cand: Candidate): UpstreamRequest | null {
      if (cand.provider.type !== "openai") return null;
      const headers = jsonHeaders(cand.provider.api_key, "authorization", "Bearer ");
      return postJson({ baseUrl: cand.provider.base_url, apiKey: cand.provider.api_key }, "/responses", headers, {
        ...body,
        model: cand.upstreamModel,
      });
    },
    read: readResponse,
    dialect: responsesDialect,
    costHeader: false,
  };
}
