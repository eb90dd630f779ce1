/**
 * Governance in the dashboard (issue 13), through app.handle like dashboard.test.ts: key limits on
 * creation and on the edit page, budget meters from seeded usage_key_daily / usage_daily rows, the
 * workspace limits form, usage by key, and the logs' key column and tag filter. Forms are posted
 * plainly (no JavaScript: 303 or 422 with inline errors) and as htmx (fragments).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { ChangeEvent } from "../src/events.ts";
import { hashApiKey } from "../src/api-keys/service.ts";
import { spendPeriod } from "../src/usage/period.ts";
import { timeUntil } from "../views/components/limits.tsx";
import { testApp, type TestApp } from "./support/app.ts";
import { makeRecord } from "./support/logs.ts";

let t: TestApp;
const events: ChangeEvent[] = [];

beforeAll(async () => {
  t = await testApp();
  t.deps.events.on((e) => events.push(e));
});
afterAll(() => t.close());

interface Res {
  status: number;
  text: string;
  location: string | null;
}

/** A cookie jar and form posts, optionally as htmx. */
class Client {
  cookies = new Map<string, string>();
  async request(method: string, path: string, opts: { form?: Record<string, string>; hx?: boolean } = {}): Promise<Res> {
    const headers: Record<string, string> = {};
    if (this.cookies.size) headers.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; ");
    if (opts.hx) Object.assign(headers, { "hx-request": "true", "hx-request-type": "partial", "hx-target": "div#frame" });
    let body: string | undefined;
    if (opts.form) {
      body = new URLSearchParams(opts.form).toString();
      headers["content-type"] = "application/x-www-form-urlencoded";
    }
    const res = await t.app.handle(new Request(`http://localhost${path}`, { method, headers, body, redirect: "manual" }));
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(";");
      const eq = pair.indexOf("=");
      this.cookies.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
    }
    return { status: res.status, text: await res.text(), location: res.headers.get("location") };
  }
  get = (path: string, hx = false) => this.request("GET", path, { hx });
  post = (path: string, form: Record<string, string>, hx = false) => this.request("POST", path, { form, hx });
}

const csrfIn = (html: string) => /name="_csrf" value="([^"]+)"/.exec(html)![1];

async function signedIn() {
  const c = new Client();
  const page = await c.get("/signup");
  const email = `lim-${crypto.randomUUID().slice(0, 8)}@example.com`;
  const r = await c.post("/signup", { _csrf: csrfIn(page.text), email, password: "correct horse battery" });
  if (r.status !== 303) throw new Error(`signup ${r.status}`);
  const app = await c.get("/app");
  return { c, csrf: csrfIn(app.text), email };
}

async function withWorkspace() {
  const s = await signedIn();
  const r = await s.c.post("/app/workspaces", { _csrf: s.csrf, name: "Governed" });
  const id = r.location!.split("/").pop()!;
  return { ...s, id, base: `/app/w/${id}` };
}

async function joinAs(workspaceId: string, role: "member" | "admin") {
  const s = await signedIn();
  const [u] = await t.sql`select id from users where email = ${s.email}`;
  await t.sql`insert into workspace_members (workspace_id, user_id, role) values (${workspaceId}, ${u.id}, ${role})`;
  return s;
}

const EMPTY = { rpm_limit: "", tpm_limit: "", budget_usd: "", budget_period: "month", allowed_models: "", tags: "" };
const today = () => new Date().toISOString().slice(0, 10);
const outsideAttributes = (html: string) => html.replace(/="[^"]*"/g, '=""');
const fieldError = (html: string, id: string) => new RegExp(`id="${id}-error"[^>]*>([^<]*)<`).exec(html)?.[1] ?? null;

async function keyIdByName(workspaceId: string, name: string): Promise<string> {
  const [k] = await t.sql`select id from api_keys where workspace_id = ${workspaceId} and name = ${name}`;
  return k.id;
}

