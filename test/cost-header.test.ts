import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { gatewayHarness, type GatewayHarness } from "./support/gateway.ts";
import { formatCost } from "../src/gateway/relay.ts";
import { costFor } from "../src/telemetry/pricing.ts";

describe("formatCost", () => {
  test("plain decimals, never exponents; null for unknown", () => {
    expect(formatCost(0.000123)).toBe("0.000123");
    expect(formatCost(1.5e-7)).toBe("0.00000015");
    expect(formatCost(2)).toBe("2");
    expect(formatCost(0)).toBe("0");
    expect(formatCost(12.5)).toBe("12.5");
    expect(formatCost(null)).toBeNull();
    expect(formatCost(Number.NaN)).toBeNull();
    expect(formatCost(-1)).toBeNull();
  });
});

describe("x-perpetuo-cost on chat answers", () => {
  let h: GatewayHarness;
  beforeAll(async () => {
    h = await gatewayHarness();
    await h.addProvider("openai", { models: ["gpt-4o-mini", "unpriced-model"] });
  });
  afterAll(() => h.close());

  test("a non-streamed answer with a known price carries its cost, the same as the log row", async () => {
    const { data, response } = await h
      .client()
      .chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: "price me" }] })
      .withResponse();
    const want = formatCost(
      costFor(data.model, { prompt_tokens: data.usage!.prompt_tokens, completion_tokens: data.usage!.completion_tokens }),
    );
    expect(want).not.toBeNull();
    expect(response.headers.get("x-perpetuo-cost")).toBe(want);
    await h.t.deps.logQueue.flush();
    const logs = await h.t.call("GET", `/workspaces/${h.ws.id}/logs`, { token: h.owner.token });
    const row = logs.body.items.find((i: any) => i.model_requested === "gpt-4o-mini");
    expect(formatCost(row.cost_usd)).toBe(want);
  });

  test("an unknown price sends no header", async () => {
    const { response } = await h
      .client()
      .chat.completions.create({ model: "unpriced-model", messages: [{ role: "user", content: "x" }] })
      .withResponse();
    expect(response.status).toBe(200);
    expect(response.headers.get("x-perpetuo-cost")).toBeNull();
  });

  test("streams send headers before usage is known: no cost header", async () => {
    const res = await fetch(`${h.base}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${h.key}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "gpt-4o-mini", stream: true, messages: [{ role: "user", content: "stream" }] }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-perpetuo-provider")).not.toBeNull();
    expect(res.headers.get("x-perpetuo-cost")).toBeNull();
    await res.text();
  });
});
