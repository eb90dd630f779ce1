/**
 * First run through the dashboard's routes (app.handle), with and without htmx headers: sign-up
 * makes a workspace and lands on the checklist, which ticks from real state; the provider form asks
 * the type first; snippets read the key from the environment; "Test" says what failed; the request
 * detail reads stored bodies as a conversation, with the raw text one click away.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { testApp, type TestApp } from "./support/app.ts";
import { makeRecord } from "./support/logs.ts";
import { startMockUpstream, type MockUpstream } from "./support/mock-upstreams.ts";
import { Client, csrfIn, expectHtml, signedIn } from "./support/dashboard-client.ts";
import type { RequestRecord } from "../src/telemetry/types.ts";

let t: TestApp;
let upstream: MockUpstream;
const UPSTREAM_KEY = "sk-firstrun-test-key-0123456789abcdef";

beforeAll(async () => {
  t = await testApp();
  upstream = await startMockUpstream("openai", { expectedKey: UPSTREAM_KEY, chatModels: ["gpt-4o-mini"] });
});
afterAll(async () => {
  await upstream.stop();
  await t.deps.gateway?.stop();
  await t.close();
});

async function signUp(name: string | null) {
  const c = new Client(t.app);
  const page = await c.get("/signup");
  const email = `first-${crypto.randomUUID().slice(0, 8)}@example.com`;
  const r = await c.post("/signup", {
    _csrf: csrfIn(page.text),
    email,
    password: "correct horse battery",
    ...(name === null ? {} : { name }),
  });
  return { c, r, email };
}

/** A signed-up user on their own first workspace, by the path sign-up redirected to. */
async function firstRun(name: string | null = "Ada") {
  const { c, r, email } = await signUp(name);
  expect(r.status).toBe(303);
  const id = /^\/app\/w\/([^/]+)\/start$/.exec(r.location ?? "")![1];
  const start = await c.get(r.location!);
  return { c, email, id, base: `/app/w/${id}`, csrf: csrfIn(start.text) };
}

const checked = (html: string) => (html.match(/class="panel check-step check-done"/g) ?? []).length;

describe("sign-up", () => {
  test("creates '<name>'s workspace' and lands on its checklist, nothing ticked", async () => {
    const { c, id, base } = await firstRun("Ada <Lovelace>");
    const [ws] = await t.sql`select name from workspaces where id = ${id}`;
    expect(ws.name).toBe("Ada <Lovelace>'s workspace");
    const page = await c.get(`${base}/start`);
    expectHtml(page);
    expect(page.text).toContain("Ada &lt;Lovelace&gt;&#x27;s workspace");
    expect(page.text).toContain("0 of 4 done");
    expect(checked(page.text)).toBe(0);
    expect(page.text).toContain(`href="${base}/settings"`);
  });

  test("without a name the workspace is 'My workspace', and the user owns it", async () => {
    const { id, email } = await firstRun(null);
    const [row] = await t.sql`select w.name, m.role from workspaces w join workspace_members m on m.workspace_id = w.id
      join users u on u.id = m.user_id where lower(u.email) = lower(${email})`;
    expect(row).toMatchObject({ name: "My workspace", role: "owner" });
    expect(id).toBeTruthy();
  });

  test("a sign-up that fails validation creates no workspace", async () => {
    const [{ before }] = await t.sql`select count(*)::int as before from workspaces`;
    const c = new Client(t.app);
    const bad = await c.post("/signup", { _csrf: csrfIn((await c.get("/signup")).text), email: "x@", name: "Nobody", password: "short" });
    expect(bad.status).toBe(422);
    const [{ after }] = await t.sql`select count(*)::int as after from workspaces`;
    expect(after).toBe(before);
  });

  test("signing up from an invitation joins that workspace only, and makes none of one's own", async () => {
    const owner = await firstRun("Owner");
    const inv = await owner.c.post(`${owner.base}/invitations`, { _csrf: owner.csrf, email: "joiner@example.com", role: "member" });
    const token = /\/invite\/([A-Za-z0-9_-]+)/.exec(inv.text)?.[1];
    expect(token).toBeTruthy();
    const c = new Client(t.app);
    const page = await c.get(`/invite/${token}`);
    const r = await c.post("/signup", {
      _csrf: csrfIn(page.text),
      invitation: token!,
      email: "joiner@example.com",
      name: "Joiner",
      password: "correct horse battery",
    });
    expect(r.status).toBe(303);
    expect(r.location).toBe(owner.base);
    const rows = await t.sql`select w.id from workspaces w join workspace_members m on m.workspace_id = w.id
      join users u on u.id = m.user_id where u.email = 'joiner@example.com'`;
    expect(rows.map((x) => x.id)).toEqual([owner.id]);
  });

  test("the checklist is a frame fragment for htmx and a 404 page to a stranger", async () => {
    const { c, base } = await firstRun();
    const frag = await c.get(`${base}/start`, { hx: true });
    expectHtml(frag);
    expect(frag.text).toStartWith("<title>");
    expect(frag.text).not.toContain("<!doctype html>");
    const stranger = await signedIn(t.app);
    const r = await stranger.c.get(`${base}/start`);
    expectHtml(r, 404);
    expect(r.text).not.toContain("Get started");
  });
});

