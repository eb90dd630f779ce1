import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import OpenAI from "openai";
import { gatewayHarness, type GatewayHarness } from "./support/gateway.ts";
import { modelIdFromPath } from "../src/gateway/routes.ts";

// GET /v1/models/{id} through the SDK's client.models.retrieve, which percent-encodes the id.

describe("GET /v1/models/{id}", () => {
  let h: GatewayHarness;
  let listed: Awaited<ReturnType<GatewayHarness["addProvider"]>>;
  let open: Awaited<ReturnType<GatewayHarness["addProvider"]>>;
  let wild: Awaited<ReturnType<GatewayHarness["addProvider"]>>;
  beforeAll(async () => {
    h = await gatewayHarness();
    listed = await h.addProvider("openai", { models: ["gpt-4o-mini"], model_map: { fast: "gpt-4o-mini" } });
    // Serves anything; what exists is what its provider lists.
    open = await h.addProvider("openai", {}, { models: ["openrouter/openai/gpt-4o", "mistral-small"] });
    wild = await h.addProvider("anthropic", { models: ["claude-*"] });
  });
  afterAll(() => h.close());

  test("a listed model, an alias and a provider-listed id with slashes each match what GET /v1/models lists", async () => {
    const list = await h.client().models.list();
    const ids = list.data.map((m) => m.id);
    for (const id of ["gpt-4o-mini", "fast", "openrouter/openai/gpt-4o"]) {
      expect(ids).toContain(id);
      const m = await h.client().models.retrieve(id);
      const fromList = list.data.find((x) => x.id === id)!;
      expect(m).toMatchObject({ id, object: "model", owned_by: fromList.owned_by });
      expect(typeof m.created).toBe("number");
    }
    expect((await h.client().models.retrieve("fast")).owned_by).toBe(listed.name);
    expect((await h.client().models.retrieve("openrouter/openai/gpt-4o")).owned_by).toBe(open.name);
  });

  test("an unencoded slash path works too", async () => {
    const res = await fetch(`${h.base}/v1/models/openrouter/openai/gpt-4o`, { headers: { authorization: `Bearer ${h.key}` } });
    expect(res.status).toBe(200);
    expect((await res.json()).id).toBe("openrouter/openai/gpt-4o");
  });

  test("a model only a wildcard pattern covers is served by that entry", async () => {
    const m = await h.client().models.retrieve("claude-sonnet-4-5");
    expect(m).toMatchObject({ id: "claude-sonnet-4-5", owned_by: wild.name });
  });

  test("an unknown model is a 404 in OpenAI's shape (the SDK's NotFoundError)", async () => {
    const err = await h
      .client()
      .models.retrieve("no-such-model")
      .catch((e) => e);
    expect(err).toBeInstanceOf(OpenAI.NotFoundError);
    expect(err.status).toBe(404);
    expect(err.error).toMatchObject({ code: "model_not_found", param: "model", type: "invalid_request_error" });
    expect(err.error.message).toContain("no-such-model");
  });

  test("a malformed escape is a 404 too, not a 500; no key is a 401", async () => {
    const bad = await fetch(`${h.base}/v1/models/%E0%A4%A`, { headers: { authorization: `Bearer ${h.key}` } });
    expect(bad.status).toBe(404);
    expect((await bad.json()).error.code).toBe("model_not_found");
    const anon = await fetch(`${h.base}/v1/models/gpt-4o-mini`);
    expect(anon.status).toBe(401);
  });

  test("modelIdFromPath decodes, and refuses what cannot be an id", () => {
    expect(modelIdFromPath("a%2Fb")).toBe("a/b");
    expect(modelIdFromPath("")).toBeNull();
    expect(modelIdFromPath("%ZZ")).toBeNull();
    expect(modelIdFromPath("a%0Ab")).toBeNull();
    expect(modelIdFromPath("x".repeat(257))).toBeNull();
  });
});
