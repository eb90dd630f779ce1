/** Workspace members through the JSON API: listing, role changes per role, removal and leaving, the last-owner guard, transfer. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { csrfTokenFor, SESSION_COOKIE } from "../src/http/auth.ts";
import { memberActions } from "../src/members/rules.ts";
import { testApp, type TestApp } from "./support/app.ts";

let t: TestApp;
beforeAll(async () => {
  t = await testApp();
});
afterAll(() => t.close());

type User = Awaited<ReturnType<TestApp["signup"]>>;
type Role = "owner" | "admin" | "member";

/** A fresh workspace with an owner and, for each role asked for, one more user in it. */
async function team(...roles: Role[]) {
  const owner = await t.signup();
  const ws = await t.workspace(owner.token, "Team");
  const users: User[] = [];
  for (const role of roles) {
    const u = await t.member(ws.id, role);
    users.push(u);
  }
  return { owner, id: ws.id, users };
}

const list = (id: string, token: string) => t.call("GET", `/workspaces/${id}/members`, { token });
const setRole = (id: string, token: string, uid: string, role: unknown) =>
  t.call("PATCH", `/workspaces/${id}/members/${uid}`, { token, body: { role } });
const remove = (id: string, token: string, uid: string) => t.call("DELETE", `/workspaces/${id}/members/${uid}`, { token });
const transfer = (id: string, token: string, body: unknown) => t.call("POST", `/workspaces/${id}/transfer-ownership`, { token, body });
const roleOf = async (id: string, uid: string) =>
  ((await t.sql`select role from workspace_members where workspace_id = ${id} and user_id = ${uid}`)[0]?.role as Role | undefined) ?? null;

describe("listing members", () => {
  test("any member sees everyone with user id, email, name, role and when they joined, owners first", async () => {
    const w = await team("member", "admin");
    const [member, admin] = w.users;
    const r = await list(w.id, member!.token);
    expect(r.status).toBe(200);
    expect(r.body.data.map((m: { user_id: string; role: Role }) => [m.user_id, m.role])).toEqual([
      [w.owner.user.id, "owner"],
      [admin!.user.id, "admin"],
      [member!.user.id, "member"],
    ]);
    const first = r.body.data[0];
    expect(Object.keys(first).sort()).toEqual(["email", "joined_at", "name", "role", "user_id"]);
    expect(first.email).toBe(w.owner.email);
    expect(Number.isNaN(Date.parse(first.joined_at))).toBe(false);
    expect(r.text).not.toContain("password");
  });

  test("a non-member gets 404 for the list and for every change, and nothing changes", async () => {
    const w = await team("member");
    const outsider = await t.signup();
    const target = w.users[0]!.user.id;
    expect((await list(w.id, outsider.token)).status).toBe(404);
    expect((await setRole(w.id, outsider.token, target, "admin")).status).toBe(404);
    expect((await remove(w.id, outsider.token, target)).status).toBe(404);
    expect((await transfer(w.id, outsider.token, { user_id: outsider.user.id })).status).toBe(404);
    expect((await list("no-such-workspace", outsider.token)).status).toBe(404);
    expect(await roleOf(w.id, target)).toBe("member");
    expect((await list(w.id, "")).status).toBe(401);
  });
});