describe("the checklist ticks from real state", () => {
  test("provider, key, a failed request, then an answered one", async () => {
    const { c, id, base, csrf } = await firstRun();
    const tick = async () => checked((await c.get(`${base}/start`)).text);

    const added = await c.post(`${base}/providers`, {
      _csrf: csrf,
      name: "mock",
      type: "openai_compatible",
      base_url: upstream.url,
      api_key: UPSTREAM_KEY,
      models: "gpt-4o-mini",
      enabled: "on",
    });
    expect(added.status).toBe(303);
    expect(await tick()).toBe(1);

    const created = await c.post(`${base}/keys`, { _csrf: csrf, name: "first" });
    expect(created.status).toBe(201);
    const key = /value="(prp_[0-9A-Za-z]+)"/.exec(created.text)![1];
    expect(await tick()).toBe(2);

    const call = (model: string) =>
      t.app.handle(
        new Request("http://localhost/v1/chat/completions", {
          method: "POST",
          headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
          body: JSON.stringify({ model, messages: [{ role: "user", content: "hi" }] }),
        }),
      );
    expect((await call("no-such-model")).status).toBeGreaterThanOrEqual(400);
    await t.deps.logQueue.flush();
    const failed = await c.get(`${base}/start`);
    expect(checked(failed.text)).toBe(3);
    expect(failed.text).toContain("The last request failed");

    const ok = await call("gpt-4o-mini");
    expect(`${ok.status} ${ok.status === 200 ? "" : await ok.text()}`).toBe("200 ");
    await t.deps.logQueue.flush();
    const done = await c.get(`${base}/start`);
    expect(checked(done.text)).toBe(4);
    const [answered] = await t.sql`select id from request_logs where workspace_id = ${id} and status = 200`;
    expect(done.text).toContain(`${base}/logs/${answered.id}`);
  });

  test("a revoked key does not count as a key", async () => {
    const { c, id, base, csrf } = await firstRun();
    await c.post(`${base}/keys`, { _csrf: csrf, name: "soon revoked" });
    const [k] = await t.sql`select id from api_keys where workspace_id = ${id}`;
    expect((await c.post(`${base}/keys/${k.id}/revoke`, { _csrf: csrf })).status).toBe(303);
    expect(checked((await c.get(`${base}/start`)).text)).toBe(0);
  });
});

describe("snippets and the keys page", () => {
  test("the create-key form comes before the key list", async () => {
    const { c, base, csrf } = await firstRun();
    await c.post(`${base}/keys`, { _csrf: csrf, name: "listed" });
    const page = await c.get(`${base}/keys`);
    const form = page.text.indexOf('id="new-key-form"');
    const table = page.text.indexOf("<table");
    expect(form).toBeGreaterThan(0);
    expect(table).toBeGreaterThan(form);
  });

  test("snippets for curl, Python, Node, the AI SDK and LangChain read PERPETUO_API_KEY and point at PUBLIC_URL/v1", async () => {
    const { c, base, csrf } = await firstRun();
    const created = await c.post(`${base}/keys`, { _csrf: csrf, name: "snip" });
    const key = /value="(prp_[0-9A-Za-z]+)"/.exec(created.text)![1];
    for (const [page, prefix] of [
      [created.text, "snippet"],
      [(await c.get(`${base}/start`)).text, "start"],
    ] as const) {
      for (const lang of ["curl", "python", "node", "ai-sdk", "langchain"]) expect(page).toContain(`id="${prefix}-${lang}"`);
      expect(page).toContain("Bearer $PERPETUO_API_KEY");
      expect(page).toContain("os.environ[&quot;PERPETUO_API_KEY&quot;]");
      expect(page).toContain("process.env.PERPETUO_API_KEY");
      expect(page).toContain("http://localhost:8080/v1");
      // One language open at a time, without JavaScript: an exclusive group of disclosures.
      expect(page).toContain(`name="${prefix}-lang" open`);
      // The copy buttons wait for the script; the code stays selectable without it.
      expect(page).toMatch(/data-copy="#[a-z-]+" hidden/);
    }
    // The key itself appears in the one-time export line only.
    expect(created.text.split(key).length - 1).toBe(2);
    expect(created.text).toContain(`export PERPETUO_API_KEY=${key}`);
  });
});

