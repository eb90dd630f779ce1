/**
 * Passthrough for Anthropic entries: the client's Messages body goes to the provider as sent (only
 * `model` mapped), and the provider's answer comes back as it was, bytes for a stream, so
 * everything Anthropic honours and the translation cannot carry (thinking and its signed blocks,
 * cache_control, citations, stop_sequence) survives.
 *
 * It runs inside the gateway's ordinary attempt loop as a wrapped Anthropic adapter, so routing,
 * fallback to entries of other types, cooldowns, usage and logs are those of every request: the
 * wrapped adapter still parses the answer (usage, log text, the "first content" that commits a
 * stream), and keeps the raw answer on the side. Per request, one Passthrough; the gateway asks it
 * for every candidate's adapter, which also forgets what an earlier, failed attempt left.
 */
import { anthropicAdapter, anthropicHeaders } from "../../adapters/anthropic.ts";
import { postJson, usageChunk } from "../../adapters/common.ts";
import { isRecord, tryParseJson, type Adapter, type SSEEvent, type StreamTransformer } from "../../adapters/types.ts";
import type { Candidate } from "../router.ts";
import type { MessagesRequest } from "./anthropic-schema.ts";
import { CUT_STREAM_MESSAGE, errorEvent, gatewayErrorEvent, type MessagesStream } from "./anthropic-stream.ts";

export interface Passthrough {
  /** The adapter for one candidate: the relay for Anthropic entries, undefined (their own) for others. */
  adapterFor(cand: Candidate): Adapter | undefined;
  /** Whether the entry that answered was relayed. */
  active(): boolean;
  /** The relayed non-stream answer. */
  rawJson(): unknown;
  /** The relayed stream's events received since the last call. */
  drain(): string;
}

/** anthropic-beta turns on features of the provider; the client asked for them, so they travel. */
const BETA = /^[A-Za-z0-9._,\s-]{1,512}$/;

export function createPassthrough(body: MessagesRequest, clientHeaders: Headers): Passthrough {
  let active = false;
  let raw: unknown;
  let buffer = "";
  const beta = clientHeaders.get("anthropic-beta");

  function reset(): void {
    active = false;
    raw = undefined;
    buffer = "";
  }

  const relay: Adapter = {
    ...anthropicAdapter,
    buildChatRequest(_translated, target) {
      const headers = anthropicHeaders(target.apiKey);
      if (beta && BETA.test(beta)) headers["anthropic-beta"] = beta;
      return postJson(target, "/v1/messages", headers, { ...body, model: target.model });
    },
    parseChatResponse(json, ctx) {
      const completion = anthropicAdapter.parseChatResponse(json, ctx);
      raw = json;
      active = true;
      return completion;
    },
    createStreamTransformer(ctx): StreamTransformer {
      const inner = anthropicAdapter.createStreamTransformer(ctx);
      buffer = "";
      active = true;
      let started = false;
      return {
        push(ev: SSEEvent) {
          const r = inner.push(ev);
          if (!started && !r.error && (ev.event ?? eventType(ev.data)) === "content_block_start") {
            // Any block is content to the client, thinking and server tools included, though the
            // translation drops them: commit the stream now (a usage-only chunk is content to the
            // gateway), or a long think would count against the wait for the first token.
            started = true;
            const usage = inner.usage() ?? { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 };
            r.chunks.push(usageChunk(ctx, ctx.targetModel ?? ctx.requestedModel, usage));
          }
          // An error event is the gateway's to render (redacted, classified), not to relay.
          if (!r.error) buffer += `event: ${ev.event ?? eventType(ev.data)}\ndata: ${ev.data.replaceAll("\n", "\ndata: ")}\n\n`;
          return r;
        },
        finish: () => inner.finish(),
        usage: () => inner.usage(),
      };
    },
  };

  return {
    adapterFor(cand) {
      reset();
      return cand.provider.type === "anthropic" ? relay : undefined;
    },
    active: () => active,
    rawJson: () => raw,
    drain() {
      const out = buffer;
      buffer = "";
      return out;
    },
  };
}

function eventType(data: string): string {
  const obj = tryParseJson(data);
  return isRecord(obj) && typeof obj.type === "string" ? obj.type : "message";
}

/**
 * The gateway's stream when a relayed entry answered: each of its events says "the upstream got
 * this far", so the relayed events collected by then go out; its end and its errors are the
 * gateway's, rendered as for a translated stream.
 */
export function createRelayStream(pt: Passthrough): MessagesStream {
  let done = false;
  return {
    push(data) {
      if (done) return "";
      if (data.trim() === "[DONE]") {
        done = true;
        return pt.drain();
      }
      const obj = tryParseJson(data);
      if (isRecord(obj) && isRecord(obj.error)) {
        done = true;
        return pt.drain() + gatewayErrorEvent(obj.error);
      }
      return pt.drain();
    },
    end() {
      if (done) return "";
      done = true;
      return pt.drain() + errorEvent("api_error", CUT_STREAM_MESSAGE);
    },
  };
}
