/**
 * The dashboard's routes through app.handle: every page and fragment, the no-JavaScript form flow
 * (POST → 303, or 422 with the errors inline), CSRF, membership isolation, escaping, headers.
 * The same flows in a real browser are in e2e.test.ts.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createApp } from "../src/app.ts";
import type { ChangeEvent } from "../src/events.ts";
import { csrfTokenFor } from "../src/http/auth.ts";
import { safeNext } from "../src/dashboard/session.ts";
import { dashboardError } from "../src/dashboard/errors.tsx";
import { CONTENT_SECURITY_POLICY } from "../src/dashboard/security.ts";
import type { RequestRecord } from "../src/telemetry/types.ts";
import { testApp, type TestApp } from "./support/app.ts";
import { startMockUpstream, type MockUpstream } from "./support/mock-upstreams.ts";
import {
  Client as DashboardClient,
  csrfIn,
  expectHtml,
  signedIn as signedInTo,
  withWorkspace as workspaceIn,
} from "./support/dashboard-client.ts";

let t: TestApp;
let upstream: MockUpstream;
const events: ChangeEvent[] = [];
const UPSTREAM_KEY = "sk-dashboard-test-key-0123456789";

beforeAll(async () => {
  t = await testApp();
  t.deps.events.on((e) => events.push(e));
  upstream = await startMockUpstream("openai", { expectedKey: UPSTREAM_KEY });
});
afterAll(async () => {
  await upstream.stop();
  await t.deps.gateway?.stop();
  await t.close();
});

/** The shared client, on this file's app unless told otherwise. */
class Client extends DashboardClient {
  constructor(app: { handle(r: Request): Promise<Response> } = t.app) {
    super(app);
  }
}
const signedIn = (email?: string) => signedInTo(t.app, email);
const withWorkspace = (name?: string) => workspaceIn(t.app, name);
/** The change events emitted from now on: a test reads only its own, whatever ran before it. */
const eventsFromNow = () => {
  const since = events.length;
  return () => events.slice(since);
};

describe("static files", () => {
  test("public/htmx.min.js is the pinned htmx build from node_modules (run `bun run vendor` after an upgrade)", () => {
    const root = join(import.meta.dir, "..");
    const vendored = readFileSync(join(root, "public/htmx.min.js"));
    const upstreamCopy = readFileSync(join(root, "node_modules/htmx.org/dist/htmx.min.js"));
    expect(vendored.equals(upstreamCopy)).toBe(true);
    const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
    expect(pkg.dependencies["htmx.org"]).toBe("4.0.1");
  });

  test("serves htmx, the script and the stylesheet with content types and long caching for versioned URLs", async () => {
    const c = new Client();
    const page = await c.get("/login");
    for (const [file, type] of [
      ["htmx.min.js", "text/javascript; charset=utf-8"],
      ["app.js", "text/javascript; charset=utf-8"],
      ["app.css", "text/css; charset=utf-8"],
    ]) {
      const url = new RegExp(`/public/${file.replace(".", "\\.")}\\?v=[0-9a-f]{16}`).exec(page.text)![0];
      const r = await c.get(url);
      expect(r.status).toBe(200);
      expect(r.headers.get("content-type")).toBe(type);
      expect(r.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
      expect(r.headers.get("x-content-type-options")).toBe("nosniff");
      const plain = await c.get(`/public/${file}`);
      expect(plain.headers.get("cache-control")).toContain("must-revalidate");
      expect(plain.text).toBe(r.text);
      const again = await c.get(`/public/${file}`, { headers: { "if-none-match": plain.headers.get("etag")! } });
      expect(again.status).toBe(304);
    }
  });

  test.each([
    "/public/nope.js",
    "/public/../package.json",
    "/public/%2e%2e/package.json",
    "/public/..%2fpackage.json",
    "/public/",
    "/public/app.css/x",
  ])("answers 404 to %s", async (path) => {
    const r = await new Client().get(path);
    expect(r.status).toBe(404);
    expect(r.text).not.toContain("perpetuo");
  });
});

describe("signing in", () => {
  test("/ sends visitors to the login page and signed-in users to /app", async () => {
    expect((await new Client().get("/")).location).toBe("/login");
    const { c } = await signedIn();
    expect((await c.get("/")).location).toBe("/app");
  });

  test("an anonymous visit to a dashboard page redirects (303) to /login with next", async () => {
    const r = await new Client().get("/app/w/abc/logs?status=error");
    expect(r.status).toBe(303);
    expect(r.location).toBe(`/login?next=${encodeURIComponent("/app/w/abc/logs?status=error")}`);
    expect(r.headers.get("vary")).toBe("HX-Request");
  });

  test("an anonymous htmx request gets HX-Redirect to the login page instead of a swap", async () => {
    const r = await new Client().get("/app", { hx: true, headers: { "hx-current-url": "http://localhost/app/w/x/keys" } });
    expect(r.status).toBe(401);
    expect(r.headers.get("hx-redirect")).toBe(`/login?next=${encodeURIComponent("/app/w/x/keys")}`);
  });

  test("the login page sets a pre-session CSRF cookie and puts its token in the form", async () => {
    const c = new Client();
    const r = await c.get("/login?next=/app/w/x");
    expectHtml(r);
    const cookie = r.headers.getSetCookie().find((x) => x.startsWith("perpetuo_login_csrf="))!;
    expect(cookie).toContain("HttpOnly");
    expect(cookie).toContain("SameSite=Lax");
    expect(csrfIn(r.text)).toMatch(/^[A-Za-z0-9_-]{40,}$/);
    expect(r.text).toContain('name="next" value="/app/w/x"');
  });

  test("a login post without the pre-session token (a cross-site form) is refused with 403", async () => {
    const { email } = await signedIn();
    const forged = await new Client().post("/login", { email, password: "correct horse battery" });
    expectHtml(forged, 403);
    expect(forged.text).toContain("This form has expired");
    expect(forged.headers.getSetCookie().some((x) => x.startsWith("perpetuo_session="))).toBe(false);

    // A token from another visitor's cookie does not fit this one's.
    const other = new Client();
    const token = csrfIn((await other.get("/login")).text);
    const c = new Client();
    await c.get("/login");
    const r = await c.post("/login", { _csrf: token, email, password: "correct horse battery" });
    expect(r.status).toBe(403);
  });

  test("logging in sets the httpOnly, SameSite=Lax session cookie and follows a local next", async () => {
    const { email } = await signedIn();
    const c = new Client();
    const page = await c.get("/login");
    const r = await c.post("/login", {
      _csrf: csrfIn(page.text),
      email,
      password: "correct horse battery",
      next: "/app/w/xyz/logs?status=error",
    });
    expect(r.status).toBe(303);
    expect(r.location).toBe("/app/w/xyz/logs?status=error");
    const cookie = r.headers.getSetCookie().find((x) => x.startsWith("perpetuo_session="))!;
    expect(cookie).toContain("HttpOnly");
    expect(cookie).toContain("SameSite=Lax");
    expect(cookie).toContain("Path=/");
    expect(cookie).toContain("Max-Age=604800");
    expect(cookie).not.toContain("Secure");
    expect((await c.get("/app")).status).toBe(200);
  });

  test("failed sign-ins through the JSON API and the form count against one limit", async () => {
    const { email } = await signedIn();
    for (let i = 0; i < 5; i++) {
      const r = await t.app.handle(
        new Request("http://localhost/auth/login", {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ email, password: "wrong password" }),
        }),
      );
      expect(r.status).toBe(401);
    }
    const c = new Client();
    const r = await c.post("/login", { _csrf: csrfIn((await c.get("/login")).text), email, password: "correct horse battery" });
    expect(r.status).toBe(429);
    expect(Number(r.headers.get("retry-after"))).toBeGreaterThan(0);
  });

  test("the session cookie is Secure when PUBLIC_URL is https", async () => {
    const app = createApp({ ...t.deps, config: { ...t.deps.config, publicUrl: "https://perpetuo.example.com" } });
    const c = new Client(app);
    const { email } = await signedIn();
    const r = await c.post("/login", { _csrf: csrfIn((await c.get("/login")).text), email, password: "correct horse battery" });
    expect(r.headers.getSetCookie().find((x) => x.startsWith("perpetuo_session="))).toContain("Secure");
  });

  test.each(["//evil.example/app", "https://evil.example/app", "/\\evil.example", "/apple", "/app//evil", "/login", "javascript:alert(1)"])(
    "ignores an unsafe next (%s) and goes to /app",
    async (next) => {
      expect(safeNext(next)).toBeNull();
      const { email } = await signedIn();
      const c = new Client();
      const r = await c.post("/login", { _csrf: csrfIn((await c.get("/login")).text), email, password: "correct horse battery", next });
      expect(r.location).toBe("/app");
    },
  );

  test("a wrong password re-renders the form with the email kept and the password not echoed", async () => {
    const { email } = await signedIn();
    const c = new Client();
    const r = await c.post("/login", { _csrf: csrfIn((await c.get("/login")).text), email, password: "the wrong password 123" });
    expectHtml(r, 401);
    expect(r.text).toContain("Wrong email or password.");
    expect(r.text).toContain(`value="${email}"`);
    expect(r.text).not.toContain("the wrong password 123");
  });

  test("sign-up errors appear next to their fields with the values kept, status 422", async () => {
    const c = new Client();
    const r = await c.post("/signup", {
      _csrf: csrfIn((await c.get("/signup")).text),
      email: "not-an-email",
      name: "Grace",
      password: "short",
    });
    expectHtml(r, 422);
    expect(r.text).toMatch(/id="f-email-error"[^>]*>Must be a valid email address\./);
    expect(r.text).toMatch(/id="f-password-error"[^>]*>Must be at least 10 characters\./);
    expect(r.text).toContain('aria-invalid="true"');
    expect(r.text).toContain('value="not-an-email"');
    expect(r.text).toContain('value="Grace"');
    expect(r.text).not.toContain('value="short"');
  });

  test("signing up with a registered email gets a generic refusal that does not confirm the account (400)", async () => {
    const { email } = await signedIn();
    const c = new Client();
    const r = await c.post("/signup", {
      _csrf: csrfIn((await c.get("/signup")).text),
      email: email.toUpperCase(),
      password: "correct horse battery",
    });
    expectHtml(r, 400);
    expect(r.text).toContain("We could not create an account with these details. If you already have one, log in.");
    expect(r.text).not.toMatch(/already exists|taken/i);
    expect(r.text).not.toContain('id="f-email-error"');
  });

  test("logging out needs the session's CSRF token, then clears the cookie", async () => {
    const { c, csrf } = await signedIn();
    const forged = await c.post("/logout", {});
    expectHtml(forged, 403);
    expect((await c.get("/app")).status).toBe(200);
    const r = await c.post("/logout", { _csrf: csrf });
    expect(r.status).toBe(303);
    expect(r.location).toBe("/login");
    expect(r.headers.getSetCookie().find((x) => x.startsWith("perpetuo_session="))).toContain("Max-Age=0");
    expect((await c.get("/app")).status).toBe(303);
  });

  test("a forged session cookie is treated as signed out (and dropped)", async () => {
    const c = new Client();
    c.cookies.set("perpetuo_session", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.bad");
    const r = await c.get("/app");
    expect(r.status).toBe(303);
    expect(r.headers.getSetCookie().join()).toContain("perpetuo_session=;");
  });
});

