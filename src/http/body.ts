import { isGatewayPath as isGateway } from "./cors.ts";
import { ApiError, invalid, invalidJson } from "./errors.ts";

/**
 * Request bodies, read by us rather than by Elysia's parsers (which read whole bodies of any size
 * before anyone has been authenticated): one parse hook for every route, a byte limit per route
 * checked against Content-Length before reading and counted while reading, a nesting limit for
 * JSON, and no NUL characters (PostgreSQL refuses them in text) anywhere in bodies, paths or queries.
 */

/** Chat requests carry images inline as data URLs, hence generous. */
export const GATEWAY_MAX_BODY = 20 * 1024 * 1024;
/** Everything else (JSON API, dashboard forms) is a few fields. */
export const API_MAX_BODY = 64 * 1024;
/** Bun's own cap, a backstop above every route's limit (see createApp). */
export const SERVER_MAX_BODY = GATEWAY_MAX_BODY + 1024 * 1024;
/** Deeper JSON is refused before JSON.parse, whose recursion a 100k-deep body would exhaust. */
export const MAX_JSON_DEPTH = 64;

const mib = (n: number) => (n >= 1024 * 1024 ? `${n / (1024 * 1024)} MiB` : `${n / 1024} KiB`);

/** Status for input refused by this layer: the gateway answers 400 like OpenAI, the API 422 like its validation. */
const badInputStatus = (path: string) => (isGateway(path) ? 400 : 422);

function tooLarge(limit: number): ApiError {
  // Closing the connection stops a client that is still uploading what we refused.
  return new ApiError(413, `the request body exceeds ${mib(limit)}`, { code: "request_too_large", headers: { connection: "close" } });
}

/**
 * Reads a stream up to `limit` bytes; null (and the stream cancelled, so nothing more is read)
 * when it holds more. Also used for upstream responses.
 */
export async function readBounded(stream: ReadableStream<Uint8Array> | null, limit: number): Promise<Uint8Array | null> {
  if (!stream) return new Uint8Array(0);
  const reader = stream.getReader();
  const parts: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      reader.cancel().catch(() => {});
      return null;
    }
    parts.push(value);
  }
  if (parts.length === 1) return parts[0];
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

/**
 * readBounded for a whole request or response: a body whose Content-Length fits (and that is not
 * compressed, so the length is its real size) is read in one native call instead of chunk by chunk.
 */
export async function readBodyBounded(r: Request | Response, limit: number): Promise<Uint8Array | null> {
  const declared = r.headers.get("content-length");
  const encoding = r.headers.get("content-encoding");
  if (declared !== null && (encoding === null || encoding === "identity") && r.body) {
    const n = Number(declared);
    if (n > limit) {
      r.body.cancel().catch(() => {});
      return null;
    }
    if (Number.isInteger(n) && n >= 0) {
      const bytes = new Uint8Array(await r.arrayBuffer());
      return bytes.byteLength > limit ? null : bytes;
    }
  }
  return readBounded(r.body, limit);
}

/** Like readBounded, but the first `limit` bytes when there are more (error texts are only shown in part). */
export async function readPrefix(stream: ReadableStream<Uint8Array> | null, limit: number): Promise<string> {
  if (!stream) return "";
  const reader = stream.getReader();
  const decoder = new TextDecoder();
  let out = "";
  let size = 0;
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      const room = limit - size;
      size += value.byteLength;
      out += decoder.decode(value.byteLength > room ? value.subarray(0, room) : value, { stream: true });
      if (size >= limit) break;
    }
  } finally {
    reader.cancel().catch(() => {});
  }
  return out + decoder.decode();
}

/** The depth of the deepest array/object in a JSON text, without recursion; stops once past `max`. */
function jsonDepthExceeds(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92 /* \ */) i++;
      else if (c === 34 /* " */) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 91 /* [ */ || c === 123 /* { */) {
      if (++depth > max) return true;
    } else if (c === 93 /* ] */ || c === 125 /* } */) depth--;
  }
  return false;
}