describe("changing roles", () => {
  test("an admin promotes a member to admin and demotes an admin to member", async () => {
    const w = await team("admin", "member", "admin");
    const [admin, member, other] = w.users;
    const up = await setRole(w.id, admin!.token, member!.user.id, "admin");
    expect(up.status).toBe(200);
    expect(up.body).toMatchObject({ user_id: member!.user.id, role: "admin", email: member!.email });
    expect((await setRole(w.id, admin!.token, other!.user.id, "member")).status).toBe(200);
    expect([await roleOf(w.id, member!.user.id), await roleOf(w.id, other!.user.id)]).toEqual(["admin", "member"]);
  });

  test("an admin can neither make an owner nor change an owner's role (403)", async () => {
    const w = await team("admin", "member");
    const [admin, member] = w.users;
    const promote = await setRole(w.id, admin!.token, member!.user.id, "owner");
    expect(promote.status).toBe(403);
    expect(promote.body.error).toMatchObject({ param: "role", message: "only an owner can make someone an owner" });
    const demote = await setRole(w.id, admin!.token, w.owner.user.id, "member");
    expect(demote.status).toBe(403);
    expect(demote.body.error.message).toContain("only an owner");
    expect([await roleOf(w.id, member!.user.id), await roleOf(w.id, w.owner.user.id)]).toEqual(["member", "owner"]);
  });

  test("a member changes nobody's role, not even their own (403)", async () => {
    const w = await team("member", "member");
    const [member, other] = w.users;
    expect((await setRole(w.id, member!.token, other!.user.id, "admin")).status).toBe(403);
    expect((await setRole(w.id, member!.token, member!.user.id, "admin")).status).toBe(403);
    expect(await roleOf(w.id, member!.user.id)).toBe("member");
  });

  test("an owner makes another owner, who may then demote the first", async () => {
    const w = await team("admin");
    const [admin] = w.users;
    expect((await setRole(w.id, w.owner.token, admin!.user.id, "owner")).body.role).toBe("owner");
    const r = await setRole(w.id, admin!.token, w.owner.user.id, "member");
    expect(r.status).toBe(200);
    expect(await roleOf(w.id, w.owner.user.id)).toBe("member");
  });

  test("the last owner cannot be demoted: 409 saying to transfer ownership first", async () => {
    const w = await team("admin");
    const r = await setRole(w.id, w.owner.token, w.owner.user.id, "admin");
    expect(r.status).toBe(409);
    expect(r.body.error.code).toBe("last_owner");
    expect(r.body.error.message).toContain("last owner");
    expect(r.body.error.message).toContain("Transfer ownership");
    expect(await roleOf(w.id, w.owner.user.id)).toBe("owner");
  });

  test("bad input is 422 naming the field; an unknown member is 404", async () => {
    const w = await team("member");
    const bad = await setRole(w.id, w.owner.token, w.users[0]!.user.id, "superuser");
    expect([bad.status, bad.body.error.param]).toEqual([422, "role"]);
    expect(bad.body.error.message).toContain("owner, admin, member");
    const missing = await t.call("PATCH", `/workspaces/${w.id}/members/${w.users[0]!.user.id}`, { token: w.owner.token, body: {} });
    expect([missing.status, missing.body.error.param]).toEqual([422, "role"]);
    const unknown = await setRole(w.id, w.owner.token, "nobody-here", "admin");
    expect([unknown.status, unknown.body.error.message]).toEqual([404, "member not found"]);
  });

  test("two owners stepping down at once: one does, the other gets the last-owner 409", async () => {
    // Several workspaces at once, so that the two transactions of a pair really overlap.
    const teams = await Promise.all(Array.from({ length: 6 }, () => team("owner")));
    const results = await Promise.all(
      teams.map(async (w) => {
        const [second] = w.users;
        const [a, b] = await Promise.all([
          setRole(w.id, w.owner.token, w.owner.user.id, "admin"),
          setRole(w.id, second!.token, second!.user.id, "admin"),
        ]);
        const [{ n }] = await t.sql`select count(*)::int as n from workspace_members where workspace_id = ${w.id} and role = 'owner'`;
        return { statuses: [a.status, b.status].sort(), owners: n };
      }),
    );
    for (const r of results) expect(r).toEqual({ statuses: [200, 409], owners: 1 });
  });
});