describe("workspaces page", () => {
  test("renders the whole document normally and only the frame for htmx, with Vary: HX-Request", async () => {
    const { c } = await withWorkspace("Frame test");
    const full = await c.get("/app");
    expectHtml(full);
    expect(full.headers.get("cache-control")).toBe("no-store");
    expect(full.text).toStartWith("<!doctype html>");
    expect(full.text).toContain('<meta name="htmx-config"');
    expect(full.text).toContain("hx-headers:inherited=");
    expect(full.text).toContain("Frame test");

    const frag = await c.get("/app", { hx: true });
    expectHtml(frag);
    expect(frag.text).toStartWith("<title>Workspaces · Perpetuo</title>");
    expect(frag.text).toContain('<div id="frame"');
    expect(frag.text).not.toContain("<html");
    expect(frag.text).not.toContain("<script");

    // Back/forward: htmx restores history by asking for the whole body.
    const restore = await c.get("/app", {
      headers: { "hx-request": "true", "hx-request-type": "full", "hx-history-restore-request": "true" },
    });
    expect(restore.text).toStartWith("<!doctype html>");
  });

  test("shows an empty state that says what to do first", async () => {
    const { c, email } = await signedIn();
    // Sign-up made a first workspace; leaving it is how a user ends up with none.
    await t.sql`delete from workspace_members where user_id = (select id from users where lower(email) = lower(${email}))`;
    const r = await c.get("/app");
    expect(r.text).toContain("You have no workspaces yet");
    expect(r.text).toContain("Create your first workspace");
  });

  test("escapes a workspace named <script>alert(1)</script> everywhere it appears", async () => {
    const { c, base } = await withWorkspace("<script>alert(1)</script>");
    for (const path of ["/app", base, `${base}/settings`, `${base}/providers`]) {
      const r = await c.get(path);
      expect(r.status).toBe(200);
      // Inside a quoted attribute only the quote needs escaping: value="<script>…" is inert text.
      const outsideAttributes = r.text.replaceAll('value="<script>alert(1)</script>"', "");
      expect(outsideAttributes).not.toContain("<script>alert(1)</script>");
      expect(r.text).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
    }
  });

  test("a name holding <hx-… stays inside its attribute when htmx swaps the page in", async () => {
    // htmx 4 rewrites every "<hx-x" of a response to '<template hx type="x"', inside attribute values too.
    const { c, base } = await withWorkspace("<hx-x hx-get=/logout hx-trigger=load");
    const r = await c.get(`${base}/settings`, { hx: "div#frame" });
    expect(r.text).not.toMatch(/<\/?hx-/i);
    expect(r.text).toContain('value="&lt;hx-x hx-get=/logout hx-trigger=load"');
  });

  test("creating a workspace by a plain form post redirects (303) to it", async () => {
    const { c, csrf } = await signedIn();
    const r = await c.post("/app/workspaces", { _csrf: csrf, name: "Plain post" });
    expect(r.status).toBe(303);
    expect(r.location).toMatch(/^\/app\/w\/[a-z0-9]+$/);
    const page = await c.get(r.location!);
    expect(page.text).toContain("Plain post");
    expect(page.text).toContain("Get started");
  });

  test("htmx sends the CSRF token as the X-CSRF-Token header instead of the field", async () => {
    const { c, csrf } = await signedIn();
    const r = await c.post("/app/workspaces", { name: "Via header" }, { hx: true, headers: { "x-csrf-token": csrf } });
    expect(r.status).toBe(303);
  });

  test("an empty name comes back inline with status 422", async () => {
    const { c, csrf } = await signedIn();
    const r = await c.post("/app/workspaces", { _csrf: csrf, name: "   " });
    expectHtml(r, 422);
    expect(r.text).toContain("Must not be empty.");
    const frag = await c.post("/app/workspaces", { _csrf: csrf, name: "" }, { hx: true });
    expect(frag.status).toBe(422);
    expect(frag.text).toStartWith("<title>");
  });

  test.each([
    ["without a token", {}],
    ["with a wrong token", { _csrf: "forged-token" }],
  ])("a cross-site POST %s is refused with a 403 page and changes nothing", async (_, extra) => {
    const { c, email } = await signedIn();
    const r = await c.post("/app/workspaces", { name: "Forged", ...extra });
    expectHtml(r, 403);
    expect(r.text).toContain("This form has expired");
    const [{ count }] = await t.sql`select count(*)::int as count from workspaces w join workspace_members m on m.workspace_id = w.id
      join users u on u.id = m.user_id where lower(u.email) = lower(${email}) and w.name = 'Forged'`;
    expect(count).toBe(0);
  });

  test("a token bound to another session does not work", async () => {
    const a = await signedIn();
    const b = await signedIn();
    const r = await a.c.post("/app/workspaces", { _csrf: b.csrf, name: "Cross" });
    expect(r.status).toBe(403);
  });
});

