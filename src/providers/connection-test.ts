import type { Sql } from "../db/client.ts";
import { adapterFor } from "../adapters/index.ts";
import { redactSecrets, tryParseJson, UpstreamResponseError, type Adapter, type ErrorClass } from "../adapters/types.ts";
import { BlockedAddressError, type UpstreamFetch } from "../net/fetch.ts";
import { readBounded, readPrefix } from "../http/body.ts";
import { MAX_UPSTREAM_BODY_BYTES, MAX_UPSTREAM_ERROR_BYTES } from "../gateway/attempt.ts";
import { KeyringError, type Keyring } from "./keyring.ts";
import { PROVIDER_TYPE_HINTS } from "./type-hints.ts";
import { loadProviderConfig } from "./service.ts";
import type { ProviderConfig } from "./model.ts";

/**
 * What failed, in the words the dashboard puts in front of the message: the key (auth), the model
 * (model), the way there (network, blocked, timeout), the provider itself (upstream), or the entry's
 * own settings (config: a key that cannot be decrypted, no model to ask for, an answer of the wrong shape).
 */
type ProviderTestProblem = "auth" | "model" | "network" | "blocked" | "timeout" | "rate_limit" | "upstream" | "config";

type Failure = { ok: false; problem: ProviderTestProblem; status: number | null; message: string };
export type ProviderTestResult = { ok: true; model: string; latency_ms: number } | (Failure & { model: string | null; latency_ms: number });

const PROVIDER_TEST_TIMEOUT_MS = 10_000;

// Beyond the known key prefixes redactSecrets knows: long random-looking tokens (mixed case and
// digits, or long hex), as an upstream might echo a key of a shape nobody listed.
const KEY_SHAPED = /[A-Za-z0-9_-]{24,}|\b[0-9a-fA-F]{32,}\b/g;
const looksRandom = (t: string) => /[0-9a-f]{32,}/i.test(t) || (/[a-z]/.test(t) && /[A-Z]/.test(t) && /[0-9]/.test(t));

/** A provider's message fit to show: the key, anything key-shaped and anything over 500 characters removed. */
export function scrubUpstreamMessage(message: string, apiKey: string | null): string {
  let out = redactSecrets(message, apiKey);
  out = out.replace(KEY_SHAPED, (t) => (looksRandom(t) ? "[redacted]" : t));
  return out.length > 500 ? `${out.slice(0, 500)}…` : out;
}

const PROBLEM_OF: Partial<Record<ErrorClass, ProviderTestProblem>> = {
  auth: "auth",
  not_found: "model",
  network: "network",
  blocked_address: "blocked",
  timeout: "timeout",
  rate_limit: "rate_limit",
};

/**
 * The model the test asks for: the entry's first exact model (through its alias map), else its
 * first alias, else the type's usual cheap model. Null when none is known (an OpenAI-compatible
 * server with no models listed): then the server's own model list names one.
 */
export function testModelFor(config: Pick<ProviderConfig, "type" | "models" | "model_map">): { model: string; upstream: string } | null {
  const exact = config.models.find((m) => !m.includes("*"));
  if (exact) return { model: exact, upstream: config.model_map[exact] ?? exact };
  const [alias] = Object.entries(config.model_map);
  if (alias) return { model: alias[0], upstream: alias[1] };
  const fallback = PROVIDER_TYPE_HINTS[config.type].models[0];
  return fallback ? { model: fallback, upstream: fallback } : null;
}

interface Attempt {
  adapter: Adapter;
  config: ProviderConfig;
  fetch: UpstreamFetch;
  signal: AbortSignal;
  timeoutMs: number;
}

type Outcome = { ok: true; body: unknown } | Failure;
function failure(problem: ProviderTestProblem, status: number | null, message: string): Failure {
  return { ok: false, problem, status, message };
}

