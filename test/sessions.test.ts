/**
 * Server-side sessions: a token stops working the moment its session is ended (log out, sign out
 * everywhere, password change), through the JSON API and the dashboard alike.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { SessionStore } from "../src/accounts/sessions.ts";
import { testApp, type TestApp } from "./support/app.ts";

let t: TestApp;
beforeAll(async () => {
  t = await testApp();
});
afterAll(() => t.close());

const login = async (email: string, password: string) => {
  const r = await t.call("POST", "/auth/login", { body: { email, password } });
  expect(r.status).toBe(200);
  return r.body.token as string;
};

describe("JSON API", () => {
  test("after POST /auth/logout the token is refused for reads and for changes", async () => {
    const { token } = await t.signup();
    await t.workspace(token, "Before");
    const out = await t.call("POST", "/auth/logout", { token });
    expect(out.status).toBe(204);
    const me = await t.call("GET", "/auth/me", { token });
    expect(me.status).toBe(401);
    expect(me.body.error).toMatchObject({ type: "authentication_error", code: "unauthorized" });
    expect(me.body.error.message).toContain("signed out");
    expect((await t.call("GET", "/workspaces", { token })).status).toBe(401);
    expect((await t.call("POST", "/workspaces", { token, body: { name: "After" } })).status).toBe(401);
    expect((await t.call("POST", "/auth/logout", { token })).status).toBe(401);
  });

  test("logging out ends only that session", async () => {
    const { email, password, token } = await t.signup();
    const other = await login(email, password);
    await t.call("POST", "/auth/logout", { token });
    expect((await t.call("GET", "/auth/me", { token: other })).status).toBe(200);
  });

  test("POST /auth/logout-all ends every session of the user, and only theirs", async () => {
    const { email, password, token } = await t.signup();
    const laptop = await login(email, password);
    const phone = await login(email, password);
    const stranger = await t.signup();
    expect((await t.call("GET", "/auth/me", { token: phone })).status).toBe(200);
    expect((await t.call("POST", "/auth/logout-all", { token: laptop })).status).toBe(204);
    for (const tok of [token, laptop, phone]) expect((await t.call("GET", "/auth/me", { token: tok })).status).toBe(401);
    expect((await t.call("GET", "/auth/me", { token: stranger.token })).status).toBe(200);
    // Signing in again works as before.
    expect((await t.call("GET", "/auth/me", { token: await login(email, password) })).status).toBe(200);
  });

  test("POST /auth/password changes the password, ends every session and returns a fresh token", async () => {
    const { email, password, token } = await t.signup();
    const other = await login(email, password);
    const r = await t.call("POST", "/auth/password", { token, body: { current_password: password, new_password: "a brand new password" } });
    expect(r.status).toBe(200);
    expect(r.body.user.email).toBe(email);
    expect(r.text).not.toContain("argon2");
    expect((await t.call("GET", "/auth/me", { token: other })).status).toBe(401);
    expect((await t.call("GET", "/auth/me", { token })).status).toBe(401);
    expect((await t.call("GET", "/auth/me", { token: r.body.token })).status).toBe(200);
    expect((await t.call("POST", "/auth/login", { body: { email, password } })).status).toBe(401);
    await login(email, "a brand new password");
  });

  test("POST /auth/password with a wrong current password changes nothing and ends no session", async () => {
    const { email, password, token } = await t.signup();
    const r = await t.call("POST", "/auth/password", {
      token,
      body: { current_password: "not my password", new_password: "a brand new password" },
    });
    expect(r.status).toBe(403);
    expect(r.body.error).toMatchObject({ param: "current_password", code: "invalid_credentials" });
    expect((await t.call("GET", "/auth/me", { token })).status).toBe(200);
    await login(email, password);
  });

  test.each([
    [{ current_password: "x" }, "new_password", "new_password is required"],
    [{ current_password: "x", new_password: "short" }, "new_password", "at least 10 characters"],
    [{ new_password: "long enough password" }, "current_password", "current_password is required"],
  ])("POST /auth/password answers 422 naming the field for %j", async (body, param, message) => {
    const { token } = await t.signup();
    const r = await t.call("POST", "/auth/password", { token, body });
    expect(r.status).toBe(422);
    expect(r.body.error.param).toBe(param);
    expect(r.body.error.message).toContain(message);
  });

  test("the session routes need a session", async () => {
    for (const path of ["/auth/logout", "/auth/logout-all", "/auth/password"]) {
      const r = await t.call("POST", path, { body: { current_password: "0123456789", new_password: "0123456789abc" } });
      expect(r.status).toBe(401);
    }
  });

  test("a session is a row: its id is the token's jti, with expiry and no revocation until ended", async () => {
    const { user, token } = await t.signup();
    const jti = JSON.parse(Buffer.from(token.split(".")[1], "base64url").toString()).jti;
    const [row] = await t.sql`select user_id, expires_at, revoked_at from sessions where id = ${jti}`;
    expect(row.user_id).toBe(user.id);
    expect(row.revoked_at).toBeNull();
    expect(new Date(row.expires_at).getTime()).toBeGreaterThan(Date.now() + 6 * 24 * 3600_000);
    await t.call("POST", "/auth/logout", { token });
    const [after] = await t.sql`select revoked_at from sessions where id = ${jti}`;
    expect(after.revoked_at).not.toBeNull();
  });
});

describe("SessionStore cache", () => {
  test("another instance (its own cache) refuses an ended session once its 2 s cache entry is stale", async () => {
    const { user, token } = await t.signup();
    const jti = JSON.parse(Buffer.from(token.split(".")[1], "base64url").toString()).jti;
    let now = 0;
    const other = new SessionStore(t.sql, { now: () => now });
    expect(await other.user(jti, user.id)).toMatchObject({ id: user.id });
    await t.deps.sessions.end(jti);
    // Here the ending instance refuses at once; the other serves its cached answer for up to 2 s.
    expect(await t.deps.sessions.user(jti, user.id)).toBeNull();
    expect(await other.user(jti, user.id)).not.toBeNull();
    now += 2_000;
    expect(await other.user(jti, user.id)).toBeNull();
  });

  test("a lookup in flight while the session ends does not cache it as live", async () => {
    const { user, token } = await t.signup();
    const jti = JSON.parse(Buffer.from(token.split(".")[1], "base64url").toString()).jti;
    const store = new SessionStore(t.sql);
    const lookup = store.user(jti, user.id); // reads the row before the revocation commits
    await store.end(jti);
    expect(await lookup).not.toBeNull();
    expect(await store.user(jti, user.id)).toBeNull();
  });

  test("a token whose jti belongs to another user is refused", async () => {
    const a = await t.signup();
    const b = await t.signup();
    const jti = JSON.parse(Buffer.from(a.token.split(".")[1], "base64url").toString()).jti;
    expect(await t.deps.sessions.user(jti, b.user.id)).toBeNull();
  });
});

/** A minimal browser: a cookie jar and form posts. */
class Browser {
  cookies = new Map<string, string>();
  async request(method: string, path: string, form?: Record<string, string>) {
    const headers: Record<string, string> = {};
    if (this.cookies.size) headers.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; ");
    let body: string | undefined;
    if (form) {
      body = new URLSearchParams(form).toString();
      headers["content-type"] = "application/x-www-form-urlencoded";
    }
    const res = await t.app.handle(new Request(`http://localhost${path}`, { method, headers, body, redirect: "manual" }));
    for (const c of res.headers.getSetCookie()) {
      const [pair, ...attrs] = c.split(";");
      const [name, value] = [pair.slice(0, pair.indexOf("=")).trim(), pair.slice(pair.indexOf("=") + 1).trim()];
      if (!value || attrs.some((a) => /^\s*max-age=0$/i.test(a))) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return { status: res.status, location: res.headers.get("location"), text: await res.text() };
  }
  csrf = (html: string) => /name="_csrf" value="([^"]+)"/.exec(html)![1];
  async signIn(email: string, password: string) {
    const page = await this.request("GET", "/login");
    const r = await this.request("POST", "/login", { _csrf: this.csrf(page.text), email, password });
    expect(r.status).toBe(303);
    const app = await this.request("GET", "/app");
    expect(app.status).toBe(200);
    return this.csrf(app.text);
  }
}