describe("provider form: type first", () => {
  test("/providers/new asks for the type; ?type= renders that type's hints, with examples as placeholders", async () => {
    const { c, base } = await firstRun();
    const step = await c.get(`${base}/providers/new`);
    expectHtml(step);
    expect(step.text).toContain("Step 1 of 2");
    expect(step.text).toContain('type="radio" name="type" value="anthropic"');
    expect(step.text).not.toContain('name="api_key"');

    const anthropic = await c.get(`${base}/providers/new?type=anthropic`);
    expect(anthropic.text).toContain('placeholder="e.g. sk-ant-api03-…"');
    expect(anthropic.text).toContain("claude-3-5-haiku-latest");
    expect(anthropic.text).toMatch(/<option value="anthropic" selected/);
    // A type with a standard address: no value-like placeholder in the URL field.
    expect(anthropic.text).not.toContain('placeholder="https://api.anthropic.com"');

    const compat = await c.get(`${base}/providers/new?type=openai_compatible`, { hx: true });
    expect(compat.text).toStartWith("<title>");
    expect(compat.text).toContain('placeholder="e.g. http://localhost:8000/v1"');
    expect(compat.text).toContain("Required: the server&#x27;s address");
  });

  test("an unknown ?type= goes back to the type step", async () => {
    const { c, base } = await firstRun();
    const r = await c.get(`${base}/providers/new?type=${encodeURIComponent("<script>")}`);
    expectHtml(r);
    expect(r.text).toContain("Step 1 of 2");
    expect(r.text).not.toContain("<script>");
  });

  test("the htmx fields fragment follows the chosen type", async () => {
    const { c, base } = await firstRun();
    const r = await c.get(`${base}/providers/fields?type=gemini`, { hx: "#provider-type-fields" });
    expectHtml(r);
    expect(r.text).toContain('id="provider-type-fields"');
    expect(r.text).toContain("e.g. AIza…");
    expect(r.text).toContain("gemini-2.0-flash");
  });
});

describe("Test button", () => {
  test("with htmx: the result fragment names the model that answered; a wrong key says the key was refused", async () => {
    const { c, id, base, csrf } = await firstRun();
    await c.post(`${base}/providers`, {
      _csrf: csrf,
      name: "good",
      type: "openai",
      base_url: upstream.url,
      api_key: UPSTREAM_KEY,
      models: "gpt-4o-mini",
    });
    await c.post(`${base}/providers`, {
      _csrf: csrf,
      name: "badkey",
      type: "openai",
      base_url: upstream.url,
      api_key: "sk-wrong-key-0123456789abcdef",
      models: "gpt-4o-mini",
    });
    await c.post(`${base}/providers`, {
      _csrf: csrf,
      name: "nomodel",
      type: "openai",
      base_url: upstream.url,
      api_key: UPSTREAM_KEY,
      models: "gpt-9-imaginary",
    });
    const ids = Object.fromEntries((await t.sql`select name, id from provider_keys where workspace_id = ${id}`).map((r) => [r.name, r.id]));

    const good = await c.post(`${base}/providers/${ids.good}/test`, { _csrf: csrf }, { hx: `#test-${ids.good}` });
    expectHtml(good);
    expect(good.text).toContain("Connected");
    expect(good.text).toContain("gpt-4o-mini");
    expect(good.text).not.toContain("<title>");

    const bad = await c.post(`${base}/providers/${ids.badkey}/test`, { _csrf: csrf }, { hx: `#test-${ids.badkey}` });
    expect(bad.text).toContain("Key refused");
    expect(bad.text).toContain("HTTP 401");
    expect(bad.text).not.toContain("0123456789abcdef");

    // Without JavaScript: the whole list again, the result in its row.
    const missing = await c.post(`${base}/providers/${ids.nomodel}/test`, { _csrf: csrf });
    expectHtml(missing);
    expect(missing.text).toContain("<!doctype html>");
    expect(missing.text).toContain("Model not found");
    expect(missing.text).toContain("gpt-9-imaginary");
  });
});