describe("keys page", () => {
  test("the create form has a collapsed Limits section; a plain post creates a key with its limits (201)", async () => {
    const w = await withWorkspace();
    const page = await w.c.get(`${w.base}/keys`);
    expect(page.text).toMatch(/<details class="limits-details">\s*<summary>Limits<\/summary>/);
    expect(page.text).toContain('placeholder="e.g. team:search, env:prod"');
    const r = await w.c.post(`${w.base}/keys`, {
      _csrf: w.csrf,
      name: "search-prod",
      expires: "",
      ...EMPTY,
      rpm_limit: "60",
      tpm_limit: "90000",
      budget_usd: "$12.50",
      budget_period: "day",
      allowed_models: "gpt-4o*\nclaude-*, gemini-2.5-flash",
      tags: "team:search, env:prod",
    });
    expect(r.status).toBe(201);
    const [row] =
      await t.sql`select rpm_limit, tpm_limit, budget_usd::float8 as budget, budget_period, allowed_models, tags from api_keys where workspace_id = ${w.id}`;
    expect(row).toEqual({
      rpm_limit: 60,
      tpm_limit: 90000,
      budget: 12.5,
      budget_period: "day",
      allowed_models: ["gpt-4o*", "claude-*", "gemini-2.5-flash"],
      tags: ["team:search", "env:prod"],
    });
    expect(r.text).toContain("60 requests/min");
    expect(r.text).toContain("90,000 tokens/min");
    expect(r.text).toContain('<span class="chip chip-tag">team:search</span>');
    expect(r.text).toContain("$0.00 of $12.50 today (0%)");
  });

  test("invalid limits come back inline (422) with the values kept and the Limits section open", async () => {
    const w = await withWorkspace();
    const r = await w.c.post(`${w.base}/keys`, {
      _csrf: w.csrf,
      name: "bad",
      expires: "",
      ...EMPTY,
      rpm_limit: "0",
      tpm_limit: "lots",
      budget_usd: "-3",
      allowed_models: "gpt 4o",
      tags: "x".repeat(65),
    });
    expect(r.status).toBe(422);
    expect(r.text).toMatch(/<details class="limits-details" open/);
    expect(fieldError(r.text, "f-rpm_limit")).toBe("Must be a whole number of at least 1; leave empty for no limit.");
    expect(fieldError(r.text, "f-tpm_limit")).toBe("Must be a whole number of at least 1; leave empty for no limit.");
    expect(fieldError(r.text, "f-budget_usd")).toContain("US dollars");
    expect(fieldError(r.text, "f-tags")).toBe("Must be at most 64 characters.");
    expect(r.text).toContain('value="lots"');
    expect(r.text).toContain('aria-invalid="true"');
    expect((await t.sql`select count(*)::int as n from api_keys where workspace_id = ${w.id}`)[0].n).toBe(0);
  });

  test("an amount without a period is refused at the period field, also for htmx (a fragment)", async () => {
    const w = await withWorkspace();
    const r = await w.c.post(
      `${w.base}/keys`,
      { _csrf: w.csrf, name: "half", expires: "", ...EMPTY, budget_usd: "5", budget_period: "" },
      true,
    );
    expect(r.status).toBe(422);
    expect(r.text).not.toContain("<html");
    expect(fieldError(r.text, "f-budget_period")).toBe("Choose a period for the budget.");
  });

  test("spend this period is a <progress> with the same figures in text, and when the budget resets", async () => {
    const w = await withWorkspace();
    await w.c.post(`${w.base}/keys`, { _csrf: w.csrf, name: "spender", expires: "", ...EMPTY, budget_usd: "10", budget_period: "month" });
    const id = await keyIdByName(w.id, "spender");
    await t.sql`insert into usage_key_daily (workspace_id, day, api_key_id, requests, cost_usd) values (${w.id}, ${today()}::date, ${id}, 4, 8.5)`;
    const page = await w.c.get(`${w.base}/keys`);
    const text = "$8.50 of $10.00 this month (85%)";
    expect(page.text).toContain(`<progress max="100" value="85" aria-label="Budget spent by spender" aria-valuetext="${text}">`);
    expect(page.text).toContain(`<span class="meter-text">${text}</span>`);
    expect(page.text).toContain('class="meter meter-warn"');
    const resets = spendPeriod("month").resets_at!;
    expect(page.text).toContain(`resets ${timeUntil(resets)}`);
    expect(page.text).toContain(`datetime="${resets.toISOString()}"`);
  });

  test("over budget the meter is full and marked; a key without a budget says so", async () => {
    const w = await withWorkspace();
    await w.c.post(`${w.base}/keys`, { _csrf: w.csrf, name: "over", expires: "", ...EMPTY, budget_usd: "1", budget_period: "total" });
    await w.c.post(`${w.base}/keys`, { _csrf: w.csrf, name: "free", expires: "", ...EMPTY });
    const id = await keyIdByName(w.id, "over");
    await t.sql`insert into usage_key_daily (workspace_id, day, api_key_id, requests, cost_usd) values (${w.id}, '2024-01-01', ${id}, 4, 1.2)`;
    const page = await w.c.get(`${w.base}/keys`);
    expect(page.text).toContain('class="meter meter-over"');
    expect(page.text).toContain("$1.20 of $1.00 in total (100%)");
    expect(page.text).toContain("never resets");
    expect(page.text).toContain("No budget");
  });

  test("tags and model patterns are escaped wherever they appear", async () => {
    const w = await withWorkspace();
    const evilTag = `<script>alert("t")</script>`;
    const evilModel = `<img/src=x/onerror=alert(1)>`;
    const r = await w.c.post(`${w.base}/keys`, {
      _csrf: w.csrf,
      name: "xss",
      expires: "",
      ...EMPTY,
      allowed_models: evilModel,
      tags: evilTag,
    });
    expect(r.status).toBe(201);
    const id = await keyIdByName(w.id, "xss");
    for (const html of [(await w.c.get(`${w.base}/keys`)).text, (await w.c.get(`${w.base}/keys/${id}/edit`)).text]) {
      // Inside a quoted attribute only the quote matters (Kita escapes it); everywhere else no raw markup.
      expect(html).not.toContain(`alert("t")`);
      expect(outsideAttributes(html)).not.toContain(evilTag);
      expect(outsideAttributes(html)).not.toContain(evilModel);
      expect(html).toContain("&lt;img/src=x/onerror=alert(1)&gt;");
    }
    expect((await w.c.get(`${w.base}/keys`)).text).toContain(
      '<span class="chip chip-tag">&lt;script&gt;alert(&quot;t&quot;)&lt;/script&gt;</span>',
    );
  });
});

