import { describe, expect, test } from "bun:test";
import prices from "../src/telemetry/prices.json" with { type: "json" };
import { candidateNames, costFor, findPrice, PRICES_AS_OF, type ModelPrice, type PriceUsage } from "../src/telemetry/pricing.ts";
import { estimatePromptTokens, estimateTokens, IMAGE_TOKENS, MESSAGE_OVERHEAD, REPLY_PRIMING } from "../src/telemetry/estimate.ts";
import { usageFromOpenAI } from "../src/adapters/types.ts";
import { anthropicUsage } from "../src/adapters/anthropic-response.ts";
import { geminiUsage } from "../src/adapters/gemini-response.ts";

const table = prices.models as Record<string, ModelPrice>;

/** The cost the table implies, computed independently of pricing.ts. */
function expected(p: ModelPrice, u: { uncached: number; cached?: number; written?: number; output: number }): number {
  const micro =
    u.uncached * p.input +
    (u.cached ?? 0) * (p.cached_input ?? p.input) +
    (u.written ?? 0) * (p.cache_write ?? p.input) +
    u.output * p.output;
  return Math.round((micro / 1e6) * 1e10) / 1e10;
}

describe("the price table", () => {
  test("says when it was taken and every entry is well formed", () => {
    expect(PRICES_AS_OF).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    for (const [name, p] of Object.entries(table)) {
      for (const rates of [p, p.long_context].filter(Boolean) as ModelPrice[]) {
        for (const k of ["input", "output", "cached_input", "cache_write"] as const) {
          if (rates[k] !== undefined) expect(Number.isFinite(rates[k]) && rates[k]! >= 0, `${name}.${k}`).toBe(true);
        }
        if (rates.cached_input !== undefined) expect(rates.cached_input, `${name} cached ≤ input`).toBeLessThanOrEqual(rates.input);
      }
    }
  });

  test("holds the list prices the cost tests below rely on", () => {
    expect(table["gpt-4o"]).toEqual({ input: 2.5, cached_input: 1.25, output: 10 });
    expect(table["claude-sonnet-4-5"]).toMatchObject({ input: 3, cached_input: 0.3, cache_write: 3.75, output: 15 });
    expect(table["gemini-2.5-flash"]).toEqual({ input: 0.3, cached_input: 0.03, output: 2.5 });
  });
});

