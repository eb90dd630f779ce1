/**
 * The logs page's time ranges, live mode and export links, and the provider health page, as a
 * browser without JavaScript uses them: plain links and GET forms, the session cookie only.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { RequestRecord } from "../src/telemetry/types.ts";
import { testApp, type TestApp } from "./support/app.ts";
import { makeRecord } from "./support/logs.ts";
import { expectHtml, withWorkspace } from "./support/dashboard-client.ts";

let t: TestApp;
let w: Awaited<ReturnType<typeof withWorkspace>>;
const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000).toISOString();
const unescape = (s: string) => s.replaceAll("&amp;", "&").replaceAll("&#39;", "'").replaceAll("&quot;", '"');

async function store(...records: RequestRecord[]) {
  for (const r of records) t.deps.logQueue.enqueue(r);
  await t.deps.logQueue.flush();
}

/** The hx-get of the live mode's poller row, or null when the page has none. */
function pollerUrl(html: string): string | null {
  const m = /<tr id="logs-live"[^>]*hx-get="([^"]+)"/.exec(html);
  return m ? unescape(m[1]) : null;
}

let recent: RequestRecord;
let old: RequestRecord;
let failing: RequestRecord;

beforeAll(async () => {
  t = await testApp();
  w = await withWorkspace(t.app, "Insights");
  recent = makeRecord(w.id, { created_at: minutesAgo(10), model_requested: "recent-model" });
  old = makeRecord(w.id, { created_at: minutesAgo(3 * 60), model_requested: "old-model" });
  failing = makeRecord(w.id, {
    created_at: minutesAgo(20),
    model_requested: "failing-model",
    status: 502,
    error_class: "all_failed",
    provider_id: "prov_dead",
    provider_name: "Dead relay",
    attempts: [
      {
        provider_id: "prov_dead",
        provider_name: "Dead relay",
        provider_type: "openai",
        model: "m",
        status: 503,
        error_class: "overloaded",
        message: null,
        latency_ms: 40,
      },
    ],
  });
  await store(recent, old, failing);
});
afterAll(async () => {
  await t.deps.gateway?.stop();
  await t.close();
});

describe("logs: time ranges", () => {
  test("quick ranges are plain links; Last 1 h shows only the last hour and keeps the other filters", async () => {
    const page = await w.c.get(`${w.base}/logs?status=ok`);
    expectHtml(page);
    expect(page.text).toContain(`href="${w.base}/logs?status=ok&range=1h"`);
    const hour = await w.c.get(`${w.base}/logs?status=ok&range=1h`);
    expectHtml(hour);
    expect(hour.text).toContain("recent-model");
    expect(hour.text).not.toContain("old-model");
    expect(hour.text).not.toContain("failing-model");
    // The form keeps the range when other filters change.
    expect(hour.text).toContain('<input type="hidden" name="range" value="1h"/>');
  });

  test("From and To take a UTC date and time to the minute", async () => {
    const from = minutesAgo(4 * 60).slice(0, 16);
    const to = minutesAgo(60).slice(0, 16);
    const r = await w.c.get(`${w.base}/logs?from=${from}&to=${to}`);
    expectHtml(r);
    expect(r.text).toContain("old-model");
    expect(r.text).not.toContain("recent-model");
    expect(r.text).toContain(`value="${from}"`);
    expect(r.text).toContain("From (UTC)");
    // The format shows as an example, not as a value that looks already filled in.
    expect(r.text).toContain('placeholder="e.g. 2026-01-31T09:00"');
  });

  test("a time that is not ISO is an inline error on its field", async () => {
    const r = await w.c.get(`${w.base}/logs?from=12/02/2026`);
    expectHtml(r, 422);
    expect(r.text).toContain('id="f-from-error"');
    expect(r.text).toContain("ISO date");
  });
});

describe("logs: export links", () => {
  test("carry the current filters and download the filtered range with the session cookie", async () => {
    const page = await w.c.get(`${w.base}/logs?status=error`);
    const m = /href="(\/workspaces\/[^"]+\/logs\/export\?[^"]*format=csv[^"]*)"/.exec(page.text);
    expect(m).not.toBeNull();
    const href = unescape(m![1]);
    expect(href).toContain("status=error");
    expect(page.text).toContain("up to 100,000 rows");
    const csv = await w.c.get(href);
    expect(csv.status).toBe(200);
    expect(csv.headers.get("content-type")).toStartWith("text/csv");
    expect(csv.text).toContain(failing.id);
    expect(csv.text).not.toContain(recent.id);
  });
});

