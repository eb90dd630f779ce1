/**
 * SIGNUP = open | invite | closed through the JSON API, and the answers that must not tell which
 * addresses have an account. The dashboard's side is in dashboard.test.ts.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { testApp, type TestApp } from "./support/app.ts";

let t: TestApp;
beforeAll(async () => {
  t = await testApp();
});
afterAll(() => t.close());

const mode = (m: "open" | "invite" | "closed") => {
  t.deps.config.signup = m;
};
const signup = (body: Record<string, unknown>) => t.call("POST", "/auth/signup", { body });

/** An owner (created while sign-up is open) with a workspace, and an invitation from them. */
async function invitation(email: string, role = "member") {
  const before = t.deps.config.signup;
  mode("open");
  const owner = await t.signup();
  mode(before);
  const ws = await t.workspace(owner.token, "Invited");
  const r = await t.call("POST", `/workspaces/${ws.id}/invitations`, { token: owner.token, body: { email, role } });
  expect(r.status).toBe(201);
  return { owner, ws, token: r.body.token as string };
}

describe("SIGNUP=invite (the default)", () => {
  test("the first account of an empty instance signs up; the next one needs an invitation", async () => {
    mode("invite");
    await t.sql`delete from users`;
    const first = await signup({ email: "first@example.com", password: "first password" });
    expect(first.status).toBe(201);
    const second = await signup({ email: "second@example.com", password: "second password" });
    expect(second.status).toBe(403);
    expect(second.body.error).toMatchObject({ code: "invitation_required", type: "permission_error" });
    expect(second.body.error.message).toContain("needs an invitation");
  });

  test("of several sign-ups racing for an empty instance exactly one gets in", async () => {
    mode("invite");
    await t.sql`delete from users`;
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, i) => signup({ email: `racer${i}@example.com`, password: "racing password" })),
    );
    expect(results.map((r) => r.status).sort()).toEqual([201, 403, 403, 403, 403, 403]);
    const [n] = await t.sql`select count(*)::int as n from users`;
    expect(n.n).toBe(1);
  });

  test("a registered and an unknown address get the same refusal", async () => {
    mode("open");
    const known = await t.signup();
    mode("invite");
    const a = await signup({ email: known.email, password: "0123456789" });
    const b = await signup({ email: `nobody-${crypto.randomUUID()}@example.com`, password: "0123456789" });
    expect(a.status).toBe(403);
    expect(b.status).toBe(a.status);
    expect(b.text).toBe(a.text);
  });

  test("an invitation lets its holder sign up with the invited address and join the workspace", async () => {
    mode("invite");
    const { ws, token } = await invitation("Invitee@Example.com", "admin");
    const r = await signup({ email: "invitee@example.com", password: "invited password", name: "Ivy", invitation: token });
    expect(r.status).toBe(201);
    expect(r.body.workspace).toEqual({ id: ws.id, name: "Invited", role: "admin" });
    const list = await t.call("GET", "/workspaces", { token: r.body.token });
    expect(list.body.data.map((w: { id: string; role: string }) => [w.id, w.role])).toEqual([[ws.id, "admin"]]);
  });

  test("an invitation does not open sign-up to another address", async () => {
    mode("invite");
    const { token } = await invitation("meant-for@example.com");
    const r = await signup({ email: "someone-else@example.com", password: "0123456789", invitation: token });
    expect(r.status).toBe(403);
    expect(r.body.error.code).toBe("invitation_email_mismatch");
    // Still usable by the right person.
    expect((await signup({ email: "meant-for@example.com", password: "0123456789", invitation: token })).status).toBe(201);
  });

  test("an invitation signs up once: the second use is refused and creates nothing", async () => {
    mode("invite");
    const { token } = await invitation("once@example.com");
    const first = await signup({ email: "once@example.com", password: "0123456789", invitation: token });
    expect(first.status).toBe(201);
    const again = await signup({ email: "once@example.com", password: "0123456789", invitation: token });
    expect(again.status).toBe(410);
    expect(again.body.error.code).toBe("invitation_used");
  });

  test("two sign-ups racing with one invitation: exactly one succeeds", async () => {
    mode("invite");
    const { token } = await invitation("race-invite@example.com");
    const results = await Promise.all(
      Array.from({ length: 4 }, () => signup({ email: "race-invite@example.com", password: "0123456789", invitation: token })),
    );
    expect(results.filter((r) => r.status === 201)).toHaveLength(1);
    for (const r of results.filter((r) => r.status !== 201)) expect(r.status).toBeGreaterThanOrEqual(400);
    const [n] = await t.sql`select count(*)::int as n from users where lower(email) = 'race-invite@example.com'`;
    expect(n.n).toBe(1);
  });

  test("an invitation for an address that already has an account gets the generic refusal and stays usable", async () => {
    mode("open");
    const existing = await t.signup();
    mode("invite");
    const { ws, token } = await invitation(existing.email);
    const r = await signup({ email: existing.email, password: "0123456789", invitation: token });
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe("signup_failed");
    // Signing in and accepting still works: the failed sign-up did not spend it.
    const accepted = await t.call("POST", "/invitations/accept", { token: existing.token, body: { token } });
    expect(accepted.status).toBe(200);
    expect(accepted.body.workspace.id).toBe(ws.id);
  });

  test("unknown, revoked and expired invitations are refused with a clear code", async () => {
    mode("invite");
    const unknown = await signup({ email: "x@example.com", password: "0123456789", invitation: "not-a-real-token" });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe("invitation_not_found");

    const revoked = await invitation("revoked@example.com");
    const [row] = await t.sql`select id from invitations where workspace_id = ${revoked.ws.id}`;
    expect((await t.call("DELETE", `/workspaces/${revoked.ws.id}/invitations/${row.id}`, { token: revoked.owner.token })).status).toBe(204);
    const r1 = await signup({ email: "revoked@example.com", password: "0123456789", invitation: revoked.token });
    expect([r1.status, r1.body.error.code]).toEqual([410, "invitation_revoked"]);

    const expired = await invitation("expired@example.com");
    await t.sql`update invitations set expires_at = now() - interval '1 second' where workspace_id = ${expired.ws.id}`;
    const r2 = await signup({ email: "expired@example.com", password: "0123456789", invitation: expired.token });
    expect([r2.status, r2.body.error.code]).toEqual([410, "invitation_expired"]);
  });
});

