/**
 * The authorization matrix: every route of the app (read from Elysia's route table, so a new
 * route cannot be missed) × every kind of caller, with the status each must get. A route without
 * an entry in EXPECT fails "every route has an expectation", which prints the entry to add.
 *
 * Callers: anonymous; a signed-in user of another workspace; the workspace's member, admin and
 * owner; a revoked and an expired gateway key of the workspace; a session token after log out;
 * and, as the control that makes the key rows mean something, a valid gateway key.
 * JSON API and /v1 calls carry credentials as `Authorization: Bearer`; dashboard pages as the
 * browser does (session cookie plus the CSRF field on forms; gateway keys as a Bearer header).
 */
import { afterAll, describe, expect, test } from "bun:test";
import { csrfTokenFor, SESSION_COOKIE } from "../src/http/auth.ts";
import { testApp } from "./support/app.ts";
import { makeRecord } from "./support/logs.ts";
import { startMockUpstream } from "./support/mock-upstreams.ts";

type Actor = "anonymous" | "other" | "member" | "admin" | "owner" | "revokedKey" | "expiredKey" | "loggedOut" | "validKey";
const ACTORS: Actor[] = ["anonymous", "other", "member", "admin", "owner", "revokedKey", "expiredKey", "loggedOut", "validKey"];

/**
 * public: anyone, credentials or not; session: any signed-in user; member/admin/owner: that role
 * or above in the workspace of the path; gateway: a valid gateway key only.
 */
type Rule = "public" | "session" | "member" | "admin" | "owner" | "gateway";
/** api: JSON API and /v1 (401/403/404 in the error shape); page: dashboard (sign-in redirect 303, HTML 403/404). */
type Kind = "api" | "page";

interface Expectation {
  rule: Rule;
  kind: Kind;
  /** The status of the call when the caller is allowed. */
  ok: number;
  /** JSON body (api) or form fields (page) that make the allowed call succeed. */
  body?: (f: Fixtures) => Record<string, unknown> | Promise<Record<string, unknown>>;
  /** The call destroys what it names: give each caller its own provider / key. */
  fresh?: "provider" | "key" | "invitation" | "member";
  /** The call changes the fixture users' own roles (leaving, handing over): put them back afterwards. */
  restoresRoles?: boolean;
  /** Dashboard sign-in forms: fetch the pre-session CSRF cookie and token first. */
  loginForm?: boolean;
  /** The call ends the session it uses: give each caller a session of its own. */
  endsSession?: boolean;
  /** The call ends every session of its caller: sign the caller in again afterwards. */
  endsAllSessions?: boolean;
  query?: string;
  /** A public page's status for a signed-in caller, when it differs (the sign-in page moves them on). */
  signedIn?: number;
  /** Expected from a branch not merged yet: may be absent from the route table. */
  optional?: boolean;
}

const PASSWORD = "correct horse battery";
const api = (rule: Rule, ok: number, more: Partial<Expectation> = {}): Expectation => ({ rule, kind: "api", ok, ...more });
const page = (rule: Rule, ok: number, more: Partial<Expectation> = {}): Expectation => ({ rule, kind: "page", ok, ...more });
let seq = 0;
const uniq = (p: string) => `${p}-${++seq}-${crypto.randomUUID().slice(0, 6)}`;

