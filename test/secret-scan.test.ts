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

/**
 * A careless app: keeps the `api_key` a provider route is sent (so the scan learns it) and shows it
 * later in other responses. Its leaks do not carry the key in their own request: input echoed back
 * to the caller who sent it is not a leak.
 */
function echoApp() {
  let kept = "";
  const forms: Record<string, (k: string) => string> = {
    whole: (k) => k,
    cut: (k) => `error: ${k.slice(0, k.length - 1)}…`,
    url: (k) => `echo ${encodeURIComponent(k)}`,
    base64: (k) => Buffer.from(k).toString("base64"),
  };
  return new Elysia()
    .post("/workspaces/w/providers", ({ body }) => {
      kept = String((body as Record<string, unknown>).api_key ?? "");
      return { ok: true };
    })
    .get("/leak", ({ query }) => new Response(forms[String(query.form ?? "whole")]!(kept)))
    .get("/stream", () => new Response(`data: {"x":"${kept}"}\n\ndata: [DONE]\n\n`, { headers: { "content-type": "text/event-stream" } }))
    .get("/header", () => new Response("ok", { headers: { "x-debug": `key=${kept}` } }))
    .get("/say", ({ query }) => new Response(String(query.text ?? "")));
}

const teach = (app: { handle(r: Request): Promise<Response> }, key: string) =>
  app
    .handle(
      new Request("http://localhost/workspaces/w/providers", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ api_key: key }),
      }),
    )
    .then((r) => r.text());
const get = async (app: { handle(r: Request): Promise<Response> }, path: string) =>
  (await app.handle(new Request(`http://localhost${path}`))).text();

async function hitsFor(secret: string): Promise<Hit[]> {
  await settle();
  return takeHits().filter((h) => h.secret === secret);
}

describe("the secret scan finds", () => {
  test("a stored provider key shown in a response body (app.handle)", async () => {
    const key = unique("shown");
    const app = echoApp();
    await teach(app, key);
    expect(await hitsFor(key)).toEqual([]);
    await get(app, "/leak");
    const hits = await hitsFor(key);
    expect(hits).toHaveLength(1);
    expect(hits[0]).toMatchObject({ form: "whole", where: "GET /leak → 200 body" });
  });

  test("but not the caller's own input echoed back to them", async () => {
    const key = unique("echo");
    const app = echoApp();
    await teach(app, key);
    await get(app, `/say?text=${key}`);
    expect(await hitsFor(key)).toEqual([]);
  });

  test("a key in a response header", async () => {
    const key = unique("header");
    const app = echoApp();
    await teach(app, key);
    await get(app, "/header");
    const hits = await hitsFor(key);
    expect(hits.map((h) => h.where)).toEqual(["GET /header → 200 headers"]);
  });

  test("a key cut short, URL-encoded or in base64", async () => {
    const key = `${unique("forms")}+/=`;
    const app = echoApp();
    await teach(app, key);
    for (const form of ["cut", "url", "base64"]) await get(app, `/leak?form=${form}`);
    const hits = await hitsFor(key);
    expect(hits).toHaveLength(3);
    expect(hits.every((h) => h.form !== "whole")).toBe(true);
  });

  test("a key in a streamed (SSE) body, which still reaches the client unchanged", async () => {
    const key = unique("stream");
    const app = echoApp();
    await teach(app, key);
    expect(await get(app, "/stream")).toBe(`data: {"x":"${key}"}\n\ndata: [DONE]\n\n`);
    expect((await hitsFor(key)).map((h) => h.where)).toEqual(["GET /stream → 200 body (stream)"]);
  });

  test("a key in a response over real HTTP (listen), learned from a form post", async () => {
    const key = unique("http");
    const app = echoApp().listen({ port: 0, hostname: "127.0.0.1" });
    const origin = `http://127.0.0.1:${app.server!.port}`;
    try {
      const saved = await fetch(`${origin}/workspaces/w/providers`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ name: "x", api_key: key }),
      });
      expect(saved.status).toBe(200);
      await saved.text();
      expect(await (await fetch(`${origin}/leak`)).text()).toBe(key);
      expect((await hitsFor(key)).map((h) => h.where)).toEqual(["GET /leak → 200 body"]);
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
      // Only the outgoing fetch taught the scan this key: no request to any app carried it.
      await get(
        new Elysia().get("/oops", () => `upstream key ${key}`),
        "/oops",
      );
      expect((await hitsFor(key)).map((h) => h.where)).toEqual(["GET /oops → 200 body"]);
    } finally {
      upstream.stop(true);
    }
  });

  test("a key in a server log line", async () => {
    const key = unique("logged");
    await teach(echoApp(), key);
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
    // Shown again by a response that did not create it (and whose request did not carry it).
    const app = new Elysia().get("/oops", () => `your key: ${key}`);
    await (await app.handle(new Request("http://localhost/oops"))).text();
    expect((await hitsFor(key)).map((h) => h.where)).toEqual(["GET /oops → 200 body"]);
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

  test("for a key whose name looks like a gateway key: the caller's input, not a new key (seen in the fuzz)", async () => {
    const owner = await t.signup();
    const ws = await t.workspace(owner.token);
    const name = `prp_${"A".repeat(43)}`;
    const created = await t.call("POST", `/workspaces/${ws.id}/api-keys`, { token: owner.token, body: { name } });
    expect(created.status).toBe(201);
    expect(created.body.name).toBe(name);
    // Listed by name later: with the name taken for a key, this list would be a "leak".
    const list = await t.call("GET", `/workspaces/${ws.id}/api-keys`, { token: owner.token });
    expect(list.text).toContain(name);
    expect(await hitsFor(name)).toEqual([]);
    // The real key in the same creation response is still learned: shown elsewhere, it is a leak.
    const app = new Elysia().get("/oops", () => `your key: ${created.body.key}`);
    await (await app.handle(new Request("http://localhost/oops"))).text();
    expect((await hitsFor(created.body.key)).map((h) => h.where)).toEqual(["GET /oops → 200 body"]);
  });
});

test("a leak fails the test it happens in (a child `bun test` with the same preload)", async () => {
  const root = join(import.meta.dir, "..");
  const proc = Bun.spawn(["bun", "test", "./test/support/fixtures/leak.fixture.ts"], {
    cwd: root,
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env },
  });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  expect(code).not.toBe(0);
  expect(out + err).toContain("secret scan: 1 leak(s) of a configured key");
  expect(out + err).toContain("(fail) an endpoint that shows the provider key it stored");
});
