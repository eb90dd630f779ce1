import type { ResponsesRequest } from "./responses-model.ts";
import { fromChatResponse, newResponseId } from "./responses.ts";
import { responsesEventStream } from "./responses-stream.ts";
import { inClientApi } from "../relay.ts";

/**
 * The chat pipeline's answer re-shaped as a Responses API answer. Failures already have OpenAI's
 * error shape, which the Responses API shares, so they pass unchanged with their headers
 * (x-request-id, x-perpetuo-provider, x-perpetuo-attempts, retry-after). So do answers an OpenAI
 * entry gave in the Responses API itself.
 */
export async function asResponses(res: Response, req: ResponsesRequest): Promise<Response> {
  if (res.status !== 200) return res;
  const meta = { id: newResponseId(), createdAt: Math.floor(Date.now() / 1000), model: req.model };
  return inClientApi(res, new Headers(res.headers), {
    stream: (body) => responsesEventStream(body, req, meta),
    json: (completion) => fromChatResponse(completion, req, meta.id),
  });
}
