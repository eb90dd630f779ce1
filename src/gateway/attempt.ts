/**
 * One try of one provider, the transport part every endpoint shares: the attempt's trail entry,
 * its signal (the client's abort plus a deadline), the request, and the answer read within limits.
 */
import { readBodyBounded, readPrefix } from "../http/body.ts";
import { clip, redactSecrets, upstreamError, UpstreamResponseError } from "../adapters/types.ts";
import type { Adapter, UpstreamError, UpstreamRequest } from "../adapters/types.ts";
import type { AttemptRecord } from "../telemetry/types.ts";
import { BlockedAddressError, type UpstreamFetch } from "../net/fetch.ts";
import { connectionClosed, networkErrorMessage } from "./network-errors.ts";
import type { Candidate, Cooldowns } from "./router.ts";

export type Failed = { ok: false; error: UpstreamError; final: boolean };

/** A provider's answer is held in memory whole: one tenant's provider must not be able to fill the process. */
export const MAX_UPSTREAM_BODY_BYTES = 32 * 1024 * 1024;
/** Of an error answer only the start is read: it only becomes a message. */
export const MAX_UPSTREAM_ERROR_BYTES = 64 * 1024;
/** One server-sent event (a ping-less line that never ends is one too). */
export const MAX_UPSTREAM_EVENT_CHARS = 1024 * 1024;
/** An upstream message as clients see it and logs keep it: the provider's key redacted, then cut to 300 characters. */
export const shownMessage = (message: string, apiKey: string | null) => clip(redactSecrets(message, apiKey), 300);

type AttemptSignal = ReturnType<typeof attemptSignal>;

/** Links the client's abort to the upstream request and adds a deadline. */
export function attemptSignal(client: AbortSignal, timeoutMs: number) {
  const ac = new AbortController();
  let timedOut = false;
  const onAbort = () => ac.abort();
  client.addEventListener("abort", onAbort, { once: true });
  let timer: Timer | null = null;
  const arm = (ms: number) => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timedOut = true;
      ac.abort();
    }, ms);
  };
  arm(timeoutMs);
  return {
    signal: ac.signal,
    abort: () => ac.abort(),
    arm,
    get timedOut() {
      return timedOut;
    },
    done() {
      if (timer) clearTimeout(timer);
      client.removeEventListener("abort", onAbort);
    },
  };
}

/** A failure another provider may not have. */
export const retry = (error: UpstreamError): Failed => ({ ok: false, final: false, error });

export function fetchFailure(err: unknown, timedOut: boolean, timeoutMs: number, phase: string): Failed {
  return retry(
    timedOut ? upstreamError("timeout", `no ${phase} within ${timeoutMs} ms`) : upstreamError("network", networkErrorMessage(err)),
  );
}

export const tooLargeUpstream = (what: string, upstreamStatus?: number): UpstreamError =>
  upstreamError("upstream_too_large", `the provider's answer was refused: ${what}`, { upstreamStatus });

async function failedResponse(adapter: Pick<Adapter, "classifyError">, res: Response, apiKey: string | null): Promise<Failed> {
  // Only the start of an error body is read (it becomes a short message), and it is redacted
  // before anything parses or cuts it, then again once decoded (a JSON-escaped echo), then cut.
  const text = redactSecrets(await readPrefix(res.body, MAX_UPSTREAM_ERROR_BYTES).catch(() => ""), apiKey);
  const e = adapter.classifyError(res.status, text, res.headers);
  e.message = shownMessage(e.message, apiKey);
  e.upstreamStatus ??= res.status;
  return { ok: false, final: !e.retryable, error: e };
}

