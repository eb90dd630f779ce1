/**
 * The Members page through app.handle: the list, role changes, removal, leaving and handing over,
 * each as a plain form (POST → 303, or the page again with the error inline) and with htmx
 * headers (fragments, confirmation cards), CSRF included.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { testApp, type TestApp } from "./support/app.ts";
import { expectHtml, signedIn, withWorkspace } from "./support/dashboard-client.ts";

let t: TestApp;
beforeAll(async () => {
  t = await testApp();
});
afterAll(() => t.close());

type Role = "owner" | "admin" | "member";

/** A workspace made through the dashboard, and for each role asked for a signed-in user in it. */
async function team(...roles: Role[]) {
  const owner = await withWorkspace(t.app, "Crew");
  const users = [];
  for (const role of roles) {
    const s = await signedIn(t.app);
    const [u] = await t.sql`select id from users where email = ${s.email}`;
    await t.sql`insert into workspace_members (workspace_id, user_id, role) values (${owner.id}, ${u!.id}, ${role})`;
    users.push({ ...s, userId: u!.id as string });
  }
  const [o] = await t.sql`select id from users where email = ${owner.email}`;
  return { owner: { ...owner, userId: o!.id as string }, users, base: owner.base, id: owner.id };
}

const roleOf = async (id: string, uid: string) =>
  ((await t.sql`select role from workspace_members where workspace_id = ${id} and user_id = ${uid}`)[0]?.role as Role | undefined) ?? null;

describe("the Members page", () => {
  test("is in the workspace nav and lists everyone; the owner gets role selects, Remove and Make owner for others", async () => {
    const w = await team("admin", "member");
    const [admin, member] = w.users;
    const r = await w.owner.c.get(`${w.base}/members`);
    expectHtml(r);
    expect(r.text).toStartWith("<!doctype html>");
    expect(r.text).toContain(`href="${w.base}/members" hx-get="${w.base}/members"`);
    expect(r.text).toMatch(/aria-current="page"[^>]*>Members</);
    for (const u of [w.owner, admin!, member!]) expect(r.text).toContain(u.email);
    expect(r.text).toContain(`action="${w.base}/members/${member!.userId}/role"`);
    expect(r.text).toContain(`href="${w.base}/members/${member!.userId}/remove"`);
    expect(r.text).toContain(`href="${w.base}/members/${member!.userId}/transfer"`);
    // Not on one's own row: there, Leave.
    expect(r.text).not.toContain(`${w.base}/members/${w.owner.userId}/`);
    expect(r.text).toContain(`href="${w.base}/leave"`);
    expect(r.text).toContain("You are its only owner");
    expect(r.text).toContain('id="invitations"');
  });

  test("with htmx it is the frame fragment, not a whole document", async () => {
    const w = await team();
    const r = await w.owner.c.get(`${w.base}/members`, { hx: true });
    expectHtml(r);
    expect(r.text).not.toContain("<!doctype html>");
    expect(r.text).toContain('<div id="frame"');
  });

  test("an admin cannot touch the owner's row or offer the owner role; a member sees roles only, and no invitations", async () => {
    const w = await team("admin", "member");
    const [admin, member] = w.users;
    const asAdmin = await admin!.c.get(`${w.base}/members`);
    expect(asAdmin.text).not.toContain(`${w.base}/members/${w.owner.userId}/`);
    expect(asAdmin.text).toContain(`action="${w.base}/members/${member!.userId}/role"`);
    expect(asAdmin.text).not.toContain('<option value="owner"');
    expect(asAdmin.text).not.toContain("/transfer");
    // Nor by typing the address: no confirmation for what would be refused.
    expectHtml(await admin!.c.get(`${w.base}/members/${w.owner.userId}/remove`), 403);
    const asMember = await member!.c.get(`${w.base}/members`);
    expectHtml(asMember);
    expect(asMember.text).not.toContain("/role");
    expect(asMember.text).not.toContain("/remove");
    expect(asMember.text).not.toContain('id="invitations"');
    expect(asMember.text).toContain(`href="${w.base}/leave"`);
  });

  test("the settings page points to it, and the old invitations address leads there", async () => {
    const w = await team();
    expect((await w.owner.c.get(`${w.base}/settings`)).text).toContain(`href="${w.base}/members"`);
    const r = await w.owner.c.get(`${w.base}/invitations`);
    expect([r.status, r.location]).toEqual([303, `${w.base}/members#invitations`]);
  });
});