describe("costFor", () => {
  test("OpenAI: cached prompt tokens are billed at cached_input and not again as input", () => {
    const usage = usageFromOpenAI({
      prompt_tokens: 1000,
      completion_tokens: 200,
      total_tokens: 1200,
      prompt_tokens_details: { cached_tokens: 400 },
      completion_tokens_details: { reasoning_tokens: 0 },
    })!;
    const cost = costFor("gpt-4o", usage);
    expect(cost).toBe(expected(table["gpt-4o"], { uncached: 600, cached: 400, output: 200 }));
    expect(cost).toBe(0.004); // 600×2.50 + 400×1.25 + 200×10.00 per million
  });

  test("OpenAI reasoning models: reasoning tokens are inside completion_tokens and billed once, as output", () => {
    const usage = usageFromOpenAI({
      prompt_tokens: 50,
      completion_tokens: 1000,
      total_tokens: 1050,
      completion_tokens_details: { reasoning_tokens: 800 },
    })!;
    expect(costFor("o4-mini", usage)).toBe(expected(table["o4-mini"], { uncached: 50, output: 1000 }));
  });

  test("Anthropic: cache reads at cached_input, cache writes at cache_write, the rest at input", () => {
    const usage = anthropicUsage({
      input_tokens: 100,
      cache_read_input_tokens: 1000,
      cache_creation_input_tokens: 500,
      output_tokens: 300,
    })!;
    expect(usage.prompt_tokens).toBe(1600);
    const cost = costFor("claude-sonnet-4-5-20250929", usage);
    expect(cost).toBe(expected(table["claude-sonnet-4-5"], { uncached: 100, cached: 1000, written: 500, output: 300 }));
    expect(cost).toBe(0.006975);
  });

  test("Gemini: thinking tokens are billed as output, cached content at cached_input", () => {
    const usage = geminiUsage({
      promptTokenCount: 1000,
      candidatesTokenCount: 200,
      thoughtsTokenCount: 300,
      cachedContentTokenCount: 400,
      totalTokenCount: 1500,
    })!;
    expect(usage).toMatchObject({ prompt_tokens: 1000, completion_tokens: 500, cached_tokens: 400, reasoning_tokens: 300 });
    const cost = costFor("models/gemini-2.5-flash", usage);
    expect(cost).toBe(expected(table["gemini-2.5-flash"], { uncached: 600, cached: 400, output: 500 }));
    expect(cost).toBe(0.001442);
  });

  test("a prompt over the long-context threshold bills the whole request at the long rates", () => {
    const long = table["gemini-2.5-pro"].long_context!;
    expect(costFor("gemini-2.5-pro", { prompt_tokens: 250_000, completion_tokens: 1000 })).toBe(
      expected({ ...long }, { uncached: 250_000, output: 1000 }),
    );
    expect(costFor("gemini-2.5-pro", { prompt_tokens: 200_000, completion_tokens: 1000 })).toBe(
      expected(table["gemini-2.5-pro"], { uncached: 200_000, output: 1000 }),
    );
  });

  test("a model without a cached price bills cached tokens at its input price", () => {
    expect(costFor("gpt-4-turbo", { prompt_tokens: 100, completion_tokens: 0, cached_tokens: 60 })).toBe(
      expected(table["gpt-4-turbo"], { uncached: 100, output: 0 }),
    );
  });

  test("cached tokens beyond the prompt are not billed twice", () => {
    expect(costFor("gpt-4o", { prompt_tokens: 100, completion_tokens: 0, cached_tokens: 1000 })).toBe(
      expected(table["gpt-4o"], { uncached: 0, cached: 100, output: 0 }),
    );
  });

  test("an unknown model costs null, never 0 — even with no tokens", () => {
    expect(costFor("my-finetune-7b", { prompt_tokens: 1000, completion_tokens: 10 })).toBeNull();
    expect(costFor("my-finetune-7b", { prompt_tokens: 0, completion_tokens: 0 })).toBeNull();
    expect(costFor("", { prompt_tokens: 1, completion_tokens: 1 })).toBeNull();
  });

  test("a known model with no tokens costs 0", () => {
    expect(costFor("gpt-4o", { prompt_tokens: 0, completion_tokens: 0 })).toBe(0);
  });

  test("junk token counts are read as 0 rather than producing NaN", () => {
    expect(costFor("gpt-4o", { prompt_tokens: Number.NaN, completion_tokens: -5 } as PriceUsage)).toBe(0);
  });
});

describe("model name matching", () => {
  test.each([
    ["gpt-4o-2024-08-06", "gpt-4o"],
    ["gpt-4o-mini-2024-07-18", "gpt-4o-mini"],
    ["claude-3-5-sonnet-20241022", "claude-3-5-sonnet"],
    ["claude-3-5-sonnet-latest", "claude-3-5-sonnet"],
    ["claude-sonnet-4-0", "claude-sonnet-4"],
    ["models/gemini-1.5-pro-002", "gemini-1.5-pro"],
    ["gemini-2.0-flash-001", "gemini-2.0-flash"],
    ["mistral-large-2411", "mistral-large"],
    ["GPT-4O", "gpt-4o"],
  ])("%s is priced as %s", (model, family) => {
    expect(findPrice(model)).toBe(table[family]);
  });

  test("an exact entry beats its family: gpt-4o-2024-05-13 has its own price", () => {
    expect(findPrice("gpt-4o-2024-05-13")).toBe(table["gpt-4o-2024-05-13"]);
    expect(findPrice("gpt-4o-2024-05-13")).not.toEqual(table["gpt-4o"]);
  });

  test("candidate names go from most to least specific", () => {
    expect(candidateNames("models/gemini-1.5-flash-002")).toEqual([
      "models/gemini-1.5-flash-002",
      "gemini-1.5-flash-002",
      "gemini-1.5-flash",
    ]);
    expect(candidateNames("gpt-4o-2024-08-06")).toEqual(["gpt-4o-2024-08-06", "gpt-4o"]);
  });

  test("a name is not shortened into a different model", () => {
    expect(findPrice("gpt-4o-mini-tts")).toBeNull();
    expect(findPrice("gpt-4.1-turbo-2031")).toBeNull();
  });
});