describe("request detail", () => {
  async function detail(over: Partial<RequestRecord>) {
    const { c, id, base } = await firstRun();
    const rec = makeRecord(id, over);
    t.deps.logQueue.enqueue(rec);
    await t.deps.logQueue.flush();
    const r = await c.get(`${base}/logs/${rec.id}`);
    expectHtml(r);
    return r.text;
  }

  test("a chat request reads as a conversation with roles, a tool call's name and arguments, its result and an image placeholder", async () => {
    const request = {
      model: "gpt-4o-mini",
      tools: [{ type: "function", function: { name: "get_weather", parameters: {} } }],
      messages: [
        { role: "system", content: "Be brief." },
        {
          role: "user",
          content: [
            { type: "text", text: "Weather in <Paris>?" },
            { type: "image_url", image_url: { url: `data:image/png;base64,${"A".repeat(4000)}` } },
          ],
        },
        {
          role: "assistant",
          content: null,
          tool_calls: [{ id: "call_1", type: "function", function: { name: "get_weather", arguments: '{"city":"Paris"}' } }],
        },
        { role: "tool", tool_call_id: "call_1", content: "18°C" },
      ],
    };
    const response = {
      id: "chatcmpl-1",
      object: "chat.completion",
      choices: [{ index: 0, message: { role: "assistant", content: "It is 18°C." }, finish_reason: "stop" }],
    };
    const html = await detail({ request_body: JSON.stringify(request), response_body: JSON.stringify(response) });
    for (const role of ["System", "User", "Assistant", "Tool"]) expect(html).toContain(`<p class="turn-role">${role}</p>`);
    expect(html).toContain("Weather in &lt;Paris&gt;?");
    expect(html).toContain("[image (image/png, 3 KB)]");
    expect(html).not.toContain("AAAAAAAAAAAA</div>");
    expect(html).toContain("get_weather");
    expect(html).toContain("&quot;city&quot;: &quot;Paris&quot;");
    expect(html).toContain("It is 18°C.");
    expect(html).toContain("Tools offered");
    // The raw bodies are behind closed disclosures, with copy buttons.
    expect(html).toMatch(/<details class="raw-body"><summary>Raw request<\/summary>/);
    expect(html).toContain('data-copy="#raw-request"');
    expect(html).toContain('data-copy="#raw-response"');
  });

  test("Anthropic messages and Responses API bodies read the same way", async () => {
    const messages = {
      model: "claude",
      system: "Be brief.",
      messages: [
        { role: "user", content: "Add 2 and 3" },
        { role: "assistant", content: [{ type: "tool_use", id: "tu_1", name: "add", input: { a: 2, b: 3 } }] },
        { role: "user", content: [{ type: "tool_result", tool_use_id: "tu_1", content: "5" }] },
      ],
    };
    const a = await detail({ endpoint: "messages", request_body: JSON.stringify(messages), response_body: null } as Partial<RequestRecord>);
    expect(a).toContain('<li class="turn turn-tool">');
    expect(a).toContain("&quot;a&quot;: 2");
    expect(a).toContain("tu_1");

    const responses = {
      model: "gpt-4o-mini",
      instructions: "Be brief.",
      input: [{ role: "user", content: [{ type: "input_text", text: "Hello there" }] }],
    };
    const out = {
      object: "response",
      output: [{ type: "message", role: "assistant", content: [{ type: "output_text", text: "General Kenobi" }] }],
    };
    const r = await detail({
      endpoint: "responses",
      request_body: JSON.stringify(responses),
      response_body: JSON.stringify(out),
    } as Partial<RequestRecord>);
    expect(r).toContain("Hello there");
    expect(r).toContain("General Kenobi");
    expect(r).toContain('<p class="turn-role">System</p>');
  });

  test("embeddings show their inputs and the vectors' shape; a streamed answer shows its text and first-token time", async () => {
    const e = await detail({
      endpoint: "embeddings",
      request_body: JSON.stringify({ model: "text-embedding-3-small", input: ["alpha", "beta"] }),
      response_body: JSON.stringify({
        object: "list",
        data: [
          { index: 0, length: 1536 },
          { index: 1, length: 1536 },
        ],
      }),
    } as Partial<RequestRecord>);
    expect(e).toContain("Input 1");
    expect(e).toContain("beta");
    expect(e).toContain("[2 vectors of 1536 dimensions]");

    const s = await detail({
      stream: true,
      ttft_ms: 40,
      latency_ms: 300,
      request_body: JSON.stringify({ model: "m", messages: [{ role: "user", content: "go" }] }),
      response_body: "streamed words",
    });
    expect(s).toContain("streamed words");
    expect(s).toContain("first token after");
  });

  test("a non-streamed request shows no first-token time; a cut body is shown raw and open", async () => {
    const cut = `{"model":"m","messages":[{"role":"user","content":"${"x".repeat(50)}…[truncated: 99999 characters in all]`;
    const html = await detail({
      stream: false,
      ttft_ms: 0,
      latency_ms: 12,
      request_body: cut,
      response_body: null,
      provider_type: "openai_compatible",
    });
    expect(html).not.toContain("first token");
    expect(html).toContain("not streamed");
    expect(html).toMatch(/<details class="raw-body" open><summary>Raw request<\/summary>/);
    expect(html).not.toContain("(openai_compatible)");
  });
});
