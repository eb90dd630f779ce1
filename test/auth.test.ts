import { afterAll, beforeAll, describe, expect, spyOn, test } from "bun:test";
import { testApp, type TestApp } from "./support/app.ts";
import { BusyError, LoginGuard, WorkLimiter } from "../src/accounts/service.ts";
import { addressKey, clientAddress } from "../src/http/client-address.ts";

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

  test("throttles failures for one email even when 30 arrive at once: at most 5 are checked, the rest get 429", async () => {
    await t.signup("throttle@example.com", "right password 1");
    const attempts = await Promise.all(
      Array.from({ length: 30 }, () => t.call("POST", "/auth/login", { body: { email: "throttle@example.com", password: "nope" } })),
    );
    const statuses = attempts.map((r) => r.status);
    expect(statuses.filter((s) => s === 401).length).toBeLessThanOrEqual(5);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(25);
    expect(statuses.every((s) => s === 401 || s === 429)).toBe(true);
    const r = await t.call("POST", "/auth/login", { body: { email: "throttle@example.com", password: "right password 1" } });
    expect(r.status).toBe(429);
    expect(Number(r.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(r.body.error.code).toBe("too_many_attempts");
  });

  test("throttles sign-ups per address: the 11th within 15 minutes gets 429", async () => {
    const strict = await testApp({ loginGuard: new LoginGuard() });
    try {
      const results = [];
      for (let i = 0; i < 11; i++) {
        results.push(
          (await strict.call("POST", "/auth/signup", { body: { email: `many${i}@example.com`, password: "0123456789" } })).status,
        );
      }
      expect(results.slice(0, 10)).toEqual(Array(10).fill(201));
      expect(results[10]).toBe(429);
    } finally {
      await strict.close();
    }
  });

  test("bounds concurrent password hashing: beyond the queue the answer is 503, and it is not counted as a failure", async () => {
    const limiter = new WorkLimiter(1, 1);
    const busy = await testApp({ passwordOptions: { memoryCost: 1024, timeCost: 1, limiter } });
    try {
      const { email, password } = await busy.signup();
      // Something else holds the only hashing slot while five wrong sign-ins arrive: one may queue.
      let release!: () => void;
      const held = limiter.run(() => new Promise<void>((r) => (release = r)));
      let answered = 0;
      const pending = Array.from({ length: 5 }, () =>
        busy.call("POST", "/auth/login", { body: { email, password: "wrong password" } }).finally(() => answered++),
      );
      while (answered < 4) await Bun.sleep(10);
      release();
      await held;
      const results = await Promise.all(pending);
      const statuses = results.map((r) => r.status).sort();
      expect(statuses).toEqual([401, 503, 503, 503, 503]);
      const refused = results.find((r) => r.status === 503)!;
      expect(refused.body.error).toMatchObject({ code: "server_busy", type: "server_error" });
      expect(refused.headers.get("retry-after")).toBe("1");
      expect(limiter.running).toBe(0);
      // The four refused attempts were never checked: counted, they would have made five and locked the owner out.
      expect((await busy.call("POST", "/auth/login", { body: { email, password } })).status).toBe(200);
    } finally {
      await busy.close();
    }
  });

  test("bounds sign-up hashing with the same limiter: beyond the queue the answer is 503 and no account is created", async () => {
    const limiter = new WorkLimiter(1, 1);
    const busy = await testApp({ passwordOptions: { memoryCost: 1024, timeCost: 1, limiter } });
    try {
      let release!: () => void;
      const held = limiter.run(() => new Promise<void>((r) => (release = r)));
      const emails = Array.from({ length: 5 }, (_, i) => `busy-signup-${i}-${crypto.randomUUID().slice(0, 8)}@example.com`);
      let answered = 0;
      const pending = emails.map((email) =>
        busy.call("POST", "/auth/signup", { body: { email, password: "0123456789" } }).finally(() => answered++),
      );
      while (answered < 4) await Bun.sleep(10);
      release();
      await held;
      const results = await Promise.all(pending);
      expect(results.map((r) => r.status).sort()).toEqual([201, 503, 503, 503, 503]);
      const refused = results.find((r) => r.status === 503)!;
      expect(refused.body.error).toMatchObject({ code: "server_busy", type: "server_error" });
      expect(refused.headers.get("retry-after")).toBe("1");
      const created = emails.filter((_, i) => results[i].status === 201);
      const [row] = await busy.sql`select count(*)::int as n from users where email = any(${busy.sql.array(emails)})`;
      expect(row.n).toBe(1);
      expect(created).toHaveLength(1);
    } finally {
      await busy.close();
    }
  });
});

