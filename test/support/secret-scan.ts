/**
 * The secret scan: every response Perpetuo produces in the test suite (app.handle and real HTTP,
 * the browser tests included) and every log line the test apps write is searched for every
 * provider key and gateway key the suite has configured. A hit fails the test it happened in
 * (see setup.ts); test/secret-scan.test.ts proves the scanner can fail.
 *
 * How secrets are learned, without any test having to register them:
 * - provider keys: `api_key` fields of requests to provider routes (JSON API and dashboard forms),
 *   and the credential headers / `key` query parameter of outgoing fetches (the gateway calling an
 *   upstream, whatever way the key was stored);
 * - gateway keys: the creation response of a key (which alone may show it) and the
 *   `Authorization: Bearer prp_…` of requests.
 * How it watches: Elysia's `fetch` (behind `app.handle` and `listen`) is wrapped once, for every
 * app; `listen` is kept off Bun's native per-route handlers so every request goes through it.
 * Streamed bodies are inspected as they pass (never teed, so a client's disconnect still reaches
 * the handler and an endless stream is never read ahead).
 */
import { Elysia } from "elysia";

export interface Hit {
  secret: string;
  form: string;
  where: string;
}

const secrets = new Map<string, string[]>(); // secret -> its searchable forms
const hits: Hit[] = [];
const pending = new Set<Promise<unknown>>();
let scanned = 0;

// Shorter values are test placeholders ("x", "nope") that would match innocent text.
const MIN_SECRET_LENGTH = 10;
const GATEWAY_KEY = /prp_[A-Za-z0-9]{43}/g;

/** The forms a leak can take: whole, cut short (the first three quarters), URL-encoded, base64. */
function formsOf(secret: string): string[] {
  const forms = new Set([secret]);
  const prefix = secret.slice(0, Math.max(MIN_SECRET_LENGTH, Math.ceil(secret.length * 0.75)));
  forms.add(prefix);
  forms.add(encodeURIComponent(secret));
  forms.add(Buffer.from(secret).toString("base64").replace(/=+$/, ""));
  return [...forms];
}

let longestForm = 0;
/** Values a test also sends in the open (a fuzzer's constants): finding one elsewhere proves nothing. */
const publicValues = new Set<string>();

/** Marks values as public: never learned as secrets, even when a test stores one as a key. */
export function notSecret(...values: unknown[]): void {
  for (const v of values) publicValues.add(String(v).trim());
}

export function learnSecret(value: unknown): void {
  if (typeof value !== "string") return;
  const v = value.trim();
  // Session JWTs are not what this scan is about (the login response carries one by design).
  if (v.length < MIN_SECRET_LENGTH || v.startsWith("eyJ") || secrets.has(v) || publicValues.has(v)) return;
  // What a key can be (printable ASCII, no spaces, as the API demands); anything else was refused, never stored.
  if (v.length > 4096 || !/^[\x21-\x7e]+$/.test(v)) return;
  const forms = formsOf(v);
  secrets.set(v, forms);
  longestForm = Math.max(longestForm, ...forms.map((f) => f.length));
}

export function knownSecrets(): string[] {
  return [...secrets.keys()];
}

/** Records a hit for every known secret found in `text`, except those `allowed` here. */
export function scanText(text: string, where: string, allowed: ReadonlySet<string> = new Set(), before = ""): Hit[] {
  scanned++;
  const found: Hit[] = [];
  for (const [secret, forms] of secrets) {
    if (allowed.has(secret)) continue;
    // `before`: the part of `text` already scanned (a stream's look-behind); a match wholly inside it was counted.
    const form = forms.find((f) => text.includes(f) && !before.includes(f));
    if (form !== undefined) found.push({ secret, form: form === secret ? "whole" : form, where });
  }
  hits.push(...found);
  return found;
}

/** Hits recorded since the last call; the caller owns them (setup.ts fails the test). */
export function takeHits(): Hit[] {
  return hits.splice(0, hits.length);
}

export function scanCount(): number {
  return scanned;
}

/** Waits for body scans still running (bounded: a body nobody reads may never finish). */
export async function settle(maxMs = 2000): Promise<void> {
  if (pending.size === 0) return;
  await Promise.race([Promise.allSettled([...pending]), Bun.sleep(maxMs)]);
}

function track(p: Promise<unknown>): void {
  pending.add(p);
  p.finally(() => pending.delete(p)).catch(() => {});
}

