import { Elysia } from "elysia";
import type { OpenAPIV3 } from "openapi-types";
import { requestIdFrom } from "../../ids.ts";
import { translateSSE } from "../../adapters/sse.ts";
import { tryParseJson, type ChatCompletion } from "../../adapters/types.ts";
import { gatewayKeyFor, governedChat, runtimeFor } from "../routes.ts";
import type { GatewayServices } from "../services.ts";
import { CountTokensBody, MessagesBody } from "./anthropic-schema.ts";
import { ApiError } from "../../http/errors.ts";
import { selectCandidates } from "../router.ts";
import { estimatePromptTokens } from "../../telemetry/estimate.ts";
import { anthropicOnly, forCandidate, fromChatResponse, newMessageId, toAnthropicError, toChat } from "./anthropic-messages.ts";
import { createMessagesStream } from "./anthropic-stream.ts";
import { messagesRelay } from "./anthropic-passthrough.ts";
import { isRelayed } from "../relay.ts";

const MESSAGES_PATH = "/v1/messages";

/** Whether an error for this request is rendered in Anthropic's shape (see createApp's onError). */
export function isMessagesRequest(request: Request): boolean {
  const path = new URL(request.url).pathname.replace(/\/+$/, "");
  return path === MESSAGES_PATH || path.startsWith(`${MESSAGES_PATH}/`);
}

/** Anthropic's SDKs read the request id from `request-id`; ours is `x-request-id`. Both are sent. */
function withRequestId(headers: Headers): Headers {
  const id = headers.get("x-request-id");
  if (id) headers.set("request-id", id);
  return headers;
}

/** A gateway error response (OpenAI's shape) in Anthropic's shape, same status and headers. */
export async function anthropicErrorResponse(res: Response): Promise<Response> {
  if (!res.body) return res;
  const body = tryParseJson(await res.text());
  const headers = withRequestId(new Headers(res.headers));
  headers.set("content-type", "application/json");
  headers.delete("content-length");
  return new Response(JSON.stringify(toAnthropicError(res.status, body, headers.get("x-request-id"))), { status: res.status, headers });
}

/** The chat pipeline's answer (a completion, a chunk stream or an error) as a Messages answer; a relayed one as it came. */
async function toMessagesResponse(res: Response, ctx: { id: string; model: string }): Promise<Response> {
  if (res.status !== 200) return anthropicErrorResponse(res);
  const headers = withRequestId(new Headers(res.headers));
  headers.delete("content-length");
  if (isRelayed(res)) return new Response(res.body, { status: 200, headers });
  if ((res.headers.get("content-type") ?? "").startsWith("text/event-stream") && res.body) {
    const events = createMessagesStream(ctx);
    return new Response(translateSSE(res.body, events.push, events.end), { status: 200, headers });
  }
  const completion = (await res.json()) as ChatCompletion;
  headers.set("content-type", "application/json");
  return new Response(JSON.stringify(fromChatResponse(completion, ctx.id)), { status: 200, headers });
}

const ERROR_SCHEMA: OpenAPIV3.SchemaObject = {
  type: "object",
  required: ["type", "error"],
  properties: {
    type: { type: "string", enum: ["error"] },
    error: {
      type: "object",
      required: ["type", "message"],
      properties: {
        type: {
          type: "string",
          enum: [
            "invalid_request_error",
            "authentication_error",
            "permission_error",
            "not_found_error",
            "request_too_large",
            "rate_limit_error",
            "api_error",
            "overloaded_error",
          ],
        },
        message: { type: "string" },
      },
    },
    request_id: { type: "string" },
  },
};

/** The OpenAPI entry of a Messages route: its success, and client errors in Anthropic's shape. */
const detail = (summary: string, description: string, ok: string) => ({
  summary,
  description,
  responses: {
    200: { description: ok },
    "4XX": { description: "A client error in Anthropic's shape", content: { "application/json": { schema: ERROR_SCHEMA } } },
  },
});

/**
 * `POST /v1/messages`: Anthropic's Messages API in front of every provider of the workspace. The
 * request is translated to the gateway's chat request and run through the same pipeline as
 * `/v1/chat/completions` (routing, fallback, cooldowns, logs, usage); its answer is translated back.
 * Anthropic entries are relayed instead (anthropic-passthrough.ts), in the same attempt loop.
 */
export function messagesRoutes(gw: GatewayServices) {
  return new Elysia({ prefix: "/v1" })
    .derive(async ({ request }) => ({ gatewayKey: await gatewayKeyFor(gw, request) }))
    .post(
      "/messages",
      async ({ body, gatewayKey, request }) => {
        const only = anthropicOnly(body);
        const res = await governedChat(gw, request, gatewayKey, toChat(body), {
          forCandidate: (b, cand) => forCandidate(b, cand, only),
          endpoint: "messages",
          // Anthropic entries get the client's own body; every other entry the translation.
          relay: messagesRelay(body, request.headers),
        });
        return toMessagesResponse(res, { id: newMessageId(), model: body.model });
      },
      {
        body: MessagesBody,
        detail: detail(
          "Create a message (Anthropic Messages API, routed to any provider; streams with stream: true)",
          "Anthropic's Messages request and answer, routed to any provider entry of the workspace: Anthropic entries receive the body as sent (model mapped) and answer as they do; other entries get a translation both ways. The gateway key goes in `x-api-key` (as Anthropic's SDKs send it) or `Authorization: Bearer`. Errors have Anthropic's shape `{type:\"error\", error:{type, message}}`; streams are Anthropic's event sequence.",
          "An Anthropic `message`, or with `stream: true` a `text/event-stream` of Anthropic events",
        ),
      },
    )
    .post(
      "/messages/count_tokens",
      async ({ body, gatewayKey, headers }) => {
        const runtime = await runtimeFor(gw, gatewayKey.workspace_id);
        if (selectCandidates(runtime.providers, body.model, gw.cooldowns).candidates.length === 0) {
          throw new ApiError(404, `no provider in this workspace serves the model '${body.model}'`, {
            param: "model",
            code: "model_not_found",
          });
        }
        const chat = toChat(body);
        // The gateway's estimate (telemetry/estimate.ts), the same whichever entry would answer.
        const input_tokens = estimatePromptTokens(chat.messages, chat.tools);
        const requestId = requestIdFrom(headers["x-request-id"]);
        return new Response(JSON.stringify({ input_tokens }), {
          headers: { "content-type": "application/json", "x-request-id": requestId, "request-id": requestId },
        });
      },
      {
        body: CountTokensBody,
        detail: detail(
          "Estimate a Messages request's input tokens (Anthropic's count_tokens)",
          "Anthropic's token-counting request (a Messages request; max_tokens optional): `{input_tokens}`, the gateway's estimate (about 4 characters a token, images 85), not a provider's count. Not a generation: no log row, no usage.",
          "`{input_tokens}`",
        ),
      },
    );
}