describe("membership", () => {
  let owner: Awaited<ReturnType<typeof withWorkspace>>;
  let stranger: Awaited<ReturnType<typeof signedIn>>;
  beforeAll(async () => {
    owner = await withWorkspace("Private");
    stranger = await signedIn();
  });

  test.each(["", "/providers", "/providers/new", "/keys", "/logs", "/logs/nope", "/usage", "/members", "/settings"])(
    "another user's workspace page %s is a 404 page, not JSON",
    async (path) => {
      const r = await stranger.c.get(`${owner.base}${path}`);
      expectHtml(r, 404);
      expect(r.text).toContain("Not found");
      expect(r.text).not.toContain("Private");
    },
  );

  test("another user's workspace answers htmx with a 404 frame fragment", async () => {
    const r = await stranger.c.get(owner.base, { hx: true });
    expect(r.status).toBe(404);
    expect(r.text).toContain('<div id="frame"');
    expect(r.text).not.toContain("<html");
  });

  test("posting to another user's workspace is a 404 and changes nothing", async () => {
    const r = await stranger.c.post(`${owner.base}/settings`, {
      _csrf: stranger.csrf,
      name: "Hijacked",
      retention_days: "1",
      log_content: "on",
    });
    expectHtml(r, 404);
    expect((await owner.c.get(`${owner.base}/settings`)).text).toContain('value="Private"');
  });

  test("a member (not admin) can look but not change settings, providers or keys", async () => {
    // A workspace and user of its own: making the shared stranger a member would change the tests above.
    const ws = await withWorkspace("Private");
    const member = await signedIn();
    const [user] = await t.sql<{ id: string }[]>`select id from users where lower(email) = lower(${member.email})`;
    await t.sql`insert into workspace_members (workspace_id, user_id, role) values (${ws.id}, ${user.id}, 'member')`;
    const page = await member.c.get(`${ws.base}/settings`);
    expect(page.status).toBe(200);
    expect(page.text).toContain("Only owners and admins can change these settings.");
    expect(page.text).not.toContain("Save settings");
    const r = await member.c.post(`${ws.base}/settings`, { _csrf: member.csrf, name: "Nope", retention_days: "5", log_content: "off" });
    expectHtml(r, 403);
    expect(r.text).toContain("Not allowed");
    expect((await member.c.get(`${ws.base}/providers`)).text).not.toContain("Add provider");
    expect((await member.c.get(`${ws.base}/providers/new`)).status).toBe(403);
    expect((await member.c.get(`${ws.base}/keys`)).text).not.toContain("Create a key");
  });
});

describe("errors", () => {
  test("an unknown dashboard page is a 404 HTML page", async () => {
    const { c } = await signedIn();
    const r = await c.get("/app/nothing/here");
    expectHtml(r, 404);
    expect(r.text).toContain("Not found");
  });

  test("an htmx request aimed at a small target gets a small inline message", async () => {
    const { c, base } = await withWorkspace();
    const r = await c.get(`${base}/providers/nope/delete`, { hx: "div#dialog-slot" });
    expect(r.status).toBe(404);
    expect(r.text).toStartWith('<p class="inline-error" role="alert">');
  });

  test("an unexpected failure is a readable 500 page with a reference, never the error's text", async () => {
    const before = t.logs.length;
    const res = await dashboardError(t.deps, {
      code: "UNKNOWN",
      error: new Error('relation "secret_table" does not exist'),
      request: new Request("http://localhost/app/w/x/logs"),
    })!;
    expect(res.status).toBe(500);
    expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(res.headers.get("content-security-policy")).toBe(CONTENT_SECURITY_POLICY);
    const html = await res.text();
    expect(html).toContain("Something went wrong");
    const ref = /reference ([0-9a-f-]{36})/.exec(html)![1];
    expect(html).not.toContain("secret_table");
    expect(t.logs.slice(before).join("\n")).toContain(ref);
    // Outside the dashboard the JSON renderer stays in charge.
    expect(
      dashboardError(t.deps, { code: "UNKNOWN", error: new Error("x"), request: new Request("http://localhost/v1/models") }),
    ).toBeNull();
  });

  test("the JSON API keeps its JSON errors and gets the security headers too", async () => {
    const r = await new Client().get("/workspaces/nope");
    expect(r.status).toBe(401);
    expect(r.headers.get("content-type")).toContain("application/json");
    expect(JSON.parse(r.text).error.code).toBe("unauthorized");
    expect(r.headers.get("x-content-type-options")).toBe("nosniff");
    expect(r.headers.get("content-security-policy")).toBe(CONTENT_SECURITY_POLICY);
  });
});

describe("settings", () => {
  test("shows the current values", async () => {
    const { c, base } = await withWorkspace("Settings ws");
    const r = await c.get(`${base}/settings`);
    expectHtml(r);
    expect(r.text).toContain('value="Settings ws"');
    expect(r.text).toContain('value="30"');
    expect(r.text).toMatch(/<input type="checkbox" id="f-log_content" name="log_content" value="on"(?! checked)/);
  });

  test("saving renames, stores the log settings, emits the workspace event and redirects (303)", async () => {
    const { c, csrf, base, id } = await withWorkspace("Before");
    const emitted = eventsFromNow();
    const r = await c.post(`${base}/settings`, { _csrf: csrf, name: "After", retention_days: "7", log_content: ["off", "on"] });
    expect(r.status).toBe(303);
    expect(r.location).toBe(`${base}/settings?saved=1`);
    expect(emitted()).toContainEqual({ type: "workspace", workspace_id: id });
    const page = await c.get(r.location!);
    expect(page.text).toContain("Settings saved.");
    expect(page.text).toContain('value="After"');
    expect(page.text).toContain('value="7"');
    const [ws] = await t.sql`select settings from workspaces where id = ${id}`;
    expect(ws.settings).toMatchObject({ retention_days: 7, log_content: true });
  });

  test.each([
    ["0", "Must be a whole number of days from 1 to 3650."],
    ["ten", "Must be a whole number of days from 1 to 3650."],
    ["", "This field is required."],
  ])("retention %p is refused inline with 422", async (days, message) => {
    const { c, csrf, base } = await withWorkspace();
    const r = await c.post(`${base}/settings`, { _csrf: csrf, name: "Kept name", retention_days: days, log_content: "off" });
    expectHtml(r, 422);
    expect(r.text).toContain(message);
    expect(r.text).toContain('value="Kept name"');
  });
});