/* ---- learning from requests ---- */

function apiKeysInJson(value: unknown, out: string[]): void {
  // The provider API takes its key at the top level only; a nested "api_key" (a model_map alias, say) is not one.
  if (value === null || typeof value !== "object" || Array.isArray(value)) return;
  for (const [k, v] of Object.entries(value)) if (/^api_?key$/i.test(k) && typeof v === "string") out.push(v);
}

function apiKeysIn(text: string, contentType: string): string[] {
  const out: string[] = [];
  if (contentType.includes("json")) {
    try {
      apiKeysInJson(JSON.parse(text), out);
    } catch {}
  } else if (contentType.includes("x-www-form-urlencoded")) {
    try {
      for (const [k, v] of new URLSearchParams(text)) if (/^api_?key$/i.test(k)) out.push(v);
    } catch {}
  } else if (contentType.includes("multipart/form-data")) {
    for (const m of text.matchAll(/name="api_?key"\r\n\r\n([^\r]*)/gi)) out.push(m[1]!);
  }
  return out;
}

function bearer(headers: Headers): string | null {
  const m = /^Bearer\s+(\S+)/i.exec(headers.get("authorization") ?? "");
  return m ? m[1] : null;
}

/**
 * Before Perpetuo handles a request: the keys the client sends to provider routes or presents.
 * They count as configured only if Perpetuo accepts the request (see wrapHandler).
 */
async function candidatesIn(request: Request): Promise<{ found: string[]; sent: string }> {
  const found: string[] = [];
  const token = bearer(request.headers);
  if (token?.startsWith("prp_")) found.push(token);
  let sent = request.url;
  if (request.method === "GET" || request.method === "HEAD" || !request.body) return { found, sent };
  // A clone is read up to a cap and for at most a moment: reading a whole upload, or waiting on a
  // client that sends slowly, would change what the handler sees (size limits, timeouts).
  const read = readCapped(request.clone().body, 256 * 1024).then((text) => {
    if (text === null) return;
    sent += text;
    if (/\/providers(\/|$)/.test(new URL(request.url).pathname)) found.push(...apiKeysIn(text, request.headers.get("content-type") ?? ""));
  });
  await Promise.race([read, Bun.sleep(1000)]);
  return { found, sent };
}

async function readCapped(body: ReadableStream<Uint8Array> | null, cap: number): Promise<string | null> {
  if (!body) return null;
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > cap) {
        await reader.cancel();
        return null;
      }
      chunks.push(value);
    }
  } catch {
    return null;
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** Outgoing fetches from the process (the gateway calling upstreams): the credential it sends. */
function learnFromOutgoing(input: RequestInfo | URL, init?: RequestInit): void {
  try {
    const headers = new Headers(input instanceof Request ? input.headers : undefined);
    if (init?.headers) new Headers(init.headers).forEach((v, k) => headers.set(k, v));
    const token = bearer(headers);
    if (token) learnSecret(token);
    learnSecret(headers.get("x-api-key"));
    learnSecret(headers.get("x-goog-api-key"));
    // Not `?key=`: Perpetuo sends provider keys only in headers, and the logs API's `key` filter is no secret.
  } catch {}
}

/* ---- scanning responses ---- */

const isKeyCreation = (method: string, path: string) => method === "POST" && /\/(api-)?keys\/?$/.test(path);

function scanHeaders(res: Response, where: string, echoed: ReadonlySet<string>): void {
  const lines: string[] = [];
  res.headers.forEach((v, k) => lines.push(`${k}: ${v}`));
  if (lines.length) scanText(lines.join("\n"), `${where} headers`, echoed);
}

/**
 * Body text of a finished response; the one that creates a gateway key may show that key. A
 * key-shaped string the request itself carried (a key named "prp_AAAA…") is the caller's input, not a new key.
 */
function scanBodyText(text: string, where: string, creation: boolean, echoed: ReadonlySet<string>, sent: string): void {
  const allowed = new Set<string>(echoed);
  if (creation) {
    for (const m of text.match(GATEWAY_KEY) ?? []) {
      if (!secrets.has(m) && !sent.includes(m)) {
        learnSecret(m);
        allowed.add(m);
      }
    }
  }
  scanText(text, `${where} body`, allowed);
}

/** Passes a streamed body through unchanged, scanning each chunk with the tail of the one before. */
function scanningStream(body: ReadableStream<Uint8Array>, where: string, echoed: ReadonlySet<string>): ReadableStream<Uint8Array> {
  const decoder = new TextDecoder();
  let tail = "";
  const keep = () => Math.max(0, longestForm - 1);
  const look = (text: string) => {
    const window = tail + text;
    scanText(window, `${where} body (stream)`, echoed, tail);
    tail = window.slice(Math.max(0, window.length - keep()));
  };
  return body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        controller.enqueue(chunk);
        look(decoder.decode(chunk, { stream: true }));
      },
      flush() {
        const rest = decoder.decode();
        if (rest) look(rest);
      },
    }),
  );
}