describe("editing a key", () => {
  test("the edit page shows the stored values; saving redirects (303), stores them and tells the gateway", async () => {
    const w = await withWorkspace();
    await w.c.post(`${w.base}/keys`, { _csrf: w.csrf, name: "editable", expires: "", ...EMPTY, rpm_limit: "5", tags: "a, b" });
    const id = await keyIdByName(w.id, "editable");
    const [{ key_hash }] = await t.sql`select key_hash from api_keys where id = ${id}`;
    const page = await w.c.get(`${w.base}/keys/${id}/edit`);
    expect(page.status).toBe(200);
    expect(page.text).toContain('name="rpm_limit" type="number" value="5"');
    expect(page.text).toContain('value="a, b"');
    events.length = 0;
    const r = await w.c.post(`${w.base}/keys/${id}`, {
      _csrf: w.csrf,
      name: "renamed",
      ...EMPTY,
      tpm_limit: "777",
      budget_usd: "3",
      budget_period: "day",
      allowed_models: "gpt-4o-mini",
    });
    expect(r.status).toBe(303);
    expect(r.location).toBe(`${w.base}/keys?done=saved`);
    const [row] =
      await t.sql`select name, rpm_limit, tpm_limit, budget_usd::float8 as budget, budget_period, allowed_models, tags from api_keys where id = ${id}`;
    // An emptied field clears its limit.
    expect(row).toEqual({
      name: "renamed",
      rpm_limit: null,
      tpm_limit: 777,
      budget: 3,
      budget_period: "day",
      allowed_models: ["gpt-4o-mini"],
      tags: [],
    });
    expect(events).toEqual([{ type: "api_key", workspace_id: w.id, key_hash }]);
    expect(key_hash).not.toBe(hashApiKey("anything"));
    const list = await w.c.get(`${w.base}/keys?done=saved`);
    expect(list.text).toContain("Key saved");
  });

  test("invalid input re-renders the edit page with inline errors (422), for htmx as a fragment", async () => {
    const w = await withWorkspace();
    await w.c.post(`${w.base}/keys`, { _csrf: w.csrf, name: "k", expires: "", ...EMPTY });
    const id = await keyIdByName(w.id, "k");
    const plain = await w.c.post(`${w.base}/keys/${id}`, { _csrf: w.csrf, name: "", ...EMPTY, rpm_limit: "1.5" });
    expect(plain.status).toBe(422);
    expect(plain.text).toContain("<html");
    expect(fieldError(plain.text, "f-name")).toBe("Must not be empty.");
    expect(fieldError(plain.text, "f-rpm_limit")).toContain("whole number");
    const hx = await w.c.post(`${w.base}/keys/${id}`, { _csrf: w.csrf, name: "k", ...EMPTY, tags: "ok, bad\u0007tag" }, true);
    expect(hx.status).toBe(422);
    expect(hx.text).not.toContain("<html");
    expect(fieldError(hx.text, "f-tags")).toContain("printable");
    const [row] = await t.sql`select name, rpm_limit, tags from api_keys where id = ${id}`;
    expect(row).toEqual({ name: "k", rpm_limit: null, tags: [] });
  });

  test("a plain member sees no edit link and may not open or post the form (403); a stranger gets 404", async () => {
    const w = await withWorkspace();
    await w.c.post(`${w.base}/keys`, { _csrf: w.csrf, name: "guarded", expires: "", ...EMPTY, rpm_limit: "5" });
    const id = await keyIdByName(w.id, "guarded");
    const member = await joinAs(w.id, "member");
    const list = await member.c.get(`${w.base}/keys`);
    expect(list.text).toContain("5 requests/min");
    expect(list.text).not.toContain(`/keys/${id}/edit`);
    expect((await member.c.get(`${w.base}/keys/${id}/edit`)).status).toBe(403);
    expect((await member.c.post(`${w.base}/keys/${id}`, { _csrf: member.csrf, name: "mine", ...EMPTY })).status).toBe(403);
    const stranger = await signedIn();
    expect((await stranger.c.get(`${w.base}/keys/${id}/edit`)).status).toBe(404);
    expect((await stranger.c.post(`${w.base}/keys/${id}`, { _csrf: stranger.csrf, name: "mine", ...EMPTY })).status).toBe(404);
    expect((await w.c.get(`${w.base}/keys/nope/edit`)).status).toBe(404);
    const [row] = await t.sql`select name, rpm_limit from api_keys where id = ${id}`;
    expect(row).toEqual({ name: "guarded", rpm_limit: 5 });
  });
});