describe("SIGNUP=closed", () => {
  test("refuses every sign-up, the first account's and an invitation's too", async () => {
    mode("closed");
    await t.sql`delete from users`;
    const first = await signup({ email: "closed-first@example.com", password: "0123456789" });
    expect(first.status).toBe(403);
    expect(first.body.error.code).toBe("signup_closed");
    expect(first.body.error.message).toContain("create-user");
    const { token } = await invitation("closed-invitee@example.com");
    const invited = await signup({ email: "closed-invitee@example.com", password: "0123456789", invitation: token });
    expect([invited.status, invited.body.error.code]).toEqual([403, "signup_closed"]);
  });

  test("an existing account can still accept an invitation", async () => {
    mode("open");
    const member = await t.signup();
    mode("closed");
    const { ws, token } = await invitation(member.email);
    const r = await t.call("POST", "/invitations/accept", { token: member.token, body: { token } });
    expect(r.status).toBe(200);
    expect(r.body.workspace).toEqual({ id: ws.id, name: "Invited", role: "member" });
  });

  test("a registered and an unknown address get the same refusal", async () => {
    mode("open");
    const known = await t.signup();
    mode("closed");
    const a = await signup({ email: known.email, password: "0123456789" });
    const b = await signup({ email: `nobody-${crypto.randomUUID()}@example.com`, password: "0123456789" });
    expect(a.status).toBe(403);
    expect(b.text).toBe(a.text);
  });
});

describe("SIGNUP=open", () => {
  test("anyone signs up, however many accounts exist", async () => {
    mode("open");
    await t.signup();
    const r = await signup({ email: `open-${crypto.randomUUID()}@example.com`, password: "0123456789" });
    expect(r.status).toBe(201);
    expect(r.body.workspace).toBeUndefined();
  });
});

describe("the dashboard's login page", () => {
  const loginPage = async () => {
    const r = await t.app.handle(new Request("http://localhost/login"));
    return r.text();
  };

  test("links to sign-up only where sign-up is possible", async () => {
    mode("invite");
    await t.sql`delete from users`;
    // The first account of an empty instance may sign up under invite.
    expect(await loginPage()).toContain('href="/signup"');
    await t.signup();
    const invite = await loginPage();
    expect(invite).not.toContain('href="/signup"');
    expect(invite).toContain("Accounts are by invitation");
    mode("closed");
    const closed = await loginPage();
    expect(closed).not.toContain('href="/signup"');
    expect(closed).toContain("created by its operator");
    mode("open");
    expect(await loginPage()).toContain('href="/signup"');
  });
});
