/**
 * Fuzz: random and malformed bodies, headers, query strings and path parameters thrown at every
 * route of Elysia's route table (JSON API, /v1, dashboard pages and forms), anonymous and with
 * valid credentials (a session by header and by cookie with its CSRF token, a gateway key) so the
 * deep handlers are reached. Every answer must be 2xx/3xx (random input that happens to be valid)
 * or a 4xx with a clear message: never a 5xx, never a stack trace or SQL error text, and the
 * server stays up. The bulk goes through app.handle; a sample, and raw malformed HTTP, over a
 * real socket.
 *
 * Reproduce: the seed is printed; FUZZ_SEED=<seed> replays it, FUZZ_COUNT=<n> sets the number of
 * requests (default 100,000), FUZZ_ONLY=<i> runs only iteration i of that seed (each iteration
 * draws from its own generator, so it does not depend on the ones before it).
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { csrfTokenFor, SESSION_COOKIE } from "../src/http/auth.ts";
import { testApp, type TestApp } from "./support/app.ts";
import { makeRecord } from "./support/logs.ts";
import { startMockUpstream, type MockBehaviour, type MockUpstream } from "./support/mock-upstreams.ts";
import { knownSecrets, notSecret, scanCount } from "./support/secret-scan.ts";
import { judgeV1, v1Case, type V1Entry, type V1Route } from "./support/fuzz-v1.ts";

const SEED = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
const COUNT = Number(process.env.FUZZ_COUNT ?? 100_000);
const ONLY = process.env.FUZZ_ONLY === undefined ? null : Number(process.env.FUZZ_ONLY);
const CONCURRENCY = Number(process.env.FUZZ_CONCURRENCY ?? 16);
// A fixed share of the cases are valid gateway requests, mutated (support/fuzz-v1.ts): they reach the providers.
const V1_SHARE = Number(process.env.FUZZ_V1_SHARE ?? 0.1);
const PROFILE = process.env.FUZZ_PROFILE ? new Map<string, [number, number]>() : null;
console.log(`fuzz: seed ${SEED}, ${COUNT} requests (replay with FUZZ_SEED=${SEED})`);

/* ---- a small seeded generator ---- */