describe("logs: live mode", () => {
  test("off by default; a Refresh link and a Live toggle work as plain links", async () => {
    const page = await w.c.get(`${w.base}/logs`);
    expect(pollerUrl(page.text)).toBeNull();
    expect(page.text).toContain(`href="${w.base}/logs?live=1"`);
    expect(page.text).toMatch(/<a class="btn btn-ghost btn-small" href="[^"]*\/logs"[^>]*>\s*Refresh/);
  });

  test("on: the poller brings rows written since the page, a long request's too, each once", async () => {
    const page = await w.c.get(`${w.base}/logs?status=ok&live=1`);
    expectHtml(page);
    const first = pollerUrl(page.text);
    expect(first).not.toBeNull();
    expect(first!).toContain("status=ok");
    // The polite status region the polls report into (an empty one: nothing to announce yet).
    expect(page.text).toContain('<span id="logs-live-status" class="live-status" role="status" aria-live="polite"></span>');
    // Nothing new yet: only the next poller.
    const idle = await w.c.get(first!, { hx: "tr#logs-live" });
    expectHtml(idle);
    expect(pollerUrl(idle.text)).not.toBeNull();
    expect(idle.text).not.toContain("data-row-href");
    expect(idle.text).not.toContain("partial");
    // A stream that started 15 minutes ago is written now: it is new, though older than the rows shown.
    const fresh = makeRecord(w.id, { created_at: minutesAgo(0), model_requested: "fresh-model" });
    const long = makeRecord(w.id, { created_at: minutesAgo(15), model_requested: "long-stream", stream: true });
    const hidden = makeRecord(w.id, { created_at: minutesAgo(0), model_requested: "failed-new", status: 500, error_class: "server" });
    await store(fresh, long, hidden);
    const next = await w.c.get(pollerUrl(idle.text)!, { hx: "tr#logs-live" });
    expect(next.text).toContain("fresh-model");
    expect(next.text).toContain("long-stream");
    expect(next.text).not.toContain("failed-new");
    expect(next.text.indexOf("fresh-model")).toBeLessThan(next.text.indexOf("long-stream"));
    expect(next.text.indexOf('id="logs-live"')).toBeLessThan(next.text.indexOf("fresh-model"));
    // Screen readers hear how many rows came, not the table: a partial for the status region.
    expect(next.text).toContain('<template hx type="partial" hx-target="#logs-live-status">2 new requests</template>');
    const again = await w.c.get(pollerUrl(next.text)!, { hx: "tr#logs-live" });
    expect(again.text).not.toContain("fresh-model");
    expect(again.text).not.toContain("long-stream");
  });
});

describe("provider health page", () => {
  test("lists a provider that never answered, with its failures by class, and the cooldown in UTC", async () => {
    t.deps.gateway.cooldowns.cool("prov_dead", 60_000);
    const r = await w.c.get(`${w.base}/health`);
    expectHtml(r);
    expect(r.text).toContain("Dead relay");
    expect(r.text).toContain("overloaded 1");
    expect(r.text).toMatch(/Cooling down<\/span><span class="sub">until \d{2}:\d{2}:\d{2} UTC/);
    expect(r.text).toContain(`href="${w.base}/health"`);
    t.deps.gateway.cooldowns.clear("prov_dead");
  });

  test("the range form and quick ranges work without JavaScript; a bad range is an inline error", async () => {
    const page = await w.c.get(`${w.base}/health`);
    expect(page.text).toContain(`href="${w.base}/health?range=1h"`);
    expect(page.text).toContain(`action="${w.base}/health"`);
    const hour = await w.c.get(`${w.base}/health?range=1h`);
    expectHtml(hour);
    expect(hour.text).toContain("Dead relay");
    // Its one attempt was 20 minutes ago: a range from 15 minutes ago leaves it out.
    const from = minutesAgo(15).slice(0, 16);
    const typed = await w.c.get(`${w.base}/health?from=${from}`);
    expectHtml(typed);
    expect(typed.text).not.toContain("Dead relay");
    expect(typed.text).toContain(`value="${from}"`);
    const bad = await w.c.get(`${w.base}/health?from=2026-02-30`);
    expectHtml(bad, 422);
    expect(bad.text).toContain('id="f-from-error"');
    const long = await w.c.get(`${w.base}/health?from=2025-01-01&to=2025-06-01`);
    expectHtml(long, 422);
    expect(long.text).toContain("31 days");
  });

  test("another workspace's user cannot open it", async () => {
    const other = await withWorkspace(t.app, "Other");
    const r = await other.c.get(`${w.base}/health`);
    expect([403, 404]).toContain(r.status);
    expect(r.text).not.toContain("Dead relay");
  });
});
