import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { gatewayHarness, type GatewayHarness } from "./support/gateway.ts";

// The hot POST endpoints are answered by gateway/v1.ts, past Elysia's lifecycle: these pin what
// that path must still do, and that the dashboard's page headers stay off it.
describe("the lean /v1 path", () => {
  let h: GatewayHarness;
  beforeAll(async () => {
    h = await gatewayHarness({ config: { corsOrigins: ["https://app.example"] } });
    await h.addProvider("openai");
  });
  afterAll(() => h.close());
  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${h.base}${path}`, {
      method: "POST",
      headers: { authorization: `Bearer ${h.key}`, "content-type": "application/json", origin: "https://app.example", ...headers },
      body: typeof body === "string" ? body : JSON.stringify(body),
    });

  test("answers with the gateway's headers and CORS, without the dashboard's page headers", async () => {
    const body = { model: "gpt-4o-mini", messages: [{ role: "user", content: "x" }] };
    const res = await post("/v1/chat/completions/", body, { "x-request-id": "req-lean-1" });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-request-id")).toBe("req-lean-1");
    expect(res.headers.get("x-perpetuo-attempts")).toBe("1");
    expect(res.headers.get("access-control-allow-origin")).toBe("https://app.example");
    expect(res.headers.get("content-security-policy")).toBeNull();
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    // Routes left to Elysia keep them.
    const models = await fetch(`${h.base}/v1/models`, { headers: { authorization: `Bearer ${h.key}` } });
    expect(models.headers.get("content-security-policy")).not.toBeNull();
  });

  test("refusals keep OpenAI's shape, a request id, CORS and their log row", async () => {
    const cases: [Response, number, string][] = [
      [await post("/v1/chat/completions", { model: "gpt-4o-mini", messages: [] }), 400, "invalid_value"],
      [await post("/v1/embeddings", "{not json"), 400, "invalid_json"],
      [await post("/v1/responses", { model: "gpt-4o-mini", input: "x" }, { authorization: "Bearer prp_nope" }), 401, "invalid_api_key"],
    ];
    for (const [res, status, code] of cases) {
      expect(res.status).toBe(status);
      const body = await res.json();
      expect(body.error.code).toBe(code);
      expect(typeof body.error.message).toBe("string");
      expect(res.headers.get("x-request-id")).toMatch(/^req_/);
      expect(res.headers.get("access-control-allow-origin")).toBe("https://app.example");
    }
    await h.t.deps.logQueue.flush();
    const rows = await h.t.sql`
      select endpoint, status, error_class from request_logs where api_key_id = ${h.keyId} and status = 400 order by endpoint`;
    expect([...rows]).toEqual([
      { endpoint: "chat", status: 400, error_class: "invalid_request" },
      { endpoint: "embeddings", status: 400, error_class: "invalid_request" },
    ]);
  });
});