/** Sends the upstream request; a failed connection or a non-2xx answer comes back classified. */
export async function send(
  a: { deps: { fetch: UpstreamFetch }; cand: Candidate; adapter: Pick<Adapter, "classifyError">; upstream: UpstreamRequest },
  sig: AttemptSignal,
  phase: string,
): Promise<Response | Failed> {
  const { upstream } = a;
  // Never follow a redirect: the provider key would travel with it.
  const init = { method: upstream.method, headers: upstream.headers, body: upstream.body, signal: sig.signal, redirect: "manual" } as const;
  try {
    // Bun reuses a pooled connection the provider may be closing that instant, and retries only
    // idempotent requests itself. Nothing was answered, so once more on a new connection, as the
    // providers' own SDKs retry a connection error; a second close is the provider's.
    const res = await a.deps.fetch(upstream.url, init).catch((err: unknown) => {
      if (!connectionClosed(err) || sig.signal.aborted) throw err;
      return a.deps.fetch(upstream.url, { ...init, keepalive: false });
    });
    return res.ok ? res : await failedResponse(a.adapter, res, a.cand.provider.api_key);
  } catch (err) {
    if (err instanceof BlockedAddressError) return retry(upstreamError("blocked_address", err.message));
    return fetchFailure(err, sig.timedOut, a.cand.provider.timeout_ms, phase);
  }
}

export type UpstreamText = { ok: true; json: unknown; text: string; bytes: Uint8Array };

/** A 2xx answer's JSON body, read within MAX_UPSTREAM_BODY_BYTES, with its text and bytes for answers relayed as they came. */
async function readUpstreamText(res: Response, sig: AttemptSignal, timeoutMs: number): Promise<UpstreamText | Failed> {
  // Reading and parsing fail differently: a connection reset mid-body is the network's fault,
  // unparsable text the provider's.
  let bytes: Uint8Array | null;
  try {
    bytes = await readBodyBounded(res, MAX_UPSTREAM_BODY_BYTES);
  } catch (err) {
    return fetchFailure(err, sig.timedOut, timeoutMs, "complete response");
  }
  if (!bytes) return retry(tooLargeUpstream(`its response exceeds ${MAX_UPSTREAM_BODY_BYTES / (1024 * 1024)} MiB`, res.status));
  const text = new TextDecoder().decode(bytes);
  try {
    return { ok: true, json: JSON.parse(text), text, bytes };
  } catch {
    return retry(upstreamError("server", "the provider answered with a body that is not JSON", { upstreamStatus: res.status }));
  }
}

/**
 * An attempt answered with JSON: sent, read, `parse`d (throwing UpstreamResponseError to fail);
 * success lifts the cooldown. Several requests (embeddings in batches) go in turn as one attempt, each
 * within the entry's timeout, the first failure failing it; `parse` gets the last read and every body.
 */
export async function jsonAnswer<T>(
  a: Omit<Parameters<typeof send>[0], "upstream"> & {
    upstream: UpstreamRequest | UpstreamRequest[];
    deps: { cooldowns: Cooldowns };
    call: { signal: AbortSignal };
    attempt: AttemptRecord;
    started: number;
  },
  parse: (read: UpstreamText, bodies: unknown[]) => T,
): Promise<{ ok: true; value: T } | Failed> {
  const { cand, attempt } = a;
  const timeoutMs = cand.provider.timeout_ms;
  const sig = attemptSignal(a.call.signal, timeoutMs);
  const requests = Array.isArray(a.upstream) ? a.upstream : [a.upstream];
  const bodies: unknown[] = [];
  let value: T;
  try {
    // Every attempt has at least one request: `read` is always set.
    let read!: UpstreamText & { status: number };
    for (const [i, upstream] of requests.entries()) {
      if (i > 0) sig.arm(timeoutMs);
      const res = await send({ ...a, upstream }, sig, "response");
      if (!(res instanceof Response)) return res;
      const got = await readUpstreamText(res, sig, timeoutMs);
      if (!got.ok) return got;
      bodies.push(got.json);
      read = { ...got, status: res.status };
    }
    try {
      value = parse(read, bodies);
    } catch (err) {
      if (!(err instanceof UpstreamResponseError)) throw err;
      return { ok: false, final: !err.error.retryable, error: { ...err.error, upstreamStatus: read.status } };
    }
    attempt.status = read.status;
  } finally {
    sig.done();
  }
  attempt.latency_ms = Math.round(performance.now() - a.started);
  a.deps.cooldowns.clear(cand.provider.id);
  return { ok: true, value };
}
