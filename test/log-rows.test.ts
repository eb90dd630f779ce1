import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Database, Sql } from "../src/db/client.ts";
import { LOG_BODY_LIMIT } from "../src/telemetry/content.ts";
import { LogQueue } from "../src/telemetry/log-queue.ts";
import { encodeBatch, insertLogs, toRow } from "../src/telemetry/log-rows.ts";
import type { RequestRecord } from "../src/telemetry/types.ts";
import { testDatabase } from "./support/db.ts";
import { insertWorkspace, makeRecord } from "./support/logs.ts";

// Bodies travel beside the batch's JSON, joined by U+0001 (log-rows.ts encodeBatch): these are the
// texts that could go wrong on the way, each stored exactly as toRow made it.
const ODD = [
  "",
  " ",
  "\u0001",
  "a\u0001b\u0001",
  "\u0001\u0001\u0001",
  '{"messages":[{"role":"user","content":"say \\"hi\\"\\n"}]}',
  "ends with a backslash \\",
  "\\\\server\\share",
  "tab\tnew\nline\r\ncarriage",
  "NULL",
  "null",
  "{}",
  "[]",
  "''; drop table request_logs; --",
  "日本語のテキスト 🚀 emoji 👩‍👩‍👧 مرحبا",
  "\u00e9\u00e8 latin-1 only",
  "lone \ud800 surrogate",
  "nul \u0000 inside",
  "\u2028\u2029 separators",
  "x".repeat(LOG_BODY_LIMIT + 5_000),
  "é".repeat(LOG_BODY_LIMIT * 2),
  "🚀".repeat(LOG_BODY_LIMIT),
];

describe("encodeBatch", () => {
  test("each body is in its slot, inline when it holds the separator, and null stays null", () => {
    const rows = [
      toRow(makeRecord("w", { request_body: "req", response_body: null })),
      toRow(makeRecord("w", { request_body: "has \u0001 sep", response_body: "" })),
      toRow(makeRecord("w", { request_body: null, response_body: "resp" })),
    ];
    const { json, bodies } = encodeBatch(rows);
    expect(bodies.split("\u0001")).toEqual(["req", "", "", "", "", "resp"]);
    const sent = JSON.parse(json) as RequestRecord[];
    expect(sent.map((r) => [r.request_body, r.response_body])).toEqual([
      ["", null],
      ["has \u0001 sep", ""],
      [null, ""],
    ]);
    // The caller's rows are left as they were (a retry sends them again).
    expect(rows[1]!.request_body).toBe("has \u0001 sep");
    expect(rows[0]!.request_body).toBe("req");
  });
});

// PostgreSQL with DATABASE_URL set, else the embedded database (run it both ways: the same SQL must work on both).
describe(`a 500-row batch on ${process.env.DATABASE_URL ? "PostgreSQL" : "the embedded database"}`, () => {
  let db: Database;
  let sql: Sql;
  beforeAll(async () => {
    db = await testDatabase();
    sql = db.sql;
  }, 120_000);
  afterAll(() => db?.close());

  test("odd, huge, unicode and null bodies, tags and attempts are stored exactly as toRow made them, and counted once", async () => {
    const ws = await insertWorkspace(sql);
    const records = Array.from({ length: 500 }, (_, i) =>
      makeRecord(ws, {
        api_key_id: i % 4 === 0 ? null : `key_${i % 3}`,
        request_body: i % 5 === 4 ? null : ODD[i % ODD.length]!,
        response_body: i % 7 === 6 ? null : ODD[(i * 3 + 1) % ODD.length]!,
        error_message: i % 11 === 0 ? ODD[(i + 2) % ODD.length]! : null,
        tags: i % 2 ? [ODD[i % ODD.length]!.slice(0, 50), "team:\u0001x"] : null,
        attempts: [
          {
            provider_id: "p",
            provider_name: ODD[(i + 5) % ODD.length]!.slice(0, 100),
            provider_type: "openai",
            model: "m",
            status: 200,
            error_class: null,
            message: ODD[(i + 7) % ODD.length]!.slice(0, 80),
            latency_ms: i,
          },
        ],
        cost_usd: i % 9 === 0 ? null : i * 0.000001,
      }),
    );
    const rows = records.map(toRow);
    const result = await insertLogs(sql, rows);
    expect(result).toEqual({ inserted: 500, orphaned: 0 });
    const stored = await sql<Pick<RequestRecord, "id" | "request_body" | "response_body" | "error_message" | "tags" | "attempts">[]>`
      select id, request_body, response_body, error_message, tags, attempts from request_logs where workspace_id = ${ws}`;
    const byId = new Map(stored.map((r) => [r.id, r]));
    expect(byId.size).toBe(500);
    for (const row of rows) {
      const got = byId.get(row.id)!;
      expect({ id: got.id, request_body: got.request_body, response_body: got.response_body }).toEqual({
        id: row.id,
        request_body: row.request_body,
        response_body: row.response_body,
      });
      expect(got.error_message).toBe(row.error_message);
      expect(got.tags).toEqual(row.tags ?? null);
      expect(got.attempts).toEqual(row.attempts);
    }
    // Spot checks that toRow's cleaning is what got stored, not something else.
    expect(rows.some((r) => r.request_body === "\u0001")).toBe(true);
    expect(rows.some((r) => r.request_body === "")).toBe(true);
    expect(rows.find((r) => r.request_body?.startsWith("lone"))!.request_body).toBe("lone \ufffd surrogate");
    expect(rows.find((r) => r.request_body?.startsWith("nul "))!.request_body).toBe("nul  inside");
    expect(Math.max(...stored.map((r) => r.request_body?.length ?? 0))).toBe(LOG_BODY_LIMIT + 100);

    // Replayed (spool, retry after a timeout): nothing stored or counted twice.
    expect(await insertLogs(sql, rows)).toEqual({ inserted: 0, orphaned: 0 });
    const [u] = await sql<{ n: number }[]>`select coalesce(sum(requests), 0)::int as n from usage_daily where workspace_id = ${ws}`;
    const [k] = await sql<{ n: number }[]>`select coalesce(sum(requests), 0)::int as n from usage_key_daily where workspace_id = ${ws}`;
    expect(u!.n).toBe(500);
    expect(k!.n).toBe(rows.filter((r) => r.api_key_id !== null).length);
  }, 60_000);

  test("through the queue, a batch whose only body is empty keeps it empty, not null", async () => {
    const ws = await insertWorkspace(sql);
    const q = new LogQueue({ sql });
    const r = makeRecord(ws, { request_body: "", response_body: null });
    q.enqueue(r);
    await q.flush();
    q.stop();
    const [row] = await sql`select request_body, response_body from request_logs where id = ${r.id}`;
    expect(row).toEqual({ request_body: "", response_body: null });
  }, 60_000);
});
