import { describe, expect, test } from "bun:test";
import { Cooldowns, listedModels, matchesModel, parsePin, selectCandidates, serves } from "../src/gateway/router.ts";
import type { ProviderConfig } from "../src/providers/model.ts";

const entry = (over: Partial<ProviderConfig>): ProviderConfig => ({
  id: over.name ?? "p",
  name: "p",
  type: "openai",
  format: "openai",
  base_url: "http://127.0.0.1:1/v1",
  api_key: null,
  priority: 10,
  enabled: true,
  models: [],
  model_map: {},
  timeout_ms: 60_000,
  pricing: {},
  ...over,
});

describe("model patterns", () => {
  test.each([
    ["gpt-4o", "gpt-4o", true],
    ["gpt-4o", "GPT-4o", true],
    ["gpt-4o", "gpt-4o-mini", false],
    ["gpt-4o*", "gpt-4o-mini", true],
    ["*-mini", "gpt-4o-mini", true],
    ["claude-*-4-5", "claude-sonnet-4-5", true],
    ["claude-*-4-5", "claude-sonnet-4-1", false],
    ["a.b", "axb", false],
    ["*", "anything/at all", true],
  ])("%s matches %s: %s", (pattern, model, expected) => {
    expect(matchesModel(pattern, model)).toBe(expected);
  });

  test("an entry with no patterns serves any model; an alias counts as served", () => {
    expect(serves(entry({}), "whatever")).toBe(true);
    expect(serves(entry({ models: ["gpt-4o"] }), "fast")).toBe(false);
    expect(serves(entry({ models: ["gpt-4o"], model_map: { fast: "gpt-4o-mini" } }), "fast")).toBe(true);
  });
});

describe("pinning", () => {
  const providers = [entry({ name: "openrouter" }), entry({ name: "Main" })];
  test.each([
    ["main/gpt-4o", "Main", "gpt-4o"],
    ["openrouter/openai/gpt-4o", "openrouter", "openai/gpt-4o"],
    ["openai/gpt-4o", null, "openai/gpt-4o"],
    ["/gpt-4o", null, "/gpt-4o"],
    ["gpt-4o", null, "gpt-4o"],
  ])("%s pins %s and asks for %s", (requested, pinned, model) => {
    const r = parsePin(requested, providers);
    expect(r.pinned?.name ?? null).toBe(pinned);
    expect(r.model).toBe(model);
  });
});

describe("candidates", () => {
  test("enabled matching entries by priority, mapped, cooling ones last", () => {
    let now = 1_000_000;
    const cd = new Cooldowns(() => now);
    const providers = [
      entry({ id: "c", name: "c", priority: 30 }),
      entry({ id: "a", name: "a", priority: 10, model_map: { fast: "gpt-4o-mini" } }),
      entry({ id: "b", name: "b", priority: 20 }),
      entry({ id: "off", name: "off", priority: 1, enabled: false }),
      entry({ id: "other", name: "other", priority: 5, models: ["claude-*"] }),
    ];
    const pick = (model: string) => selectCandidates(providers, model, cd).candidates.map((c) => `${c.provider.id}:${c.upstreamModel}`);
    expect(pick("fast")).toEqual(["a:gpt-4o-mini", "b:fast", "c:fast"]);
    cd.cool("a", 30_000);
    expect(pick("fast")).toEqual(["b:fast", "c:fast", "a:gpt-4o-mini"]);
    now += 31_000;
    expect(pick("fast")).toEqual(["a:gpt-4o-mini", "b:fast", "c:fast"]);
    expect(selectCandidates(providers, "off/x", cd).candidates).toEqual([]);
  });

  test("cooldowns are clamped between 1 s and 5 min and never shortened by a later, shorter one", () => {
    let now = 0;
    const cd = new Cooldowns(() => now);
    cd.cool("x", 10);
    now = 999;
    expect(cd.isCooling("x")).toBe(true);
    now = 1_001;
    expect(cd.isCooling("x")).toBe(false);
    cd.cool("y", 60 * 60_000);
    cd.cool("y", 2_000);
    now += 5 * 60_000 - 1;
    expect(cd.isCooling("y")).toBe(true);
    now += 2;
    expect(cd.isCooling("y")).toBe(false);
  });

  test("listed models are explicit names and aliases of enabled entries, without wildcards", () => {
    const ids = listedModels([
      entry({ name: "a", models: ["gpt-4o", "gpt-4o-*"], model_map: { fast: "gpt-4o-mini" } }),
      entry({ name: "b", models: ["gpt-4o", "claude-x"] }),
      entry({ name: "c", models: ["hidden"], enabled: false }),
    ]);
    expect(ids).toEqual([
      { id: "fast", owned_by: "a" },
      { id: "gpt-4o", owned_by: "a" },
      { id: "claude-x", owned_by: "b" },
    ]);
  });
});
