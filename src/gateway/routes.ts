import { Elysia } from "elysia";
import * as v from "valibot";
import { requestIdFrom } from "../ids.ts";
import { ApiError } from "../http/errors.ts";
import type { ChatRequest } from "../adapters/types.ts";
import { ChatCompletionBody } from "./model.ts";
import { ResponsesBody, type ResponsesRequest } from "./inbound/responses-model.ts";
import { toChat } from "./inbound/responses.ts";
import { asResponses } from "./inbound/responses-stream.ts";
import { nativeResponses } from "./inbound/responses-native.ts";
import { newRecord, proxyChat } from "./proxy.ts";
import type { CallBase, ChatCall } from "./call.ts";
import { redactSecrets } from "../adapters/types.ts";
import { listedModels, matchesModel, parsePin, serves } from "./router.ts";
import { proxyEmbeddings } from "./embeddings.ts";
import { EmbeddingsBody, type EmbeddingsRequest } from "./embeddings-model.ts";
import type { GatewayServices } from "./services.ts";
import type { GatewayKey, WorkspaceRuntime } from "./cache.ts";
import { KeyringError } from "../providers/keyring.ts";
import { estimateChatTokens, estimateEmbeddingTokens, type AdmitRequest } from "../governance/admit.ts";

/** The workspace's providers; a key sealed under a secret this process lacks is an operator problem, said plainly. */
export async function runtimeFor(gw: GatewayServices, workspaceId: string): Promise<WorkspaceRuntime> {
  try {
    return await gw.cache.workspace(workspaceId);
  } catch (err) {
    if (!(err instanceof KeyringError)) throw err;
    gw.logger.error("provider keys cannot be decrypted; was PERPETUO_SECRET changed without PERPETUO_SECRET_PREVIOUS?", {
      workspace_id: workspaceId,
    });
    throw new ApiError(
      500,
      "this workspace's provider keys cannot be decrypted with the gateway's configured secret; the operator must restore it (see README: key rotation)",
      { code: "provider_keys_unavailable" },
    );
  }
}

const invalidKey = (message: string) => new ApiError(401, message, { type: "invalid_request_error", code: "invalid_api_key" });

/**
 * The key from `Authorization: Bearer prp_…`, or from `x-api-key: prp_…`, which is how Anthropic's
 * SDKs send theirs (see POST /v1/messages). Authorization wins when both are sent.
 */
function tokenFrom(headers: Headers): string {
  const header = headers.get("authorization");
  if (!header) {
    const apiKey = headers.get("x-api-key")?.trim();
    if (apiKey) return apiKey;
    throw invalidKey("missing API key: send Authorization: Bearer prp_… (or x-api-key: prp_…)");
  }
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!m) throw invalidKey("the Authorization header must be: Bearer prp_…");
  return m[1];
}

async function authenticate(gw: GatewayServices, headers: Headers): Promise<GatewayKey> {
  const token = tokenFrom(headers);
  if (!token.startsWith("prp_")) {
    throw invalidKey(
      token.startsWith("eyJ")
        ? "dashboard session tokens are not accepted here; create a gateway API key (prp_…)"
        : "invalid API key: gateway keys start with prp_",
    );
  }
  const key = await gw.cache.authenticate(token);
  if (!key) throw invalidKey("invalid, revoked or expired API key");
  gw.tracker?.touch(key.id);
  return key;
}

/**
 * What the gateway knows of a request as it goes, for a refusal's log row: its key, when it began,
 * the model it asked for once its body was read, and the governance code it was refused with
 * (budget_exceeded, …). /v1/messages renders refusals in Anthropic's shape, which has no code to log.
 */
const stateOf = new WeakMap<Request, { key: Promise<GatewayKey>; startedAt: number; model: string; refusalCode?: string }>();
/** Refusals by governance keep their code as the log row's error class (filterable in the logs). */
const GOVERNANCE_CODES = new Set(["model_not_allowed", "unpriced_model", "rate_limit_exceeded", "budget_exceeded"]);

/**
 * The request's gateway key, looked up once per request: the body parser asks first (so nobody
 * unauthenticated makes us read a body; see http/body.ts), the routes ask again.
 */
export function gatewayKeyFor(gw: GatewayServices, request: Request): Promise<GatewayKey> {
  let entry = stateOf.get(request);
  if (!entry) {
    entry = { key: authenticate(gw, request.headers), startedAt: performance.now(), model: "" };
    stateOf.set(request, entry);
  }
  return entry.key;
}

/**
 * A request with a valid key that was refused before reaching a provider (a body too large, too
 * deep, not JSON, invalid; an internal error) still gets its log row, like every other gateway request.
 */