describe("workspace limits on the settings page", () => {
  test("shows this month's spend without a budget; saving the form stores the limits (303) and announces them", async () => {
    const w = await withWorkspace();
    await t.sql`insert into usage_daily (workspace_id, day, provider_id, model, requests, cost_usd) values (${w.id}, ${today()}::date, 'p', 'm', 2, 3)`;
    const page = await w.c.get(`${w.base}/settings`);
    expect(page.text).toContain("Workspace limits and budget");
    expect(page.text).toContain("Spent this month: $3.00 (no budget).");
    events.length = 0;
    const r = await w.c.post(`${w.base}/settings/limits`, {
      _csrf: w.csrf,
      rpm_limit: "1000",
      tpm_limit: "",
      budget_usd: "4",
      budget_period: "month",
    });
    expect(r.status).toBe(303);
    expect(r.location).toBe(`${w.base}/settings?saved=limits#limits`);
    expect(events).toEqual([{ type: "workspace", workspace_id: w.id }]);
    const [row] = await t.sql`select rpm_limit, tpm_limit, budget_usd::float8 as budget, budget_period from workspaces where id = ${w.id}`;
    expect(row).toEqual({ rpm_limit: 1000, tpm_limit: null, budget: 4, budget_period: "month" });
    const after = await w.c.get(`${w.base}/settings?saved=limits`);
    expect(after.text).toContain("Limits saved.");
    expect(after.text).toContain('<progress max="100" value="75" aria-label="Workspace budget spent"');
    expect(after.text).toContain("$3.00 of $4.00 this month (75%)");
  });

  test("bad values come back inline (422) and change nothing; a member sees the form disabled and may not post", async () => {
    const w = await withWorkspace();
    const r = await w.c.post(`${w.base}/settings/limits`, {
      _csrf: w.csrf,
      rpm_limit: "-1",
      tpm_limit: "",
      budget_usd: "abc",
      budget_period: "month",
    });
    expect(r.status).toBe(422);
    expect(fieldError(r.text, "ws-rpm_limit")).toContain("whole number");
    expect(fieldError(r.text, "ws-budget_usd")).toContain("US dollars");
    expect(r.text).toContain('value="abc"');
    const member = await joinAs(w.id, "member");
    const page = await member.c.get(`${w.base}/settings`);
    expect(page.text).toMatch(/<fieldset disabled>\s*<legend class="visually-hidden">Workspace limits<\/legend>/);
    expect((await member.c.post(`${w.base}/settings/limits`, { _csrf: member.csrf, rpm_limit: "1" })).status).toBe(403);
    const [row] = await t.sql`select rpm_limit, budget_usd from workspaces where id = ${w.id}`;
    expect(row).toEqual({ rpm_limit: null, budget_usd: null });
  });
});