describe("dashboard", () => {
  test("after the Log out form, the old session cookie is refused even if replayed", async () => {
    const { email, password } = await t.signup();
    const b = new Browser();
    const csrf = await b.signIn(email, password);
    const stolen = b.cookies.get("perpetuo_session")!;
    const out = await b.request("POST", "/logout", { _csrf: csrf });
    expect(out.status).toBe(303);
    const replay = new Browser();
    replay.cookies.set("perpetuo_session", stolen);
    expect((await replay.request("GET", "/app")).status).toBe(303);
    expect((await t.call("GET", "/auth/me", { headers: { cookie: `perpetuo_session=${stolen}` } })).status).toBe(401);
    expect((await t.call("GET", "/auth/me", { token: stolen })).status).toBe(401);
    // The sign-in page shows its form instead of bouncing an ended session to /app and back.
    const page = await replay.request("GET", "/login");
    expect(page.status).toBe(200);
    expect((await replay.request("GET", "/")).location).toBe("/login");
  });

  test("the Sign out everywhere button ends every session of the user", async () => {
    const { email, password, token } = await t.signup();
    const laptop = new Browser();
    const phone = new Browser();
    const csrf = await laptop.signIn(email, password);
    await phone.signIn(email, password);
    const app = await laptop.request("GET", "/app");
    expect(app.text).toContain('action="/logout-all"');
    const r = await laptop.request("POST", "/logout-all", { _csrf: csrf });
    expect(r.status).toBe(303);
    expect(r.location).toBe("/login");
    expect((await phone.request("GET", "/app")).status).toBe(303);
    expect((await laptop.request("GET", "/app")).status).toBe(303);
    expect((await t.call("GET", "/auth/me", { token })).status).toBe(401);
  });

  test("Sign out everywhere without the session's CSRF token is refused and ends nothing", async () => {
    const { email, password } = await t.signup();
    const b = new Browser();
    await b.signIn(email, password);
    const forged = await b.request("POST", "/logout-all", {});
    expect(forged.status).toBe(403);
    expect((await b.request("GET", "/app")).status).toBe(200);
  });
});

describe("clean-up", () => {
  test("opening a session clears expired ones (of any user) and keeps live and revoked-but-unexpired ones", async () => {
    const a = await t.signup();
    const b = await t.signup();
    await t.sql`insert into sessions (id, user_id, expires_at) values ('old-a', ${a.user.id}, now() - interval '1 minute'), ('old-b', ${b.user.id}, now() - interval '1 day')`;
    await t.call("POST", "/auth/logout", { token: b.token });
    await login(a.email, a.password);
    const rows = await t.sql`select id from sessions where id in ('old-a', 'old-b')`;
    expect(rows.length).toBe(0);
    const [{ n }] = await t.sql`select count(*)::int as n from sessions where user_id = ${b.user.id} and revoked_at is not null`;
    expect(n).toBe(1);
  });
});