/** `messages[0].content` for the first string (or key) holding a NUL character; null when none does. */
function nulPath(value: unknown): string | null {
  const stack: Array<[unknown, string]> = [[value, ""]];
  while (stack.length) {
    const [v, path] = stack.pop()!;
    if (typeof v === "string") {
      if (v.includes("\0")) return path || "body";
    } else if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push([v[i], `${path}[${i}]`]);
    } else if (v && typeof v === "object") {
      for (const [k, child] of Object.entries(v)) {
        const p = path ? `${path}.${k}` : k;
        if (k.includes("\0")) return p;
        stack.push([child, p]);
      }
    }
  }
  return null;
}

/** `param` names where the NUL is, with the NUL itself spelled out so the message stays printable. */
function nulError(path: string, raw: string, where = ""): ApiError {
  const param = raw.replaceAll("\0", "\\u0000");
  return invalid(`${where}${param} must not contain a NUL character (\\u0000)`, param, badInputStatus(path));
}

function parseJson(text: string, path: string): unknown {
  if (jsonDepthExceeds(text, MAX_JSON_DEPTH)) {
    throw new ApiError(400, `the JSON body is nested more than ${MAX_JSON_DEPTH} levels deep`, { code: "json_too_deep" });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw invalidJson();
  }
  // Only a body that spells \u0000 can hold one (a raw NUL is not valid JSON): skip the walk otherwise.
  if (text.includes("\\u0000")) {
    const bad = nulPath(value);
    if (bad) throw nulError(path, bad);
  }
  return value;
}

/** An urlencoded form as Elysia parsed it: repeated names become arrays. */
function parseForm(text: string, path: string): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = Object.create(null);
  for (const [k, v] of new URLSearchParams(text)) {
    if (k.includes("\0") || v.includes("\0")) throw nulError(path, k);
    const prev = out[k];
    out[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  return out;
}

/**
 * The app's one body parser (an Elysia parse hook for every route). `before` runs after the
 * Content-Length check and before any byte is read: the gateway authenticates there, so an
 * anonymous client cannot make us read 20 MiB.
 */
export function bodyParser(before?: (request: Request, path: string) => Promise<unknown> | unknown) {
  return async ({ request, contentType: given }: { request: Request; contentType: string }): Promise<unknown> => {
    const contentType = given.toLowerCase();
    const path = new URL(request.url).pathname;
    const limit = isGateway(path) ? GATEWAY_MAX_BODY : API_MAX_BODY;
    const declared = Number(request.headers.get("content-length") ?? "0");
    if (declared > limit) throw tooLarge(limit);
    await before?.(request, path);
    // Nothing to read: Elysia leaves the body undefined (a schema then says what is required).
    if (!request.body) return undefined;
    const bytes = await readBodyBounded(request, limit);
    if (!bytes) throw tooLarge(limit);
    const text = new TextDecoder().decode(bytes);
    // The gateway speaks JSON whatever the client declares (curl -d sends a form type).
    if (isGateway(path) || contentType === "application/json" || contentType.endsWith("+json")) {
      // An empty body (already consumed, so Elysia must not try again) reads as no fields: the schema names what is missing.
      if (!isGateway(path) && text.trim() === "") return {};
      return parseJson(text, path);
    }
    if (contentType === "application/x-www-form-urlencoded") return parseForm(text, path);
    if (contentType.startsWith("text/")) {
      if (text.includes("\0")) throw nulError(path, "body");
      return text;
    }
    if (bytes.byteLength === 0) return undefined;
    throw new ApiError(415, `unsupported content type '${contentType || "none"}': send application/json`, {
      code: "unsupported_media_type",
    });
  };
}

/**
 * Path ids and query parameters with a NUL character (%00) are refused before routing; a
 * request hook runs for every route, so no route can forget.
 */
export function refuseNulInUrl(request: Request): void {
  const url = request.url;
  if (!url.includes("%00")) return;
  const u = new URL(url);
  if (u.pathname.includes("%00")) throw nulError(u.pathname, "path");
  for (const [k, v] of u.searchParams) {
    if (k.includes("\0") || v.includes("\0")) throw nulError(u.pathname, k, "query parameter ");
  }
}