const EXPECT: Record<string, Expectation> = {
  "GET /healthz": api("public", 200),
  "GET /readyz": api("public", 200),
  // Off unless METRICS_TOKEN is set (it is not here): 404 for everyone. metrics.test.ts covers the token.
  "GET /metrics": api("public", 404),
  "GET /openapi.json": api("public", 200),
  "GET /docs": api("public", 200),
  "POST /auth/signup": api("public", 201, { body: () => ({ email: `${uniq("new")}@example.com`, password: PASSWORD }) }),
  "POST /auth/login": api("public", 200, { body: (f) => ({ email: f.loginEmail, password: PASSWORD }) }),
  "GET /auth/me": api("session", 200),
  "GET /workspaces": api("session", 200),
  "POST /workspaces": api("session", 201, { body: () => ({ name: uniq("ws") }) }),
  "GET /workspaces/:id": api("member", 200),
  "PUT /workspaces/:id": api("admin", 200, { body: () => ({ name: "Target" }) }),
  "GET /workspaces/:id/settings": api("member", 200),
  "PUT /workspaces/:id/settings": api("admin", 200, { body: () => ({ retention_days: 30, rpm_limit: 100_000 }) }),
  "GET /workspaces/:id/providers": api("member", 200),
  "POST /workspaces/:id/providers": api("admin", 201, {
    body: (f) => ({ name: uniq("p"), type: "openai_compatible", base_url: f.upstreamUrl, api_key: f.upstreamKey }),
  }),
  "POST /workspaces/:id/providers/reorder": api("admin", 200, { body: async (f) => ({ ids: await f.providerIds() }) }),
  "GET /workspaces/:id/providers/:pid": api("member", 200),
  "PUT /workspaces/:id/providers/:pid": api("admin", 200, { body: () => ({ timeout_ms: 30_000 }) }),
  "DELETE /workspaces/:id/providers/:pid": api("admin", 204, { fresh: "provider" }),
  "POST /workspaces/:id/providers/:pid/test": api("member", 200),
  "GET /workspaces/:id/api-keys": api("member", 200),
  "POST /workspaces/:id/api-keys": api("admin", 201, { body: () => ({ name: uniq("k") }) }),
  "GET /workspaces/:id/api-keys/:kid": api("member", 200),
  // Who may create keys may set their limits: a plain member may not.
  "PATCH /workspaces/:id/api-keys/:kid": api("admin", 200, { body: () => ({ rpm_limit: 600, tags: ["team:authz"] }) }),
  "POST /workspaces/:id/api-keys/:kid/revoke": api("admin", 200, { fresh: "key" }),
  "DELETE /workspaces/:id/api-keys/:kid": api("admin", 204, { fresh: "key" }),
  "GET /workspaces/:id/logs": api("member", 200),
  "GET /workspaces/:id/logs/:logId": api("member", 200),
  "GET /workspaces/:id/logs/export": api("member", 200),
  "GET /workspaces/:id/provider-health": api("member", 200),
  "GET /workspaces/:id/usage": api("member", 200),
  "GET /workspaces/:id/usage/by-provider": api("member", 200),
  "GET /workspaces/:id/usage/by-model": api("member", 200),
  "GET /workspaces/:id/usage/by-key": api("member", 200),
  "POST /v1/chat/completions": api("gateway", 200, { body: () => ({ model: "gpt-4o-mini", messages: [{ role: "user", content: "hi" }] }) }),
  "POST /v1/responses": api("gateway", 200, { body: () => ({ model: "gpt-4o-mini", input: "hi" }) }),
  "GET /v1/models": api("gateway", 200),
  "POST /v1/messages/count_tokens": api("gateway", 200, {
    body: () => ({ model: "gpt-4o-mini", messages: [{ role: "user", content: "hi" }] }),
  }),
  "POST /v1/messages": api("gateway", 200, {
    body: () => ({ model: "gpt-4o-mini", max_tokens: 16, messages: [{ role: "user", content: "hi" }] }),
  }),
  "POST /v1/embeddings": api("gateway", 200, { body: () => ({ model: "text-embedding-3-small", input: "hi" }) }),
  // The wildcard becomes "app.css", a model the workspace does not serve: the valid key reaches the handler's 404.
  "GET /v1/models/*": api("gateway", 404),

  "POST /auth/logout": api("session", 204, { endsSession: true }),
  "POST /auth/logout-all": api("session", 204, { endsAllSessions: true }),
  "POST /auth/password": api("session", 200, {
    endsAllSessions: true,
    body: () => ({ current_password: PASSWORD, new_password: PASSWORD }),
  }),
  // A signed-in caller reaches the handler, which knows no such invitation.
  "POST /invitations/accept": api("session", 404, { body: () => ({ token: "no-such-invitation-token" }) }),
  "POST /workspaces/:id/invitations": api("admin", 201, { body: () => ({ email: `${uniq("invitee")}@example.com`, role: "member" }) }),
  "GET /workspaces/:id/invitations": api("admin", 200),
  "DELETE /workspaces/:id/invitations/:iid": api("admin", 204, { fresh: "invitation" }),
  "GET /workspaces/:id/members": api("member", 200),
  // On a member of their own: admins change and remove members; a member may only remove themselves.
  "PATCH /workspaces/:id/members/:uid": api("admin", 200, { fresh: "member", body: () => ({ role: "admin" }) }),
  "DELETE /workspaces/:id/members/:uid": api("admin", 204, { fresh: "member" }),
  "POST /workspaces/:id/transfer-ownership": api("owner", 200, {
    restoresRoles: true,
    body: async (f) => ({ user_id: await f.newMember() }),
  }),

  "GET /public/*": page("public", 200),
  "GET /": page("public", 303),
  "GET /login": page("public", 200, { signedIn: 303 }),
  "POST /login": page("public", 303, { loginForm: true, body: (f) => ({ email: f.loginEmail, password: PASSWORD }) }),
  "GET /signup": page("public", 200),
  "POST /signup": page("public", 303, { loginForm: true, body: () => ({ email: `${uniq("form")}@example.com`, password: PASSWORD }) }),
  "POST /logout": page("public", 303, { endsSession: true }),
  "POST /logout-all": page("public", 303, { endsAllSessions: true }),
  // An invitation link: the sign-up form for it, or for a signed-in user the page that joins.
  "GET /invite/:token": page("public", 200, { signedIn: 303 }),
  // A signed-in caller reaches the page; this invitation is for someone else's address.
  "GET /app/invite/:token": page("session", 403),
  "POST /app/invite/:token": page("session", 403),
  "GET /app/w/:id/invitations": page("member", 303),
  "POST /app/w/:id/invitations": page("admin", 201, { body: () => ({ email: `${uniq("invitee")}@example.com`, role: "member" }) }),
  "POST /app/w/:id/invitations/:iid/revoke": page("admin", 303, { fresh: "invitation" }),
  "GET /app/w/:id/members": page("member", 200),
  "POST /app/w/:id/members/:uid/role": page("admin", 303, { fresh: "member", body: () => ({ role: "admin" }) }),
  "GET /app/w/:id/members/:uid/remove": page("admin", 200, { fresh: "member" }),
  "POST /app/w/:id/members/:uid/remove": page("admin", 303, { fresh: "member" }),
  "GET /app/w/:id/members/:uid/transfer": page("owner", 200, { fresh: "member" }),
  "POST /app/w/:id/members/:uid/transfer": page("owner", 303, { fresh: "member", restoresRoles: true }),
  "GET /app/w/:id/leave": page("member", 200),
  // The owner leaves too: the workspace has a second owner (coOwner).
  "POST /app/w/:id/leave": page("member", 303, { restoresRoles: true }),
  "GET /app": page("session", 200),
  "POST /app/workspaces": page("session", 303, { body: () => ({ name: uniq("ws") }) }),
  "GET /app/w/:id/settings": page("member", 200),
  "POST /app/w/:id/settings": page("admin", 303, { body: () => ({ name: "Target", retention_days: "30" }) }),
  "POST /app/w/:id/settings/limits": page("admin", 303, { body: () => ({ rpm_limit: "100000" }) }),
  "GET /app/w/:id": page("member", 200),
  "GET /app/w/:id/start": page("member", 200),
  "GET /app/w/:id/logs": page("member", 200),
  "GET /app/w/:id/logs/:logId": page("member", 200),
  "GET /app/w/:id/logs/live": page("member", 200),
  "GET /app/w/:id/health": page("member", 200),
  "GET /app/w/:id/usage": page("member", 200),
  "GET /app/w/:id/providers": page("member", 200),
  "GET /app/w/:id/providers/new": page("admin", 200),
  "GET /app/w/:id/providers/fields": page("member", 200, { query: "?type=openai" }),
  "POST /app/w/:id/providers": page("admin", 303, {
    body: (f) => ({ name: uniq("p"), type: "openai_compatible", base_url: f.upstreamUrl, api_key: f.upstreamKey, enabled: "on" }),
  }),
  "GET /app/w/:id/providers/:pid/edit": page("admin", 200),
  "POST /app/w/:id/providers/:pid": page("admin", 303, {
    body: (f) => ({ name: f.providerName, type: "openai_compatible", base_url: f.upstreamUrl, enabled: "on" }),
  }),
  "POST /app/w/:id/providers/:pid/enabled": page("admin", 303, { body: () => ({ enabled: "on" }) }),
  "POST /app/w/:id/providers/:pid/move": page("admin", 303, { body: () => ({ direction: "down" }) }),
  "POST /app/w/:id/providers/:pid/test": page("member", 200),
  "GET /app/w/:id/providers/:pid/delete": page("admin", 200),
  "POST /app/w/:id/providers/:pid/delete": page("admin", 303, { fresh: "provider" }),
  "GET /app/w/:id/keys": page("member", 200),
  "POST /app/w/:id/keys": page("admin", 201, { body: () => ({ name: uniq("k") }) }),
  "GET /app/w/:id/keys/:kid/edit": page("admin", 200),
  "POST /app/w/:id/keys/:kid": page("admin", 303, { body: () => ({ name: "authz-key", rpm_limit: "600", tags: "team:authz" }) }),
  "GET /app/w/:id/keys/:kid/revoke": page("admin", 200),
  "POST /app/w/:id/keys/:kid/revoke": page("admin", 303, { fresh: "key" }),
  "GET /app/w/:id/keys/:kid/delete": page("admin", 200),
  "POST /app/w/:id/keys/:kid/delete": page("admin", 303, { fresh: "key" }),
};

