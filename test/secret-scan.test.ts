/**
 * The secret scan itself (test/support/secret-scan.ts, installed by the preload for every test
 * file): proof that it finds what it should, in every place it watches, and that a hit fails a
 * run. Each test that leaks on purpose takes its hits itself, so the preload's check stays green.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { Elysia } from "elysia";
import { scanCount, settle, takeHits, type Hit } from "./support/secret-scan.ts";
import { testApp, type TestApp } from "./support/app.ts";

let t: TestApp;
beforeAll(async () => {
  t = await testApp();
});
afterAll(() => t.close());

const unique = (label: string) => `zz-${label}-${crypto.randomUUID().replaceAll("-", "")}`;

/** A careless app: echoes whatever a provider route is sent (the scan learns `api_key` from it). */
const echoApp = () =>
  new Elysia()
    .post("/workspaces/w/providers", ({ body }) => body as Record<string, unknown>)
    .get("/say", ({ query }) => new Response(String(query.text ?? "")))
    .get("/stream", ({ query }) => new Response(`data: {"x":"${String(query.text ?? "")}"}\n\ndata: [DONE]\n\n`, { headers: { "content-type": "text/event-stream" } }));

const teach = (app: { handle(r: Request): Promise<Response> }, key: string) =>
  app
    .handle(new Request("http://localhost/workspaces/w/providers", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ api_key: key }) }))
    .then((r) => r.text());

async function hitsFor(secret: string): Promise<Hit[]> {
  await settle();
  return takeHits().filter((h) => h.secret === secret);
}

describe("the secret scan finds", () => {
  test("a provider key echoed in a response body (app.handle)", async () => {
    const key = unique("echoed");
    await teach(echoApp(), key);
    const hits = await hitsFor(key);
    expect(hits).toHaveLength(1);
    expect(hits[0]).toMatchObject({ form: "whole", where: "POST /workspaces/w/providers → 200 body" });
  });

  test("a key in a response header", async () => {
    const key = unique("header");
    const app = echoApp().get("/h", () => new Response("ok", { headers: { "x-debug": `key=${key}` } }));
    await teach(app, key);
    takeHits();
    await (await app.handle(new Request("http://localhost/h"))).text();
    const hits = await hitsFor(key);
    expect(hits.map((h) => h.where)).toEqual(["GET /h → 200 headers"]);
  });

  test("a key cut short, URL-encoded or in base64", async () => {
    const key = `${unique("forms")}+/=`;
    const app = echoApp();
    await teach(app, key);
    takeHits();
    const say = async (text: string) => (await app.handle(new Request(`http://localhost/say?text=${encodeURIComponent(text)}`))).text();
    await say(`error: ${key.slice(0, key.length - 1)}…`);
    await say(`echo ${encodeURIComponent(key)}`);
    await say(Buffer.from(key).toString("base64"));
    const hits = await hitsFor(key);
    expect(hits).toHaveLength(3);
    expect(hits.every((h) => h.form !== "whole")).toBe(true);
  });

  test("a key in a streamed (SSE) body, which still reaches the client unchanged", async () => {
    const key = unique("stream");
    const app = echoApp();
    await teach(app, key);
    takeHits();
    const res = await app.handle(new Request(`http://localhost/stream?text=${key}`));
    expect(await res.text()).toBe(`data: {"x":"${key}"}\n\ndata: [DONE]\n\n`);
    expect((await hitsFor(key)).map((h) => h.where)).toEqual(["GET /stream → 200 body (stream)"]);
  });

  test("a key in a response over real HTTP (listen), learned from a form post", async () => {
    const key = unique("http");
    const app = echoApp().post("/workspaces/w/providers/form", ({ body }) => `saved ${(body as Record<string, string>).api_key}`).listen({ port: 0, hostname: "127.0.0.1" });
    try {
      const res = await fetch(`http://127.0.0.1:${app.server!.port}/workspaces/w/providers/form`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ name: "x", api_key: key }),
      });
      expect(await res.text()).toBe(`saved ${key}`);
      expect((await hitsFor(key)).map((h) => h.where)).toEqual(["POST /workspaces/w/providers/form → 200 body"]);
    } finally {
      await app.stop(true);
    }
  });

  test("a provider key the gateway sends upstream, then shown in a response", async () => {
    const key = unique("outgoing");
    const upstream = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response("{}") });
    try {
      // The process's own fetch to a provider teaches the scan that credential…
      await (await fetch(`http://127.0.0.1:${upstream.port}/v1/models`, { headers: { authorization: `Bearer ${key}` } })).text();
      // …and responses from upstreams themselves are not Perpetuo's, so they are not scanned.
      expect(await hitsFor(key)).toEqual([]);
      await (await echoApp().handle(new Request(`http://localhost/say?text=${key}`))).text();
      expect(await hitsFor(key)).toHaveLength(1);
    } finally {
      upstream.stop(true);
    }
  });

  test("a key in a server log line", async () => {
    const key = unique("logged");
    await teach(echoApp(), key);
    takeHits();
    // Not credential-shaped, so the logger's own pattern does not mask it: only the scan stands in the way.
    t.deps.logger.info("upstream said", { detail: `rejected ${key}` });
    const hits = await hitsFor(key);
    expect(hits.map((h) => h.where)).toEqual(["log line"]);
  });

  test("a gateway key anywhere but the one response that creates it", async () => {
    const owner = await t.signup();
    const ws = await t.workspace(owner.token);
    const created = await t.call("POST", `/workspaces/${ws.id}/api-keys`, { token: owner.token, body: { name: "scan" } });
    expect(created.status).toBe(201);
    const key: string = created.body.key;
    expect(await hitsFor(key)).toEqual([]);
    await (await echoApp().handle(new Request(`http://localhost/say?text=${key}`))).text();
    expect(await hitsFor(key)).toHaveLength(1);
  });
});

describe("the secret scan stays quiet", () => {
  test("for the real API handling a provider key: create, read, list, update, test", async () => {
    const before = scanCount();
    const owner = await t.signup();
    const ws = await t.workspace(owner.token);
    const key = unique("quiet");
    const p = await t.call("POST", `/workspaces/${ws.id}/providers`, {
      token: owner.token,
      body: { name: "quiet", type: "openai_compatible", base_url: "http://127.0.0.1:9/v1", api_key: key },
    });
    expect(p.status).toBe(201);
    await t.call("GET", `/workspaces/${ws.id}/providers`, { token: owner.token });
    await t.call("GET", `/workspaces/${ws.id}/providers/${p.body.id}`, { token: owner.token });
    await t.call("PUT", `/workspaces/${ws.id}/providers/${p.body.id}`, { token: owner.token, body: { priority: 5 } });
    await t.call("POST", `/workspaces/${ws.id}/providers/${p.body.id}/test`, { token: owner.token });
    expect(await hitsFor(key)).toEqual([]);
    // It did look: every response and log line above went through it.
    expect(scanCount()).toBeGreaterThan(before + 5);
  });
});

test("a leak fails the test it happens in (a child `bun test` with the same preload)", async () => {
  const root = join(import.meta.dir, "..");
  const proc = Bun.spawn(["bun", "test", "./test/support/fixtures/leak.fixture.ts"], { cwd: root, stdout: "pipe", stderr: "pipe", env: { ...process.env } });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  expect(code).not.toBe(0);
  expect(out + err).toContain("secret scan: 1 leak(s) of a configured key");
  expect(out + err).toContain("(fail) an endpoint that echoes the provider key it was given");
});
