/**
 * Passthrough for Anthropic entries: the client's Messages body goes to the provider as sent (only
 * `model` mapped), and the provider's answer comes back as it was, event for event for a stream, so
 * everything Anthropic honours and the translation cannot carry (thinking and its signed blocks,
 * cache_control, citations, stop_sequence) survives. It is a relay (../relay.ts) in the gateway's
 * ordinary attempt loop: routing, fallback to entries of other types, cooldowns, usage and logs
 * are those of every request. The Anthropic adapter still reads each answer on the side (usage,
 * log text, failures), as it would to translate it.
 */
import { anthropicAdapter, anthropicHeaders } from "../../adapters/anthropic.ts";
import { postJson } from "../../adapters/common.ts";
import { isRecord, tryParseJson, usageFromOpenAI } from "../../adapters/types.ts";
import { completionText, type RelayFormat, type StreamDialect, type AttemptContext } from "../call.ts";
import { chatDialect } from "../chat-stream.ts";
import type { MessagesRequest } from "./anthropic-schema.ts";
import { anthropicErrorType } from "./anthropic-messages.ts";
import { errorEvent } from "./anthropic-stream.ts";

/** anthropic-beta turns on features of the provider; the client asked for them, so they travel. */
const BETA = /^[A-Za-z0-9._,\s-]{1,512}$/;

export function messagesRelay(body: MessagesRequest, clientHeaders: Headers): RelayFormat {
  const beta = clientHeaders.get("anthropic-beta");
  return {
    request(cand) {
      if (cand.provider.type !== "anthropic") return null;
      const headers = anthropicHeaders(cand.provider.api_key);
      if (beta && BETA.test(beta)) headers["anthropic-beta"] = beta;
      return postJson({ baseUrl: cand.provider.base_url, apiKey: cand.provider.api_key }, "/v1/messages", headers, {
        ...body,
        model: cand.upstreamModel,
      });
    },
    read(json, a) {
      const completion = anthropicAdapter.parseChatResponse(json, a.ctx);
      const output = () => completionText(completion);
      // The log keeps the answer as the translation would have given it.
      return { model: completion.model, usage: usageFromOpenAI(completion.usage), output, logged: JSON.stringify(completion) };
    },
    dialect: messagesDialect,
    costHeader: true,
  };
}

function eventType(data: string): string {
  const obj = tryParseJson(data);
  return isRecord(obj) && typeof obj.type === "string" ? obj.type : "message";
}

/** The Messages dialect of the stream relay: the provider's events, read by the chat dialect's Anthropic adapter. */
function messagesDialect(a: AttemptContext): StreamDialect {
  const chat = chatDialect(a);
  let out = "";
  let started = false;
  return {
    event(ev) {
      chat.event(ev);
      chat.take();
      // An error event is the gateway's to render (redacted, classified), not to relay.
      if (chat.failure) return;
      const type = ev.event ?? eventType(ev.data);
      // Any block is content to the client, thinking and server tools included, though the
      // translation drops them: commit the stream now, or a long think would count against the
      // wait for the first token.
      if (type === "content_block_start") started = true;
      out += `event: ${type}\ndata: ${ev.data.replaceAll("\n", "\ndata: ")}\n\n`;
    },
    eof: () => chat.eof(),
    get committed() {
      return started || chat.committed;
    },
    get terminal() {
      return chat.terminal;
    },
    get failure() {
      return chat.failure;
    },
    take() {
      const taken = out;
      out = "";
      return taken;
    },
    done: () => "",
    errorEvent: (e) => errorEvent(anthropicErrorType(500, e.type, e.code ?? "upstream_stream_error"), e.message),
    cutMessage: chat.cutMessage,
    result: () => chat.result(),
  };
}
