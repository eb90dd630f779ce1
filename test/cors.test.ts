import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { gatewayHarness, type GatewayHarness } from "./support/gateway.ts";
import { parseEnv } from "../src/config.ts";
import { allowHeaders, pathOf } from "../src/http/cors.ts";

const APP = "https://app.example.com";
const EVIL = "https://evil.example.net";

async function preflight(h: GatewayHarness, path: string, origin: string, requestHeaders = "authorization, content-type") {
  return fetch(`${h.base}${path}`, {
    method: "OPTIONS",
    headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": requestHeaders },
  });
}

function post(h: GatewayHarness, path: string, origin: string, body: unknown, key = h.key) {
  return fetch(`${h.base}${path}`, {
    method: "POST",
    headers: { origin, authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
}

describe("configuration", () => {
  test("CORS_ORIGINS takes exact origins or * alone", () => {
    expect(parseEnv({ CORS_ORIGINS: "https://a.example.com, http://localhost:5173" }).CORS_ORIGINS).toEqual([
      "https://a.example.com",
      "http://localhost:5173",
    ]);
    expect(parseEnv({ CORS_ORIGINS: "*" }).CORS_ORIGINS).toEqual(["*"]);
    expect(parseEnv({}).CORS_ORIGINS).toBeUndefined();
    for (const bad of [
      "https://a.example.com/path",
      "a.example.com",
      "ftp://a.example.com",
      "*,https://a.example.com",
      "https://a.example.com/",
    ]) {
      expect(() => parseEnv({ CORS_ORIGINS: bad })).toThrow(/CORS_ORIGINS/);
    }
  });
  test("METRICS_TOKEN must be long and sendable", () => {
    expect(parseEnv({ METRICS_TOKEN: "0123456789abcdef" }).METRICS_TOKEN).toBe("0123456789abcdef");
    expect(() => parseEnv({ METRICS_TOKEN: "short" })).toThrow(/METRICS_TOKEN/);
    expect(() => parseEnv({ METRICS_TOKEN: "has a space in it, sixteen+" })).toThrow(/METRICS_TOKEN/);
  });
  test("helpers", () => {
    expect(pathOf("http://h:1/v1/models?x=1")).toBe("/v1/models");
    expect(pathOf("http://h/")).toBe("/");
    expect(allowHeaders("X-Stainless-OS, x-evil, x-stainless-retry-count")).toContain("x-stainless-os");
    expect(allowHeaders("x-evil")).not.toContain("x-evil");
  });
});

describe("CORS off (the default)", () => {
  let h: GatewayHarness;
  beforeAll(async () => {
    h = await gatewayHarness();
    await h.addProvider("openai", { models: ["gpt-4o-mini"] });
  });
  afterAll(() => h.close());

  test("no Access-Control headers on /v1, preflights included", async () => {
    const pre = await preflight(h, "/v1/chat/completions", APP);
    expect(pre.headers.get("access-control-allow-origin")).toBeNull();
    const res = await post(h, "/v1/chat/completions", APP, { model: "gpt-4o-mini", messages: [{ role: "user", content: "x" }] });
    expect(res.status).toBe(200);
    expect(res.headers.get("access-control-allow-origin")).toBeNull();
    await res.text();
  });
});

describe("CORS_ORIGINS with one origin", () => {
  let h: GatewayHarness;
  beforeAll(async () => {
    h = await gatewayHarness({ config: { corsOrigins: [APP] } });
    await h.addProvider("openai", { models: ["gpt-4o-mini"] });
  });
  afterAll(() => h.close());

  test("a preflight from the origin is answered before authentication, allowing every header the openai SDK sends", async () => {
    // What the SDK really sends: captured from a call, then asked for as a browser would.
    const captured: Headers[] = [];
    const client = new OpenAI({
      apiKey: h.key,
      baseURL: `${h.base}/v1`,
      maxRetries: 0,
      fetch: async (url, init) => {
        captured.push(new Headers(init?.headers));
        return fetch(url, init);
      },
    });
    await client.chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: "x" }] });
    const safelisted = new Set(["accept", "accept-language", "content-language", "user-agent"]);
    const asked: string[] = [];
    captured[0]!.forEach((_, k) => {
      if (!safelisted.has(k)) asked.push(k);
    });
    expect(asked).toContain("authorization");
    expect(asked.some((k) => k.startsWith("x-stainless-"))).toBe(true);

    const pre = await preflight(h, "/v1/chat/completions", APP, asked.join(", "));
    expect(pre.status).toBe(204);
    expect(pre.headers.get("access-control-allow-origin")).toBe(APP);
    expect(pre.headers.get("access-control-allow-methods")).toContain("POST");
    const allowed = pre.headers
      .get("access-control-allow-headers")!
      .split(",")
      .map((s) => s.trim());
    for (const k of [...asked, "x-request-id"]) expect(allowed).toContain(k);
    expect(Number(pre.headers.get("access-control-max-age"))).toBeGreaterThan(0);
    expect(pre.headers.get("vary")).toContain("Origin");
  });

  test("and every header the Anthropic SDK sends to /v1/messages, x-api-key included", async () => {
    const captured: Headers[] = [];
    const client = new Anthropic({
      apiKey: h.key,
      baseURL: h.base,
      maxRetries: 0,
      dangerouslyAllowBrowser: true,
      fetch: async (url: RequestInfo | URL, init?: RequestInit) => {
        captured.push(new Headers(init?.headers));
        return fetch(url, init);
      },
    });
    await client.messages.create({ model: "gpt-4o-mini", max_tokens: 8, messages: [{ role: "user", content: "x" }] });
    const safelisted = new Set(["accept", "accept-language", "content-language", "user-agent"]);
    const asked: string[] = [];
    captured[0]!.forEach((_, k) => {
      if (!safelisted.has(k)) asked.push(k);
    });
    expect(asked).toContain("anthropic-version");
    // Clients that put the key in x-api-key (as Anthropic's API expects) are allowed too.
    const pre = await preflight(h, "/v1/messages", APP, [...asked, "x-api-key"].join(", "));
    expect(pre.status).toBe(204);
    const allowed = pre.headers
      .get("access-control-allow-headers")!
      .split(",")
      .map((s) => s.trim());
    for (const k of [...asked, "x-api-key"]) expect(allowed).toContain(k);
  });

  test("answers, errors and streams carry the origin, Vary and the exposed gateway headers", async () => {
    const ok = await post(h, "/v1/chat/completions", APP, { model: "gpt-4o-mini", messages: [{ role: "user", content: "x" }] });
    expect(ok.status).toBe(200);
    expect(ok.headers.get("access-control-allow-origin")).toBe(APP);
    expect(ok.headers.get("vary")).toContain("Origin");
    const exposed = ok.headers.get("access-control-expose-headers")!;
    for (const hname of ["x-request-id", "x-perpetuo-provider", "x-perpetuo-attempts", "x-perpetuo-cost", "x-ratelimit-remaining-requests"])
      expect(exposed).toContain(hname);
    await ok.text();

    const stream = await post(h, "/v1/chat/completions", APP, {
      model: "gpt-4o-mini",
      stream: true,
      messages: [{ role: "user", content: "x" }],
    });
    expect(stream.headers.get("content-type")).toStartWith("text/event-stream");
    expect(stream.headers.get("access-control-allow-origin")).toBe(APP);
    expect(await stream.text()).toContain("[DONE]");

    const errors = [
      await post(h, "/v1/chat/completions", APP, { model: "gpt-4o-mini", messages: [] }),
      await post(
        h,
        "/v1/chat/completions",
        APP,
        { model: "gpt-4o-mini", messages: [{ role: "user", content: "x" }] },
        "prp_not_a_real_key",
      ),
      await post(h, "/v1/chat/completions", APP, { model: "unknown-model", messages: [{ role: "user", content: "x" }] }),
      await post(h, "/v1/no-such-route", APP, {}),
    ];
    expect(errors.map((r) => r.status)).toEqual([400, 401, 404, 404]);
    for (const r of errors) {
      expect(r.headers.get("access-control-allow-origin")).toBe(APP);
      expect((await r.json()).error.message.length).toBeGreaterThan(0);
    }
  });

  test("through the SDK: GET /v1/models with the origin", async () => {
    const client = new OpenAI({ apiKey: h.key, baseURL: `${h.base}/v1`, maxRetries: 0, defaultHeaders: { origin: APP } });
    const { response } = await client.models.list().withResponse();
    expect(response.headers.get("access-control-allow-origin")).toBe(APP);
  });

  test("another origin gets nothing it could use", async () => {
    const pre = await preflight(h, "/v1/chat/completions", EVIL);
    expect(pre.headers.get("access-control-allow-origin")).toBeNull();
    expect(pre.headers.get("access-control-allow-headers")).toBeNull();
    const res = await post(h, "/v1/chat/completions", EVIL, { model: "gpt-4o-mini", messages: [{ role: "user", content: "x" }] });
    expect(res.headers.get("access-control-allow-origin")).toBeNull();
    expect(res.headers.get("vary")).toContain("Origin");
    await res.text();
  });

  test("never on the JSON API or the dashboard", async () => {
    const api = await fetch(`${h.base}/auth/login`, {
      method: "POST",
      headers: { origin: APP, "content-type": "application/json" },
      body: JSON.stringify({ email: "nobody@example.com", password: "whatever password" }),
    });
    expect(api.headers.get("access-control-allow-origin")).toBeNull();
    const pre = await preflight(h, "/auth/login", APP);
    expect(pre.headers.get("access-control-allow-origin")).toBeNull();
    const page = await fetch(`${h.base}/login`, { headers: { origin: APP } });
    expect(page.headers.get("access-control-allow-origin")).toBeNull();
    const ws = await fetch(`${h.base}/workspaces`, { headers: { origin: APP, authorization: `Bearer ${h.owner.token}` } });
    expect(ws.status).toBe(200);
    expect(ws.headers.get("access-control-allow-origin")).toBeNull();
    const v1ish = await fetch(`${h.base}/v1x/models`, { headers: { origin: APP } });
    expect(v1ish.headers.get("access-control-allow-origin")).toBeNull();
  });
});

describe("CORS_ORIGINS=*", () => {
  let h: GatewayHarness;
  beforeAll(async () => {
    h = await gatewayHarness({ config: { corsOrigins: ["*"] } });
    await h.addProvider("openai", { models: ["gpt-4o-mini"] });
  });
  afterAll(() => h.close());

  test("any origin, answered with *", async () => {
    const pre = await preflight(h, "/v1/embeddings", EVIL);
    expect(pre.status).toBe(204);
    expect(pre.headers.get("access-control-allow-origin")).toBe("*");
    const res = await post(h, "/v1/chat/completions", EVIL, { model: "gpt-4o-mini", messages: [{ role: "user", content: "x" }] });
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    await res.text();
  });
});
