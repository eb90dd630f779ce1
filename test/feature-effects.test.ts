// Every change made through the dashboard and through the JSON API reaches the gateway at once and leaves one audit
// line: the side effects live in each feature's service, which both route layers call.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { ChangeEvent } from "../src/events.ts";
import { Client, csrfIn } from "./support/dashboard-client.ts";
import { gatewayHarness, type GatewayHarness } from "./support/gateway.ts";

let h: GatewayHarness;
let dash: Client;
let csrf: string;
const events: ChangeEvent[] = [];

beforeAll(async () => {
  h = await gatewayHarness();
  h.t.deps.events.on((e) => events.push(e));
  dash = new Client(h.t.app);
  const page = await dash.get("/login");
  const r = await dash.post("/login", { _csrf: csrfIn(page.text), email: h.owner.email, password: h.owner.password });
  expect(r.status).toBe(303);
  csrf = csrfIn((await dash.get("/app")).text);
}, 90_000);
afterAll(() => h.close());

/** Audit lines written since `from` with this message, parsed. */
const audited = (msg: string, from: number) =>
  h.t.logs
    .slice(from)
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((l) => l.msg === msg);

const chat = (key: string) => h.client(key).chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: "hi" }] });
const status = async (p: Promise<unknown>) =>
  p.then(
    () => 200,
    (err: { status?: number }) => err.status ?? 0,
  );

describe("gateway keys", () => {
  beforeAll(async () => {
    await h.addProvider("openai");
  });

  for (const via of ["dashboard", "json"] as const) {
    test(`revoked through the ${via}: the next /v1 call with the key is 401, and the revocation is audited once`, async () => {
      const { id, key } = await h.createKey(`revoke via ${via}`);
      // A call first, so the key sits in the gateway's cache as active.
      expect(await status(chat(key))).toBe(200);
      const from = h.t.logs.length;
      if (via === "dashboard") {
        const r = await dash.post(`/app/w/${h.ws.id}/keys/${id}/revoke`, { _csrf: csrf });
        expect(r.status).toBe(303);
      } else {
        const r = await h.t.call("POST", `/workspaces/${h.ws.id}/api-keys/${id}/revoke`, { token: h.owner.token });
        expect(r.status).toBe(200);
      }
      expect(await status(chat(key))).toBe(401);
      const lines = audited("api key revoked", from);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatchObject({ workspace_id: h.ws.id, api_key_id: id, user_id: h.owner.user.id });
    });

    test(`deleted through the ${via}: the next /v1 call with the key is 401`, async () => {
      const { id, key } = await h.createKey(`delete via ${via}`);
      expect(await status(chat(key))).toBe(200);
      const from = h.t.logs.length;
      const r =
        via === "dashboard"
          ? await dash.post(`/app/w/${h.ws.id}/keys/${id}/delete`, { _csrf: csrf })
          : await h.t.call("DELETE", `/workspaces/${h.ws.id}/api-keys/${id}`, { token: h.owner.token });
      expect(r.status).toBe(via === "dashboard" ? 303 : 204);
      expect(await status(chat(key))).toBe(401);
      expect(audited("api key deleted", from)).toHaveLength(1);
    });
  }
});

describe("providers", () => {
  for (const via of ["dashboard", "json"] as const) {
    test(`disabled through the ${via}: the gateway stops using it at once`, async () => {
      const { key } = await h.createKey(`providers via ${via}`);
      // The first enabled provider answers; after it is switched off the next one does.
      const providers = (await h.t.call("GET", `/workspaces/${h.ws.id}/providers`, { token: h.owner.token })).body.data as { id: string }[];
      for (const p of providers) await h.t.call("DELETE", `/workspaces/${h.ws.id}/providers/${p.id}`, { token: h.owner.token });
      const first = await h.addProvider("openai", { priority: 1 });
      const second = await h.addProvider("openai", { priority: 2 });
      expect(await status(chat(key))).toBe(200);
      expect(first.mock!.chatRequests()).toHaveLength(1);
      const from = h.t.logs.length;
      const r =
        via === "dashboard"
          ? await dash.post(`/app/w/${h.ws.id}/providers/${first.id}/enabled`, { _csrf: csrf })
          : await h.t.call("PUT", `/workspaces/${h.ws.id}/providers/${first.id}`, { token: h.owner.token, body: { enabled: false } });
      expect(r.status).toBe(via === "dashboard" ? 303 : 200);
      expect(await status(chat(key))).toBe(200);
      expect(first.mock!.chatRequests()).toHaveLength(1);
      expect(second.mock!.chatRequests()).toHaveLength(1);
      const lines = audited("provider updated", from);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatchObject({ provider_id: first.id, fields: "enabled", user_id: h.owner.user.id });
    });
  }
});

