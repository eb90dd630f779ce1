import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { testApp, type TestApp } from "./support/app.ts";

// A provider key is write-only: nobody can read it back. So it must not be possible to point an
// entry holding it at another server (or another wire format) and have the gateway send it there.

let t: TestApp;
let token: string;
let base: string;
beforeAll(async () => {
  t = await testApp();
  const u = await t.signup();
  token = u.token;
  base = `/workspaces/${(await t.workspace(u.token)).id}/providers`;
});
afterAll(() => t.close());

const KEY = "sk-write-only-0123456789abcdef";
const MESSAGE = "api_key is required when base_url's host or type changes: send the key again, or null to remove it";

async function entry(body: Record<string, unknown> = {}) {
  const r = await t.call("POST", base, {
    token,
    body: {
      name: `p-${crypto.randomUUID().slice(0, 8)}`,
      type: "openai_compatible",
      base_url: "https://llm.example.com/v1",
      api_key: KEY,
      ...body,
    },
  });
  expect(r.status).toBe(201);
  return r.body as { id: string; base_url: string; type: string };
}
const put = (id: string, body: Record<string, unknown>) => t.call("PUT", `${base}/${id}`, { token, body });
const stored = async (id: string) => (await t.sql`select type, base_url, key_ciphertext from provider_keys where id = ${id}`)[0];

describe("changing where a stored key goes", () => {
  test.each([
    ["another host", { base_url: "https://collector.attacker.example/v1" }],
    ["another port on the same host", { base_url: "https://llm.example.com:8443/v1" }],
    ["another scheme", { base_url: "http://llm.example.com/v1" }],
    ["another type", { type: "openai" }],
  ])("to %s without api_key is 422 on api_key and changes nothing", async (_, patch) => {
    const p = await entry();
    const before = await stored(p.id);
    const r = await put(p.id, { ...patch, name: "renamed-too" });
    expect(r.status).toBe(422);
    expect(r.body.error).toMatchObject({ param: "api_key", message: MESSAGE });
    const after = await stored(p.id);
    expect(after).toMatchObject({ type: before.type, base_url: before.base_url });
    expect(Buffer.compare(after.key_ciphertext, before.key_ciphertext)).toBe(0);
  });

  test("back to the type's default URL (another host) needs the key too", async () => {
    const p = await entry({ type: "openai", base_url: "https://proxy.example.com/v1" });
    const r = await put(p.id, { base_url: null });
    expect(r.status).toBe(422);
    expect(r.body.error.param).toBe("api_key");
  });

  test("with the key sent again the move is allowed", async () => {
    const p = await entry();
    const r = await put(p.id, { base_url: "https://other.example.com/v1", api_key: "sk-the-same-or-new-0123456789" });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ base_url: "https://other.example.com/v1", has_key: true, key_last4: "6789" });
  });

  test("removing the key (api_key: null) while moving is allowed", async () => {
    const p = await entry();
    const r = await put(p.id, { base_url: "https://other.example.com/v1", api_key: null });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ has_key: false, key_hint: null });
  });

  test("a new path on the same host keeps the key", async () => {
    const p = await entry();
    const before = await stored(p.id);
    const r = await put(p.id, { base_url: "https://llm.example.com/openai/v2" });
    expect(r.status).toBe(200);
    expect(Buffer.compare((await stored(p.id)).key_ciphertext, before.key_ciphertext)).toBe(0);
  });

  test("an entry without a key can move freely", async () => {
    const p = await entry({ api_key: undefined });
    const r = await put(p.id, { base_url: "https://elsewhere.example.com/v1" });
    expect(r.status).toBe(200);
  });

  test("other fields change without the key as before", async () => {
    const p = await entry();
    const r = await put(p.id, { name: "still-here", priority: 5, models: ["m"], base_url: "https://llm.example.com/v1" });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ name: "still-here", has_key: true });
  });
});