describe("removing members and leaving", () => {
  test("an admin removes a member and an admin, but not an owner; a member removes nobody else", async () => {
    const w = await team("admin", "member", "admin", "member");
    const [admin, member, otherAdmin, otherMember] = w.users;
    expect((await remove(w.id, member!.token, otherMember!.user.id)).status).toBe(403);
    expect((await remove(w.id, admin!.token, otherMember!.user.id)).status).toBe(204);
    expect((await remove(w.id, admin!.token, otherAdmin!.user.id)).status).toBe(204);
    const owner = await remove(w.id, admin!.token, w.owner.user.id);
    expect(owner.status).toBe(403);
    expect(owner.body.error.message).toBe("only an owner can remove an owner");
    expect((await list(w.id, w.owner.token)).body.data.map((m: { user_id: string }) => m.user_id).sort()).toEqual(
      [w.owner.user.id, admin!.user.id, member!.user.id].sort(),
    );
    expect((await remove(w.id, admin!.token, otherMember!.user.id)).status).toBe(404);
  });

  test("anyone may leave by removing themselves; an owner of two may leave, the last owner may not", async () => {
    const w = await team("member", "owner");
    const [member, coOwner] = w.users;
    expect((await remove(w.id, member!.token, member!.user.id)).status).toBe(204);
    expect(await roleOf(w.id, member!.user.id)).toBeNull();
    expect((await remove(w.id, coOwner!.token, coOwner!.user.id)).status).toBe(204);
    const last = await remove(w.id, w.owner.token, w.owner.user.id);
    expect(last.status).toBe(409);
    expect(last.body.error).toMatchObject({ code: "last_owner", type: "conflict_error" });
    expect(last.body.error.message).toContain("Transfer ownership to another member first");
    expect(await roleOf(w.id, w.owner.user.id)).toBe("owner");
  });

  test("a removed member loses access at once, to the API and to the dashboard", async () => {
    const w = await team("admin");
    const [admin] = w.users;
    // Warm every cache a request goes through (the session's included) before the removal.
    for (let i = 0; i < 2; i++) expect((await t.call("GET", `/workspaces/${w.id}`, { token: admin!.token })).status).toBe(200);
    const page = () =>
      t.app.handle(new Request(`http://localhost/app/w/${w.id}/providers`, { headers: { cookie: `${SESSION_COOKIE}=${admin!.token}` } }));
    expect((await page()).status).toBe(200);
    expect((await remove(w.id, w.owner.token, admin!.user.id)).status).toBe(204);
    expect((await t.call("GET", `/workspaces/${w.id}`, { token: admin!.token })).status).toBe(404);
    expect((await t.call("POST", `/workspaces/${w.id}/api-keys`, { token: admin!.token, body: { name: "after" } })).status).toBe(404);
    expect((await page()).status).toBe(404);
    const jti = JSON.parse(Buffer.from(admin!.token.split(".")[1]!, "base64url").toString()).jti;
    const form = await t.app.handle(
      new Request(`http://localhost/app/w/${w.id}/keys`, {
        method: "POST",
        headers: { cookie: `${SESSION_COOKIE}=${admin!.token}`, "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ _csrf: csrfTokenFor(t.deps, jti), name: "after" }),
      }),
    );
    expect(form.status).toBe(404);
    // Their session itself goes on: other workspaces and the account still work.
    expect((await t.call("GET", "/auth/me", { token: admin!.token })).status).toBe(200);
  });

  test("invitations a removed member sent stay pending and usable; the workspace's admins can still revoke them", async () => {
    const w = await team("admin");
    const [admin] = w.users;
    const inv = await t.call("POST", `/workspaces/${w.id}/invitations`, {
      token: admin!.token,
      body: { email: "kept@example.com", role: "member" },
    });
    expect(inv.status).toBe(201);
    expect((await remove(w.id, w.owner.token, admin!.user.id)).status).toBe(204);
    const pending = await t.call("GET", `/workspaces/${w.id}/invitations`, { token: w.owner.token });
    expect(pending.body.data[0]).toMatchObject({ email: "kept@example.com", status: "pending", invited_by: { id: admin!.user.id } });
    const invitee = await t.signup("kept@example.com");
    const accepted = await t.call("POST", "/invitations/accept", { token: invitee.token, body: { token: inv.body.token } });
    expect(accepted.status).toBe(200);
    expect(await roleOf(w.id, invitee.user.id)).toBe("member");
  });
});

describe("transferring ownership", () => {
  test("the owner hands over to a member: they become owner, the old owner admin, together", async () => {
    const w = await team("member");
    const [member] = w.users;
    const r = await transfer(w.id, w.owner.token, { user_id: member!.user.id });
    expect(r.status).toBe(200);
    expect(r.body.owner).toMatchObject({ user_id: member!.user.id, role: "owner" });
    expect(r.body.previous_owner).toMatchObject({ user_id: w.owner.user.id, role: "admin" });
    expect([await roleOf(w.id, member!.user.id), await roleOf(w.id, w.owner.user.id)]).toEqual(["owner", "admin"]);
    // The old owner is an admin now: an owner's moves are closed to them.
    expect((await transfer(w.id, w.owner.token, { user_id: w.owner.user.id })).status).toBe(403);
    // And the new owner may now leave only after handing it on.
    expect((await remove(w.id, member!.token, member!.user.id)).status).toBe(409);
  });

  test("only an owner transfers (403); the target must be another member (422 naming user_id)", async () => {
    const w = await team("admin", "member");
    const [admin, member] = w.users;
    expect((await transfer(w.id, admin!.token, { user_id: member!.user.id })).status).toBe(403);
    const outsider = await t.signup();
    const notMember = await transfer(w.id, w.owner.token, { user_id: outsider.user.id });
    expect([notMember.status, notMember.body.error.param]).toEqual([422, "user_id"]);
    expect(notMember.body.error.message).toContain("not a member");
    const self = await transfer(w.id, w.owner.token, { user_id: w.owner.user.id });
    expect([self.status, self.body.error.param]).toEqual([422, "user_id"]);
    const missing = await transfer(w.id, w.owner.token, {});
    expect([missing.status, missing.body.error.param]).toEqual([422, "user_id"]);
    const wrongType = await transfer(w.id, w.owner.token, { user_id: 42 });
    expect([wrongType.status, wrongType.body.error.param]).toEqual([422, "user_id"]);
    expect([await roleOf(w.id, w.owner.user.id), await roleOf(w.id, admin!.user.id), await roleOf(w.id, member!.user.id)]).toEqual([
      "owner",
      "admin",
      "member",
    ]);
  });
});

describe("what the Members page offers on a row (memberActions)", () => {
  const me = (role: Role) => ({ id: "me", role });
  const row = (role: Role, user_id = "them") => ({ user_id, role });

  test("an owner may change any other row to any role, remove it, and hand over to a non-owner", () => {
    expect(memberActions(me("owner"), row("member"))).toEqual({
      roles: ["owner", "admin", "member"],
      remove: true,
      transfer: true,
      leave: false,
    });
    expect(memberActions(me("owner"), row("owner"))).toEqual({
      roles: ["owner", "admin", "member"],
      remove: true,
      transfer: false,
      leave: false,
    });
  });

  test("an admin manages members and admins without the owner role, and leaves owners alone", () => {
    expect(memberActions(me("admin"), row("admin"))).toEqual({ roles: ["admin", "member"], remove: true, transfer: false, leave: false });
    expect(memberActions(me("admin"), row("owner"))).toEqual({ roles: null, remove: false, transfer: false, leave: false });
  });

  test("a member changes nothing; everyone's own row offers only Leave", () => {
    expect(memberActions(me("member"), row("member"))).toEqual({ roles: null, remove: false, transfer: false, leave: false });
    for (const role of ["owner", "admin", "member"] as const) {
      expect(memberActions(me(role), row(role, "me"))).toEqual({ roles: null, remove: false, transfer: false, leave: true });
    }
  });
});
