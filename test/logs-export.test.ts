import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { testApp, type TestApp } from "./support/app.ts";
import { makeRecord } from "./support/logs.ts";
import { csvCell, EXPORT_COLUMNS } from "../src/logs/export.ts";
import { MAX_EXPORT_ROWS } from "../src/logs/model.ts";
import type { RequestRecord } from "../src/telemetry/types.ts";

let t: TestApp;
let owner: Awaited<ReturnType<TestApp["signup"]>>;
let ws: { id: string };
/** The main workspace's rows, newest first. */
let all: RequestRecord[];

const BASE = Date.parse("2025-06-01T10:00:00.000Z");
const at = (minutes: number) => new Date(BASE + minutes * 60_000).toISOString();
const get = (path: string, token = owner.token) => t.call("GET", path, { token });

/** A CSV reader for the RFC 4180 subset the export writes (quoted cells may hold commas, quotes, line breaks). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ",") {
      row.push(cell);
      cell = "";
    } else if (ch === "\r" && text[i + 1] === "\n") {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = "";
      i++;
    } else cell += ch;
  }
  if (cell || row.length) rows.push([...row, cell]);
  return rows;
}

/** Rows as objects keyed by the header line. */
function records(text: string): Record<string, string>[] {
  const [header, ...rows] = parseCsv(text);
  return rows.map((r) => Object.fromEntries(header.map((h, i) => [h, r[i]])));
}

const HOSTILE = ['=HYPERLINK("http://x")', "+1+2", "-3", "@SUM(A1)", "plain, with comma", 'say "hi"\nline two'];

beforeAll(async () => {
  t = await testApp();
  owner = await t.signup();
  ws = await t.workspace(owner.token);
  all = Array.from({ length: 12 }, (_, i) =>
    makeRecord(ws.id, {
      created_at: at(i * 10),
      status: i % 3 === 0 ? 502 : 200,
      error_class: i % 3 === 0 ? "server" : null,
      error_message: i % 3 === 0 ? HOSTILE[(i / 3) % HOSTILE.length] : null,
      provider_id: i % 2 === 0 ? "prov_a" : "prov_b",
      model_requested: i < HOSTILE.length ? HOSTILE[i] : "gpt-4o-mini",
      cost_usd: 0.0015,
    }),
  );
  for (const r of all) t.deps.logQueue.enqueue(r);
  await t.deps.logQueue.flush();
  all.reverse();
});
afterAll(() => t.close());

describe("CSV cells", () => {
  test("text a spreadsheet would read as a formula starts with an apostrophe; numbers stay numbers", () => {
    expect(csvCell("=1+1")).toBe("'=1+1");
    expect(csvCell("+1")).toBe("'+1");
    expect(csvCell("-1")).toBe("'-1");
    expect(csvCell("@x")).toBe("'@x");
    expect(csvCell("\tx")).toBe("'\tx");
    expect(csvCell("a,b")).toBe('"a,b"');
    expect(csvCell('=a,"b"')).toBe('"\'=a,""b"""');
    expect(csvCell(-1)).toBe("-1");
    expect(csvCell(null)).toBe("");
    expect(csvCell(["team:a", "env:prod"])).toBe("team:a env:prod");
  });
});

