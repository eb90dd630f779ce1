import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { testApp, type TestApp } from "./support/app.ts";

let t: TestApp;
beforeAll(async () => {
  t = await testApp();
});
afterAll(() => t.close());

describe("workspaces", () => {
  test("the creator becomes the owner and sees it in the list and in /auth/me", async () => {
    const { token, user } = await t.signup();
    const r = await t.call("POST", "/workspaces", { token, body: { name: "  Acme  " } });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ name: "Acme", role: "owner", settings: { retention_days: 30, log_content: false } });
    const [m] = await t.sql`select role from workspace_members where workspace_id = ${r.body.id} and user_id = ${user.id}`;
    expect(m.role).toBe("owner");
    const list = await t.call("GET", "/workspaces", { token });
    expect(list.body.data.map((w: { id: string }) => w.id)).toEqual([r.body.id]);
    const me = await t.call("GET", "/auth/me", { token });
    expect(me.body.workspaces[0].id).toBe(r.body.id);
  });

  test("gets and renames a workspace", async () => {
    const { token } = await t.signup();
    const ws = await t.workspace(token, "Old");
    const got = await t.call("GET", `/workspaces/${ws.id}`, { token });
    expect(got.body.name).toBe("Old");
    const put = await t.call("PUT", `/workspaces/${ws.id}`, { token, body: { name: "New" } });
    expect(put.status).toBe(200);
    expect(put.body.name).toBe("New");
    expect(new Date(put.body.updated_at).getTime()).toBeGreaterThanOrEqual(new Date(got.body.updated_at).getTime());
  });

  test("a non-member gets 404 on every workspace route and the workspace is unchanged", async () => {
    const alice = await t.signup();
    const bob = await t.signup();
    const ws = await t.workspace(alice.token, "Alice's");
    const get = await t.call("GET", `/workspaces/${ws.id}`, { token: bob.token });
    expect(get.status).toBe(404);
    expect(get.text).not.toContain("Alice's");
    const put = await t.call("PUT", `/workspaces/${ws.id}`, { token: bob.token, body: { name: "pwned" } });
    expect(put.status).toBe(404);
    expect((await t.call("GET", "/workspaces", { token: bob.token })).body.data).toEqual([]);
    const [row] = await t.sql`select name from workspaces where id = ${ws.id}`;
    expect(row.name).toBe("Alice's");
  });

  test("a plain member may read but not rename", async () => {
    const alice = await t.signup();
    const carol = await t.signup();
    const ws = await t.workspace(alice.token);
    await t.sql`insert into workspace_members (workspace_id, user_id, role) values (${ws.id}, ${carol.user.id}, 'member')`;
    expect((await t.call("GET", `/workspaces/${ws.id}`, { token: carol.token })).status).toBe(200);
    const put = await t.call("PUT", `/workspaces/${ws.id}`, { token: carol.token, body: { name: "x" } });
    expect(put.status).toBe(403);
    expect(put.body.error.type).toBe("permission_error");
  });

  test("an unknown or absurd id is a 404, never a 500", async () => {
    const { token } = await t.signup();
    for (const id of ["nope", "x".repeat(64), "%27%3B%20drop%20table%20users%3B--"]) {
      expect((await t.call("GET", `/workspaces/${id}`, { token })).status).toBe(404);
    }
    expect((await t.call("GET", `/workspaces/${"x".repeat(65)}`, { token })).status).toBe(422);
  });

  test.each([
    [{}, "name is required"],
    [{ name: "" }, "must not be empty"],
    [{ name: "   " }, "must not be empty"],
    [{ name: "x".repeat(101) }, "at most 100"],
    [{ name: 5 }, "must be a string"],
  ])("rejects %j with 422 naming the field", async (body, message) => {
    const { token } = await t.signup();
    const r = await t.call("POST", "/workspaces", { token, body });
    expect(r.status).toBe(422);
    expect(r.body.error.param).toBe("name");
    expect(r.body.error.message).toContain(message);
  });

  test("requires a session", async () => {
    expect((await t.call("GET", "/workspaces")).status).toBe(401);
    expect((await t.call("POST", "/workspaces", { body: { name: "x" } })).status).toBe(401);
  });
});