function scanResponse(res: Response, request: Request, echoed: ReadonlySet<string>, sent: string): Response {
  const path = new URL(request.url).pathname;
  const where = `${request.method} ${path} → ${res.status}`;
  scanHeaders(res, where, echoed);
  if (!res.body || request.method === "HEAD") return res;
  if ((res.headers.get("content-type") ?? "").includes("text/event-stream")) {
    return new Response(scanningStream(res.body, where, echoed), { status: res.status, statusText: res.statusText, headers: res.headers });
  }
  const creation = isKeyCreation(request.method, path);
  track(
    res
      .clone()
      .text()
      .then((text) => scanBodyText(text, where, creation, echoed, sent))
      .catch(() => {}),
  );
  return res;
}

/* ---- installation ---- */

const WRAPPED = Symbol.for("perpetuo.secretScan.wrapped");
type Handler = ((request: Request, ...rest: unknown[]) => unknown) & { [WRAPPED]?: true };

function wrapHandler(fn: Handler): Handler {
  if (fn[WRAPPED]) return fn;
  const wrapped: Handler = async (request: Request, ...rest: unknown[]) => {
    const { found, sent } = await candidatesIn(request);
    const res = await fn(request, ...rest);
    if (!(res instanceof Response)) return res;
    // A key the request carried is configured (or valid) only if Perpetuo accepted the request.
    if (res.status < 400) for (const c of found) learnSecret(c);
    // Input echoed to the caller who sent it (a validation message) tells them nothing new.
    const echoed = new Set([...secrets.keys()].filter((k) => sent.includes(k)));
    return scanResponse(res, request, echoed, sent);
  };
  wrapped[WRAPPED] = true;
  return wrapped;
}

/** Wraps what app.handle and app.listen call, for every Elysia app made after this runs. */
function installElysiaHook(): void {
  const proto = Elysia.prototype as unknown as Record<string, unknown> & { compile(): unknown };
  const fetchGetter = Object.getOwnPropertyDescriptor(proto, "fetch")?.get;
  if (!fetchGetter || (proto as { [WRAPPED]?: true })[WRAPPED]) return;
  Object.defineProperty(proto, "fetch", {
    configurable: true,
    get(this: object) {
      const fn = wrapHandler(fetchGetter.call(this) as Handler);
      Object.defineProperty(this, "fetch", { value: fn, configurable: true, writable: true });
      return fn;
    },
  });
  const compile = proto.compile;
  proto.compile = function (this: { config: Record<string, unknown>; fetch: Handler }) {
    // Bun's native per-route handlers would bypass `fetch`; Elysia's own router serves the same routes.
    this.config.systemRouter = false;
    const out = compile.call(this);
    const own = Object.getOwnPropertyDescriptor(this, "fetch");
    if (own && typeof own.value === "function") {
      Object.defineProperty(this, "fetch", { value: wrapHandler(own.value), configurable: true, writable: true });
    }
    return out;
  };
  (proto as { [WRAPPED]?: true })[WRAPPED] = true;
}

function installFetchHook(): void {
  const original = globalThis.fetch as typeof fetch & { [WRAPPED]?: true };
  if (original[WRAPPED]) return;
  const wrapped = Object.assign(
    (input: RequestInfo | URL, init?: RequestInit) => {
      learnFromOutgoing(input, init);
      return original(input, init);
    },
    original,
    { [WRAPPED]: true as const },
  );
  globalThis.fetch = wrapped as typeof fetch;
}

/** A logger `write` that scans each line before passing it on. */
export function scanningWriter(write: (line: string) => void, where = "log line"): (line: string) => void {
  return (line) => {
    scanText(line, where);
    write(line);
  };
}

export function installSecretScan(): void {
  installElysiaHook();
  installFetchHook();
}
