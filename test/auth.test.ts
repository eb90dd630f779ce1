import { afterAll, beforeAll, describe, expect, spyOn, test } from "bun:test";
import { testApp, type TestApp } from "./support/app.ts";

let t: TestApp;
beforeAll(async () => {
  t = await testApp();
});
afterAll(() => t.close());

describe("signup", () => {
  test("creates a user and returns a token that /auth/me accepts", async () => {
    const r = await t.call("POST", "/auth/signup", { body: { email: "Ada@Example.com", password: "0123456789", name: "Ada" } });
    expect(r.status).toBe(201);
    expect(r.body.user).toMatchObject({ email: "Ada@Example.com", name: "Ada" });
    expect(r.body.user.password_hash).toBeUndefined();
    expect(r.text).not.toContain("argon2");
    const me = await t.call("GET", "/auth/me", { token: r.body.token });
    expect(me.status).toBe(200);
    expect(me.body.user.id).toBe(r.body.user.id);
    expect(me.body.workspaces).toEqual([]);
  });

  test("stores the password as an argon2id hash", async () => {
    const { user } = await t.signup("hash-check@example.com", "a very long password");
    const [row] = await t.sql`select password_hash from users where id = ${user.id}`;
    expect(row.password_hash).toStartWith("$argon2id$");
    expect(row.password_hash).not.toContain("a very long password");
  });

  test("refuses a registered email, whatever its case, without saying that it is registered", async () => {
    await t.signup("dup@example.com");
    await t.signup("other-dup@example.com");
    const a = await t.call("POST", "/auth/signup", { body: { email: "DUP@example.COM", password: "0123456789" } });
    const b = await t.call("POST", "/auth/signup", { body: { email: "other-dup@example.com", password: "another password" } });
    expect(a.status).toBe(400);
    expect(a.body).toEqual({
      error: {
        message: "could not create an account with these details; if you already have one, sign in",
        type: "invalid_request_error",
        param: null,
        code: "signup_failed",
      },
    });
    // The same answer for any registered address: nothing in it depends on which one was sent.
    expect(b.text).toBe(a.text);
    expect(a.text.toLowerCase()).not.toContain("dup@example.com");
    expect(a.text).not.toMatch(/exist|taken|already registered/i);
    const [n] = await t.sql`select count(*)::int as n from users where lower(email) = 'dup@example.com'`;
    expect(n.n).toBe(1);
  });

  test("hashes the password for a registered email too, so the refusal takes as long as a success", async () => {
    await t.signup("timing@example.com");
    const hash = spyOn(Bun.password, "hash");
    try {
      const r = await t.call("POST", "/auth/signup", { body: { email: "timing@example.com", password: "0123456789" } });
      expect(r.status).toBe(400);
      expect(hash).toHaveBeenCalledTimes(1);
    } finally {
      hash.mockRestore();
    }
  });

  test.each([
    [{ password: "0123456789" }, "email", "email is required"],
    [{ email: "not-an-email", password: "0123456789" }, "email", "valid email"],
    [{ email: "a@b.co", password: "short" }, "password", "at least 10 characters"],
    [{ email: "a@b.co" }, "password", "password is required"],
    [{ email: 42, password: "0123456789" }, "email", "email must be a string"],
    [{ email: "a@b.co", password: "0123456789", name: 7 }, "name", "name must be a string"],
  ])("answers 422 naming the field for %j", async (body, param, message) => {
    const r = await t.call("POST", "/auth/signup", { body });
    expect(r.status).toBe(422);
    expect(r.body.error.param).toBe(param);
    expect(r.body.error.message).toContain(message);
    expect(r.body.error.type).toBe("invalid_request_error");
  });

  test("answers 400 to a body that is not JSON", async () => {
    const r = await t.call("POST", "/auth/signup", { body: "{nope", headers: { "content-type": "application/json" } });
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe("invalid_json");
  });
});