describe("export", () => {
  test("CSV: a header line, then every row newest first, formulas defused and cells quoted", async () => {
    const r = await get(`/workspaces/${ws.id}/logs/export?format=csv`);
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toStartWith("text/csv");
    expect(r.headers.get("content-disposition")).toMatch(/^attachment; filename="logs-.*\.csv"$/);
    expect(r.headers.get("x-perpetuo-row-cap")).toBe(String(MAX_EXPORT_ROWS));
    expect(r.headers.get("x-perpetuo-truncated")).toBe("false");
    expect(parseCsv(r.text)[0]).toEqual([...EXPORT_COLUMNS]);
    const rows = records(r.text);
    expect(rows.map((x) => x.id)).toEqual(all.map((x) => x.id));
    for (const [i, row] of rows.entries()) {
      const rec = all[i];
      const expected = /^[=+\-@]/.test(rec.model_requested) ? `'${rec.model_requested}` : rec.model_requested;
      expect(row.model_requested).toBe(expected);
      expect(row.created_at).toBe(rec.created_at);
      expect(row.status).toBe(String(rec.status));
      expect(row.cost_usd).toBe("0.0015");
      if (rec.error_message)
        expect(row.error_message).toBe(/^[=+\-@]/.test(rec.error_message) ? `'${rec.error_message}` : rec.error_message);
    }
    // No cell of the raw text starts a formula: every hostile value is behind an apostrophe.
    for (const cell of parseCsv(r.text).flat()) expect(cell).not.toMatch(/^[=+\-@]/);
  });

  test("JSON: the same rows as objects, with the cap and whether it cut the range", async () => {
    const r = await get(`/workspaces/${ws.id}/logs/export?format=json`);
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toStartWith("application/json");
    expect(r.body).toMatchObject({ object: "list", row_cap: MAX_EXPORT_ROWS, truncated: false });
    expect(r.body.data.map((x: { id: string }) => x.id)).toEqual(all.map((x) => x.id));
    expect(r.body.data[0]).toMatchObject({ model_requested: all[0].model_requested, created_at: all[0].created_at, attempt_count: 1 });
    expect(r.body.data[0]).not.toHaveProperty("request_body");
  });

  test("honours the list's filters: status, provider and time range", async () => {
    const errors = all.filter((x) => x.status >= 400 && x.provider_id === "prov_a");
    const r = await get(`/workspaces/${ws.id}/logs/export?format=json&status=error&provider=prov_a`);
    expect(r.body.data.map((x: { id: string }) => x.id)).toEqual(errors.map((x) => x.id));
    const from = at(30);
    const to = at(70);
    const inRange = all.filter((x) => x.created_at >= from && x.created_at < to);
    expect(inRange.length).toBe(4);
    const ranged = await get(`/workspaces/${ws.id}/logs/export?format=csv&from=${from.slice(0, 16)}&to=${to.slice(0, 16)}`);
    expect(records(ranged.text).map((x) => x.id)).toEqual(inRange.map((x) => x.id));
  });

  test("a cap below the range's size cuts it, and both the header and the JSON say so", async () => {
    const csv = await get(`/workspaces/${ws.id}/logs/export?format=csv&limit=5`);
    expect(records(csv.text).map((x) => x.id)).toEqual(all.slice(0, 5).map((x) => x.id));
    expect(csv.headers.get("x-perpetuo-row-cap")).toBe("5");
    expect(csv.headers.get("x-perpetuo-truncated")).toBe("true");
    const json = await get(`/workspaces/${ws.id}/logs/export?format=json&limit=5`);
    expect(json.body).toMatchObject({ row_cap: 5, truncated: true });
    expect(json.body.data).toHaveLength(5);
    const exact = await get(`/workspaces/${ws.id}/logs/export?format=json&limit=12`);
    expect(exact.body).toMatchObject({ row_cap: 12, truncated: false });
    expect(exact.body.data).toHaveLength(12);
  });

  test("a limit above the hard cap, an unknown format or a reversed range is a 422 naming the field", async () => {
    const big = await get(`/workspaces/${ws.id}/logs/export?limit=${MAX_EXPORT_ROWS + 1}`);
    expect(big.status).toBe(422);
    expect(big.body.error.param).toBe("limit");
    expect(big.body.error.message).toContain(String(MAX_EXPORT_ROWS));
    const fmt = await get(`/workspaces/${ws.id}/logs/export?format=xlsx`);
    expect(fmt.status).toBe(422);
    expect(fmt.body.error.param).toBe("format");
    const rev = await get(`/workspaces/${ws.id}/logs/export?from=2025-06-02&to=2025-06-01`);
    expect(rev.status).toBe(422);
    expect(rev.body.error.param).toBe("from");
  });

  test("another workspace's member is refused, and no row of this workspace leaks", async () => {
    const stranger = await t.signup();
    await t.workspace(stranger.token, "theirs");
    const r = await get(`/workspaces/${ws.id}/logs/export?format=csv`, stranger.token);
    expect([403, 404]).toContain(r.status);
    for (const rec of all) expect(r.text).not.toContain(rec.id);
    const anon = await t.call("GET", `/workspaces/${ws.id}/logs/export`);
    expect(anon.status).toBe(401);
  });

  test("a range larger than one read batch streams every row once, in order", async () => {
    const big = await t.workspace(owner.token, "big");
    const rows = Array.from({ length: 1203 }, (_, i) => makeRecord(big.id, { created_at: at(i) }));
    for (const r of rows) t.deps.logQueue.enqueue(r);
    await t.deps.logQueue.flush();
    const csv = await get(`/workspaces/${big.id}/logs/export?format=csv`);
    expect(records(csv.text).map((x) => x.id)).toEqual(rows.map((x) => x.id).reverse());
    const json = await get(`/workspaces/${big.id}/logs/export?format=json&limit=1000`);
    expect(json.body.data.map((x: { id: string }) => x.id)).toEqual(
      rows
        .map((x) => x.id)
        .reverse()
        .slice(0, 1000),
    );
    expect(json.body.truncated).toBe(true);
  });

  test("an empty range is a header line only (CSV) or an empty list (JSON)", async () => {
    const csv = await get(`/workspaces/${ws.id}/logs/export?format=csv&model=nothing-like-this`);
    expect(parseCsv(csv.text)).toEqual([[...EXPORT_COLUMNS]]);
    const json = await get(`/workspaces/${ws.id}/logs/export?format=json&model=nothing-like-this`);
    expect(json.body).toEqual({ object: "list", row_cap: MAX_EXPORT_ROWS, data: [], truncated: false });
  });
});