export async function recordRefusal(gw: GatewayServices, request: Request, res: Response): Promise<void> {
  const entry = stateOf.get(request);
  if (!entry || !gw.sink || res.status < 400) return;
  // Cloned now: the original is on its way to the client.
  const copy = res.clone();
  const key = await entry.key.catch(() => null);
  if (!key) return;
  const error = await copy
    .json()
    .then((b: { error?: { message?: unknown; code?: unknown } }) => b?.error)
    .catch(() => null);
  const message = typeof error?.message === "string" ? error.message : null;
  const shown = entry.refusalCode ?? error?.code;
  const code = typeof shown === "string" && GOVERNANCE_CODES.has(shown) ? shown : null;
  const requestId = res.headers.get("x-request-id") ?? requestIdFrom(null);
  gw.sink.enqueue({
    ...newRecord({
      requestId,
      key,
      model: entry.model,
      stream: false,
      startedAt: entry.startedAt,
      status: res.status,
      endpoint: endpointOf(request),
    }),
    error_class: code ?? "invalid_request",
    error_message: redactSecrets(message ?? `refused with HTTP ${res.status}`),
  });
}

/** The log rows' `endpoint` for a /v1 path: the API the client spoke. */
function endpointOf(request: Request): string {
  const path = new URL(request.url).pathname;
  return ["embeddings", "responses", "messages"].find((e) => path.startsWith(`/v1/${e}`)) ?? "chat";
}

/**
 * The steps every /v1 POST that reaches a provider shares: the request id, the workspace, governance
 * (allow-list, budgets, rate limits: src/governance), then `run` with the call's pieces; the answer
 * gets governance's x-ratelimit-* headers.
 */
async function governedCall(
  gw: GatewayServices,
  request: Request,
  key: GatewayKey,
  admit: Omit<AdmitRequest, "requestId">,
  run: (call: CallBase) => Promise<Response>,
): Promise<Response> {
  const startedAt = performance.now();
  const requestId = requestIdFrom(request.headers.get("x-request-id"));
  const runtime = await runtimeFor(gw, key.workspace_id);
  // Every route looked the key up first (gatewayKeyFor), so the request has its state.
  const state = stateOf.get(request)!;
  state.model = admit.model;
  let limitHeaders: Record<string, string>;
  try {
    // Governance first: an over-limit or disallowed request reaches no provider.
    limitHeaders = (await gw.governance.admit(key, runtime, { ...admit, requestId })).headers;
  } catch (err) {
    if (err instanceof ApiError && err.code) state.refusalCode = err.code;
    throw err;
  }
  // Shutdown's deadline stops the upstream call as a client leaving would.
  const res = await run({ key, runtime, requestId, signal: AbortSignal.any([request.signal, gw.draining]), startedAt });
  for (const name in limitHeaders) res.headers.set(name, limitHeaders[name]);
  return res;
}

/** A chat request, governed, through the proxy; the other APIs that run as chat (Responses, Messages) add what they need. */
export function governedChat(
  gw: GatewayServices,
  request: Request,
  key: GatewayKey,
  body: ChatRequest,
  dialect?: Pick<ChatCall, "forCandidate" | "endpoint" | "relay">,
): Promise<Response> {
  const admit = { model: body.model, estimatedTokens: estimateChatTokens(body) };
  return governedCall(gw, request, key, admit, (c) => proxyChat(gw, { ...c, body, ...dialect }));
}

/** One /v1 POST endpoint as a plain function of its validated body, for the lean path (v1.ts) and the Elysia route (docs). */
export interface GatewayPost {
  schema: v.GenericSchema;
  summary: string;
  handle(body: unknown, key: GatewayKey, request: Request): Promise<Response>;
}

/** The gateway's POST endpoints by path, independent of any router: the body already validated, the key authenticated. */
export function gatewayPosts(gw: GatewayServices): Record<string, GatewayPost> {
  return {
    "/v1/chat/completions": {
      schema: ChatCompletionBody,
      summary: "Create a chat completion (OpenAI-compatible; streams with stream: true)",
      handle: (body, key, request) => governedChat(gw, request, key, body as ChatRequest),
    },
    // The Responses API runs as a chat request, so routing, fallback, logs and usage are the same;
    // OpenAI entries get the request as sent (inbound/responses-native.ts).
    "/v1/responses": {
      schema: ResponsesBody,
      summary: "Create a response (OpenAI Responses API, stateless; streams with stream: true)",
      async handle(raw, key, request) {
        const body = raw as ResponsesRequest;
        const relay = nativeResponses(body);
        return asResponses(await governedChat(gw, request, key, toChat(body), { relay, endpoint: "responses" }), body);
      },
    },
    "/v1/embeddings": {
      schema: EmbeddingsBody,
      summary: "Create embeddings (OpenAI-compatible; float or base64)",
      handle(raw, key, request) {
        const body = raw as EmbeddingsRequest;
        const admit = { model: body.model, estimatedTokens: estimateEmbeddingTokens(body.input) };
        return governedCall(gw, request, key, admit, (c) => proxyEmbeddings(gw, { ...c, body }));
      },
    },
  };
}