/** One request to the provider, read within the gateway's size caps, with every failure put in words. */
async function send(a: Attempt, req: { url: string; method: string; headers: Record<string, string>; body?: string }): Promise<Outcome> {
  const origin = new URL(req.url).origin;
  try {
    const res = await a.fetch(req.url, { method: req.method, headers: req.headers, body: req.body, redirect: "manual", signal: a.signal });
    // One tenant's provider must not be able to fill the shared process: read at most the caps.
    const text = res.ok ? await readBounded(res.body, MAX_UPSTREAM_BODY_BYTES) : await readPrefix(res.body, MAX_UPSTREAM_ERROR_BYTES);
    if (text === null) {
      return failure("upstream", res.status, `${origin} answered more than ${MAX_UPSTREAM_BODY_BYTES / (1024 * 1024)} MiB; check base_url`);
    }
    if (res.status >= 300 && res.status < 400) {
      const message = `the provider answered with a redirect (HTTP ${res.status}); set base_url to the address it redirects to`;
      return failure("config", res.status, message);
    }
    if (typeof text === "string") {
      const e = a.adapter.classifyError(res.status, text, res.headers);
      return failure(PROBLEM_OF[e.class] ?? "upstream", res.status, e.message);
    }
    const body = tryParseJson(new TextDecoder().decode(text));
    if (body === undefined) return failure("config", res.status, `${origin} answered HTTP ${res.status} but not with JSON; check base_url`);
    return { ok: true, body };
  } catch (err) {
    if (err instanceof BlockedAddressError) return failure("blocked", null, `refused to connect to ${origin}: ${err.message}`);
    if (a.signal.aborted) return failure("timeout", null, `no answer from ${origin} within ${a.timeoutMs / 1000} s`);
    return failure("network", null, `could not connect to ${origin}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/**
 * Sends a one-token chat request, as the gateway would, with the stored key: it proves the URL,
 * the key and the model together (a models list proves only the first two). `fetch` is the
 * gateway's guarded one (src/net/fetch.ts): checked addresses, no redirects.
 */
export async function testProviderConnection(
  config: ProviderConfig,
  opts: { timeoutMs?: number; fetch: UpstreamFetch },
): Promise<ProviderTestResult> {
  const timeoutMs = opts.timeoutMs ?? PROVIDER_TEST_TIMEOUT_MS;
  const a: Attempt = { adapter: adapterFor(config.type), config, fetch: opts.fetch, signal: AbortSignal.timeout(timeoutMs), timeoutMs };
  const target = { baseUrl: config.base_url, apiKey: config.api_key };
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const fail = ({ problem, status, message }: Failure, model: string | null): ProviderTestResult => {
    return { ok: false, problem, status, model, message: scrubUpstreamMessage(message, config.api_key), latency_ms: elapsed() };
  };

  let pick = testModelFor(config);
  if (!pick) {
    const listed = await send(a, a.adapter.buildModelsRequest(target));
    if (!listed.ok) return fail(listed, null);
    const first = a.adapter.parseModelsResponse(listed.body)[0];
    if (!first) return fail(failure("config", null, "the server lists no models; add the model to test under Models"), null);
    pick = { model: first, upstream: first };
  }
  const chat = { model: pick.upstream, messages: [{ role: "user" as const, content: "Say OK." }], max_tokens: 1 };
  let req;
  try {
    req = a.adapter.buildChatRequest(chat, { ...target, model: pick.upstream });
  } catch (err) {
    return fail(failure("config", null, err instanceof Error ? err.message : String(err)), pick.model);
  }
  const answer = await send(a, req);
  if (!answer.ok) return fail(answer, pick.model);
  try {
    a.adapter.parseChatResponse(answer.body, { id: "chatcmpl-test", created: 0, requestedModel: pick.upstream, includeUsage: false });
  } catch (err) {
    if (err instanceof UpstreamResponseError) return fail(failure(PROBLEM_OF[err.error.class] ?? "upstream", 200, err.message), pick.model);
    return fail(failure("config", 200, "the answer is not a chat completion; check base_url"), pick.model);
  }
  return { ok: true, model: pick.model, latency_ms: elapsed() };
}

/** Null when the provider is not in this workspace. A key that cannot be decrypted is reported, not thrown. */
export async function testProvider(
  sql: Sql,
  keyring: Keyring,
  workspaceId: string,
  providerId: string,
  opts: { timeoutMs?: number; fetch: UpstreamFetch },
): Promise<ProviderTestResult | null> {
  let config: ProviderConfig | null;
  try {
    config = await loadProviderConfig(sql, workspaceId, providerId, keyring);
  } catch (err) {
    if (err instanceof KeyringError) return { ...failure("config", null, err.message), model: null, latency_ms: 0 };
    throw err;
  }
  if (!config) return null;
  return testProviderConnection(config, opts);
}
