import type { Sql } from "../db/client.ts";
import { ApiError } from "../http/errors.ts";
import type { GatewayKey, WorkspaceRuntime } from "../gateway/cache.ts";
import { Cooldowns, matchesModel, parsePin, selectCandidates } from "../gateway/router.ts";
import { findPrice } from "../telemetry/pricing.ts";
import { estimatePromptTokens, type EstimatableMessage } from "../telemetry/estimate.ts";
import type { LogSink, RequestRecord } from "../telemetry/types.ts";
import { budgetMessage, NO_LIMITS, rateHeaders, rateMessage } from "./limits.ts";
import { Governor, type GovernorOptions, type Scope } from "./governor.ts";

/**
 * Completion tokens counted up front when the request sets no max_tokens / max_completion_tokens:
 * the estimate is replaced by the real figure when the request ends, so this only decides how
 * close to a tokens-per-minute limit a request without a cap may start.
 */
export const DEFAULT_COMPLETION_ESTIMATE = 256;

/** Prompt (characters/4, see telemetry/estimate.ts) plus the completion cap, times n choices. */
export function estimateChatTokens(body: {
  messages: readonly EstimatableMessage[];
  tools?: unknown;
  max_tokens?: number | null;
  max_completion_tokens?: number | null;
  n?: number | null;
}): number {
  const completion = body.max_completion_tokens ?? body.max_tokens ?? DEFAULT_COMPLETION_ESTIMATE;
  return estimatePromptTokens(body.messages, body.tools) + completion * (body.n ?? 1);
}

/** Embeddings have no completion: the input only (characters/4 for text, one per token id). */
export function estimateEmbeddingTokens(input: string | readonly (string | number | readonly number[])[]): number {
  if (typeof input === "string") return Math.ceil(input.length / 4);
  let n = 0;
  for (const x of input) n += typeof x === "string" ? Math.ceil(x.length / 4) : typeof x === "number" ? 1 : x.length;
  return Math.max(1, n);
}

export interface AdmitRequest {
  /** As the client named it (an `entry/model` pin included). */
  model: string;
  /** Prompt plus completion tokens expected (estimateChatTokens for chat). */
  estimatedTokens: number;
  /** The request id its log record will carry: the record settles what was counted here. */
  requestId: string;
}

const noCooldowns = new Cooldowns();
const reservationId = (keyId: string, requestId: string) => `${keyId} ${requestId}`;

/** The gateway's governance: admission on the way in, settlement from every log record on the way out. */
export class Governance {
  readonly governor: Governor;

  constructor(
    sql: Sql,
    private readonly opts: { unpricedModels: "allow" | "refuse" } & GovernorOptions,
  ) {
    this.governor = new Governor(sql, opts);
  }

  /**
   * Admits a request or throws the ApiError to answer with: 403 model_not_allowed, 403
   * unpriced_model, 429 budget_exceeded, 429 rate_limit_exceeded. Nothing is counted for a
   * refused request. The result's headers (x-ratelimit-*) go on the response.
   */
  async admit(key: GatewayKey, runtime: WorkspaceRuntime, req: AdmitRequest): Promise<{ headers: Record<string, string> }> {
    const allowed = key.allowed_models ?? [];
    if (allowed.length) {
      const bare = parsePin(req.model, runtime.providers).model;
      if (!allowed.some((p) => matchesModel(p, req.model) || matchesModel(p, bare))) {
        throw new ApiError(403, `this API key may not use the model '${req.model}'; it is limited to: ${allowed.join(", ")}`, {
          code: "model_not_allowed",
          param: "model",
        });
      }
    }
    const keyLimits = key.limits ?? NO_LIMITS;
    const wsLimits = runtime.limits ?? NO_LIMITS;
    if (this.opts.unpricedModels === "refuse" && (keyLimits.budget || wsLimits.budget)) {
      const { candidates } = selectCandidates(runtime.providers, req.model, noCooldowns);
      const unpriced = candidates.find((c) => !findPrice(c.upstreamModel, c.provider.pricing));
      if (unpriced) {
        throw new ApiError(
          403,
          `the model '${req.model}' has no known price, and this ${keyLimits.budget ? "API key" : "workspace"} has a budget; the operator refuses unpriced models under a budget (UNPRICED_MODELS=refuse)`,
          { code: "unpriced_model", param: "model" },
        );
      }
    }
    const scopes: Scope[] = [
      { kind: "key", id: `key:${key.id}`, workspace_id: key.workspace_id, key_id: key.id, limits: keyLimits },
      { kind: "workspace", id: `workspace:${key.workspace_id}`, workspace_id: key.workspace_id, key_id: null, limits: wsLimits },
    ];
    const a = await this.governor.admit(scopes, req.estimatedTokens, reservationId(key.id, req.requestId));
    const headers = rateHeaders(a.rates, a.resetMs);
    if (a.ok) return { headers };
    if ("budget" in a) {
      throw new ApiError(429, budgetMessage(a.budget, this.governor.now()), {
        code: "budget_exceeded",
        type: "insufficient_quota",
        headers,
      });
    }
    throw new ApiError(429, rateMessage(a.rate, a.resetMs), {
      code: "rate_limit_exceeded",
      headers: { ...headers, "retry-after": String(Math.max(1, Math.ceil(a.resetMs / 1000))) },
    });
  }

  /** Settles each record as it is logged: real tokens replace the estimate, its cost counts against budgets. */
  settle(r: RequestRecord): void {
    const scopes = [`workspace:${r.workspace_id}`];
    if (r.api_key_id) scopes.push(`key:${r.api_key_id}`);
    const tokens = (Number(r.prompt_tokens) || 0) + (Number(r.completion_tokens) || 0);
    const cost = typeof r.cost_usd === "number" && Number.isFinite(r.cost_usd) ? r.cost_usd : 0;
    this.governor.settle({ id: r.id, reservationId: reservationId(r.api_key_id ?? "", r.request_id), scopes, tokens, cost });
  }

  /** The gateway's sink: every record settles, then goes on to the log writer (if any). */
  wrap(inner: LogSink | null): LogSink {
    return {
      enqueue: (record) => {
        this.settle(record);
        inner?.enqueue(record);
      },
    };
  }

  stop(): Promise<void> {
    return this.governor.stop();
  }
}