describe("login", () => {
  test("returns a token for the right password, whatever the email's case", async () => {
    await t.signup("login@example.com", "right password 1");
    const r = await t.call("POST", "/auth/login", { body: { email: "LOGIN@example.com", password: "right password 1" } });
    expect(r.status).toBe(200);
    expect(typeof r.body.token).toBe("string");
  });

  test("answers the same 401 for a wrong password and an unknown email", async () => {
    await t.signup("wrong@example.com", "right password 1");
    const a = await t.call("POST", "/auth/login", { body: { email: "wrong@example.com", password: "wrong password" } });
    const b = await t.call("POST", "/auth/login", { body: { email: "nobody@example.com", password: "wrong password" } });
    expect(a.status).toBe(401);
    expect(b.status).toBe(401);
    expect(a.body).toEqual(b.body);
  });

  test("throttles repeated failures for one email with 429 and Retry-After", async () => {
    await t.signup("throttle@example.com", "right password 1");
    for (let i = 0; i < 5; i++) {
      const r = await t.call("POST", "/auth/login", { body: { email: "throttle@example.com", password: "nope" } });
      expect(r.status).toBe(401);
    }
    const r = await t.call("POST", "/auth/login", { body: { email: "throttle@example.com", password: "right password 1" } });
    expect(r.status).toBe(429);
    expect(Number(r.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(r.body.error.code).toBe("too_many_attempts");
  });
});

describe("tokens", () => {
  test("rejects a missing, malformed or tampered token with 401", async () => {
    const { token } = await t.signup();
    expect((await t.call("GET", "/auth/me")).status).toBe(401);
    expect((await t.call("GET", "/auth/me", { headers: { authorization: "Basic abc" } })).status).toBe(401);
    const [h, p, s] = token.split(".");
    const payload = JSON.parse(Buffer.from(p, "base64url").toString());
    payload.sub = "someone-else";
    const forged = `${h}.${Buffer.from(JSON.stringify(payload)).toString("base64url")}.${s}`;
    const r = await t.call("GET", "/auth/me", { token: forged });
    expect(r.status).toBe(401);
    const flipped = token.slice(0, -2) + (token.at(-2) === "A" ? "B" : "A") + token.at(-1);
    expect((await t.call("GET", "/auth/me", { token: flipped })).status).toBe(401);
  });

  test("rejects a gateway key on the dashboard API", async () => {
    const r = await t.call("GET", "/auth/me", { token: "prp_abcdefabcdefabcdefabcdefabcdef" });
    expect(r.status).toBe(401);
    expect(r.body.error.message).toContain("/v1");
  });

  test("rejects an expired token", async () => {
    const short = await testApp({ sessionTtlSeconds: 1 });
    try {
      const { token } = await short.signup();
      expect((await short.call("GET", "/auth/me", { token })).status).toBe(200);
      await Bun.sleep(2100);
      const r = await short.call("GET", "/auth/me", { token });
      expect(r.status).toBe(401);
      expect(r.body.error.message).toContain("expired");
    } finally {
      await short.close();
    }
  });

  test("accepts the session cookie for reads and demands a CSRF token for writes", async () => {
    const { token } = await t.signup();
    const cookie = `perpetuo_session=${token}`;
    const me = await t.call("GET", "/auth/me", { headers: { cookie } });
    expect(me.status).toBe(200);
    const forged = await t.call("POST", "/workspaces", { headers: { cookie }, body: { name: "x" } });
    expect(forged.status).toBe(403);
    expect(forged.body.error.code).toBe("csrf_failed");
  });
});

describe("errors", () => {
  test("unknown routes answer 404 in the error shape", async () => {
    const r = await t.call("GET", "/nope");
    expect(r.status).toBe(404);
    expect(r.body.error).toEqual({ message: "no route for GET /nope", type: "not_found_error", param: null, code: "unknown_route" });
  });

  test("health and readiness answer", async () => {
    expect((await t.call("GET", "/healthz")).body).toEqual({ status: "ok" });
    expect((await t.call("GET", "/readyz")).body).toEqual({ status: "ready", database: "ok" });
  });
});