describe("changing a role", () => {
  test("a plain form changes it and redirects (303) to the page with a notice; htmx gets the same", async () => {
    const w = await team("member", "member");
    const [a, b] = w.users;
    const r = await w.owner.c.post(`${w.base}/members/${a!.userId}/role`, { _csrf: w.owner.csrf, role: "admin" });
    expect([r.status, r.location]).toEqual([303, `${w.base}/members?done=role`]);
    expect(await roleOf(w.id, a!.userId)).toBe("admin");
    expect((await w.owner.c.get(r.location!)).text).toContain("Role changed.");
    const hx = await w.owner.c.post(`${w.base}/members/${b!.userId}/role`, { _csrf: w.owner.csrf, role: "admin" }, { hx: true });
    expect(hx.status).toBe(303);
    expect(await roleOf(w.id, b!.userId)).toBe("admin");
  });

  test("a refused change comes back inline beside the row: 403 for an admin making an owner, 422 for a bad role", async () => {
    const w = await team("admin", "member");
    const [admin, member] = w.users;
    const up = await admin!.c.post(`${w.base}/members/${member!.userId}/role`, { _csrf: admin!.csrf, role: "owner" });
    expectHtml(up, 403);
    expect(up.text).toContain("Only an owner can make someone an owner.");
    expect(up.text).toContain(`id="role-${member!.userId}-error"`);
    expect(up.text).toMatch(new RegExp(`id="role-${member!.userId}"[^>]*aria-invalid="true"`));
    const bad = await w.owner.c.post(`${w.base}/members/${member!.userId}/role`, { _csrf: w.owner.csrf, role: "king" }, { hx: true });
    expectHtml(bad, 422);
    expect(bad.text).not.toContain("<!doctype html>");
    expect(bad.text).toContain("Pick a role: owner, admin or member.");
    expect(await roleOf(w.id, member!.userId)).toBe("member");
  });

  test("a form without the CSRF token is refused (403) and changes nothing", async () => {
    const w = await team("member");
    const [member] = w.users;
    expectHtml(await w.owner.c.post(`${w.base}/members/${member!.userId}/role`, { role: "admin" }), 403);
    expectHtml(await w.owner.c.post(`${w.base}/members/${member!.userId}/remove`, {}), 403);
    expect(await roleOf(w.id, member!.userId)).toBe("member");
  });
});

describe("removing, leaving and handing over", () => {
  test("Remove asks first (a page without JavaScript, a card with htmx), then removes; the member's next page is a 404", async () => {
    const w = await team("member");
    const [member] = w.users;
    const url = `${w.base}/members/${member!.userId}/remove`;
    const page = await w.owner.c.get(url);
    expectHtml(page);
    expect(page.text).toContain("<!doctype html>");
    expect(page.text).toMatch(/<h1 id="confirm-title">Remove [^<]+\?<\/h1>/);
    expect(page.text).toContain(`action="${url}"`);
    const card = await w.owner.c.get(url, { hx: "div#dialog-slot" });
    expectHtml(card);
    expect(card.text).not.toContain('id="frame"');
    expect(card.text).toContain('role="alertdialog"');
    expect((await member!.c.get(`${w.base}/keys`)).status).toBe(200);
    const r = await w.owner.c.post(url, { _csrf: w.owner.csrf });
    expect([r.status, r.location]).toEqual([303, `${w.base}/members?done=removed`]);
    expect(await roleOf(w.id, member!.userId)).toBeNull();
    expectHtml(await member!.c.get(`${w.base}/keys`), 404);
    expectHtml(await member!.c.get(`${w.base}/members`), 404);
  });

  test("a member leaves through the confirmation and lands on the workspace list", async () => {
    const w = await team("member");
    const [member] = w.users;
    const confirm = await member!.c.get(`${w.base}/leave`, { hx: "div#dialog-slot" });
    expectHtml(confirm);
    expect(confirm.text).toContain("Leave this workspace?");
    const r = await member!.c.post(`${w.base}/leave`, { _csrf: member!.csrf });
    expect([r.status, r.location]).toEqual([303, "/app"]);
    expect(await roleOf(w.id, member!.userId)).toBeNull();
    expect((await member!.c.get("/app")).text).not.toContain(w.base);
  });

  test("the last owner cannot leave: 409 with the page and the reason inline", async () => {
    const w = await team("admin");
    const r = await w.owner.c.post(`${w.base}/leave`, { _csrf: w.owner.csrf });
    expectHtml(r, 409);
    expect(r.text).toContain("Transfer ownership to another member first.");
    expect(r.text).toContain('role="alert"');
    expect(await roleOf(w.id, w.owner.userId)).toBe("owner");
  });

  test("Make owner asks first, then hands over: the member is owner, the old owner admin", async () => {
    const w = await team("member");
    const [member] = w.users;
    const url = `${w.base}/members/${member!.userId}/transfer`;
    const confirm = await w.owner.c.get(url);
    expectHtml(confirm);
    expect(confirm.text).toContain("the owner?");
    expect(confirm.text).toContain(`action="${url}"`);
    const r = await w.owner.c.post(url, { _csrf: w.owner.csrf });
    expect([r.status, r.location]).toEqual([303, `${w.base}/members?done=transferred`]);
    expect([await roleOf(w.id, member!.userId), await roleOf(w.id, w.owner.userId)]).toEqual(["owner", "admin"]);
    const after = await w.owner.c.get(r.location!);
    expect(after.text).toContain("Ownership transferred");
    // An admin now: the owner's own pages are closed.
    expectHtml(await w.owner.c.get(url), 403);
  });
});