describe("workspace settings", () => {
  for (const via of ["dashboard", "json"] as const) {
    test(`limits changed through the ${via} are announced to the gateway's cache and audited`, async () => {
      const seen = events.length;
      const from = h.t.logs.length;
      const rpm = via === "dashboard" ? 111 : 222;
      const r =
        via === "dashboard"
          ? await dash.post(`/app/w/${h.ws.id}/settings/limits`, {
              _csrf: csrf,
              rpm_limit: String(rpm),
              tpm_limit: "",
              budget_usd: "",
              budget_period: "",
            })
          : await h.t.call("PUT", `/workspaces/${h.ws.id}/settings`, { token: h.owner.token, body: { rpm_limit: rpm } });
      expect(r.status).toBe(via === "dashboard" ? 303 : 200);
      expect(events.slice(seen)).toEqual([{ type: "workspace", workspace_id: h.ws.id }]);
      expect(audited("workspace settings updated", from)).toHaveLength(1);
      const stored = await h.t.call("GET", `/workspaces/${h.ws.id}/settings`, { token: h.owner.token });
      expect(stored.body.rpm_limit).toBe(rpm);
    });
  }

  test("saving unchanged settings announces nothing", async () => {
    const seen = events.length;
    const current = (await h.t.call("GET", `/workspaces/${h.ws.id}/settings`, { token: h.owner.token })).body;
    const r = await h.t.call("PUT", `/workspaces/${h.ws.id}/settings`, {
      token: h.owner.token,
      body: { log_content: current.log_content },
    });
    expect(r.status).toBe(200);
    expect(events.slice(seen)).toEqual([]);
  });
});

describe("members and invitations", () => {
  for (const via of ["dashboard", "json"] as const) {
    test(`an invitation created and revoked through the ${via} is audited once each`, async () => {
      const from = h.t.logs.length;
      const email = `invitee-${via}-${crypto.randomUUID().slice(0, 6)}@example.com`;
      let id: string;
      if (via === "dashboard") {
        expect((await dash.post(`/app/w/${h.ws.id}/invitations`, { _csrf: csrf, email, role: "member" })).status).toBe(201);
        const list = await h.t.call("GET", `/workspaces/${h.ws.id}/invitations`, { token: h.owner.token });
        id = (list.body.data as { id: string; email: string }[]).find((i) => i.email === email)!.id;
        expect((await dash.post(`/app/w/${h.ws.id}/invitations/${id}/revoke`, { _csrf: csrf })).status).toBe(303);
      } else {
        const r = await h.t.call("POST", `/workspaces/${h.ws.id}/invitations`, { token: h.owner.token, body: { email, role: "member" } });
        expect(r.status).toBe(201);
        id = r.body.id;
        expect((await h.t.call("DELETE", `/workspaces/${h.ws.id}/invitations/${id}`, { token: h.owner.token })).status).toBe(204);
      }
      expect(audited("invitation created", from)).toEqual([
        expect.objectContaining({ invitation_id: id, role: "member", user_id: h.owner.user.id }),
      ]);
      expect(audited("invitation revoked", from)).toEqual([expect.objectContaining({ invitation_id: id, user_id: h.owner.user.id })]);
    });

    test(`a member whose role is changed through the ${via} is audited once`, async () => {
      const invitee = await h.t.signup();
      const inv = await h.t.call("POST", `/workspaces/${h.ws.id}/invitations`, {
        token: h.owner.token,
        body: { email: invitee.email, role: "member" },
      });
      const from = h.t.logs.length;
      expect((await h.t.call("POST", "/invitations/accept", { token: invitee.token, body: { token: inv.body.token } })).status).toBe(200);
      const r =
        via === "dashboard"
          ? await dash.post(`/app/w/${h.ws.id}/members/${invitee.user.id}/role`, { _csrf: csrf, role: "admin" })
          : await h.t.call("PATCH", `/workspaces/${h.ws.id}/members/${invitee.user.id}`, { token: h.owner.token, body: { role: "admin" } });
      expect(r.status).toBe(via === "dashboard" ? 303 : 200);
      expect(audited("invitation accepted", from)).toEqual([expect.objectContaining({ workspace_id: h.ws.id, user_id: invitee.user.id })]);
      expect(audited("member role changed", from)).toEqual([
        expect.objectContaining({ workspace_id: h.ws.id, member_id: invitee.user.id, role: "admin", user_id: h.owner.user.id }),
      ]);
    });
  }
});