/** Whether `actor` may make the call (public routes: everyone). */
function allowed(e: Expectation, actor: Actor): boolean {
  if (e.rule === "public") return true;
  if (e.rule === "gateway") return actor === "validKey";
  // Gateway keys, revoked or not, open only /v1; a logged-out session opens nothing.
  if (actor === "anonymous" || actor === "loggedOut" || actor.endsWith("Key")) return false;
  if (e.rule === "session") return true;
  if (actor === "other") return false;
  if (e.rule === "owner") return actor === "owner";
  return e.rule === "member" || actor !== "member";
}

/** The status `actor` must get from a route with this expectation. */
function expected(e: Expectation, actor: Actor): number {
  if (allowed(e, actor)) {
    const signedIn = ["other", "member", "admin", "owner"].includes(actor);
    return signedIn && e.signedIn !== undefined ? e.signedIn : e.ok;
  }
  if (e.rule === "gateway") return 401;
  // Not signed in (or not with a session): 401, or on the dashboard the sign-in redirect.
  if (!["other", "member", "admin", "owner"].includes(actor)) return e.kind === "api" ? 401 : 303;
  // Another workspace's user learns nothing, not even that the workspace exists.
  if (actor === "other") return 404;
  return 403;
}

const routeKey = (method: string, path: string) => `${method} ${path.length > 1 ? path.replace(/\/$/, "") : path}`;