describe("providers", () => {
  type Ws = Awaited<ReturnType<typeof withWorkspace>>;
  const addForm = (w: Ws, over: Record<string, string | string[]> = {}) => ({
    _csrf: w.csrf,
    name: "openai-main",
    type: "openai",
    base_url: upstream.url,
    api_key: UPSTREAM_KEY,
    models: "gpt-4o-mini\ngpt-4o, o3-*",
    model_map: "fast=gpt-4o-mini",
    priority: "",
    timeout_ms: "",
    enabled: ["off", "on"],
    ...over,
  });
  const WRONG_KEY = "sk-wrong-key-abcdefghijklmnop";
  /** A workspace of the test's own, with these providers added through the form, in this order. */
  async function withProviders(...names: ("openai-main" | "wrong-key")[]): Promise<Ws> {
    const w = await withWorkspace("Providers ws");
    for (const name of names) {
      const r = await w.c.post(`${w.base}/providers`, addForm(w, name === "wrong-key" ? { name, api_key: WRONG_KEY } : {}));
      expect(r.status).toBe(303);
    }
    return w;
  }
  const providerId = async (w: Ws, name: string) =>
    (await t.sql<{ id: string }[]>`select id from provider_keys where workspace_id = ${w.id} and name = ${name}`)[0]!.id;

  test("the empty list says what to add", async () => {
    const w = await withProviders();
    const r = await w.c.get(`${w.base}/providers`);
    expectHtml(r);
    expect(r.text).toContain("No providers yet");
    expect(r.text).toContain("Add your first provider");
  });

  test("the form (after the type step, see dashboard-firstrun.test.ts) lists every type and hints for the chosen one", async () => {
    const w = await withProviders();
    const r = await w.c.get(`${w.base}/providers/new?type=openai_compatible`);
    expectHtml(r);
    for (const label of ["OpenAI", "Anthropic", "Google Gemini", "Ollama", "OpenAI-compatible"])
      expect(r.text).toContain(`>${label}</option>`);
    expect(r.text).toContain("Required: the server&#x27;s address");
    expect(r.text).toContain(`hx-get="${w.base}/providers/fields"`);
    expect(r.text).toContain('hx-target="#provider-type-fields"');
  });

  test("the type fragment fits the chosen type", async () => {
    const w = await withProviders();
    const compat = await w.c.get(`${w.base}/providers/fields?type=openai_compatible`, { hx: "div#provider-type-fields" });
    expectHtml(compat);
    expect(compat.text).toStartWith('<div id="provider-type-fields"');
    expect(compat.text).toContain("Required: the server&#x27;s address");
    const anthropic = await w.c.get(`${w.base}/providers/fields?type=anthropic`, { hx: "div#provider-type-fields" });
    expect(anthropic.text).toContain("leave empty to use https://api.anthropic.com");
    expect(anthropic.text).toContain("sk-ant-");
  });

  test("the fragment holds name, models and aliases too: the values as typed, this type's examples", async () => {
    const w = await withProviders();
    const form = await w.c.get(`${w.base}/providers/new?type=openai`);
    expect(form.text).toContain('hx-include="#f-name, #f-models, #f-model_map"');
    expect(form.text).toContain('placeholder="e.g. gpt-4o-mini, gpt-4.1"');
    expect(form.text).toContain("* matches anything (gpt-*)");
    const r = await w.c.get(`${w.base}/providers/fields?type=anthropic&name=kept-name&models=m1&model_map=`, {
      hx: "div#provider-type-fields",
    });
    expectHtml(r);
    expect(r.text).toContain('value="kept-name" placeholder="e.g. anthropic-main"');
    expect(r.text).toContain('placeholder="e.g. claude-3-5-haiku-latest, claude-sonnet-4-0"');
    expect(r.text).toMatch(/>m1<\/textarea>/);
    expect(r.text).toContain("* matches anything (claude-*)");
    expect(r.text).toContain('placeholder="e.g. fast=claude-3-5-haiku-latest"');
  });

  test("invalid input comes back inline (422) with the values kept and the key never echoed", async () => {
    const w = await withProviders();
    const r = await w.c.post(`${w.base}/providers`, addForm(w, { name: "bad name!", timeout_ms: "5", model_map: "nonsense" }));
    expectHtml(r, 422);
    expect(r.text).toMatch(/id="f-name-error"[^>]*>May contain only letters/);
    expect(r.text).toMatch(/id="f-timeout_ms-error"[^>]*>Must be between 1000 and 600000\./);
    expect(r.text).toMatch(/id="f-model_map-error"[^>]*>Line 1 must look like alias=model\./);
    expect(r.text).toContain('value="bad name!"');
    expect(r.text).toContain(upstream.url);
    expect(r.text).not.toContain(UPSTREAM_KEY);
  });

  test("a type without a default base URL needs one: the service's rule shows at the field", async () => {
    const w = await withProviders();
    const r = await w.c.post(`${w.base}/providers`, addForm(w, { name: "compat", type: "openai_compatible", base_url: "" }));
    expectHtml(r, 422);
    expect(r.text).toMatch(/id="f-base_url-error"[^>]*>Is required for type openai_compatible\./);
  });

  test("adding one redirects (303), emits the provider event and lists it with only the key's last 4", async () => {
    const w = await withProviders();
    const emitted = eventsFromNow();
    const r = await w.c.post(`${w.base}/providers`, addForm(w));
    expect(r.status).toBe(303);
    expect(r.location).toBe(`${w.base}/providers?done=created`);
    expect(emitted()).toContainEqual({ type: "provider", workspace_id: w.id });
    const list = await w.c.get(r.location!);
    expect(list.text).toContain("Provider added.");
    expect(list.text).toContain("openai-main");
    expect(list.text).toContain("••••6789");
    expect(list.text).toContain("gpt-4o-mini");
    expect(list.text).not.toContain(UPSTREAM_KEY);
    const [row] = await t.sql`select models, model_map, enabled from provider_keys where workspace_id = ${w.id} and name = 'openai-main'`;
    expect(row).toMatchObject({ models: ["gpt-4o-mini", "gpt-4o", "o3-*"], model_map: { fast: "gpt-4o-mini" }, enabled: true });
  });

  test("a duplicate name is a 409 with the message at the name field", async () => {
    const w = await withProviders("openai-main");
    const r = await w.c.post(`${w.base}/providers`, addForm(w));
    expectHtml(r, 409);
    expect(r.text).toMatch(/id="f-name-error"[^>]*>A provider named &#x27;openai-main&#x27; already exists/);
  });

  test("the edit form shows the stored values but never the key", async () => {
    const w = await withProviders("openai-main");
    const r = await w.c.get(`${w.base}/providers/${await providerId(w, "openai-main")}/edit`);
    expectHtml(r);
    expect(r.text).toContain('value="openai-main"');
    expect(r.text).toContain("fast=gpt-4o-mini");
    expect(r.text).toContain("A key ending ••••6789 is stored; leave empty to keep it.");
    expect(r.text).not.toContain(UPSTREAM_KEY);
  });

  test("saving an edit without a key keeps the stored key", async () => {
    const w = await withProviders("openai-main");
    const [p] = await t.sql`select id, key_ciphertext from provider_keys where workspace_id = ${w.id} and name = 'openai-main'`;
    const emitted = eventsFromNow();
    const r = await w.c.post(`${w.base}/providers/${p.id}`, addForm(w, { api_key: "", models: "gpt-4o-mini", timeout_ms: "30000" }));
    expect(r.status).toBe(303);
    expect(emitted()).toContainEqual({ type: "provider", workspace_id: w.id });
    const [after] = await t.sql`select key_ciphertext, models, timeout_ms from provider_keys where id = ${p.id}`;
    expect(Buffer.compare(after.key_ciphertext, p.key_ciphertext)).toBe(0);
    expect(after).toMatchObject({ models: ["gpt-4o-mini"], timeout_ms: 30000 });
  });

  test("a notice code that names an Object.prototype member shows no notice", async () => {
    const w = await withProviders();
    for (const path of ["providers", "keys"]) {
      const r = await w.c.get(`${w.base}/${path}?done=constructor`);
      expectHtml(r);
      expect(r.text).not.toContain("native code");
      expect(r.text).not.toContain("function");
    }
  });

  test("moving an entry to another host without its key is refused beside the key field, and the key stays", async () => {
    const w = await withProviders("openai-main");
    const [p] = await t.sql`select id, base_url, key_ciphertext from provider_keys where workspace_id = ${w.id} and name = 'openai-main'`;
    const r = await w.c.post(`${w.base}/providers/${p.id}`, addForm(w, { api_key: "", base_url: "https://collector.example.net/v1" }));
    expectHtml(r, 422);
    expect(r.text).toMatch(/id="f-api_key-error"[^>]*>Is required when base_url&#x27;s host or type changes/);
    const [after] = await t.sql`select base_url, key_ciphertext from provider_keys where id = ${p.id}`;
    expect(after.base_url).toBe(p.base_url);
    expect(Buffer.compare(after.key_ciphertext, p.key_ciphertext)).toBe(0);
    // With the key sent again the move is the admin's informed choice.
    const moved = await w.c.post(
      `${w.base}/providers/${p.id}`,
      addForm(w, { api_key: UPSTREAM_KEY, base_url: "https://collector.example.net/v1" }),
    );
    expect(moved.status).toBe(303);
  });

  test("the test button answers inline for htmx and as the whole list without JavaScript", async () => {
    const w = await withProviders("openai-main");
    const id = await providerId(w, "openai-main");
    const inline = await w.c.post(`${w.base}/providers/${id}/test`, { _csrf: w.csrf }, { hx: `div#test-${id}` });
    expectHtml(inline);
    expect(inline.text).toStartWith('<span class="test-ok">');
    expect(inline.text).toContain("Connected");
    const page = await w.c.post(`${w.base}/providers/${id}/test`, { _csrf: w.csrf });
    expectHtml(page);
    expect(page.text).toStartWith("<!doctype html>");
    expect(page.text).toContain("Connected");
  });

  test("a failing test shows the provider's complaint, not the key", async () => {
    const w = await withProviders();
    const r = await w.c.post(`${w.base}/providers`, addForm(w, { name: "wrong-key", api_key: WRONG_KEY }));
    expect(r.status).toBe(303);
    const id = await providerId(w, "wrong-key");
    const inline = await w.c.post(`${w.base}/providers/${id}/test`, { _csrf: w.csrf }, { hx: `div#test-${id}` });
    expect(inline.text).toContain('class="test-fail"');
    expect(inline.text).toContain("HTTP 401");
    expect(inline.text).not.toContain(WRONG_KEY);
  });

  test("enable/disable and move up/down are plain posts that redirect back", async () => {
    const w = await withProviders("openai-main", "wrong-key");
    const rows = await t.sql<
      { id: string; name: string }[]
    >`select id, name from provider_keys where workspace_id = ${w.id} order by priority`;
    expect(rows.map((r) => r.name)).toEqual(["openai-main", "wrong-key"]);
    const up = await w.c.post(`${w.base}/providers/${rows[1].id}/move`, { _csrf: w.csrf, direction: "up" });
    expect(up.status).toBe(303);
    expect(up.location).toBe(`${w.base}/providers`);
    const reordered = await t.sql<{ name: string }[]>`select name from provider_keys where workspace_id = ${w.id} order by priority`;
    expect(reordered.map((r) => r.name)).toEqual(["wrong-key", "openai-main"]);

    const emitted = eventsFromNow();
    const off = await w.c.post(`${w.base}/providers/${rows[1].id}/enabled`, { _csrf: w.csrf, enabled: "off" });
    expect(off.status).toBe(303);
    expect(emitted()).toContainEqual({ type: "provider", workspace_id: w.id });
    const [p] = await t.sql`select enabled from provider_keys where id = ${rows[1].id}`;
    expect(p.enabled).toBe(false);
    const list = await w.c.get(`${w.base}/providers`);
    expect(list.text).toContain("Disabled");
    expect(list.text).toContain(`aria-label="Enable wrong-key"`);
  });

  test("deleting asks first (a page, or a fragment for htmx), then deletes on a CSRF-checked post", async () => {
    const w = await withProviders("wrong-key");
    const id = await providerId(w, "wrong-key");
    const page = await w.c.get(`${w.base}/providers/${id}/delete`);
    expectHtml(page);
    expect(page.text).toStartWith("<!doctype html>");
    expect(page.text).toContain("Delete provider wrong-key?");
    const frag = await w.c.get(`${w.base}/providers/${id}/delete`, { hx: "div#dialog-slot" });
    expect(frag.text).toStartWith('<section class="confirm confirm-danger" role="alertdialog"');
    expect((await w.c.post(`${w.base}/providers/${id}/delete`, {})).status).toBe(403);
    const emitted = eventsFromNow();
    const r = await w.c.post(`${w.base}/providers/${id}/delete`, { _csrf: w.csrf });
    expect(r.status).toBe(303);
    expect(r.location).toBe(`${w.base}/providers?done=deleted`);
    expect(emitted()).toContainEqual({ type: "provider", workspace_id: w.id });
    expect((await t.sql`select 1 from provider_keys where id = ${id}`).length).toBe(0);
  });
});

describe("API keys", () => {
  /** A workspace of the test's own, with these keys created through the form. */
  async function withKeys(...names: string[]) {
    const w = await withWorkspace("Keys ws");
    for (const name of names) expect((await w.c.post(`${w.base}/keys`, { _csrf: w.csrf, name, expires: "" })).status).toBe(201);
    return w;
  }

  test("the empty list explains what a key is for", async () => {
    const w = await withKeys();
    const r = await w.c.get(`${w.base}/keys`);
    expectHtml(r);
    expect(r.text).toContain("No API keys yet");
  });

  test("creating one shows the full key once, with copy buttons and snippets for PUBLIC_URL/v1", async () => {
    const w = await withKeys();
    const emitted = eventsFromNow();
    const r = await w.c.post(`${w.base}/keys`, { _csrf: w.csrf, name: "backend", expires: "" });
    expectHtml(r, 201);
    expect(r.headers.get("cache-control")).toBe("no-store");
    const key = /value="(prp_[0-9A-Za-z]+)"/.exec(r.text)![1];
    expect(r.text).toContain('data-copy="#new-key"');
    expect(r.text).toContain(`curl http://localhost:8080/v1/chat/completions`);
    expect(r.text).toContain(`baseURL: &quot;http://localhost:8080/v1&quot;`);
    // Snippets read the key from the environment; only the export line carries it.
    expect(r.text).toContain("Bearer $PERPETUO_API_KEY");
    expect(r.text).toContain(`export PERPETUO_API_KEY=${key}`);
    expect(emitted().find((e) => e.type === "api_key")).toMatchObject({ type: "api_key", workspace_id: w.id });
    const list = await w.c.get(`${w.base}/keys`);
    expect(list.text).toContain("backend");
    expect(list.text).toContain(`${key.slice(0, 10)}…`);
    expect(list.text).not.toContain(key);
  });

  test("the key works against the gateway", async () => {
    const w = await withKeys();
    const r = await w.c.post(`${w.base}/keys`, { _csrf: w.csrf, name: "gateway check" });
    const key = /value="(prp_[0-9A-Za-z]+)"/.exec(r.text)![1];
    const res = await t.app.handle(new Request("http://localhost/v1/models", { headers: { authorization: `Bearer ${key}` } }));
    expect(res.status).toBe(200);
  });

  test.each([
    [{ name: "" }, "f-name-error", "Must not be empty."],
    [{ name: "x", expires: "2001-01-01" }, "f-expires-error", "Must be a future date."],
    [{ name: "x", expires: "soon" }, "f-expires-error", "Must be a date such as 2030-01-31."],
  ])("invalid input %j comes back inline with 422", async (form, id, message) => {
    const w = await withKeys();
    const r = await w.c.post(`${w.base}/keys`, { _csrf: w.csrf, ...form });
    expectHtml(r, 422);
    expect(r.text).toMatch(new RegExp(`id="${id}"[^>]*>${message.replace(".", "\\.")}`));
    expect(r.text).not.toMatch(/value="prp_/);
  });

  test("an expiry date is kept until the end of that day (UTC)", async () => {
    const w = await withKeys();
    const r = await w.c.post(`${w.base}/keys`, { _csrf: w.csrf, name: "expiring", expires: "2099-06-30" });
    expect(r.status).toBe(201);
    const [k] = await t.sql`select expires_at from api_keys where workspace_id = ${w.id} and name = 'expiring'`;
    expect(new Date(k.expires_at).toISOString()).toBe("2099-06-30T23:59:59.000Z");
  });

  test("revoking asks first, then revokes and emits the key's hash", async () => {
    const w = await withKeys("backend");
    const [k] = await t.sql`select id, key_hash from api_keys where workspace_id = ${w.id} and name = 'backend'`;
    const confirm = await w.c.get(`${w.base}/keys/${k.id}/revoke`, { hx: "div#dialog-slot" });
    expect(confirm.text).toContain("Revoke key backend?");
    const emitted = eventsFromNow();
    const r = await w.c.post(`${w.base}/keys/${k.id}/revoke`, { _csrf: w.csrf });
    expect(r.status).toBe(303);
    expect(r.location).toBe(`${w.base}/keys?done=revoked`);
    expect(emitted()).toContainEqual({ type: "api_key", workspace_id: w.id, key_hash: k.key_hash });
    const list = await w.c.get(r.location!);
    expect(list.text).toContain("Key revoked");
    expect(list.text).toContain(">revoked</span>");
  });

  test("deleting asks first, then deletes and emits the key's hash", async () => {
    const w = await withKeys("backend");
    const [k] = await t.sql`select id, key_hash from api_keys where workspace_id = ${w.id} and name = 'backend'`;
    const page = await w.c.get(`${w.base}/keys/${k.id}/delete`);
    expect(page.text).toContain("Delete key backend?");
    const emitted = eventsFromNow();
    const r = await w.c.post(`${w.base}/keys/${k.id}/delete`, { _csrf: w.csrf });
    expect(r.status).toBe(303);
    expect(emitted()).toContainEqual({ type: "api_key", workspace_id: w.id, key_hash: k.key_hash });
    expect((await t.sql`select 1 from api_keys where id = ${k.id}`).length).toBe(0);
  });
});

describe("logs, usage and overview", () => {
  let w: Awaited<ReturnType<typeof withWorkspace>>;
  let okId = "";
  let errorId = "";

  const record = (over: Partial<RequestRecord>): RequestRecord => ({
    id: crypto.randomUUID().replaceAll("-", "").slice(0, 24),
    request_id: `req_${crypto.randomUUID().replaceAll("-", "")}`,
    workspace_id: w.id,
    api_key_id: null,
    provider_id: null,
    provider_name: "openai-main",
    provider_type: "openai",
    model_requested: "gpt-4o-mini",
    model_used: "gpt-4o-mini-2024-07-18",
    stream: false,
    status: 200,
    error_class: null,
    error_message: null,
    latency_ms: 420,
    ttft_ms: null,
    prompt_tokens: 12,
    completion_tokens: 30,
    cached_tokens: 0,
    reasoning_tokens: 0,
    usage_estimated: false,
    cost_usd: 0.00042,
    attempts: [
      {
        provider_id: "p1",
        provider_name: "openai-main",
        provider_type: "openai",
        model: "gpt-4o-mini",
        status: 200,
        error_class: null,
        message: null,
        latency_ms: 400,
      },
    ],
    request_body: null,
    response_body: null,
    created_at: new Date().toISOString(),
    ...over,
  });

  beforeAll(async () => {
    w = await withWorkspace("Insights ws");
    const ok = record({ created_at: new Date(Date.now() - 2000).toISOString() });
    const failed = record({
      created_at: new Date(Date.now() - 1000).toISOString(),
      model_requested: "claude-<b>sonnet</b>",
      model_used: null,
      status: 502,
      error_class: "upstream_error",
      error_message: "all providers failed: <script>x</script>",
      cost_usd: null,
      attempts: [
        {
          provider_id: "p1",
          provider_name: "anthropic-a",
          provider_type: "anthropic",
          model: "claude-sonnet",
          status: 529,
          error_class: "overloaded",
          message: "Overloaded",
          latency_ms: 120,
        },
        {
          provider_id: "p2",
          provider_name: "anthropic-b",
          provider_type: "anthropic",
          model: "claude-sonnet",
          status: null,
          error_class: "timeout",
          message: "no answer within 30 s",
          latency_ms: 30000,
        },
      ],
    });
    okId = ok.id;
    errorId = failed.id;
    t.deps.logQueue.enqueue(ok);
    t.deps.logQueue.enqueue(failed);
    await t.deps.logQueue.flush();
  });

  test("the logs page lists requests newest first with status, latency, tokens and cost", async () => {
    const r = await w.c.get(`${w.base}/logs`);
    expectHtml(r);
    expect(r.text).toContain("2 requests");
    expect(r.text.indexOf("claude-&lt;b&gt;sonnet&lt;/b&gt;")).toBeLessThan(r.text.indexOf("gpt-4o-mini"));
    expect(r.text).toContain("420 ms");
    expect(r.text).toContain("12 → 30");
    expect(r.text).toContain("$0.0004");
    expect(r.text).toContain("502");
    expect(r.text).toContain("2 attempts");
    expect(r.text).not.toContain("<b>sonnet");
  });

  test("filters stay in the URL and in the form (GET form + hx-get + hx-push-url)", async () => {
    const r = await w.c.get(`${w.base}/logs?status=error&model=`);
    expectHtml(r);
    expect(r.text).toContain("1 request");
    expect(r.text).not.toContain(">gpt-4o-mini<");
    expect(r.text).toMatch(/<option value="error" selected>Failed<\/option>/);
    expect(r.text).toContain(`hx-get="${w.base}/logs"`);
    expect(r.text).toContain('hx-push-url="true"');
    const none = await w.c.get(`${w.base}/logs?model=nothing-like-this`);
    expect(none.text).toContain("No requests match these filters");
    const frag = await w.c.get(`${w.base}/logs?status=ok`, { hx: true });
    expect(frag.text).toStartWith("<title>");
    expect(frag.text).toContain("gpt-4o-mini");
  });

  test("pages of 50, newest first, with Newer/Older links that keep the filters", async () => {
    const many = await withWorkspace("Busy");
    const start = Date.now() - 120_000;
    for (let i = 0; i < 55; i++) {
      t.deps.logQueue.enqueue(
        record({ workspace_id: many.id, model_requested: `model-${i}`, created_at: new Date(start + i * 1000).toISOString() }),
      );
    }
    await t.deps.logQueue.flush();
    const first = await many.c.get(`${many.base}/logs?status=ok`);
    expect(first.text).toContain("1–50 of 55 requests");
    expect(first.text).toContain("model-54");
    expect(first.text).not.toContain(">model-4<");
    expect(first.text).toContain(`href="${many.base}/logs?status=ok&page=2"`);
    expect(first.text).not.toContain("← Newer");
    const second = await many.c.get(`${many.base}/logs?status=ok&page=2`);
    expect(second.text).toContain("51–55 of 55 requests");
    expect(second.text).toContain(">model-0<");
    expect(second.text).toContain(`href="${many.base}/logs?status=ok"`);
    expect(second.text).not.toContain("Older →");
  });

  test("an invalid filter is shown at its field with 422", async () => {
    const r = await w.c.get(`${w.base}/logs?status=bogus&from=yesterday`);
    expectHtml(r, 422);
    expect(r.text).toMatch(/id="f-status-error"[^>]*>Must be ok or error\./);
    const range = await w.c.get(`${w.base}/logs?from=2030-01-02&to=2030-01-01`);
    expect(range.status).toBe(422);
    expect(range.text).toContain("Must be before to.");
  });

  test("a log's detail shows the attempt trail, escaped", async () => {
    const r = await w.c.get(`${w.base}/logs/${errorId}`);
    expectHtml(r);
    expect(r.text).toContain("Attempts");
    expect(r.text).toContain("anthropic-a");
    expect(r.text).toContain("529 overloaded");
    expect(r.text).toContain("anthropic-b");
    expect(r.text).toContain("no response timeout");
    expect(r.text).toContain("all providers failed: &lt;script&gt;x&lt;/script&gt;");
    expect(r.text).toContain("Content logging is off");
    const ok = await w.c.get(`${w.base}/logs/${okId}`, { hx: true });
    expect(ok.text).toStartWith("<title>");
    expect(ok.text).toContain("gpt-4o-mini → gpt-4o-mini-2024-07-18");
  });

  describe("scanning logs", () => {
    let scan: Awaited<ReturnType<typeof withWorkspace>>;
    let streamedId = "";
    let plainId = "";
    let plainRequestId = "";

    beforeAll(async () => {
      scan = await withWorkspace("Scan ws");
      const streamed = record({
        workspace_id: scan.id,
        request_id: "client-trace:7",
        stream: true,
        ttft_ms: 150,
        latency_ms: 900,
        provider_name: "vllm-box",
        provider_type: "openai_compatible",
        attempts: [
          {
            provider_id: "p9",
            provider_name: "vllm-box",
            provider_type: "openai_compatible",
            model: "gpt-4o-mini",
            status: 200,
            error_class: null,
            message: null,
            latency_ms: 880,
          },
        ],
        created_at: "2026-03-04T05:06:07.000Z",
      });
      // A non-streamed answer with a ttft recorded anyway: the detail must not show both figures.
      const plain = record({ workspace_id: scan.id, stream: false, ttft_ms: 90, latency_ms: 420, created_at: "2026-03-04T05:06:08.000Z" });
      streamedId = streamed.id;
      plainId = plain.id;
      plainRequestId = plain.request_id;
      t.deps.logQueue.enqueue(streamed);
      t.deps.logQueue.enqueue(plain);
      await t.deps.logQueue.flush();
    });

    test("rows show UTC times with seconds, stream, TTFT (streams only) and a short request id; every cell is labelled", async () => {
      const r = await scan.c.get(`${scan.base}/logs`);
      expectHtml(r);
      expect(r.text).toContain('<span class="time-date">2026-03-04</span> <span>05:06:07 UTC</span>');
      expect(r.text).toContain('<span class="time-date">2026-03-04</span> <span>05:06:08 UTC</span>');
      const rows = r.text.split('<tr role="row" data-row-href=').slice(1);
      expect(rows).toHaveLength(2);
      const [plainRow, streamedRow] = rows as [string, string];
      expect(plainRow).toStartWith(`"${scan.base}/logs/${plainId}"`);
      expect(plainRow).toContain(`<a class="row-link" href="${scan.base}/logs/${plainId}"`);
      expect(streamedRow).toMatch(/data-label="Stream">Yes</);
      expect(streamedRow).toMatch(/data-label="TTFT" class="num"><span>150 ms</);
      expect(plainRow).toMatch(/data-label="Stream"><span class="muted">No</);
      expect(plainRow).not.toContain("90 ms");
      expect(plainRow).toContain(`title="${plainRequestId}"><span>${plainRequestId.slice(0, 12)}…</span>`);
      expect(streamedRow).toContain('title="client-trace:7"><span>client-trace:7</span>');
      for (const row of rows) {
        const cells = row.split("</tr>")[0]!.match(/<td\b[^>]*>/g) ?? [];
        expect(cells).toHaveLength(11);
        for (const c of cells) expect(c).toMatch(/ data-label="[^"]+"/);
      }
      expect(r.text).toContain("From (UTC)");
      const members = await scan.c.get(`${scan.base}/members`);
      expect(members.text).toContain('data-label="Role"');
    });

    test("the Request ID filter matches exactly, stays in the form and the URL, and combines with the others", async () => {
      const r = await scan.c.get(`${scan.base}/logs?request_id=client-trace:7`);
      expectHtml(r);
      expect(r.text).toContain("1 request");
      expect(r.text).toContain(`href="${scan.base}/logs/${streamedId}"`);
      expect(r.text).not.toContain(`/logs/${plainId}"`);
      expect(r.text).toMatch(/<input id="f-request_id" name="request_id" type="text" value="client-trace:7"/);
      const prefix = await scan.c.get(`${scan.base}/logs?request_id=client-trace`);
      expect(prefix.text).toContain("No requests match these filters");
      const both = await scan.c.get(`${scan.base}/logs?request_id=client-trace:7&status=error`);
      expect(both.text).toContain("No requests match these filters");
      const ok = await scan.c.get(`${scan.base}/logs?request_id=client-trace:7&status=ok`);
      expect(ok.text).toContain("1 request");
    });

    test("an invalid request id is shown at its field with 422", async () => {
      const r = await scan.c.get(`${scan.base}/logs?request_id=${encodeURIComponent("no spaces <here>")}`);
      expectHtml(r, 422);
      expect(r.text).toMatch(/id="f-request_id-error"[^>]*>Must be a request id/);
      // Shown back for correction, inside its (quoted) attribute only.
      expect(r.text).toContain('value="no spaces <here>"');
      expect(r.text.split("<here>")).toHaveLength(2);
    });

    test("the detail shows a first-token time only for streams, and provider types by their label", async () => {
      const streamed = await scan.c.get(`${scan.base}/logs/${streamedId}`);
      expectHtml(streamed);
      expect(streamed.text).toContain("900 ms · streamed, first token after 150 ms");
      expect(streamed.text).toContain("vllm-box (OpenAI-compatible)");
      expect(streamed.text).toContain("(OpenAI-compatible)</span>");
      expect(streamed.text).not.toContain("openai_compatible");
      expect(streamed.text).toContain("2026-03-04 05:06:07 UTC");
      const plain = await scan.c.get(`${scan.base}/logs/${plainId}`);
      expect(plain.text).toContain("420 ms · not streamed");
      expect(plain.text).not.toContain("first token");
      expect(plain.text).toContain("openai-main (OpenAI)");
    });
  });

  test("another workspace's log id is a 404", async () => {
    const other = await withWorkspace("Other");
    const r = await other.c.get(`${other.base}/logs/${okId}`);
    expectHtml(r, 404);
  });

  test("usage shows totals, accessible SVG charts and breakdowns", async () => {
    const today = new Date().toISOString().slice(0, 10);
    const r = await w.c.get(`${w.base}/usage`);
    expectHtml(r);
    expect(r.text).toContain('role="img"');
    expect(r.text).toMatch(/<svg[^>]*role="img"[^>]*aria-label="Requests per day\. 2 requests/);
    expect(r.text).toContain(`<title>${today}: 2 requests, 1 failed</title>`);
    expect(r.text).toContain("Day (UTC)");
    expect(r.text).toContain("Cost (USD)");
    expect(r.text).toContain("By provider");
    expect(r.text).toContain("By model");
    expect(r.text).toContain("claude-&lt;b&gt;sonnet&lt;/b&gt;");
    expect(r.text).toContain("Last 30 days");
  });

  test("usage takes a date range from the URL and rejects a bad one inline (422)", async () => {
    const r = await w.c.get(`${w.base}/usage?from=2020-01-01&to=2020-01-07`);
    expectHtml(r);
    expect(r.text).toContain("2020-01-01 to 2020-01-07");
    expect(r.text).toContain("No requests in this range");
    const bad = await w.c.get(`${w.base}/usage?from=2020-01-09&to=2020-01-01`);
    expectHtml(bad, 422);
    expect(bad.text).toContain("From must not be after to.");
    const frag = await w.c.get(`${w.base}/usage?from=2020-01-01&to=2020-01-07`, { hx: true });
    expect(frag.text).toStartWith("<title>Usage");
  });

  test("the overview has today's and 30 days' figures, a chart and the latest errors", async () => {
    const r = await w.c.get(w.base);
    expectHtml(r);
    expect(r.text).toContain("Requests today");
    expect(r.text).toContain("Error rate · 30 days");
    expect(r.text).toContain("50%");
    expect(r.text).toMatch(/<svg[^>]*role="img"/);
    expect(r.text).toContain("Latest errors");
    expect(r.text).toContain(`/logs/${errorId}`);
    expect(r.text).toContain("all providers failed: &lt;script&gt;");
  });
});

describe("CSRF token", () => {
  test("is bound to the session: the page's token is csrfTokenFor(session id)", async () => {
    const { c, csrf } = await signedIn();
    const jwt = c.cookies.get("perpetuo_session")!;
    const payload = JSON.parse(Buffer.from(jwt.split(".")[1], "base64url").toString());
    expect(csrf).toBe(csrfTokenFor(t.deps, payload.jti));
  });
});

describe("sign-up modes and invitations", () => {
  const mode = (m: "open" | "invite" | "closed") => {
    t.deps.config.signup = m;
  };
  // Every test starts from SIGNUP=open (signing up fixtures needs it) and leaves the file's app so.
  beforeEach(() => mode("open"));
  afterEach(() => mode("open"));

  /** The invitation link's token, created through the members page's form. */
  async function inviteByForm(w: Awaited<ReturnType<typeof withWorkspace>>, email: string, role = "member") {
    const r = await w.c.post(`${w.base}/invitations`, { _csrf: w.csrf, email, role });
    expectHtml(r, 201);
    expect(r.headers.get("cache-control")).toBe("no-store");
    const link = /id="invite-link"[^>]*value="([^"]+)"/.exec(r.text)![1];
    expect(link).toStartWith("http://localhost:8080/invite/");
    return { text: r.text, token: link.split("/").pop()! };
  }

  test("with SIGNUP=invite and accounts present, /signup explains how to get in and the form post is refused (403)", async () => {
    await signedIn();
    mode("invite");
    const c = new Client();
    const page = await c.get("/signup");
    expectHtml(page);
    expect(page.text).toContain("Accounts are by invitation");
    expect(page.text).toContain("needs an invitation");
    expect(page.text).not.toContain('name="password"');
    const r = await c.post("/signup", {
      _csrf: csrfIn((await c.get("/login")).text),
      email: "stranger@example.com",
      password: "correct horse battery",
    });
    expectHtml(r, 403);
    expect(r.text).toContain("needs an invitation");
    const [n] = await t.sql`select count(*)::int as n from users where email = 'stranger@example.com'`;
    expect(n.n).toBe(0);
  });

  test("with SIGNUP=closed, /signup says the operator creates accounts", async () => {
    mode("closed");
    const page = await new Client().get("/signup");
    expectHtml(page);
    expect(page.text).toContain("Sign-up is closed on this Perpetuo");
    expect(page.text).not.toContain('name="password"');
  });

  test("members page: an owner invites by a plain form, sees the link once, lists and revokes it (303)", async () => {
    mode("open");
    const w = await withWorkspace("Invites");
    const { text } = await inviteByForm(w, "pending@example.com", "admin");
    expect(text).toContain("it is shown only once");
    expect(text).toContain("pending@example.com");
    const page = await w.c.get(`${w.base}/members`);
    expect(page.text).toContain("pending@example.com");
    expect(page.text).not.toContain("/invite/");
    const [row] = await t.sql`select id from invitations where email = 'pending@example.com'`;
    const r = await w.c.post(`${w.base}/invitations/${row.id}/revoke`, { _csrf: w.csrf });
    expect(r.status).toBe(303);
    expect(r.location).toBe(`${w.base}/members?invite=revoked`);
    const after = await w.c.get(r.location!);
    expect(after.text).toContain("Invitation revoked");
    expect(after.text).not.toContain("pending@example.com");
  });

  test("members page: bad input comes back inline (422), a member sees no invitations, a forged post is refused", async () => {
    mode("open");
    const w = await withWorkspace();
    const bad = await w.c.post(`${w.base}/invitations`, { _csrf: w.csrf, email: "nope", role: "member" });
    expectHtml(bad, 422);
    expect(bad.text).toMatch(/id="f-invite-email-error"[^>]*>Must be a valid email address\./);
    const forged = await w.c.post(`${w.base}/invitations`, { email: "x@example.com", role: "member" });
    expectHtml(forged, 403);
    const member = await signedIn();
    const { token } = await inviteByForm(w, member.email);
    expect((await member.c.post(`/app/invite/${token}`, { _csrf: member.csrf })).status).toBe(303);
    const page = await member.c.get(`${w.base}/members`);
    expect(page.status).toBe(200);
    expect(page.text).not.toContain('id="invitations"');
    expectHtml(await member.c.post(`${w.base}/invitations`, { _csrf: member.csrf, email: "y@example.com", role: "member" }), 403);
  });

  test("the link signs a newcomer up even with SIGNUP=invite, straight into the workspace, once", async () => {
    mode("open");
    const w = await withWorkspace("Joined by link");
    const { token } = await inviteByForm(w, "newcomer@example.com");
    mode("invite");
    const c = new Client();
    const page = await c.get(`/invite/${token}`);
    expectHtml(page);
    expect(page.text).toContain("Joined by link");
    expect(page.text).toContain(`name="invitation" value="${token}"`);
    expect(page.text).toContain('value="newcomer@example.com"');
    const r = await c.post("/signup", {
      _csrf: csrfIn(page.text),
      invitation: token,
      email: "newcomer@example.com",
      password: "correct horse battery",
    });
    expect(r.status).toBe(303);
    expect(r.location).toBe(w.base);
    expectHtml(await c.get(w.base));
    const again = await new Client().get(`/invite/${token}`);
    expectHtml(again, 410);
    expect(again.text).toContain("already been used");
  });

  test("a signed-in user follows the link to the join page; another address is told which one it is for", async () => {
    mode("open");
    const w = await withWorkspace("Join me");
    const invitee = await signedIn();
    const other = await signedIn();
    const { token } = await inviteByForm(w, invitee.email, "admin");
    const hop = await invitee.c.get(`/invite/${token}`);
    expect(hop.status).toBe(303);
    expect(hop.location).toBe(`/app/invite/${token}`);
    const wrong = await other.c.get(`/app/invite/${token}`);
    expectHtml(wrong, 403);
    expect(wrong.text).toContain(`This invitation was sent to ${invitee.email}`);
    expectHtml(await other.c.post(`/app/invite/${token}`, { _csrf: other.csrf }), 403);
    const join = await invitee.c.get(`/app/invite/${token}`);
    expectHtml(join);
    expect(join.text).toContain("Join workspace");
    const forged = await invitee.c.post(`/app/invite/${token}`, {});
    expectHtml(forged, 403);
    const r = await invitee.c.post(`/app/invite/${token}`, { _csrf: invitee.csrf });
    expect(r.status).toBe(303);
    expect(r.location).toBe(w.base);
    expect((await invitee.c.get(`${w.base}/members`)).text).toContain('id="invitations"');
  });

  test("an anonymous visitor with the link is offered to log in and come back to the join page", async () => {
    mode("open");
    const w = await withWorkspace();
    const { token } = await inviteByForm(w, "has-account@example.com");
    const page = await new Client().get(`/invite/${token}`);
    expect(page.text).toContain(`href="/login?next=${encodeURIComponent(`/app/invite/${token}`)}"`);
    expect(safeNext(`/app/invite/${token}`)).toBe(`/app/invite/${token}`);
  });

  test("an unknown or revoked link is a clear page, not JSON", async () => {
    const unknown = await new Client().get("/invite/nope");
    expectHtml(unknown, 404);
    expect(unknown.text).toContain("This invitation link is not valid");
    mode("open");
    const w = await withWorkspace();
    const { token } = await inviteByForm(w, "gone@example.com");
    await t.sql`update invitations set revoked_at = now() where email = 'gone@example.com'`;
    const revoked = await new Client().get(`/invite/${token}`);
    expectHtml(revoked, 410);
    expect(revoked.text).toContain("was revoked");
  });
});
