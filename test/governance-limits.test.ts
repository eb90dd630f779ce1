import { describe, expect, test } from "bun:test";
import {
  budgetMessage,
  checkBudget,
  checkRate,
  formatDuration,
  periodEnd,
  periodStart,
  rateHeaders,
  rateMessage,
  windowStart,
  type RateScope,
} from "../src/governance/limits.ts";
import { DEFAULT_COMPLETION_ESTIMATE, estimateChatTokens } from "../src/governance/admit.ts";
import { estimatePromptTokens } from "../src/telemetry/estimate.ts";

// The limiter's arithmetic, without a database or a clock.
const scope = (kind: "key" | "workspace", rpm: number | null, tpm: number | null, requests = 0, tokens = 0): RateScope => ({
  kind,
  limits: { rpm, tpm, budget: null },
  used: { requests, tokens },
});

describe("rate checks", () => {
  test("a scope admits exactly rpm requests per window: the (rpm+1)th is refused", () => {
    for (let used = 0; used < 5; used++) expect(checkRate([scope("key", 5, null, used)], 0).ok).toBe(true);
    expect(checkRate([scope("key", 5, null, 5)], 0)).toEqual({ ok: false, kind: "key", what: "requests", limit: 5, used: 5, asked: 1 });
  });

  test("tokens are admitted while the estimate fits in what tpm leaves", () => {
    expect(checkRate([scope("key", null, 100, 0, 60)], 40).ok).toBe(true);
    expect(checkRate([scope("key", null, 100, 0, 61)], 40)).toMatchObject({ ok: false, what: "tokens", limit: 100 });
  });

  test("the key is named when both key and workspace are full; the workspace when only it is", () => {
    expect(checkRate([scope("key", 1, null, 1), scope("workspace", 1, null, 1)], 0)).toMatchObject({ kind: "key" });
    expect(checkRate([scope("key", 9, null, 1), scope("workspace", 1, null, 1)], 0)).toMatchObject({ kind: "workspace" });
  });

  test("the refusal message says whose limit, which quantity, and when to retry", () => {
    const v = checkRate([scope("workspace", null, 1000, 0, 990)], 20);
    if (v.ok) throw new Error("expected a refusal");
    expect(rateMessage(v, 12_000)).toBe(
      "rate limit exceeded: this workspace's limit of 1000 tokens per minute (990 used, this request is estimated at 20); retry in 12s",
    );
    const alone = checkRate([scope("key", null, 10, 0, 0)], 50);
    if (alone.ok) throw new Error("expected a refusal");
    expect(rateMessage(alone, 1000)).toContain("this request alone is estimated at 50 tokens");
  });
});

describe("headers", () => {
  test("the tighter of key and workspace is reported, per quantity", () => {
    const h = rateHeaders([scope("key", 10, 1000, 3, 900), scope("workspace", 100, 5000, 95, 100)], 42_000);
    expect(h).toEqual({
      "x-ratelimit-limit-requests": "100",
      "x-ratelimit-remaining-requests": "5",
      "x-ratelimit-reset-requests": "42s",
      "x-ratelimit-limit-tokens": "1000",
      "x-ratelimit-remaining-tokens": "100",
      "x-ratelimit-reset-tokens": "42s",
    });
  });

  test("a quantity nobody limits has no headers; remaining never goes below zero", () => {
    expect(rateHeaders([scope("key", 2, null, 5)], 1000)).toEqual({
      "x-ratelimit-limit-requests": "2",
      "x-ratelimit-remaining-requests": "0",
      "x-ratelimit-reset-requests": "1s",
    });
    expect(rateHeaders([], 1000)).toEqual({});
  });

  test("durations are written as OpenAI writes them", () => {
    expect([0, 20, 999, 1000, 1001, 59_000, 60_000, 360_000, 3_723_000].map(formatDuration)).toEqual([
      "0ms",
      "20ms",
      "999ms",
      "1s",
      "2s",
      "59s",
      "1m0s",
      "6m0s",
      "1h2m3s",
    ]);
  });
});

describe("windows and periods (UTC)", () => {
  const t = Date.UTC(2031, 1, 28, 23, 59, 30, 500);

  test("a window is the UTC minute", () => {
    expect(windowStart(t)).toBe(Date.UTC(2031, 1, 28, 23, 59, 0));
  });

  test("a day ends at the next UTC midnight, a month on the first of the next, total never", () => {
    expect(periodStart("day", t)).toBe(Date.UTC(2031, 1, 28));
    expect(periodEnd("day", t)).toBe(Date.UTC(2031, 2, 1));
    expect(periodStart("month", t)).toBe(Date.UTC(2031, 1, 1));
    expect(periodEnd("month", Date.UTC(2031, 11, 31, 12))).toBe(Date.UTC(2032, 0, 1));
    expect(periodStart("total", t)).toBe(0);
    expect(periodEnd("total", t)).toBeNull();
  });
});

describe("budgets", () => {
  test("admitted while spend is below the budget, refused from the moment it is reached", () => {
    const b = (spent: number) => [{ kind: "key" as const, budget: { usd: 1, period: "day" as const }, spent }];
    expect(checkBudget(b(0.999999))).toBeNull();
    expect(checkBudget(b(1))).toMatchObject({ spent: 1 });
    expect(checkBudget(b(1.5))).toMatchObject({ spent: 1.5 });
  });

  test("the message names the budget, its period and when it resets", () => {
    const now = Date.UTC(2031, 4, 17, 8);
    expect(budgetMessage({ kind: "workspace", budget: { usd: 25, period: "month" }, spent: 25.5 }, now)).toBe(
      "budget exceeded: this workspace's budget of $25.00 per month (UTC) is spent ($25.50 used); it resets at 2031-06-01T00:00:00.000Z",
    );
    expect(budgetMessage({ kind: "key", budget: { usd: 0.5, period: "total" }, spent: 0.5 }, now)).toBe(
      "budget exceeded: this API key's budget of $0.5000 in total is spent ($0.5000 used); it resets never",
    );
  });
});

describe("token estimate", () => {
  const messages = [{ role: "user", content: "hello there, how are you?" }];
  test("prompt estimate plus max_tokens (or max_completion_tokens) per choice", () => {
    const prompt = estimatePromptTokens(messages);
    expect(estimateChatTokens({ messages, max_tokens: 100 })).toBe(prompt + 100);
    expect(estimateChatTokens({ messages, max_tokens: 100, max_completion_tokens: 40, n: 2 })).toBe(prompt + 80);
  });
  test("without a cap, the documented default completion estimate", () => {
    expect(estimateChatTokens({ messages })).toBe(estimatePromptTokens(messages) + DEFAULT_COMPLETION_ESTIMATE);
  });
});