describe("sign-in limits behind a proxy (a listening server)", () => {
  let proxied: TestApp;
  let base: string;
  let server: { stop(closeActive?: boolean): unknown };
  beforeAll(async () => {
    proxied = await testApp({ config: { trustedProxies: ["127.0.0.1", "::1"] } });
    const listening = proxied.app.listen({ port: 0, hostname: "127.0.0.1" });
    server = listening;
    base = `http://127.0.0.1:${listening.server!.port}`;
  });
  afterAll(async () => {
    await server.stop(true);
    await proxied.close();
  });

  const login = (email: string, password: string, forwardedFor?: string) =>
    fetch(`${base}/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json", ...(forwardedFor ? { "x-forwarded-for": forwardedFor } : {}) },
      body: JSON.stringify({ email, password }),
    });

  test("an attacker cannot lock the owner out: the right password from an address without failures still signs in", async () => {
    const { email, password } = await proxied.signup();
    const attack = await Promise.all(Array.from({ length: 30 }, () => login(email, "wrong password", "203.0.113.7")));
    expect(attack.filter((r) => r.status === 401).length).toBeLessThanOrEqual(5);
    expect((await login(email, password, "203.0.113.7")).status).toBe(429);
    expect((await login(email, password, "198.51.100.20")).status).toBe(200);
  });

  test("X-Forwarded-For from the trusted proxy counts per client; a spoofed left part does not", async () => {
    const { email } = await proxied.signup();
    // The client forges the leftmost hop each time; the proxy appended the real address last.
    const attempts = await Promise.all(Array.from({ length: 12 }, (_, i) => login(email, "wrong password", `10.9.${i}.1, 192.0.2.44`)));
    expect(attempts.filter((r) => r.status === 401).length).toBeLessThanOrEqual(5);
    expect(attempts.filter((r) => r.status === 429).length).toBeGreaterThanOrEqual(7);
  });

  test("X-Forwarded-For is ignored when the peer is not a trusted proxy", async () => {
    const untrusted = await testApp({ config: { trustedProxies: ["10.0.0.0/8"] } });
    const listening = untrusted.app.listen({ port: 0, hostname: "127.0.0.1" });
    try {
      const { email } = await untrusted.signup();
      const attempts = await Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          fetch(`http://127.0.0.1:${listening.server!.port}/auth/login`, {
            method: "POST",
            headers: { "content-type": "application/json", "x-forwarded-for": `198.51.100.${i}` },
            body: JSON.stringify({ email, password: "wrong password" }),
          }),
        ),
      );
      expect(attempts.filter((r) => r.status === 401).length).toBeLessThanOrEqual(5);
    } finally {
      await listening.stop(true);
      await untrusted.close();
    }
  });
});

describe("LoginGuard", () => {
  const clock = () => {
    let now = 1_000_000;
    return { now: () => now, advance: (ms: number) => (now += ms) };
  };
  const fail = (g: LoginGuard, email: string, address: string) => {
    const r = g.reserve(email, address);
    if (!("ticket" in r)) throw new Error(`refused: wait ${r.wait}`);
  };

  test("locks an account for an address after 5 failures from it, not for other addresses", () => {
    const c = clock();
    const g = new LoginGuard({ now: c.now });
    for (let i = 0; i < 5; i++) fail(g, "a@x.io", "192.0.2.1");
    expect(g.waitFor("a@x.io", "192.0.2.1")).toBeGreaterThan(0);
    expect(g.waitFor("A@X.io", "192.0.2.2")).toBe(0);
    c.advance(15 * 60_000 + 1);
    expect(g.waitFor("a@x.io", "192.0.2.1")).toBe(0);
  });

  test("backs off exponentially for addresses that failed on an account under attack, never for clean ones", () => {
    const c = clock();
    const g = new LoginGuard({ now: c.now });
    for (let i = 0; i < 5; i++) fail(g, "a@x.io", `192.0.2.${i + 1}`);
    // Five failures in all: an address that failed once must wait 1 s; a fresh one may try now.
    expect(g.waitFor("a@x.io", "192.0.2.1")).toBe(1000);
    expect(g.waitFor("a@x.io", "192.0.2.99")).toBe(0);
    fail(g, "a@x.io", "192.0.2.99");
    expect(g.waitFor("a@x.io", "192.0.2.99")).toBe(2000);
    fail(g, "a@x.io", "192.0.2.100");
    expect(g.waitFor("a@x.io", "192.0.2.1")).toBe(4000);
    c.advance(4000);
    expect(g.waitFor("a@x.io", "192.0.2.1")).toBe(0);
    expect(g.waitFor("a@x.io", "198.51.100.1")).toBe(0);
  });

  test("a success forgives that address's earlier slips on the account", () => {
    const g = new LoginGuard({ now: clock().now });
    for (let i = 0; i < 4; i++) fail(g, "a@x.io", "192.0.2.1");
    const r = g.reserve("a@x.io", "192.0.2.1");
    if (!("ticket" in r)) throw new Error("refused");
    g.succeeded(r.ticket);
    expect(g.waitFor("a@x.io", "192.0.2.1")).toBe(0);
    // One more slip: only the account-wide backoff (1 s), not the 15-minute lock of 5 slips from one address.
    fail(g, "a@x.io", "192.0.2.1");
    expect(g.waitFor("a@x.io", "192.0.2.1")).toBe(1000);
  });

  test("an attempt released unchecked (server busy) does not count", () => {
    const g = new LoginGuard({ now: clock().now });
    for (let i = 0; i < 10; i++) {
      const r = g.reserve("a@x.io", "192.0.2.1");
      if (!("ticket" in r)) throw new Error("refused");
      g.released(r.ticket);
    }
    expect(g.waitFor("a@x.io", "192.0.2.1")).toBe(0);
  });

  test("counts 20 failures per address across accounts and IPv6 clients per /64", () => {
    const g = new LoginGuard({ now: clock().now });
    for (let i = 0; i < 20; i++) fail(g, `u${i}@x.io`, `2001:db8:1:2::${i.toString(16)}`);
    expect(g.waitFor("other@x.io", "2001:db8:1:2:ffff::1")).toBeGreaterThan(0);
    expect(g.waitFor("other@x.io", "2001:db8:1:3::1")).toBe(0);
  });
});

