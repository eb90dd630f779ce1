import type { ChatCompletion } from "../../adapters/types.ts";
import type { ResponsesRequest } from "./responses-model.ts";
import { fromChatResponse, newResponseId } from "./responses.ts";
import { responsesEventStream } from "./responses-stream.ts";
import { isRelayed } from "../relay.ts";

/**
 * The chat pipeline's answer re-shaped as a Responses API answer. Failures already have OpenAI's
 * error shape, which the Responses API shares, so they pass unchanged with their headers
 * (x-request-id, x-perpetuo-provider, x-perpetuo-attempts, retry-after). So do answers an OpenAI
 * entry gave in the Responses API itself.
 */
export async function asResponses(res: Response, req: ResponsesRequest): Promise<Response> {
  if (res.status !== 200 || !res.body || isRelayed(res)) return res;
  const headers = new Headers(res.headers);
  const meta = { id: newResponseId(), createdAt: Math.floor(Date.now() / 1000), model: req.model };
  if ((headers.get("content-type") ?? "").startsWith("text/event-stream")) {
    return new Response(responsesEventStream(res.body, req, meta), { status: 200, headers });
  }
  const completion = (await res.json()) as ChatCompletion;
  headers.delete("content-length");
  return new Response(JSON.stringify(fromChatResponse(completion, req, meta.id)), { status: 200, headers });
}