/* ---- the app and its fixtures, built before the tests are generated ---- */

const t = await testApp();
const upstreamKey = "sk-authz-upstream-key-0123456789";
const upstream = await startMockUpstream("openai", { expectedKey: upstreamKey });
afterAll(async () => {
  await upstream.stop();
  await t.deps.gateway?.stop();
  await t.close();
});

const owner = await t.signup();
const ws = await t.workspace(owner.token, "Target");
const outsider = await t.signup();
await t.workspace(outsider.token, "Elsewhere");
const [memberUser, adminUser, coOwner] = [await t.signup(), await t.signup(), await t.signup()];
// A second owner, never a caller: the owner may leave without being the last one.
await t.sql`insert into workspace_members (workspace_id, user_id, role) values (${ws.id}, ${memberUser.user.id}, 'member'), (${ws.id}, ${adminUser.user.id}, 'admin'), (${ws.id}, ${coOwner.user.id}, 'owner')`;

/** The callers' roles as the matrix assumes them, after a call that changed them. */
async function restoreRoles(): Promise<void> {
  for (const [u, role] of [
    [memberUser, "member"],
    [adminUser, "admin"],
    [owner, "owner"],
  ] as const) {
    await t.sql`insert into workspace_members (workspace_id, user_id, role) values (${ws.id}, ${u.user.id}, ${role})
      on conflict (workspace_id, user_id) do update set role = excluded.role`;
  }
}
/** A user who just joined the workspace as a member, for calls that change or remove one. */
async function newMember(): Promise<string> {
  const u = await t.signup();
  await t.sql`insert into workspace_members (workspace_id, user_id, role) values (${ws.id}, ${u.user.id}, 'member')`;
  return u.user.id;
}
const loginUser = await t.signup();