function mulberry32(a: number) {
  return () => {
    a |= 0;
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class Gen {
  private r: () => number;
  constructor(seed: number) {
    this.r = mulberry32(seed);
  }
  float = () => this.r();
  int = (lo: number, hi: number) => lo + Math.floor(this.r() * (hi - lo + 1));
  chance = (p: number) => this.r() < p;
  pick = <T>(xs: readonly T[]): T => xs[Math.floor(this.r() * xs.length)]!;
}

const FIELD_NAMES = [
  "name",
  "email",
  "password",
  "type",
  "base_url",
  "api_key",
  "models",
  "model_map",
  "priority",
  "enabled",
  "timeout_ms",
  "pricing",
  "ids",
  "retention_days",
  "log_content",
  "expires_at",
  "model",
  "messages",
  "stream",
  "max_tokens",
  "temperature",
  "tools",
  "tool_choice",
  "role",
  "content",
  "input",
  "output",
  "_csrf",
  "direction",
  "remove_key",
  "expires",
  "next",
  "user_id",
  "__proto__",
  "constructor",
  "prototype",
  "toString",
  "",
  " ",
  "a".repeat(300),
] as const;
const QUERY_NAMES = [
  "page",
  "limit",
  "cursor",
  "status",
  "provider",
  "model",
  "key",
  "from",
  "to",
  "type",
  "next",
  "done",
  "saved",
  "q",
  "id",
  "__proto__",
] as const;
const PROVIDER_TYPES = ["openai", "anthropic", "gemini", "groq", "ollama", "openai_compatible", "OPENAI", "nope", ""];
const MODELS = [
  "gpt-4o-mini",
  "claude-sonnet-4-5",
  "gemini-2.5-flash",
  "constructor",
  "toString",
  "__proto__",
  "hasOwnProperty",
  "../../admin",
  "a/../../b",
  "%2e%2e/x",
  "x?y=1#z",
  "gemini-2.5-flash:streamGenerateContent",
  "*",
];

const STRINGS = [
  "",
  " ",
  "a",
  "null",
  "undefined",
  "true",
  "0",
  "-1",
  "1e309",
  "NaN",
  "\u0000",
  "a\u0000b",
  "\u0000".repeat(10),
  "\uFEFF",
  "\uD800",
  "\uDFFF\uD800",
  "😀".repeat(50),
  "'; drop table users; --",
  "' or 1=1 --",
  "$1",
  "%s%s%s%n",
  "${7*7}",
  "{{7*7}}",
  "<script>alert(1)</script>",
  '"><img src=x>',
  "../../../etc/passwd",
  "..\\..\\windows",
  "http://169.254.169.254/latest",
  "http://127.0.0.1:1/v1",
  "file:///etc/passwd",
  "javascript:alert(1)",
  "ftp://x",
  "http://user:pass@example.com/",
  "http://[::1]:99999/",
  "http://%00/",
  "prp_" + "A".repeat(43),
  "Bearer x",
  "eyJhbGciOiJub25lIn0.e30.",
  "2030-01-01T00:00:00Z",
  "2001-01-01T00:00:00Z",
  "2030-02-31",
  "9999-99-99",
  "-1",
  "99999999999999999999999",
  "0x10",
  "1.5",
  "\r\n",
  "\n\n\n",
  "\\u0000",
  "%00",
  "%",
  "%zz",
  "é",
  "\u202e",
  "a".repeat(5000),
];

const NUMBERS = [0, -1, 1, 1.5, 1e308, -1e308, 2 ** 53 + 1, 1000001, 3651, 600001, 999];
// The pools are sent everywhere, stored bodies and logs included: one saved as an api_key is no secret
// (seed 1469562322 stored 2**53+1 as a key, then met it as max_tokens in a log export).
notSecret(...STRINGS, ...NUMBERS);

function randomString(g: Gen): string {
  if (g.chance(0.001)) return "x".repeat(70_000);
  if (g.chance(0.5)) return g.pick(STRINGS);
  const n = g.chance(0.95) ? g.int(0, 40) : g.int(100, 3000);
  let s = "";
  for (let i = 0; i < n; i++) {
    const k = g.float();
    s +=
      k < 0.7
        ? String.fromCharCode(g.int(0x20, 0x7e))
        : k < 0.8
          ? String.fromCharCode(g.int(0, 0x1f))
          : k < 0.95
            ? String.fromCharCode(g.int(0x80, 0xffff))
            : "\u0000";
  }
  return s;
}

function randomValue(g: Gen, depth = 0): unknown {
  const k = g.int(0, depth > 3 ? 6 : 9);
  switch (k) {
    case 0:
      return null;
    case 1:
      return g.chance(0.5);
    case 2:
      return g.pick(NUMBERS);
    case 3:
    case 4:
    case 5:
      return randomString(g);
    case 6:
      return g.pick(MODELS);
    case 7:
      return Array.from({ length: g.chance(0.9) ? g.int(0, 4) : g.int(50, 200) }, () => randomValue(g, depth + 1));
    default:
      return randomObject(g, depth + 1);
  }
}

function randomObject(g: Gen, depth = 0): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (let i = g.int(0, 6); i > 0; i--) {
    const key = g.chance(0.8) ? g.pick(FIELD_NAMES) : randomString(g);
    Object.defineProperty(o, key, { value: randomValue(g, depth), enumerable: true, configurable: true, writable: true });
  }
  return o;
}

/** Mostly plausible bodies for a route (so validation passes and handlers run), with one thing wrong. */
function plausibleBody(g: Gen, f: Fixtures): Record<string, unknown> {
  const base: Record<string, unknown> = g.pick([
    { name: `fz-${g.int(0, 1e6)}`, type: g.pick(PROVIDER_TYPES), base_url: f.upstreamUrl, api_key: "sk-fuzz-upstream-key-0123456789" },
    { name: `fz-${g.int(0, 1e6)}`, expires_at: g.pick(STRINGS) },
    { email: `fz${g.int(0, 1e9)}@example.com`, password: "correct horse battery" },
    { email: f.ownerEmail, password: g.pick(["correct horse battery", "wrong password 1"]) },
    { retention_days: g.int(-5, 4000), log_content: g.chance(0.5) },
    { ids: f.providerIds.slice().sort(() => g.float() - 0.5) },
    {
      model: g.pick(MODELS),
      messages: [{ role: g.pick(["user", "system", "assistant", "tool", "x"]), content: randomValue(g) }],
      stream: g.chance(0.3),
    },
    { model: `${g.pick(f.providerNames)}/${g.pick(MODELS)}`, messages: [{ role: "user", content: "hi" }], max_tokens: randomValue(g) },
    { name: "Fuzzed", direction: g.pick(["up", "down", "sideways"]), enabled: g.pick(["on", "off", ""]) },
    // The owner is the workspace's only member: every change to them meets the last-owner guard.
    { role: g.pick(["owner", "admin", "member", "Owner", ""]), user_id: g.pick([f.ownerId, "none"]) },
  ]);
  // Break one field, or add a stray one.
  const keys = Object.keys(base);
  if (keys.length && g.chance(0.7)) base[g.pick(keys)] = randomValue(g);
  if (g.chance(0.3)) base[g.pick(FIELD_NAMES)] = randomValue(g);
  return base;
}

function nested(depth: number, leaf: string): string {
  return "[".repeat(depth) + leaf + "]".repeat(depth);
}

const ENDS_SESSIONS = new Set(["/auth/logout", "/auth/logout-all", "/auth/password", "/logout", "/logout-all"]);

/** A body as text, with its content type. */
function randomBody(g: Gen, f: Fixtures, kind: "json" | "form"): { text: string; type: string | null } {
  const k = g.int(0, 19);
  if (k === 0) return { text: "", type: g.pick(["application/json", "application/x-www-form-urlencoded", null]) };
  if (k === 1)
    return {
      text: g.pick([
        "{",
        "[",
        '{"a":',
        "nul",
        "{'a':1}",
        '{"a":1,}',
        "\uFEFF{}",
        '{"a":"\\ud800"}',
        "1",
        '"x"',
        "[]",
        "null",
        '{"__proto__":{"admin":true}}',
      ]),
      type: "application/json",
    };
  if (k === 2) return { text: nested(g.chance(0.995) ? g.pick([10, 100, 1000]) : 100_000, "1"), type: "application/json" };
  if (k === 3) return { text: `{"a":${nested(g.pick([100, 2000]), "{}")}}`.replaceAll("[{}]", "{}"), type: "application/json" };
  if (k === 4)
    return {
      text: randomString(g),
      type: g.pick([
        "application/json",
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/xml",
        "",
        "application/json; charset=utf-16",
        null,
      ]),
    };
  if (k === 5)
    return {
      text: '--x\r\nContent-Disposition: form-data; name="name"\r\n\r\nv\r\n--x--\r\n',
      type: g.pick(["multipart/form-data; boundary=x", "multipart/form-data"]),
    };
  const obj = g.chance(0.6) ? plausibleBody(g, f) : randomObject(g);
  // An accepted api_key becomes a configured key the secret scan looks for: never a public string
  // (a model name shows up in every usage page).
  if (typeof obj.api_key === "string" && obj.api_key.length >= 10) obj.api_key = `sk-fz-${g.int(0, 1e9)}-${obj.api_key}`;
  if (kind === "form" || g.chance(0.1)) {
    const p = new URLSearchParams();
    for (const [key, v] of Object.entries(obj)) p.append(key, typeof v === "string" ? v : (JSON.stringify(v) ?? ""));
    if (f.csrf && g.chance(0.8)) p.set("_csrf", f.csrf);
    let text = p.toString();
    if (g.chance(0.1)) text += g.pick(["&%zz=1", "&a=%", "&&&", "=x", "&a=%00"]);
    return { text, type: g.chance(0.9) ? "application/x-www-form-urlencoded" : "application/json" };
  }
  return {
    text: JSON.stringify(obj),
    type: g.chance(0.95) ? "application/json" : g.pick(["text/plain", "application/x-www-form-urlencoded"]),
  };
}

/** encodeURIComponent, with lone surrogates (which it refuses) sent as the bytes of U+FFFD. */
const enc = (s: string) => encodeURIComponent(s.toWellFormed());

function randomQuery(g: Gen): string {
  if (g.chance(0.5)) return "";
  const parts: string[] = [];
  for (let i = g.int(1, 5); i > 0; i--) {
    const name = g.pick(QUERY_NAMES);
    const value = g.chance(0.4)
      ? String(g.pick([0, -1, 1, 50, 101, 1e9, "2030-01-01", "2001-01-01T00:00:00Z", "abc", "", "1e3", "1.5"]))
      : randomString(g).slice(0, 200);
    parts.push(
      g.chance(0.9)
        ? `${name}=${enc(value)}`
        : g.pick([
            `${name}`,
            `${name}=%`,
            `${name}=%zz`,
            `${name}=%00`,
            `${name}[]=1`,
            `=${name}`,
            `${name}=${value.replace(/[#\s]/g, "")}`,
          ]),
    );
  }
  return "?" + parts.join("&");
}

function randomParam(g: Gen, valid: string): string {
  const k = g.int(0, 9);
  if (k < 4) return valid;
  if (k === 4) return valid.slice(0, -1) + "x";
  if (k === 5) return g.pick(["%00", "a%00b", "%2e%2e", "..", "%2F", "%ZZ", "%", "%C0%AE", "%F0%9F%98%80", "null", "0", "-1"]);
  if (k === 6) return "a".repeat(g.pick([65, 300, 5000]));
  return enc(randomString(g).slice(0, 100)) || "x";
}

/* ---- fixtures ---- */

interface Fixtures {
  workspaceId: string;
  providerIds: string[];
  providerNames: string[];
  keyIds: string[];
  logId: string;
  ownerToken: string;
  ownerEmail: string;
  ownerId: string;
  gatewayKey: string;
  /** The mutated gateway requests' key: kept out of keyIds so the fuzz's own key routes never revoke it. */
  v1Key: { id: string; key: string };
  /** Entries of each mock kind that only the mutated gateway requests know of (the fuzz deletes the others). */
  v1Entries: V1Entry[];
  upstreamUrl: string;
  csrf: string;
}

let t: TestApp;
let f: Fixtures;
const upstreams: MockUpstream[] = [];

async function must(r: Promise<{ status: number; text: string; body: any }>, want: number, what: string) {
  const res = await r;
  if (res.status !== want) throw new Error(`${what}: ${res.status} ${res.text}`);
  return res.body;
}

/**
 * Makes sure the owner's session, a gateway key and the providers still exist (the fuzz may delete
 * or revoke them), and removes what the fuzz piled up: every page lists the owner's workspaces and
 * every key list the workspace's keys, so their growth would make each request slower than the last.
 */
async function restore(): Promise<void> {
  const ownerId = (await t.sql`select id from users where lower(email) = lower(${f.ownerEmail})`)[0]?.id as string;
  await t.sql`delete from workspaces where id <> ${f.workspaceId} and id in (select workspace_id from workspace_members where user_id = ${ownerId})`;
  await t.sql`delete from api_keys where workspace_id = ${f.workspaceId} and id <> ${f.v1Key.id} and id in (select id from api_keys where workspace_id = ${f.workspaceId} order by created_at desc offset 20)`;
  if ((await t.call("GET", "/auth/me", { token: f.ownerToken })).status !== 200) {
    const r = await t.call("POST", "/auth/login", { body: { email: f.ownerEmail, password: "correct horse battery" } });
    if (r.status === 200) f.ownerToken = r.body.token;
    f.csrf = csrfTokenFor(t.deps, JSON.parse(Buffer.from(f.ownerToken.split(".")[1]!, "base64url").toString()).jti);
  }
  const models = await t.call("GET", "/v1/models", { token: f.gatewayKey });
  if (models.status === 401) {
    const k = await must(
      t.call("POST", `/workspaces/${f.workspaceId}/api-keys`, { token: f.ownerToken, body: { name: "fuzz" } }),
      201,
      "key",
    );
    f.gatewayKey = k.key;
    f.keyIds.push(k.id);
  }
  const list = await t.call("GET", `/workspaces/${f.workspaceId}/providers`, { token: f.ownerToken });
  if (list.status === 200) {
    const theirs = list.body.data.filter((p: { name: string }) => !p.name.startsWith("v1-"));
    f.providerIds = theirs.map((p: { id: string }) => p.id);
    f.providerNames = theirs.map((p: { name: string }) => p.name);
    if (f.providerIds.length < 3) {
      for (const u of upstreams.slice(0, 3)) {
        await t.call("POST", `/workspaces/${f.workspaceId}/providers`, {
          token: f.ownerToken,
          body: {
            name: `${u.kind}-${crypto.randomUUID().slice(0, 6)}`,
            type: u.kind,
            base_url: u.url,
            api_key: "sk-fuzz-upstream-key-0123456789",
          },
        });
      }
    }
  }
}

beforeAll(async () => {
  t = await testApp();
  for (const kind of ["openai", "anthropic", "gemini"] as const)
    upstreams.push(await startMockUpstream(kind, { expectedKey: "sk-fuzz-upstream-key-0123456789" }));
  const owner = await t.signup(undefined, "correct horse battery");
  const ws = await t.workspace(owner.token, "Fuzz");
  const log = makeRecord(ws.id);
  t.deps.logQueue.enqueue(log);
  await t.deps.logQueue.flush();
  f = {
    workspaceId: ws.id,
    providerIds: [],
    providerNames: [],
    keyIds: [],
    logId: log.id,
    ownerToken: owner.token,
    ownerEmail: owner.email,
    ownerId: owner.user.id,
    gatewayKey: "prp_none",
    v1Entries: [],
    v1Key: await must(t.call("POST", `/workspaces/${ws.id}/api-keys`, { token: owner.token, body: { name: "fuzz /v1" } }), 201, "key"),
    upstreamUrl: upstreams[0]!.url,
    csrf: csrfTokenFor(t.deps, JSON.parse(Buffer.from(owner.token.split(".")[1]!, "base64url").toString()).jti),
  };
  // Failing upstreams (one fixed way each, so a case replays alike): their failures must reach the
  // client as documented 502/503/504s or error events, and fall back when the request is not pinned.
  const faults: [string, MockBehaviour][] = [
    ["500", { status: 500 }],
    ["503", { status: 503, retryAfter: 1 }],
    ["drop", { drop: true }],
    ["cut", { cutAfterChunks: 2 }],
    ["errevent", { errorAfterChunks: 1 }],
    ["badjson", { okBody: '{"choices": [' }],
  ];
  const v1Upstreams: [string, MockUpstream, boolean][] = upstreams.map((u) => [`v1-${u.kind}`, u, false]);
  for (const kind of ["openai", "anthropic", "gemini"] as const) {
    for (const [what, behaviour] of faults) {
      const mock = await startMockUpstream(kind, { expectedKey: "sk-fuzz-upstream-key-0123456789", behaviour });
      upstreams.push(mock);
      v1Upstreams.push([`v1-${kind}-${what}`, mock, true]);
    }
  }
  for (const [name, u, faulty] of v1Upstreams) {
    const body = { name, type: u.kind, base_url: u.url, api_key: "sk-fuzz-upstream-key-0123456789" };
    await must(t.call("POST", `/workspaces/${ws.id}/providers`, { token: owner.token, body }), 201, "provider");
    f.v1Entries.push({ name, kind: u.kind, faulty });
  }
  await restore();
});
afterAll(async () => {
  await Promise.all(upstreams.map((u) => u.stop()));
  await t.deps.gateway?.stop();
  await t.close();
});

/* ---- one request ---- */

interface Case {
  i: number;
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: string;
  /** A mutated gateway request: its API, and its x-request-id (to find its log row). */
  v1?: { route: V1Route; requestId: string; mutations: number; stream: boolean };
}

const routes = () => t.app.routes.map((r) => ({ method: r.method, path: r.path }));

function makeCase(i: number, table: { method: string; path: string }[]): Case {
  const g = new Gen((SEED ^ Math.imul(i + 1, 0x9e3779b1)) >>> 0);
  if (g.chance(V1_SHARE)) return makeV1Case(i, g);
  const route = g.chance(0.03)
    ? {
        method: g.pick(["GET", "POST"]),
        path: g.pick([
          "/nope",
          "/v1/embeddings",
          "/app/w/:id/nope",
          "/%",
          "/workspaces/:id/../../auth/me",
          "//",
          "/public/../package.json",
        ]),
      }
    : g.pick(table);
  const method = g.chance(0.05) ? g.pick(["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"]) : route.method;
  const valid: Record<string, string> = {
    id: f.workspaceId,
    pid: g.pick(f.providerIds.length ? f.providerIds : ["none"]),
    kid: g.pick(f.keyIds.length ? f.keyIds : ["none"]),
    logId: f.logId,
    uid: g.pick([f.ownerId, "none"]),
  };
  let path = route.path.replace(/:(\w+)/g, (_, name: string) => randomParam(g, valid[name] ?? "x"));
  path = path.replace(/\*$/, () =>
    g.pick(["app.css", "htmx.min.js", "nope.js", "..%2Fpackage.json", "%00", "app.css%00.js", randomParam(g, "app.js")]),
  );
  const page = path === "/" || path.startsWith("/app") || ["/login", "/signup", "/logout"].includes(path);
  const headers: Record<string, string> = {};
  // Who is calling: nobody, the owner (by header, or on pages also by cookie), the gateway key, or
  // garbage. A session costs several database round trips and a page render, so it is one call in
  // ten: about 10,000 deep calls in a default run, and the run stays within a few minutes.
  // The owner's session must outlive the run: routes that end sessions are fuzzed without it.
  const who = ENDS_SESSIONS.has(route.path) ? g.int(0, 7) : g.int(0, 19);
  if (who <= 7) {
    /* anonymous */
  } else if (who <= 9) {
    if (page && g.chance(0.5)) headers.cookie = `${SESSION_COOKIE}=${f.ownerToken}`;
    else headers.authorization = `Bearer ${f.ownerToken}`;
  } else if (who <= 13) headers.authorization = `Bearer ${f.gatewayKey}`;
  else
    headers.authorization = g.pick([
      "Bearer",
      "Bearer ",
      "Basic YTpi",
      "Bearer prp_short",
      `Bearer ${f.ownerToken}x`,
      "bearer  " + "a".repeat(5000),
      "Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4IiwianRpIjoieSJ9.",
    ]);
  if (page && headers.cookie && g.chance(0.5)) headers["x-csrf-token"] = g.chance(0.8) ? f.csrf : "wrong";
  if (g.chance(0.2)) {
    headers["hx-request"] = "true";
    if (g.chance(0.5)) headers["hx-target"] = g.pick(["div#frame", "#row", "", "x".repeat(300)]);
  }
  if (g.chance(0.1)) headers["x-request-id"] = g.pick(["", "a".repeat(500), "id with spaces", "ok-1"]);
  if (g.chance(0.05)) headers["content-length"] = g.pick(["0", "-1", "abc", "99999999999", "1"]);
  if (g.chance(0.05)) headers.accept = g.pick(["text/html", "application/json", "*/*", "text/event-stream"]);
  if (g.chance(0.03))
    headers.cookie =
      (headers.cookie ? headers.cookie + "; " : "") +
      g.pick([`${SESSION_COOKIE}=`, `${SESSION_COOKIE}=%`, "perpetuo_login_csrf=" + "a".repeat(40), "a=b; ; ;="]);
  let body: string | undefined;
  if (method !== "GET" && method !== "HEAD" && (g.chance(0.95) || method === "POST")) {
    const b = randomBody(g, f, page ? "form" : "json");
    body = b.text;
    if (b.type !== null) headers["content-type"] = b.type;
  }
  return { i, method, url: `http://localhost${path}${randomQuery(g)}`, headers, body };
}

function makeV1Case(i: number, g: Gen): Case {
  const v = v1Case(g, f.v1Entries);
  const requestId = `fzv1-${SEED}-${i}`;
  const headers: Record<string, string> = { "x-request-id": requestId };
  // The Anthropic SDK sends x-api-key; the others a bearer token.
  if (v.route === "messages" || v.route === "count_tokens") {
    headers["anthropic-version"] = "2023-06-01";
    if (g.chance(0.5)) headers["x-api-key"] = f.v1Key.key;
    else headers.authorization = `Bearer ${f.v1Key.key}`;
  } else headers.authorization = `Bearer ${f.v1Key.key}`;
  if (v.body !== undefined) headers["content-type"] = "application/json";
  if (v.stream) headers.accept = "text/event-stream";
  return {
    i,
    method: v.method,
    url: `http://localhost${v.path}`,
    headers,
    body: v.body,
    v1: { route: v.route, requestId, mutations: v.mutations, stream: v.stream },
  };
}

/** The mutated gateway requests sent, by request id: their status, to match against request_logs at the end. */
const v1Sent = new Map<string, { route: V1Route; stream: boolean; status: number; nulPath: boolean; mutations: number; detail: string }>();

const STACK = /\n\s+at\s|\bat [\w.<>]+ \(|node_modules|\/work\/|\.tsx?:\d+|Error: .*\n/;
const SQL_TEXT =
  /syntax error at or near|invalid input syntax|violates [\w ]*constraint|relation "[^"]+" does not exist|PostgresError|column "[^"]+"|duplicate key value|invalid byte sequence|unterminated quoted|operator does not exist|null character not permitted/i;

interface Problem {
  group: string;
  detail: string;
  repro: Case;
}

function judge(c: Case, status: number, headers: Headers, text: string): string | null {
  if (c.v1) {
    if (STACK.test(text)) return "stack trace in body";
    if (SQL_TEXT.test(text)) return "SQL error text in body";
    return judgeV1(c.v1.route, status, headers, text);
  }
  const v1 = new URL(c.url).pathname.startsWith("/v1/");
  if (status >= 500) {
    // An upstream that failed is the gateway's honest answer; only /v1 may say so.
    if (!(v1 && [502, 503, 504].includes(status))) return `status ${status}`;
  }
  if (STACK.test(text)) return "stack trace in body";
  if (SQL_TEXT.test(text)) return "SQL error text in body";
  if (status >= 400 && status < 500 && c.method !== "HEAD") {
    const type = headers.get("content-type") ?? "";
    if (type.includes("json")) {
      let message: unknown;
      try {
        message = JSON.parse(text)?.error?.message;
      } catch {}
      if (typeof message !== "string" || message.length === 0) return `${status} without error.message`;
    } else if (!text.trim() && !headers.get("hx-redirect")) return `${status} with an empty body`;
  }
  if (status >= 300 && status < 400 && !headers.get("location")) return `${status} without location`;
  return null;
}

/** NUL bytes are one known class (issue 11, item 11): grouped apart so other causes stand out. */
function isDeep(c: Case): boolean {
  return (c.body ?? "").startsWith("[".repeat(5000)) || (c.body ?? "").startsWith(`{"a":${"[".repeat(1000)}`);
}

function hasNul(c: Case): boolean {
  const all = [c.url, c.body ?? "", ...Object.values(c.headers)].join("");
  return /%00|\u0000/.test(all) || /\\u0000/.test(c.body ?? "");
}

const compiled = new WeakMap<object, { method: string; path: string; re: RegExp }[]>();
function routeOf(c: Case, table: { method: string; path: string }[]): string {
  let res = compiled.get(table);
  if (!res) {
    res = table.map((r) => ({ ...r, re: new RegExp(`^${r.path.replace(/\/$/, "").replace(/:\w+/g, "[^/]+").replace(/\*$/, ".*")}/?$`) }));
    compiled.set(table, res);
  }
  const path = new URL(c.url).pathname;
  const hit = res.find((r) => r.method === c.method && r.re.test(path));
  return `${c.method} ${hit?.path ?? "(no route)"}`;
}

function shortCase(c: Case): string {
  const body =
    c.body === undefined
      ? ""
      : ` body=${JSON.stringify(c.body.length > 300 ? c.body.slice(0, 300) + `…(${c.body.length} chars)` : c.body)}`;
  return `#${c.i} ${c.method} ${c.url.slice(16, 316)} headers=${JSON.stringify(c.headers).slice(0, 400)}${body}`;
}

const problems = new Map<string, Problem & { count: number }>();
/** Routes that accepted (2xx/3xx) at least one fuzzed request: the handlers were reached, not only the guards. */
const accepted = new Set<string>();
function record(p: Problem) {
  const had = problems.get(p.group);
  if (had) had.count++;
  else problems.set(p.group, { ...p, count: 1 });
}

async function runCase(
  c: Case,
  table: { method: string; path: string }[],
  send: (c: Case) => Promise<{ status: number; headers: Headers; text: string }>,
): Promise<number> {
  let res;
  try {
    res = await send(c);
  } catch (err) {
    record({ group: `${routeOf(c, table)}: request failed (${(err as Error).message.slice(0, 80)})`, detail: String(err), repro: c });
    return -1;
  }
  if (res.status < 400) accepted.add(routeOf(c, table));
  if (c.v1) {
    const nulPath = new URL(c.url).pathname.includes("%00");
    v1Sent.set(c.v1.requestId, {
      route: c.v1.route,
      stream: c.v1.stream,
      status: res.status,
      nulPath,
      mutations: c.v1.mutations,
      detail: res.status >= 400 ? res.text.slice(0, 160) : "",
    });
  }
  const wrong = judge(c, res.status, res.headers, res.text);
  if (wrong)
    record({
      group: `${routeOf(c, table)}: ${wrong}${hasNul(c) ? " (input has a NUL byte)" : isDeep(c) ? " (body is JSON nested 100,000 deep)" : ""}`,
      detail: res.text.slice(0, 300),
      repro: c,
    });
  return res.status;
}

function buildRequest(c: Case): Request | null {
  try {
    return new Request(c.url, { method: c.method, headers: c.headers, body: c.body });
  } catch {
    return null; // not expressible as a Request (e.g. an illegal header value): nothing was sent
  }
}

function report(tried: number, statuses: Map<number, number>, skipped: number) {
  const byClass = [...statuses]
    .sort((a, b) => a[0] - b[0])
    .map(([s, n]) => `${s}:${n}`)
    .join(" ");
  console.log(
    `fuzz: seed ${SEED}: ${tried} requests tried (${skipped} not expressible as a Request), statuses ${byClass}; secret scan: ${scanCount()} scans, ${knownSecrets().length} keys known`,
  );
  for (const p of problems.values())
    console.log(`fuzz problem ×${p.count}: ${p.group}\n  repro: ${shortCase(p.repro)}\n  answer: ${p.detail}`);
}

test(`every route answers ${COUNT} random and malformed requests with 2xx-4xx, a clear message and no internals (app.handle, seed ${SEED})`, async () => {
  const table = routes();
  const statuses = new Map<number, number>();
  let tried = 0;
  let skipped = 0;
  let next = ONLY ?? 0;
  const started = performance.now();
  const cpu0 = process.cpuUsage();
  const end = ONLY === null ? COUNT : ONLY + 1;
  const send = async (c: Case) => {
    const req = buildRequest(c)!;
    const res = await t.app.handle(req);
    return { status: res.status, headers: res.headers, text: await res.text() };
  };
  async function worker() {
    while (next < end) {
      const i = next++;
      if (i % 2000 === 0) await restore();
      if (i > 0 && i % 20_000 === 0) console.log(`fuzz: ${i} requests, ${Math.round((performance.now() - started) / 1000)} s`);
      const c = makeCase(i, table);
      if (!buildRequest(c)) {
        skipped++;
        continue;
      }
      const t0 = performance.now();
      const status = await runCase(c, table, send);
      if (PROFILE) {
        const k = routeOf(c, table);
        const p = PROFILE.get(k) ?? [0, 0];
        PROFILE.set(k, [p[0] + 1, p[1] + performance.now() - t0]);
      }
      tried++;
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
    }
  }
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  report(tried, statuses, skipped);
  // Replaying one case: the server's own error lines say where a 500 came from.
  if (ONLY !== null)
    for (const line of t.logs.filter((l) => /"level":"error"|internal error/.test(l)))
      console.log(`fuzz server log: ${line.slice(0, 2000)}`);
  const cpu = process.cpuUsage(cpu0);
  console.log(
    `fuzz: ${Math.round((performance.now() - started) / 1000)} s elapsed, ${Math.round((cpu.user + cpu.system) / 1e6)} s CPU in this process (database server not counted)`,
  );
  const never = table.map((r) => `${r.method} ${r.path}`).filter((k) => !accepted.has(k));
  console.log(
    `fuzz: ${table.length - never.length} of ${table.length} routes accepted some fuzzed request; never: ${never.join(", ") || "none"}`,
  );
  if (PROFILE)
    for (const [k, [n, ms]] of [...PROFILE].sort((a, b) => b[1][1] - a[1][1]).slice(0, 15))
      console.log(`fuzz profile: ${k}: ${n} requests, ${Math.round(ms)} ms`);
  expect(tried + skipped).toBe(end - (ONLY ?? 0));
  // Not a vacuous run: most requests were sent, and the authenticated ones got deep (2xx among them).
  expect(tried).toBeGreaterThan((end - (ONLY ?? 0)) * 0.9);
  if (ONLY === null) expect([...statuses.keys()].some((s) => s >= 200 && s < 300)).toBe(true);
  expect([...problems.values()].map((p) => `×${p.count} ${p.group} — ${shortCase(p.repro)}`)).toEqual([]);
  expect((await t.call("GET", "/healthz")).status).toBe(200);
  if (ONLY === null) {
    const logs = await v1LogCheck();
    expect(logs.wrong).toEqual([]);
    expect(logs.rows).toBe(logs.loggable);
    // Not a vacuous run: the mutated requests got past validation and reached the mock providers.
    expect(logs.reached).toBeGreaterThan(v1Sent.size * 0.3);
  }
  // Generous: the budget is about 3 minutes on an idle 2-core machine; a busy one must not fail it.
}, 1_800_000);

// The seed is in the names: a CI summary that shows only the failing line still says how to replay it.
test(`a sample over real HTTP, and raw malformed HTTP, leave the server up and answering 4xx (seed ${SEED})`, async () => {
  problems.clear();
  const server = t.app.listen({ port: 0, hostname: "127.0.0.1" });
  const origin = `http://127.0.0.1:${server.server!.port}`;
  try {
    const table = routes();
    const statuses = new Map<number, number>();
    const send = async (c: Case) => {
      const res = await fetch(origin + c.url.slice("http://localhost".length), {
        method: c.method,
        headers: c.headers,
        body: c.body,
        redirect: "manual",
      });
      return { status: res.status, headers: res.headers, text: await res.text() };
    };
    const sample = Math.min(2000, Math.max(1, Math.floor(COUNT / 50)));
    let tried = 0;
    for (let i = 0; i < sample; i++) {
      const c = makeCase(COUNT + i, table);
      // fetch sets content-length itself; a wrong one is the raw-socket part's business.
      delete c.headers["content-length"];
      if (!buildRequest(c)) continue;
      const status = await runCase(c, table, send);
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
      tried++;
    }
    report(tried, statuses, sample - tried);

    // Requests no HTTP client library would send.
    const port = server.server!.port!;
    const raw = [
      "GET / HTTP/1.1\r\nHost: x\r\n\r\n",
      "GET /%zz HTTP/1.1\r\nHost: x\r\n\r\n",
      "GET /workspaces/%00 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer x\r\n\r\n",
      'POST /auth/signup HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 5\r\n\r\n{"a":',
      'POST /auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{"email":"a@b.co","password":"xxxxxxxxxxxx"}',
      "POST /auth/login HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\nzz\r\n{}\r\n0\r\n\r\n",
      "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n",
      "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 7\r\n\r\n{}",
      "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Bad: a\u0000b\r\n\r\n",
      "GARBAGE\r\n\r\n",
      "GET /healthz HTTP/9.9\r\n\r\n",
      "GET " + "/a".repeat(20_000) + " HTTP/1.1\r\nHost: x\r\n\r\n",
      "GET /healthz HTTP/1.1\r\nHost: x\r\n" + "X-A: b\r\n".repeat(2000) + "\r\n",
    ];
    for (const text of raw) {
      const answer = await rawRequest(port, text);
      const m = /^HTTP\/1\.1 (\d{3})/.exec(answer);
      // Bun may also close a connection it cannot parse without answering; never a 5xx, except
      // Bun's own 505 for an HTTP version it does not speak.
      if (m)
        expect({ request: text.slice(0, 60), status: Number(m[1]!) < 500 || m[1] === "505" }).toEqual({
          request: text.slice(0, 60),
          status: true,
        });
      expect(answer).not.toMatch(STACK);
    }
    expect([...problems.values()].map((p) => `×${p.count} ${p.group} — ${shortCase(p.repro)}`)).toEqual([]);
    expect((await fetch(`${origin}/healthz`)).status).toBe(200);
  } finally {
    await server.stop(true);
  }
}, 300_000);

/**
 * Every mutated gateway request that passed authentication has exactly one log row (a model lookup
 * only when refused: a listing is not a gateway request), and none that did not. Prints the figures.
 */
async function v1LogCheck() {
  const expected = new Map<string, boolean>();
  // count_tokens and a model lookup are not generations: logged only when refused (README). A NUL in
  // the path is refused before authentication, like any URL's.
  for (const [id, s] of v1Sent) {
    const generation = s.route !== "model" && s.route !== "count_tokens";
    expected.set(id, s.status !== 401 && (generation || (s.status >= 400 && !s.nulPath)));
  }
  const loggable = [...expected.values()].filter(Boolean).length;
  const authenticated = [...v1Sent.values()].filter((s) => s.status !== 401).length;
  let rows: { request_id: string; n: number; attempts: number }[] = [];
  // Refusals are logged after their answer has gone: wait until the queue has them all (or 15 s).
  for (let waited = 0; waited < 15_000; waited += 250) {
    await t.deps.logQueue.flush();
    rows = await t.sql`select request_id, count(*)::int as n, max(jsonb_array_length(attempts))::int as attempts
      from request_logs where request_id like ${`fzv1-${SEED}-%`} group by request_id`;
    if (rows.reduce((a, r) => a + r.n, 0) >= loggable) break;
    await Bun.sleep(250);
  }
  const byId = new Map(rows.map((r) => [r.request_id, r]));
  const wrong: string[] = [];
  for (const [id, want] of expected) {
    const n = byId.get(id)?.n ?? 0;
    if (n !== (want ? 1 : 0)) wrong.push(`${id} (${v1Sent.get(id)!.route}, status ${v1Sent.get(id)!.status}): ${n} log rows`);
  }
  const reached = rows.filter((r) => r.attempts > 0).length;
  const statuses = new Map<string, number>();
  const refusals = new Map<string, number>();
  for (const s of v1Sent.values()) {
    const k = `${s.route}${s.stream ? "(stream)" : ""} ${s.status}`;
    statuses.set(k, (statuses.get(k) ?? 0) + 1);
    // The refusals' messages without their values: what the mutations mostly trip on (FUZZ_V1_VERBOSE).
    if (s.status >= 400) {
      const m = `${s.route} ${s.status} ${(/"message":"([^"]{0,60})/.exec(s.detail)?.[1] ?? s.detail.slice(0, 60)).replace(/'[^']*'?|\d+/g, "…")}`;
      refusals.set(m, (refusals.get(m) ?? 0) + 1);
    }
  }
  if (process.env.FUZZ_V1_VERBOSE)
    for (const [m, n] of [...refusals].sort((a, b) => b[1] - a[1]).slice(0, 60)) console.log(`fuzz /v1 refusal ×${n}: ${m}`);
  const tally = [...statuses]
    .sort()
    .map(([k, n]) => `${k}:${n}`)
    .join(" ");
  const total = rows.reduce((a, r) => a + r.n, 0);
  console.log(
    `fuzz /v1 mutations: ${v1Sent.size} sent, ${authenticated} authenticated, ${loggable} of them to be logged, ${reached} reached a provider ` +
      `(${((100 * reached) / Math.max(1, v1Sent.size)).toFixed(1)}%), ${total} log rows; by route and status: ${tally}`,
  );
  // An unmutated request is valid: a refusal of one means the pool (or the gateway) is wrong.
  const unmutated = [...v1Sent].filter(([, s]) => s.mutations === 0 && s.status >= 400 && s.status < 500 && s.route !== "model");
  for (const [id, s] of unmutated.slice(0, 10)) console.log(`fuzz /v1: unmutated ${id} ${s.route} refused ${s.status}: ${s.detail}`);
  return { wrong: wrong.slice(0, 20), rows: total, loggable, reached };
}

/** Sends bytes as they are and returns what comes back until the server closes or goes quiet. */
async function rawRequest(port: number, text: string): Promise<string> {
  let out = "";
  let done!: () => void;
  const finished = new Promise<void>((r) => (done = r));
  const socket = await Bun.connect({
    hostname: "127.0.0.1",
    port,
    socket: {
      data: (_s, d) => void (out += new TextDecoder().decode(d)),
      close: () => done(),
      error: () => done(),
    },
  });
  socket.write(text);
  await Promise.race([finished, Bun.sleep(1000)]);
  socket.end();
  return out;
}