describe("clientAddress", () => {
  const server = (address: string) => ({ requestIP: () => ({ address }) });
  const req = (xff?: string) => new Request("http://x/", { headers: xff ? { "x-forwarded-for": xff } : {} });

  test.each([
    ["no trusted proxies: the peer, whatever the header says", [], "203.0.113.5", "1.2.3.4", "203.0.113.5"],
    ["an untrusted peer: the peer", ["10.0.0.0/8"], "203.0.113.5", "1.2.3.4", "203.0.113.5"],
    ["a trusted peer: the hop it appended", ["10.0.0.0/8"], "10.0.0.2", "6.6.6.6, 1.2.3.4", "1.2.3.4"],
    ["two trusted hops: the first untrusted from the right", ["10.0.0.0/8"], "10.0.0.2", "6.6.6.6, 1.2.3.4, 10.1.1.1", "1.2.3.4"],
    ["only trusted hops: the leftmost", ["10.0.0.0/8"], "10.0.0.2", "10.3.3.3, 10.1.1.1", "10.3.3.3"],
    ["a garbage hop: the last trusted address", ["10.0.0.0/8"], "10.0.0.2", "1.2.3.4, nonsense", "10.0.0.2"],
    ["a trusted peer without the header: the peer", ["10.0.0.0/8"], "10.0.0.2", undefined, "10.0.0.2"],
    ["an IPv4-mapped peer and a hop with a port", ["127.0.0.1"], "::ffff:127.0.0.1", "1.2.3.4:5678", "1.2.3.4"],
    ["IPv6 with brackets", ["::1"], "::1", "[2001:db8::7]:443", "2001:db8::7"],
  ])("%s", (_, trusted, peer, xff, expected) => {
    expect(clientAddress(req(xff), server(peer), trusted)).toBe(expected);
  });

  test("without a server (in-process requests) the address is 'unknown'", () => {
    expect(clientAddress(req("1.2.3.4"), null, ["10.0.0.0/8"])).toBe("unknown");
  });

  test("rate limits count IPv6 clients per /64", () => {
    expect(addressKey("2001:db8:1:2:3:4:5:6")).toBe("2001:db8:1:2::/64");
    expect(addressKey("2001:db8::1")).toBe("2001:db8:0:0::/64");
    expect(addressKey("::1")).toBe("0:0:0:0::/64");
    expect(addressKey("192.0.2.1")).toBe("192.0.2.1");
  });
});

describe("WorkLimiter", () => {
  test("runs at most max tasks at once, queues up to maxQueue and refuses the rest", async () => {
    const limiter = new WorkLimiter(2, 3);
    let running = 0;
    let peak = 0;
    const gates: (() => void)[] = [];
    const task = () =>
      limiter.run(async () => {
        running++;
        peak = Math.max(peak, running);
        await new Promise<void>((r) => gates.push(r));
        running--;
      });
    const accepted = Array.from({ length: 5 }, task);
    await expect(task()).rejects.toBeInstanceOf(BusyError);
    while (gates.length || running) {
      await Bun.sleep(1);
      gates.shift()?.();
    }
    await Promise.all(accepted);
    expect(peak).toBe(2);
    expect(limiter.running).toBe(0);
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