/** The OpenAI-compatible surface: chat completions, responses, embeddings and models, gateway keys only. */
export function gatewayRoutes(gw: GatewayServices, posts: Record<string, GatewayPost>) {
  const app = new Elysia({ prefix: "/v1" }).derive(async ({ request }) => ({ gatewayKey: await gatewayKeyFor(gw, request) }));
  for (const [path, post] of Object.entries(posts)) {
    app.post(path.slice("/v1".length), ({ body, gatewayKey, request }) => post.handle(body, gatewayKey, request), {
      body: post.schema,
      detail: { summary: post.summary },
    });
  }
  return (
    app
      .get(
        "/models",
        async ({ gatewayKey }) => {
          const owners = await modelOwners(gw, await runtimeFor(gw, gatewayKey.workspace_id));
          const created = unixNow();
          return { object: "list", data: [...owners].map(([id, owner]) => modelObject(id, owner, created)) };
        },
        { detail: { summary: "List the models the gateway key can reach" } },
      )
      // Model ids may contain slashes (openrouter/openai/gpt-4o): the rest of the path is the id.
      .get(
        "/models/*",
        async ({ gatewayKey, params }) => {
          const id = modelIdFromPath(params["*"]);
          const runtime = await runtimeFor(gw, gatewayKey.workspace_id);
          const owner = id === null ? undefined : ((await modelOwners(gw, runtime)).get(id) ?? servedByPattern(runtime, id));
          if (id !== null && owner) return modelObject(id, owner);
          throw new ApiError(404, `The model '${id ?? params["*"]}' does not exist or is not served by this workspace's providers`, {
            type: "invalid_request_error",
            param: "model",
            code: "model_not_found",
          });
        },
        { params: ModelIdParams, detail: { summary: "Get one model the gateway key can reach (ids may contain slashes)" } },
      )
  );
}

/** The model id: the rest of the path, slashes included (percent-encoded or not). */
const ModelIdParams = v.object({ "*": v.pipe(v.string(), v.description("A model id; may contain slashes (openrouter/openai/gpt-4o)")) });

const unixNow = () => Math.floor(Date.now() / 1000);

function modelObject(id: string, owned_by: string, created = unixNow()) {
  return { id, object: "model", created, owned_by };
}

/** What GET /v1/models lists, model id to owner: explicit patterns and aliases, then what open entries' providers report. */
async function modelOwners(gw: GatewayServices, runtime: WorkspaceRuntime): Promise<Map<string, string>> {
  const owners = new Map(listedModels(runtime.providers).map((m) => [m.id, m.owned_by]));
  // Entries that serve any model (or wildcards) can only be listed by asking the provider.
  const open = runtime.providers.filter((p) => p.enabled && (p.models.length === 0 || p.models.some((x) => x.includes("*"))));
  const lists = await Promise.all(open.map((p) => gw.upstreamModels(p)));
  open.forEach((p, i) => {
    for (const id of lists[i]) if (!owners.has(id) && serves(p, id)) owners.set(id, p.name);
  });
  return owners;
}

/**
 * A model no list names but an entry's wildcard pattern (`gpt-4o*`) or pin (`entry/model`) covers.
 * Entries without patterns serve anything: that says nothing about whether the model exists.
 */
function servedByPattern(runtime: WorkspaceRuntime, id: string): string | undefined {
  const { pinned, model } = parsePin(id, runtime.providers);
  const pool = pinned ? [pinned] : runtime.providers;
  const p = pool.find((e) => e.enabled && e.models.some((pattern) => pattern.includes("*") && matchesModel(pattern, model)));
  return p?.name;
}

/** The wildcard's text as a model id: SDKs percent-encode the slashes in ids; null when it cannot be one. */
export function modelIdFromPath(raw: string | undefined): string | null {
  if (!raw) return null;
  let id: string;
  try {
    id = decodeURIComponent(raw);
  } catch {
    return null;
  }
  return id.length > 0 && id.length <= 256 && !/[\x00-\x1f\x7f]/.test(id) ? id : null;
}