describe("price overrides (provider entry pricing)", () => {
  const usage = { prompt_tokens: 1_000_000, completion_tokens: 1_000_000 };

  test("an exact override beats the table", () => {
    expect(costFor("gpt-4o", usage, { "gpt-4o": { input: 1, output: 2 } })).toBe(3);
  });

  test("an override prices a model the table does not know", () => {
    expect(costFor("llama-local", usage, { "llama-local": { input: 0.1, output: 0.2, cached_input: 0.05 } })).toBe(0.3);
  });

  test("patterns match, the longest first; exact names beat patterns", () => {
    const overrides = {
      "*": { input: 9, output: 9 },
      "gpt-4o*": { input: 1, output: 1 },
      "gpt-4o-mini*": { input: 0.5, output: 0.5 },
      "gpt-4o-mini-exact": { input: 0, output: 7 },
    };
    expect(costFor("gpt-4o-2024-08-06", usage, overrides)).toBe(2);
    expect(costFor("gpt-4o-mini-2024-07-18", usage, overrides)).toBe(1);
    expect(costFor("gpt-4o-mini-exact", usage, overrides)).toBe(7);
    expect(costFor("anything-else", usage, overrides)).toBe(18);
  });

  test("an override for the family name covers its dated snapshots", () => {
    expect(costFor("claude-3-5-haiku-20241022", usage, { "claude-3-5-haiku": { input: 1, output: 1 } })).toBe(2);
  });

  test("cached tokens use the override's cached_input, or its input when it has none", () => {
    const u = { prompt_tokens: 1_000_000, completion_tokens: 0, cached_tokens: 500_000 };
    expect(costFor("x", u, { x: { input: 2, output: 0, cached_input: 1 } })).toBe(1.5);
    expect(costFor("x", u, { x: { input: 2, output: 0 } })).toBe(2);
  });

  test("a malformed override is ignored and the table applies", () => {
    const bad = { "gpt-4o": { input: -1, output: 2 } };
    expect(costFor("gpt-4o", { prompt_tokens: 1000, completion_tokens: 0 }, bad)).toBe(
      expected(table["gpt-4o"], { uncached: 1000, output: 0 }),
    );
  });
});

describe("token estimates", () => {
  test("text: a token per 4 ASCII characters, rounded up, and one per other code point", () => {
    expect(estimateTokens("")).toBe(0);
    expect(estimateTokens(null)).toBe(0);
    expect(estimateTokens("abcd")).toBe(1);
    expect(estimateTokens("abcde")).toBe(2);
    expect(estimateTokens("日本語")).toBe(3);
    expect(estimateTokens("😀")).toBe(1); // one code point, two UTF-16 units
    expect(estimateTokens("a".repeat(400))).toBe(100);
  });

  test("chat prompts: message text plus a fixed overhead per message and for the reply", () => {
    const messages = [
      { role: "system", content: "a".repeat(40) },
      {
        role: "user",
        content: [
          { type: "text", text: "b".repeat(8) },
          { type: "image_url", image_url: { url: "data:," } },
        ],
      },
      { role: "assistant", content: null, tool_calls: [{ id: "c1", type: "function", function: { name: "get", arguments: '{"q":1}' } }] },
    ];
    const text = 10 + 2 + IMAGE_TOKENS + estimateTokens("get") + estimateTokens('{"q":1}');
    expect(estimatePromptTokens(messages)).toBe(REPLY_PRIMING + 3 * MESSAGE_OVERHEAD + text);
    expect(estimatePromptTokens([])).toBe(0);
  });
});
