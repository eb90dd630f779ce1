import { embeddingsAdapterFor, inputTexts, type EmbeddingsRequest, type EmbeddingsResponse } from "../adapters/embeddings.ts";
import { costFor } from "../telemetry/pricing.ts";
import { bodyForLog } from "../telemetry/content.ts";
import { estimateTokens } from "../telemetry/estimate.ts";
import { providerColumns, selectCandidates } from "./router.ts";
import { jsonAnswer } from "./attempt.ts";
import { eachCandidate, modelNotFound, recorder } from "./proxy.ts";
import type { CallBase, ProxyDeps } from "./call.ts";
import { jsonSuccess } from "./relay.ts";

/** Gemini counts no tokens; the same estimate as for chat prompts (usage_estimated). */
function estimatedPromptTokens(req: EmbeddingsRequest): number {
  const texts = inputTexts(req.input);
  if (texts) return texts.reduce((n, t) => n + estimateTokens(t), 0);
  // Token ids are tokens already.
  return (req.input as number[] | number[][]).reduce<number>((n, x) => n + (Array.isArray(x) ? x.length : 1), 0);
}

/**
 * `POST /v1/embeddings` through the workspace's entries, the way chat goes (router, fallback,
 * cooldowns, one log row with endpoint 'embeddings'); entries whose provider has no embeddings
 * API (Anthropic) are passed over.
 */
export async function proxyEmbeddings(deps: ProxyDeps, call: CallBase & { body: EmbeddingsRequest }): Promise<Response> {
  const { body, runtime } = call;
  const { candidates: all, model } = selectCandidates(runtime.providers, body.model, deps.cooldowns);
  const log = recorder(deps, call, false, "embeddings");

  if (all.length === 0) return modelNotFound(runtime, body.model, log);
  const candidates = all.filter((c) => embeddingsAdapterFor(c.provider.type) !== null);
  if (candidates.length === 0) {
    const names = [...new Set(all.map((c) => `${c.provider.name} (${c.provider.type})`))].join(", ");
    const message = `no provider serving '${body.model}' has an embeddings API: ${names} cannot embed; add an OpenAI, Gemini or OpenAI-compatible provider for this model`;
    const type = "invalid_request_error";
    return log.refuse({ status: 400, class: "unsupported", message, type, param: "model", code: "unsupported_endpoint" });
  }

  const encoding = body.encoding_format ?? "float";
  return eachCandidate(deps, call, candidates, log, async (cand, attempt, started) => {
    const adapter = embeddingsAdapterFor(cand.provider.type)!;
    const config = { baseUrl: cand.provider.base_url, apiKey: cand.provider.api_key, model: cand.upstreamModel };
    const upstream = adapter.buildEmbeddingsRequests(body, config);
    const answered = await jsonAnswer({ deps, call, cand, adapter, upstream, attempt, started }, (_, bodies) =>
      adapter.parseEmbeddingsResponses(bodies, { requestedModel: model, targetModel: cand.upstreamModel, encoding }),
    );
    if (!answered.ok) return answered;
    const { response, promptTokens } = answered.value;
    const estimated = promptTokens === null;
    const prompt = promptTokens ?? estimatedPromptTokens(body);
    const cost = costFor(response.model || cand.upstreamModel, { prompt_tokens: prompt, completion_tokens: 0 }, cand.provider.pricing);
    const out: EmbeddingsResponse = { ...response, usage: { prompt_tokens: prompt, total_tokens: prompt } };
    log.record({
      status: 200,
      ...providerColumns(cand.provider),
      model_used: response.model,
      ttft_ms: attempt.latency_ms,
      prompt_tokens: prompt,
      usage_estimated: estimated,
      cost_usd: cost,
      // The vectors themselves say nothing worth keeping; their count and size do.
      response_body: runtime.logContent
        ? bodyForLog(JSON.stringify({ ...out, data: out.data.map((d) => ({ index: d.index, length: d.embedding.length })) }))
        : null,
    });
    return { ok: true, response: jsonSuccess({ call, cand }, JSON.stringify(out), cost) };
  });
}