describe("usage and logs", () => {
  test("usage has a By key table with each key's budget meter", async () => {
    const w = await withWorkspace();
    await w.c.post(`${w.base}/keys`, {
      _csrf: w.csrf,
      name: "<b>metered</b>",
      expires: "",
      ...EMPTY,
      budget_usd: "2",
      budget_period: "day",
    });
    const id = await keyIdByName(w.id, "<b>metered</b>");
    await t.sql`insert into usage_key_daily (workspace_id, day, api_key_id, requests, errors, prompt_tokens, completion_tokens, cost_usd) values (${w.id}, ${today()}::date, ${id}, 8, 2, 1234, 56, 0.5)`;
    await t.sql`insert into usage_key_daily (workspace_id, day, api_key_id, requests, cost_usd) values (${w.id}, ${today()}::date, 'deleted-key-id', 1, 0.01)`;
    const page = await w.c.get(`${w.base}/usage`);
    expect(page.status).toBe(200);
    const table = page.text.slice(page.text.indexOf("<h2>By key</h2>"));
    expect(table).toContain("<span>&lt;b&gt;metered&lt;/b&gt;</span>");
    expect(outsideAttributes(table)).not.toContain("<b>metered</b>");
    expect(table).toContain("1,234");
    expect(table).toContain("25%");
    expect(table).toContain("$0.5000 of $2.00 today (25%)");
    expect(table).toContain("(deleted key)");
  });

  test("logs show the key's name (escaped) with its tags, and filter by tag from the URL", async () => {
    const w = await withWorkspace();
    await w.c.post(`${w.base}/keys`, { _csrf: w.csrf, name: "<i>search</i>", expires: "", ...EMPTY });
    const id = await keyIdByName(w.id, "<i>search</i>");
    const tagged = makeRecord(w.id, { api_key_id: id, model_requested: "tagged-model" });
    const plain = makeRecord(w.id, { api_key_id: id, model_requested: "plain-model" });
    t.deps.logQueue.enqueue(tagged);
    t.deps.logQueue.enqueue(plain);
    await t.deps.logQueue.flush();
    await t.sql`update request_logs set tags = ${t.sql.array(["team:search", "<u>x</u>"])}::text[] where id = ${tagged.id}`;
    const all = await w.c.get(`${w.base}/logs`);
    expect(all.text).toContain('role="columnheader">Key</th>');
    expect(all.text).toContain("<span>&lt;i&gt;search&lt;/i&gt;</span>");
    expect(outsideAttributes(all.text)).not.toContain("<i>search</i>");
    expect(all.text).toContain('<span class="chip chip-tag">&lt;u&gt;x&lt;/u&gt;</span>');
    expect(all.text).toContain("plain-model");
    const filtered = await w.c.get(`${w.base}/logs?tag=team%3Asearch`, true);
    expect(filtered.status).toBe(200);
    expect(filtered.text).toContain("tagged-model");
    expect(filtered.text).not.toContain("plain-model");
    expect(filtered.text).toContain('name="tag" type="text" value="team:search"');
    const detail = await w.c.get(`${w.base}/logs/${tagged.id}`);
    expect(detail.text).toMatch(
      /<dt>Tags<\/dt><dd><span class="tags"><span class="chip chip-tag">team:search<\/span><span class="chip chip-tag">&lt;u&gt;x&lt;\/u&gt;<\/span>/,
    );
    await w.c.post(`${w.base}/keys/${id}/delete`, { _csrf: w.csrf });
    const orphan = await w.c.get(`${w.base}/logs/${tagged.id}`);
    expect(orphan.text).toContain("<dt>API key</dt><dd>(deleted key)</dd>");
    expect((await w.c.get(`${w.base}/logs`)).text).toContain('<span class="muted">(deleted key)</span>');
    const bad = await w.c.get(`${w.base}/logs?tag=${"y".repeat(65)}`);
    expect(bad.status).toBe(422);
    expect(fieldError(bad.text, "f-tag")).toContain("64");
  });
});
