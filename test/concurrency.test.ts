import { afterAll, beforeAll, expect, test } from "bun:test";
import { testApp, type TestApp } from "./support/app.ts";

// The embedded database serves postgres.js over one connection; this drives it with many
// concurrent requests and transactions to prove nothing interleaves or deadlocks.
let t: TestApp;
beforeAll(async () => {
  t = await testApp();
});
afterAll(() => t.close());

test("concurrent signups and workspace transactions all land exactly once", async () => {
  const users = await Promise.all(Array.from({ length: 25 }, (_, i) => t.signup(`conc${i}@example.com`)));
  const results = await Promise.all(
    users.flatMap((u, i) =>
      Array.from({ length: 4 }, (_, j) => t.call("POST", "/workspaces", { token: u.token, body: { name: `w${i}-${j}` } })),
    ),
  );
  expect(results.every((r) => r.status === 201)).toBe(true);
  const [c] =
    await t.sql`select (select count(*)::int from workspaces) as w, (select count(*)::int from workspace_members where role = 'owner') as m`;
  expect(c).toEqual({ w: 100, m: 100 });
  const dup = await Promise.all(
    Array.from({ length: 10 }, () => t.call("POST", "/auth/signup", { body: { email: "race@example.com", password: "0123456789" } })),
  );
  expect(dup.filter((r) => r.status === 201).length).toBe(1);
  expect(dup.filter((r) => r.status === 400 && r.body.error.code === "signup_failed").length).toBe(9);
});

test("a transaction that fails midway leaves nothing behind while others proceed", async () => {
  const ok = t.sql.begin(async (tx) => {
    await tx`insert into users (id, email, password_hash) values ('tx-ok', 'tx-ok@example.com', 'x')`;
  });
  const bad = t.sql
    .begin(async (tx) => {
      await tx`insert into users (id, email, password_hash) values ('tx-bad', 'tx-bad@example.com', 'x')`;
      await tx`select 1/0`;
    })
    .catch((e) => e);
  await ok;
  expect(await bad).toBeInstanceOf(Error);
  const rows = await t.sql`select id from users where id in ('tx-ok', 'tx-bad')`;
  expect(rows.map((r) => r.id)).toEqual(["tx-ok"]);
});
