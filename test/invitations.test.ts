/** Invitations through the JSON API: who may create, list and revoke them, and accepting one. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { sha256Hex } from "../src/crypto.ts";
import { testApp, type TestApp } from "./support/app.ts";

let t: TestApp;
let owner: Awaited<ReturnType<TestApp["signup"]>>;
let ws: { id: string };
beforeAll(async () => {
  t = await testApp();
  owner = await t.signup();
  ws = await t.workspace(owner.token, "Team");
});
afterAll(() => t.close());

const invite = (token: string, body: unknown, workspaceId = ws.id) =>
  t.call("POST", `/workspaces/${workspaceId}/invitations`, { token, body });
const accept = (token: string, invitation: string) => t.call("POST", "/invitations/accept", { token, body: { token: invitation } });

/** A user who is `role` in the workspace (through an accepted invitation). */
async function withRole(role: "admin" | "member") {
  const u = await t.signup();
  const r = await invite(owner.token, { email: u.email, role });
  expect((await accept(u.token, r.body.token)).status).toBe(200);
  return u;
}

describe("creating an invitation", () => {
  test("answers 201 with a one-time link under PUBLIC_URL, valid 7 days, and stores only the token's hash", async () => {
    const r = await invite(owner.token, { email: "new@example.com", role: "member" });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({
      email: "new@example.com",
      role: "member",
      status: "pending",
      invited_by: { id: owner.user.id, email: owner.email },
    });
    expect(r.body.token).toMatch(/^[0-9A-Za-z]{43}$/);
    expect(r.body.link).toBe(`http://localhost:8080/invite/${r.body.token}`);
    const days = (Date.parse(r.body.expires_at) - Date.parse(r.body.created_at)) / 86_400_000;
    expect(days).toBeCloseTo(7, 3);
    const rows = await t.sql`select * from invitations where id = ${r.body.id}`;
    expect(rows[0].token_hash).toBe(sha256Hex(r.body.token));
    expect(JSON.stringify(rows)).not.toContain(r.body.token);
    expect(t.logs.join("\n")).not.toContain(r.body.token);
  });

  test("the list shows invitations newest first, without tokens or links", async () => {
    await invite(owner.token, { email: "listed@example.com", role: "admin" });
    const r = await t.call("GET", `/workspaces/${ws.id}/invitations`, { token: owner.token });
    expect(r.status).toBe(200);
    expect(r.body.data[0]).toMatchObject({ email: "listed@example.com", role: "admin", status: "pending" });
    expect(r.text).not.toContain('"token"');
    expect(r.text).not.toContain("/invite/");
  });

  test("inviting an address again replaces its pending invitation, whose link stops working", async () => {
    const a = await invite(owner.token, { email: "twice@example.com", role: "member" });
    const b = await invite(owner.token, { email: "Twice@example.com", role: "admin" });
    const u = await t.signup("twice@example.com");
    expect((await accept(u.token, a.body.token)).body.error.code).toBe("invitation_revoked");
    expect((await accept(u.token, b.body.token)).body.workspace.role).toBe("admin");
  });

  test("refuses an address that is already a member (409) and bad input (422 naming the field)", async () => {
    const dup = await invite(owner.token, { email: owner.email.toUpperCase(), role: "member" });
    expect([dup.status, dup.body.error.param]).toEqual([409, "email"]);
    const role = await invite(owner.token, { email: "x@example.com", role: "superuser" });
    expect([role.status, role.body.error.param]).toEqual([422, "role"]);
    expect(role.body.error.message).toContain("owner, admin, member");
    const email = await invite(owner.token, { email: "nope", role: "member" });
    expect([email.status, email.body.error.param]).toEqual([422, "email"]);
  });

  test("only owners and admins invite, and nobody above their own role", async () => {
    const admin = await withRole("admin");
    const member = await withRole("member");
    expect((await invite(admin.token, { email: "by-admin@example.com", role: "admin" })).status).toBe(201);
    const above = await invite(admin.token, { email: "would-be-owner@example.com", role: "owner" });
    expect(above.status).toBe(403);
    expect(above.body.error).toMatchObject({ code: "role_above_yours", param: "role" });
    expect((await invite(owner.token, { email: "co-owner@example.com", role: "owner" })).status).toBe(201);
    const byMember = await invite(member.token, { email: "by-member@example.com", role: "member" });
    expect(byMember.status).toBe(403);
    expect((await t.call("GET", `/workspaces/${ws.id}/invitations`, { token: member.token })).status).toBe(403);
    const stranger = await t.signup();
    expect((await invite(stranger.token, { email: "x@example.com", role: "member" })).status).toBe(404);
    expect((await t.call("GET", `/workspaces/${ws.id}/invitations`)).status).toBe(401);
  });
});