async function login(email: string): Promise<string> {
  const r = await t.call("POST", "/auth/login", { body: { email, password: PASSWORD } });
  if (r.status !== 200) throw new Error(`login ${email}: ${r.status} ${r.text}`);
  return r.body.token;
}
const jti = (token: string): string => JSON.parse(Buffer.from(token.split(".")[1]!, "base64url").toString()).jti;

/** Ends a session the way the dashboard does (its cookie and CSRF token). */
async function logout(token: string): Promise<void> {
  const res = await t.app.handle(
    new Request("http://localhost/logout", {
      method: "POST",
      headers: { cookie: `${SESSION_COOKIE}=${token}`, "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ _csrf: csrfTokenFor(t.deps, jti(token)) }),
    }),
  );
  if (res.status !== 303) throw new Error(`logout: ${res.status} ${await res.text()}`);
}
// A second session of the owner, ended; the owner's first session must keep working.
const loggedOutToken = await login(owner.email);
await logout(loggedOutToken);

async function newProvider(): Promise<{ id: string; name: string }> {
  const r = await t.call("POST", `/workspaces/${ws.id}/providers`, {
    token: owner.token,
    body: { name: uniq("p"), type: "openai_compatible", base_url: upstream.url, api_key: upstreamKey },
  });
  if (r.status !== 201) throw new Error(`provider: ${r.status} ${r.text}`);
  return r.body;
}
async function newKey(body: Record<string, unknown> = {}): Promise<{ id: string; key: string }> {
  const r = await t.call("POST", `/workspaces/${ws.id}/api-keys`, { token: owner.token, body: { name: uniq("k"), ...body } });
  if (r.status !== 201) throw new Error(`key: ${r.status} ${r.text}`);
  return r.body;
}
async function newInvitation(): Promise<{ id: string; token: string }> {
  const r = await t.call("POST", `/workspaces/${ws.id}/invitations`, {
    token: owner.token,
    body: { email: `${uniq("invitee")}@example.com`, role: "member" },
  });
  if (r.status !== 201) throw new Error(`invitation: ${r.status} ${r.text}`);
  return r.body;
}
const provider = await newProvider();
const invitation = await newInvitation();
const key = await newKey();
const revoked = await newKey();
await t.call("POST", `/workspaces/${ws.id}/api-keys/${revoked.id}/revoke`, { token: owner.token });
// Created valid, then moved into the past: the API rightly refuses an expiry in the past.
const expired = await newKey({ expires_at: new Date(Date.now() + 3600_000).toISOString() });
await t.sql`update api_keys set expires_at = now() - interval '1 minute' where id = ${expired.id}`;
const logRecord = makeRecord(ws.id);
t.deps.logQueue.enqueue(logRecord);
await t.deps.logQueue.flush();

interface Fixtures {
  upstreamUrl: string;
  upstreamKey: string;
  loginEmail: string;
  providerName: string;
  providerIds(): Promise<string[]>;
  newMember(): Promise<string>;
}
const fixtures: Fixtures = {
  upstreamUrl: upstream.url,
  upstreamKey,
  loginEmail: loginUser.email,
  providerName: provider.name,
  providerIds: async () =>
    (await t.sql`select id from provider_keys where workspace_id = ${ws.id} order by priority, id`).map((r) => r.id as string),
  newMember,
};

const sessions: Partial<Record<Actor, { token: string; email: string }>> = {
  other: { token: outsider.token, email: outsider.email },
  member: { token: memberUser.token, email: memberUser.email },
  admin: { token: adminUser.token, email: adminUser.email },
  owner: { token: owner.token, email: owner.email },
  loggedOut: { token: loggedOutToken, email: owner.email },
};
const gatewayKeys: Partial<Record<Actor, string>> = { revokedKey: revoked.key, expiredKey: expired.key, validKey: key.key };

/* ---- one call ---- */

async function callAs(
  actor: Actor,
  method: string,
  routePath: string,
  e: Expectation,
): Promise<{ status: number; text: string; headers: Headers }> {
  const params: Record<string, string> = { id: ws.id, pid: provider.id, kid: key.id, logId: logRecord.id, token: invitation.token };
  if (e.fresh === "provider") params.pid = (await newProvider()).id;
  if (e.fresh === "key") params.kid = (await newKey()).id;
  if (e.fresh === "invitation") params.iid = (await newInvitation()).id;
  if (e.fresh === "member") params.uid = await newMember();
  const path = routePath
    .replace(/:(\w+)/g, (_, name: string) => {
      if (!(name in params)) throw new Error(`no fixture for path parameter :${name} (add one to callAs)`);
      return encodeURIComponent(params[name]!);
    })
    .replace(/\*$/, "app.css");

  const headers: Record<string, string> = {};
  const cookies: string[] = [];
  let session = sessions[actor]?.token;
  // Logging out ends the session used: a session of its own, except the one already ended.
  if (session && e.endsSession && actor !== "loggedOut") session = await login(sessions[actor]!.email);
  const gatewayKey = gatewayKeys[actor];
  if (gatewayKey) headers.authorization = `Bearer ${gatewayKey}`;
  else if (session && e.kind === "api") headers.authorization = `Bearer ${session}`;
  else if (session) cookies.push(`${SESSION_COOKIE}=${session}`);

  const fields = e.body ? await e.body(fixtures) : {};
  let body: string | undefined;
  if (e.kind === "api") {
    if (e.body) {
      body = JSON.stringify(fields);
      headers["content-type"] = "application/json";
    }
  } else if (method !== "GET") {
    const form = new URLSearchParams(Object.entries(fields).map(([k, v]) => [k, String(v)]));
    if (session && !gatewayKey) form.set("_csrf", csrfTokenFor(t.deps, jti(session)));
    if (e.loginForm) {
      const res = await t.app.handle(new Request(`http://localhost${path}`));
      const html = await res.text();
      const cookie = res.headers.getSetCookie().find((c) => c.startsWith("perpetuo_login_csrf="));
      if (cookie) cookies.push(cookie.split(";")[0]!);
      form.set("_csrf", /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? "");
    }
    body = form.toString();
    headers["content-type"] = "application/x-www-form-urlencoded";
  }
  if (cookies.length) headers.cookie = cookies.join("; ");
  const res = await t.app.handle(new Request(`http://localhost${path}${e.query ?? ""}`, { method, headers, body }));
  const out = { status: res.status, text: await res.text(), headers: res.headers };
  if (e.restoresRoles) await restoreRoles();
  // Every session of the caller ended (or its password changed to the same one): sign in again.
  if (e.endsAllSessions && session && res.status < 400 && actor !== "loggedOut") {
    const fresh = await login(sessions[actor]!.email);
    sessions[actor]!.token = fresh;
    if (actor === "owner") owner.token = fresh;
  }
  return out;
}

/* ---- the tests ---- */

const routes = t.app.routes.map((r) => ({ method: r.method, path: r.path, key: routeKey(r.method, r.path) }));

test("every route has an expectation, and every expectation a route", () => {
  const keys = new Set(routes.map((r) => r.key));
  const missing = routes
    .filter((r) => !(r.key in EXPECT))
    .map((r) => `  "${r.key}": api|page("public|session|member|admin|gateway", <ok status>),`);
  const stale = Object.keys(EXPECT).filter((k) => !keys.has(k) && !EXPECT[k]!.optional);
  expect({ missing, stale }).toEqual({ missing: [], stale: [] });
});

test("the control callers work: the owner's other session survived the log out, the valid key reaches /v1", async () => {
  expect((await t.call("GET", "/auth/me", { token: owner.token })).status).toBe(200);
  const models = await t.call("GET", "/v1/models", { token: key.key });
  expect(models.status).toBe(200);
});

for (const r of routes) {
  const e = EXPECT[r.key];
  if (!e) continue;
  describe(r.key, () => {
    for (const actor of ACTORS) {
      const want = expected(e, actor);
      test(`${actor} → ${want}`, async () => {
        const res = await callAs(actor, r.method, r.path, e);
        expect({ actor, status: res.status }).toEqual({ actor, status: want });
        // On the dashboard a refusal and a success can both be 303: where it leads tells them apart.
        if (want === 303 && e.rule !== "public") {
          const location = res.headers.get("location") ?? "";
          if (allowed(e, actor)) expect(location).not.toStartWith("/login");
          else expect(location).toStartWith("/login");
        }
        if (e.kind === "api" && want >= 400) {
          const err = JSON.parse(res.text).error;
          expect(typeof err?.message).toBe("string");
          expect(err.message.length).toBeGreaterThan(0);
        }
      });
    }
  });
}
