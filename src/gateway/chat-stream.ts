/** The chat dialect of the stream relay (stream.ts): the adapter's chunks, re-encoded as OpenAI's SSE. */
import { encodeSSE, SSE_DONE } from "../adapters/sse.ts";
import type { ChatCompletionChunk, StreamResult, UpstreamError } from "../adapters/types.ts";
import { errorBody } from "../http/errors.ts";
import type { AttemptContext, StreamDialect } from "./call.ts";

/** Any content the client should see, as opposed to a bare role announcement. */
function hasContent(c: ChatCompletionChunk): boolean {
  for (const ch of c.choices) {
    const d = ch.delta;
    if (ch.finish_reason !== null && ch.finish_reason !== undefined) return true;
    if ((typeof d.content === "string" && d.content.length > 0) || d.tool_calls?.length || d.refusal) return true;
  }
  return c.choices.length === 0 && c.usage != null;
}

/** Provider types whose answers already are OpenAI's: the adapter only fills in what one leaves out. */
export const SAME_DIALECT = new Set(["openai", "openai_compatible"]);

/**
 * Whether the OpenAI adapter passes this event's chunk on as it came, so its text can be relayed
 * instead of serialised again: every identity field there, one line, nothing the adapter moves or
 * withholds (usage, an error, Groq's usage). A key is matched with the `,"` or `{"` before it,
 * which text inside a JSON string cannot contain (its quotes are escaped).
 */
export function relayable(data: string): boolean {
  if (!data.startsWith('{"id":"') || data.includes("\n") || !data.includes(',"object":"') || !data.includes(',"choices":[')) return false;
  const created = data.indexOf(',"created":');
  const digit = created < 0 ? 0 : data.charCodeAt(created + 11);
  const model = data.indexOf(',"model":"');
  if (digit < 48 || digit > 57 || model < 0 || data.charCodeAt(model + 10) === 34) return false;
  return !data.includes('"usage"') && !data.includes('"error"') && !data.includes('"x_groq"');
}

export function chatDialect(a: AttemptContext): StreamDialect {
  const passthrough = SAME_DIALECT.has(a.cand.provider.type);
  const transformer = a.adapter.createStreamTransformer(a.ctx);
  let pending = "";
  let output = "";
  let model: string | null = null;

  const collect = (r: StreamResult, raw?: string) => {
    // An event the adapter passed on unchanged goes out as the provider wrote it.
    if (raw !== undefined && r.chunks.length === 1) pending += `data: ${raw}\n\n`;
    else raw = undefined;
    for (const c of r.chunks) {
      model ??= c.model;
      for (const ch of c.choices) {
        if (typeof ch.delta.content === "string") output += ch.delta.content;
        if (ch.delta.tool_calls) for (const t of ch.delta.tool_calls) output += (t.function?.name ?? "") + (t.function?.arguments ?? "");
      }
      if (raw === undefined) pending += encodeSSE(c);
      if (!d.committed && hasContent(c)) d.committed = true;
    }
    if (r.error) d.failure = r.error;
    if (r.done) d.terminal = true;
  };

  // What the relay reads after each event: plain fields, set by collect.
  const d: StreamDialect & { committed: boolean; terminal: boolean; failure: UpstreamError | null } = {
    committed: false,
    terminal: false,
    failure: null,
    event: (ev) => collect(transformer.push(ev), passthrough && relayable(ev.data) ? ev.data : undefined),
    eof: () => collect(transformer.finish()),
    take() {
      const out = pending;
      pending = "";
      return out;
    },
    done: () => SSE_DONE,
    errorEvent: (e) => encodeSSE(errorBody({ message: e.message, type: e.type, param: null, code: e.code ?? "upstream_stream_error" })),
    cutMessage: "the provider's stream ended without its end marker",
    result: () => ({ model, usage: transformer.usage(), output }),
  };
  return d;
}