describe("revoking", () => {
  test("DELETE answers 204, again 204, and the link is refused; unknown ids 404", async () => {
    const r = await invite(owner.token, { email: "revokee@example.com", role: "member" });
    const path = `/workspaces/${ws.id}/invitations/${r.body.id}`;
    expect((await t.call("DELETE", path, { token: owner.token })).status).toBe(204);
    expect((await t.call("DELETE", path, { token: owner.token })).status).toBe(204);
    const u = await t.signup("revokee@example.com");
    const a = await accept(u.token, r.body.token);
    expect([a.status, a.body.error.code]).toEqual([410, "invitation_revoked"]);
    expect((await t.call("DELETE", `/workspaces/${ws.id}/invitations/nope`, { token: owner.token })).status).toBe(404);
  });

  test("an admin cannot revoke an owner's invitation, nor anyone a used one", async () => {
    const admin = await withRole("admin");
    const o = await invite(owner.token, { email: "future-owner@example.com", role: "owner" });
    expect((await t.call("DELETE", `/workspaces/${ws.id}/invitations/${o.body.id}`, { token: admin.token })).status).toBe(403);
    const u = await t.signup();
    const m = await invite(owner.token, { email: u.email, role: "member" });
    await accept(u.token, m.body.token);
    const used = await t.call("DELETE", `/workspaces/${ws.id}/invitations/${m.body.id}`, { token: owner.token });
    expect(used.status).toBe(409);
  });
});

describe("accepting", () => {
  test("a signed-in user with the invited address (any case) joins with the invited role; the link then stops working", async () => {
    const u = await t.signup();
    const r = await invite(owner.token, { email: u.email.toUpperCase(), role: "admin" });
    const a = await accept(u.token, r.body.token);
    expect(a.status).toBe(200);
    expect(a.body.workspace).toEqual({ id: ws.id, name: "Team", role: "admin" });
    expect((await t.call("GET", `/workspaces/${ws.id}/providers`, { token: u.token })).status).toBe(200);
    const again = await accept(u.token, r.body.token);
    expect([again.status, again.body.error.code]).toEqual([410, "invitation_used"]);
    const list = await t.call("GET", `/workspaces/${ws.id}/invitations`, { token: owner.token });
    expect(list.body.data.find((i: { id: string }) => i.id === r.body.id).status).toBe("accepted");
  });

  test("a user with another address is refused and the invitation stays usable", async () => {
    const intended = await t.signup();
    const other = await t.signup();
    const r = await invite(owner.token, { email: intended.email, role: "member" });
    const wrong = await accept(other.token, r.body.token);
    expect([wrong.status, wrong.body.error.code]).toEqual([403, "invitation_email_mismatch"]);
    expect((await t.call("GET", `/workspaces/${ws.id}`, { token: other.token })).status).toBe(404);
    expect((await accept(intended.token, r.body.token)).status).toBe(200);
  });

  test("expired and unknown tokens are refused; accepting needs a session", async () => {
    const u = await t.signup();
    const r = await invite(owner.token, { email: u.email, role: "member" });
    await t.sql`update invitations set expires_at = now() - interval '1 second' where id = ${r.body.id}`;
    const expired = await accept(u.token, r.body.token);
    expect([expired.status, expired.body.error.code]).toEqual([410, "invitation_expired"]);
    const unknown = await accept(u.token, "x".repeat(43));
    expect([unknown.status, unknown.body.error.code]).toEqual([404, "invitation_not_found"]);
    expect((await t.call("POST", "/invitations/accept", { body: { token: r.body.token } })).status).toBe(401);
    const empty = await accept(u.token, "");
    expect([empty.status, empty.body.error.param]).toEqual([422, "token"]);
  });
});
