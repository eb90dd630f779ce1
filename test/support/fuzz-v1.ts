/**
 * The fuzz's gateway part: valid requests of each /v1 API (the shapes real SDKs send), mutated
 * one to three times, so that most get past validation and run the routing, translation and relay
 * against mock upstreams; and the judge of their answers (error shapes, SSE that ends properly).
 */

import { chatBody, embeddingsBody, messagesBody, responsesBody, type FuzzRandom } from "./fuzz-v1-pools.ts";

export type { FuzzRandom };

export type V1Route = "chat" | "responses" | "messages" | "count_tokens" | "embeddings" | "model";

export const V1_PATHS: Record<V1Route, { method: string; path: string }> = {
  chat: { method: "POST", path: "/v1/chat/completions" },
  responses: { method: "POST", path: "/v1/responses" },
  messages: { method: "POST", path: "/v1/messages" },
  count_tokens: { method: "POST", path: "/v1/messages/count_tokens" },
  embeddings: { method: "POST", path: "/v1/embeddings" },
  model: { method: "GET", path: "/v1/models/" },
};

const ROUTES: V1Route[] = ["chat", "chat", "chat", "responses", "responses", "messages", "messages", "count_tokens", "embeddings", "model"];

/** A model for each mock kind; an entry name prefix pins the request to that entry. */
const CHAT_MODEL: Record<string, string> = { openai: "gpt-4o-mini", anthropic: "claude-sonnet-4-5", gemini: "gemini-2.5-flash" };
const EMBED_MODEL: Record<string, string> = {
  openai: "text-embedding-3-small",
  anthropic: "text-embedding-3-small",
  gemini: "text-embedding-004",
};

/* ---- mutations ---- */

const WEIRD_STRINGS = [
  "",
  " ",
  "\u0000",
  "a\u0000b",
  "\u0007\u001b[31m",
  "\uD800",
  "😀".repeat(40),
  "\u202e",
  "é".repeat(300),
  "x".repeat(20_000),
  "null",
  "{}",
  "[]",
];
const WEIRD_NUMBERS = [0, -1, 1.5, -0.0001, 2 ** 31, 2 ** 53 + 1, 1e308, -1e308, Number.MIN_VALUE, 1e-300];
const WRONG_ENUMS = [
  "",
  "SYSTEM",
  "developer",
  "function",
  "tool",
  "auto",
  "required",
  "none",
  "any",
  "json_schema",
  "base64",
  "float",
  "enabled",
  "image",
  "input_text",
  "x",
];

function otherType(g: FuzzRandom, v: unknown): unknown {
  const options: unknown[] = [null, true, 0, 42, "str", [], {}, [v], { value: v }];
  if (typeof v === "string") options.push(Number(v) || 7, [v, v]);
  if (typeof v === "number") options.push(String(v));
  return g.pick(options);
}

function deep(depth: number): unknown {
  let v: unknown = "leaf";
  for (let i = 0; i < depth; i++) v = i % 2 ? [v] : { a: v };
  return v;
}

/** Every container and leaf in the body, with its parent, so a mutation can land anywhere. */
function spots(root: unknown): { parent: Record<string, unknown> | unknown[]; key: string | number }[] {
  const out: { parent: Record<string, unknown> | unknown[]; key: string | number }[] = [];
  const walk = (v: unknown, depth: number) => {
    if (depth > 8 || v === null || typeof v !== "object") return;
    if (Array.isArray(v)) v.forEach((x, i) => (out.push({ parent: v, key: i }), walk(x, depth + 1)));
    else for (const [k, x] of Object.entries(v)) out.push({ parent: v as Record<string, unknown>, key: k }), walk(x, depth + 1);
  };
  walk(root, 0);
  return out;
}

