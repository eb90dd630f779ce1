import { describe, expect, test } from "bun:test";
import { answerMode, modelIds, renameParams, stopList, toolChoiceAs, visitMessages } from "../src/adapters/common.ts";
import type { ChoiceTable, Rename } from "../src/adapters/common.ts";
import { embeddingsAdapterFor } from "../src/adapters/embeddings.ts";
import { adapterFor } from "../src/adapters/index.ts";
import { providerError, type ChatRequest } from "../src/adapters/types.ts";
import { ChatCompletionBody } from "../src/gateway/model.ts";
import { PROVIDER_CATALOG, PROVIDER_TYPES } from "../src/providers/catalog.ts";
import * as v from "valibot";

const req = (extra: Record<string, unknown>): ChatRequest => ({ model: "m", messages: [{ role: "user", content: "hi" }], ...extra });

describe("adapters follow the provider catalog", () => {
  for (const type of PROVIDER_TYPES) {
    test(`${type}: the adapter speaks the catalog's wire format, embeddings only where the provider has them`, () => {
      expect(adapterFor(type).format).toBe(PROVIDER_CATALOG[type].format);
      expect(embeddingsAdapterFor(type) === null).toBe(PROVIDER_CATALOG[type].format === "anthropic");
    });
  }

  test("a type the catalog does not know has no chat adapter", () => {
    expect(() => adapterFor("toString")).toThrow("unknown provider type 'toString'");
  });
});

describe("flat parameter renames", () => {
  test("bare names carry numbers only; mapped names carry what the mapping returns", () => {
    const out: Record<string, unknown> = {};
    const table: Record<string, Rename> = { temperature: "t", top_k: "k", seed: "s", stop: ["stops", stopList] };
    renameParams(req({ temperature: 0.5, top_k: "7", stop: "END", seed: null }), table, out);
    expect(out).toEqual({ t: 0.5, stops: ["END"] });
  });

  test("a mapping sees the whole request", () => {
    const out: Record<string, unknown> = {};
    renameParams(req({ top_p: 0.9, temperature: 0.2 }), { top_p: ["p", (p, r) => (r.temperature === undefined ? p : undefined)] }, out);
    expect(out).toEqual({});
  });

  const stops: [unknown, unknown[] | undefined][] = [
    ["", undefined],
    [[], undefined],
    ["x", ["x"]],
    [
      ["a", "b"],
      ["a", "b"],
    ],
    [5, undefined],
  ];
  for (const [stop, expected] of stops) {
    test(`stop ${JSON.stringify(stop)} becomes ${JSON.stringify(expected)}`, () => {
      expect(stopList(stop)).toEqual(expected);
    });
  }
});

describe("tool_choice tables", () => {
  const table: ChoiceTable<Record<string, unknown>> = {
    none: { m: "N" },
    auto: { m: "A" },
    required: { m: "R" },
    named: (name) => ({ m: "F", name }),
  };

  test("each request gets its own object, so one request's change cannot leak into the next", () => {
    const first = toolChoiceAs("auto", table)!;
    first.extra = true;
    expect(toolChoiceAs("auto", table)).toEqual({ m: "A" });
  });

  test("named functions and absence", () => {
    expect(toolChoiceAs({ type: "function", function: { name: "f" } }, table)).toEqual({ m: "F", name: "f" });
    expect(toolChoiceAs(null, table)).toBeUndefined();
  });

  const modes: [unknown, ReturnType<typeof answerMode>][] = [
    [undefined, "any"],
    ["auto", "any"],
    ["none", "answer"],
    ["required", "keep"],
    [{ type: "function", function: { name: "f" } }, "keep"],
  ];
  for (const [choice, mode] of modes) {
    test(`with JSON asked for, tool_choice ${JSON.stringify(choice)} gives the answer tool mode ${mode}`, () => {
      expect(answerMode(choice)).toBe(mode);
    });
  }
});

describe("the message walk", () => {
  test("a request the schema accepted is walked by role, tool-call arguments parsed once", () => {
    const parsed = v.parse(ChatCompletionBody, {
      model: "m",
      messages: [
        { role: "system", content: "s" },
        { role: "assistant", content: null, tool_calls: [{ id: "c1", type: "function", function: { name: "f", arguments: '{"a":1}' } }] },
        { role: "tool", tool_call_id: "c1", content: "ok" },
      ],
    });
    const seen: string[] = [];
    visitMessages(parsed.messages, {
      system: (_m, p) => seen.push(`system ${p}`),
      user: (_m, p) => seen.push(`user ${p}`),
      assistant: (_m, calls, p) => seen.push(`assistant ${p} ${JSON.stringify(calls)}`),
      tool: (m, p) => seen.push(`tool ${p} ${m.tool_call_id}`),
    });
    const call = JSON.stringify([{ id: "c1", name: "f", input: { a: 1 } }]);
    expect(seen).toEqual(["system messages[0]", `assistant messages[1] ${call}`, "tool messages[2] c1"]);
  });

  test("requests built without the schema (Responses, Messages) are still refused when empty", () => {
    const ignore = { system() {}, user() {}, assistant() {}, tool() {} };
    expect(() => visitMessages([], ignore)).toThrow("messages must be a non-empty array");
  });
});

describe("shared response pieces", () => {
  test("model lists strip Gemini's models/ prefix from names only", () => {
    expect(modelIds([{ name: "models/gemini-2.5-pro" }, { name: "" }, 3], "name")).toEqual(["gemini-2.5-pro"]);
    expect(modelIds([{ id: "models/x" }, { id: "gpt-4o" }], "id")).toEqual(["models/x", "gpt-4o"]);
    expect(modelIds(undefined, "id")).toEqual([]);
  });

  test("a provider error keeps the upstream status and waits only where waiting helps", () => {
    const headers = new Headers({ "retry-after": "3" });
    const limited = providerError("rate_limit", "slow down", 429, headers);
    expect(limited).toMatchObject({ upstreamStatus: 429, retryAfterMs: 3000, status: 429 });
    expect(providerError("bad_request", "no", 400, headers)).not.toHaveProperty("retryAfterMs");
    // Without the header, the body's hint (Gemini's RetryInfo) is used.
    expect(providerError("overloaded", "busy", undefined, null, {}, () => 1500)).toMatchObject({ retryAfterMs: 1500 });
    expect(providerError("overloaded", "busy", 503, headers, {}, () => 1500).retryAfterMs).toBe(3000);
  });
});