/** One mutation, in place (on a copy the caller made). Returns a raw-JSON patch for what JSON.stringify cannot say. */
function mutate(g: FuzzRandom, body: Record<string, unknown>): ((json: string) => string) | null {
  const all = spots(body);
  const spot = all.length ? g.pick(all) : null;
  const get = () => (spot ? (spot.parent as Record<string | number, unknown>)[spot.key] : undefined);
  const set = (v: unknown) => spot && ((spot.parent as Record<string | number, unknown>)[spot.key] = v);
  switch (g.int(0, 10)) {
    case 0: // drop a field
      if (spot) Array.isArray(spot.parent) ? spot.parent.splice(spot.key as number, 1) : delete spot.parent[spot.key as string];
      return null;
    case 1:
      set(otherType(g, get()));
      return null;
    case 2:
      set(g.pick(WEIRD_NUMBERS));
      return null;
    case 3: {
      const v = get();
      set(
        typeof v === "string" ? g.pick([v + g.pick(WEIRD_STRINGS), g.pick(WEIRD_STRINGS), v.repeat(g.int(2, 200))]) : g.pick(WEIRD_STRINGS),
      );
      return null;
    }
    case 4: // a control character somewhere in a string
      set(String(get() ?? "") + String.fromCharCode(g.int(0, 0x1f)));
      return null;
    case 5:
      set(g.pick([[], {}, [[]], [{}]]));
      return null;
    case 6: {
      const v = get();
      if (Array.isArray(v) && v.length) set(Array.from({ length: g.pick([2, 50, 500]) }, () => structuredClone(v[0])));
      else set(deep(g.int(5, 60)));
      return null;
    }
    case 7: {
      const target =
        spot && typeof get() === "object" && get() !== null && !Array.isArray(get()) ? (get() as Record<string, unknown>) : body;
      target[
        g.pick(["x_unknown", "__proto__", "constructor", "store", "metadata", "extra_body", "model", "service_tier", "modalities", "audio"])
      ] = g.pick<unknown>(["x", 1, null, { a: 1 }, [1]]);
      return null;
    }
    case 8: // a duplicate key: the later one wins in JSON.parse
      if (!spot || Array.isArray(spot.parent)) return null;
      return (json) => json.replace(/^\{/, `{${JSON.stringify(spot.key)}:${JSON.stringify(g.pick<unknown>(["dup", 0, null, {}]))},`);
    case 9:
      set(g.pick(WRONG_ENUMS));
      return null;
    default: // a valid-looking value of the wrong field kind: another model, a huge max
      body[g.pick(["model", "max_tokens", "n", "stream", "top_logprobs", "dimensions", "temperature"])] = g.pick<unknown>([
        "nope-model",
        "gpt-4o-mini",
        1_000_000,
        0,
        -5,
        129,
        true,
        "true",
        3.5,
      ]);
      return null;
  }
}

export interface V1Case {
  route: V1Route;
  method: string;
  path: string;
  body?: string;
  stream: boolean;
  mutations: number;
}

export interface V1Entry {
  name: string;
  kind: string;
  /** An entry whose upstream always fails one way (5xx, dropped connection, cut or broken stream). */
  faulty: boolean;
}

/** A valid request of a /v1 API for one of the fuzz's entries (or unpinned), with 0–3 mutations (0 for about 1 in 7). */
export function v1Case(g: FuzzRandom, entries: V1Entry[]): V1Case {
  const route = g.pick(ROUTES);
  // One pinned request in five goes to a failing upstream: the relay of failures is judged too.
  const faulty = g.chance(0.2);
  // Anthropic has no embeddings API: pinning an embeddings request to it is a (correct) 400, not a test of the relay.
  const usable = entries.filter((e) => e.faulty === faulty && (route !== "embeddings" || e.kind !== "anthropic"));
  const entry = usable.length && g.chance(0.8) ? g.pick(usable) : null;
  const name = entry?.name ?? null;
  const kind = entry?.kind ?? g.pick(["openai", "anthropic", "gemini"]);
  const model = route === "embeddings" ? (EMBED_MODEL[kind] ?? "text-embedding-3-small") : (CHAT_MODEL[kind] ?? "gpt-4o-mini");
  const pinned = name ? `${name}/${model}` : model;
  if (route === "model") {
    const id = g.pick([pinned, model, "gpt-4o", "nope", "%00", "a%2Fb", "..%2F..%2Fadmin", "x".repeat(300), "constructor", "😀"]);
    return {
      route,
      ...V1_PATHS.model,
      path: V1_PATHS.model.path + (id.includes("%") ? id : encodeURIComponent(id)),
      stream: false,
      mutations: 0,
    };
  }
  // A copy: the pools share schema objects, which the mutations change in place.
  const body = structuredClone(
    route === "chat"
      ? chatBody(g, pinned, kind)
      : route === "responses"
        ? responsesBody(g, pinned)
        : route === "embeddings"
          ? embeddingsBody(g, pinned, kind)
          : messagesBody(g, pinned, route === "count_tokens"),
  );
  // Mostly one mutation, so that a good share still reaches a provider; some valid requests as controls.
  const k = g.float();
  const n = k < 0.15 ? 0 : k < 0.7 ? 1 : k < 0.9 ? 2 : 3;
  const patches: ((json: string) => string)[] = [];
  for (let i = 0; i < n; i++) {
    const p = mutate(g, body);
    if (p) patches.push(p);
  }
  let text = JSON.stringify(body);
  for (const p of patches) text = p(text);
  return { route, ...V1_PATHS[route], body: text, stream: body.stream === true, mutations: n };
}

/* ---- the judge ---- */

const UPSTREAM_CODES = /^upstream_|^all_providers_failed$|^blocked_address$/;

/**
 * Why a /v1 answer is wrong, or null. A 5xx must be an upstream failure relayed in the documented
 * shape (OpenAI: type upstream_error; Anthropic: api_error/overloaded_error); 500 never is.
 */
export function judgeV1(route: V1Route, status: number, headers: Headers, text: string): string | null {
  const anthropic = route === "messages" || route === "count_tokens";
  const type = headers.get("content-type") ?? "";
  if (status === 500) return "status 500";
  if (status >= 400) {
    let error: { type?: unknown; code?: unknown; message?: unknown } | undefined;
    let top: unknown;
    try {
      top = JSON.parse(text);
      error = (top as { error?: typeof error })?.error;
    } catch {}
    if (typeof error?.message !== "string" || !error.message) return `${status} without error.message`;
    if (anthropic && (top as { type?: unknown }).type !== "error") return `${status} not in Anthropic's error shape`;
    if (status >= 500) {
      if (![502, 503, 504].includes(status)) return `status ${status}`;
      const upstream = anthropic
        ? error.type === "api_error" || error.type === "overloaded_error"
        : error.type === "upstream_error" || UPSTREAM_CODES.test(String(error.code));
      if (!upstream) return `${status} that is not an upstream failure (${String(error.type)}/${String(error.code)})`;
    }
    return null;
  }
  if (type.includes("text/event-stream")) return sseProblem(text);
  if (status === 200 && !type.includes("json")) return `200 with content-type ${type}`;
  return null;
}

/** SSE that is well-formed (every line a field or comment, every data JSON) and ends with [DONE], a final event or an error. */
export function sseProblem(text: string): string | null {
  if (!text.endsWith("\n\n")) return "stream does not end with a blank line";
  let last: unknown = undefined;
  let lastEvent = "";
  for (const block of text.split("\n\n")) {
    if (!block) continue;
    let data = "";
    for (const line of block.split("\n")) {
      if (line.startsWith(":")) continue;
      const m = /^(data|event|id|retry): ?(.*)$/.exec(line);
      if (!m) return `malformed SSE line ${JSON.stringify(line.slice(0, 80))}`;
      if (m[1] === "event") lastEvent = m[2]!;
      if (m[1] === "data") data += (data ? "\n" : "") + m[2];
    }
    if (!data) continue;
    if (data === "[DONE]") last = "[DONE]";
    else {
      try {
        last = JSON.parse(data);
      } catch {
        return `SSE data is not JSON: ${data.slice(0, 80)}`;
      }
    }
  }
  const t = (last as { type?: unknown } | undefined)?.type;
  const ended =
    last === "[DONE]" ||
    (typeof last === "object" && last !== null && "error" in last) ||
    ["message_stop", "error", "response.completed", "response.incomplete", "response.failed"].includes(String(t)) ||
    lastEvent === "error";
  return ended ? null : `stream ended without [DONE] or an error event (last ${JSON.stringify(last)?.slice(0, 80)})`;
}
