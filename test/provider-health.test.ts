import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { testApp, type TestApp } from "./support/app.ts";
import { makeRecord } from "./support/logs.ts";
import type { AttemptRecord, RequestRecord } from "../src/telemetry/types.ts";

let t: TestApp;
let owner: Awaited<ReturnType<TestApp["signup"]>>;
let ws: { id: string };
let seeded: RequestRecord[];
const prov: Record<"a" | "b" | "idle", { id: string; name: string }> = {} as never;
const GONE = { id: "prov_deleted_since", name: "Old relay" };

const BASE = Date.parse("2025-07-01T12:00:00.000Z");
const at = (minutes: number) => new Date(BASE + minutes * 60_000).toISOString();
const get = (path: string, token = owner.token) => t.call("GET", path, { token });
const RANGE = `from=${at(0).slice(0, 16)}&to=${at(60).slice(0, 16)}`;

function attempt(p: { id: string; name: string }, status: number | null, errorClass: string | null, latency: number): AttemptRecord {
  return {
    provider_id: p.id,
    provider_name: p.name,
    provider_type: "openai",
    model: "gpt-4o-mini",
    status,
    error_class: errorClass,
    message: null,
    latency_ms: latency,
  };
}

/** A request's log row from its attempts: the last attempt answered (or, when it failed too, the request failed). */
function request(minute: number, attempts: AttemptRecord[]): RequestRecord {
  const last = attempts[attempts.length - 1];
  const ok = last.error_class === null;
  return makeRecord(ws.id, {
    created_at: at(minute),
    attempts,
    provider_id: last.provider_id,
    provider_name: last.provider_name,
    status: ok ? 200 : 502,
    error_class: ok ? null : "all_failed",
  });
}

/** Linear-interpolated percentile, as PostgreSQL's percentile_cont computes it. */
function percentile(values: number[], p: number): number {
  const s = [...values].sort((x, y) => x - y);
  const pos = p * (s.length - 1);
  const lo = Math.floor(pos);
  return s[lo] + (pos - lo) * ((s[Math.min(lo + 1, s.length - 1)] ?? s[lo]) - s[lo]);
}

/** What the report must say about one provider, worked out from the seeded rows in plain code. */
function expected(id: string) {
  const mine = seeded.flatMap((r) => r.attempts.filter((a) => a.provider_id === id).map((a) => ({ r, a })));
  const failed = mine.filter((x) => x.a.error_class !== null);
  const byClass: Record<string, number> = {};
  const byStatus: Record<string, number> = {};
  for (const { a } of failed) {
    byClass[a.error_class!] = (byClass[a.error_class!] ?? 0) + 1;
    const k = a.status === null ? "none" : `${Math.floor(a.status / 100)}xx`;
    byStatus[k] = (byStatus[k] ?? 0) + 1;
  }
  const requests = new Set(mine.map((x) => x.r.id)).size;
  const fallbacks = new Set(failed.filter(({ r }) => r.error_class === null && r.provider_id !== id).map((x) => x.r.id)).size;
  const latencies = mine.map((x) => x.a.latency_ms);
  return {
    attempts: mine.length,
    successes: mine.length - failed.length,
    failures: failed.length,
    failures_by_class: byClass,
    failures_by_status: byStatus,
    requests,
    fallbacks,
    fallback_rate: requests ? fallbacks / requests : null,
    latency_p50_ms: latencies.length ? percentile(latencies, 0.5) : null,
    latency_p95_ms: latencies.length ? percentile(latencies, 0.95) : null,
  };
}

beforeAll(async () => {
  t = await testApp();
  owner = await t.signup();
  ws = await t.workspace(owner.token);
  for (const [k, name] of [
    ["a", "Primary"],
    ["b", "Backup"],
    ["idle", "Spare"],
  ] as const) {
    const r = await t.call("POST", `/workspaces/${ws.id}/providers`, {
      token: owner.token,
      body: { name, type: "openai_compatible", base_url: "http://127.0.0.1:9/v1", api_key: `sk-test-${k}-0123456789` },
    });
    if (r.status !== 201) throw new Error(r.text);
    prov[k] = { id: r.body.id, name };
  }
  const { a, b } = prov;
  seeded = [
    request(1, [attempt(a, 503, "overloaded", 100), attempt(b, 200, null, 50)]),
    request(2, [attempt(a, null, "timeout", 1000), attempt(b, 200, null, 70)]),
    request(3, [attempt(a, 429, "rate_limit", 20), attempt(b, 500, "server", 30)]),
    request(4, [attempt(b, 200, null, 90)]),
    request(5, [attempt(GONE, null, "network", 5), attempt(b, 200, null, 40)]),
    // Primary failed on every attempt here, never answering: it must still be listed with them.
    request(6, [attempt(a, 401, "auth", 12), attempt(b, 200, null, 65)]),
  ];
  // Outside the range asked for: counted by no figure.
  const outside = [request(-5, [attempt(a, 200, null, 5000)]), request(61, [attempt(b, 500, "server", 7)])];
  for (const r of [...seeded, ...outside]) t.deps.logQueue.enqueue(r);
  await t.deps.logQueue.flush();
});
afterAll(() => t.close());

describe("provider health", () => {
  test("a provider that failed every attempt (never answered) is listed with its failures by class", async () => {
    const r = await get(`/workspaces/${ws.id}/provider-health?${RANGE}`);
    expect(r.status).toBe(200);
    const a = r.body.providers.find((p: { provider_id: string }) => p.provider_id === prov.a.id);
    expect(a).toMatchObject({ provider_name: "Primary", configured: true, enabled: true, ...expected(prov.a.id), successes: 0 });
    expect(a.failures).toBeGreaterThan(0);
  });

  test("every figure matches the attempt trails of the range, for each provider", async () => {
    const r = await get(`/workspaces/${ws.id}/provider-health?${RANGE}`);
    const byId = new Map(r.body.providers.map((p: { provider_id: string }) => [p.provider_id, p]));
    for (const id of [prov.a.id, prov.b.id, GONE.id]) {
      const got = byId.get(id) as Record<string, unknown>;
      const want = expected(id);
      const { latency_p50_ms, latency_p95_ms, fallback_rate, ...exact } = want;
      expect(got).toMatchObject(exact);
      expect(got.latency_p50_ms as number).toBeCloseTo(latency_p50_ms!, 6);
      expect(got.latency_p95_ms as number).toBeCloseTo(latency_p95_ms!, 6);
      expect(got.fallback_rate as number).toBeCloseTo(fallback_rate!, 9);
    }
  });

  test("configured providers come first in priority order, idle ones with zeros; a deleted one keeps its recorded name", async () => {
    const r = await get(`/workspaces/${ws.id}/provider-health?${RANGE}`);
    expect(r.body.providers.map((p: { provider_name: string }) => p.provider_name)).toEqual(["Primary", "Backup", "Spare", "Old relay"]);
    expect(r.body.providers[2]).toMatchObject({
      attempts: 0,
      failures: 0,
      requests: 0,
      fallback_rate: null,
      latency_p50_ms: null,
      cooling_until: null,
    });
    expect(r.body.providers[3]).toMatchObject({ provider_id: GONE.id, configured: false, enabled: null });
    expect(r.body).toMatchObject({ from: at(0), to: at(60) });
  });

  test("the gateway's current cooldown shows as an end time; a ready provider has none", async () => {
    t.deps.gateway.cooldowns.cool(prov.a.id, 60_000);
    const r = await get(`/workspaces/${ws.id}/provider-health?${RANGE}`);
    const [a, b] = r.body.providers;
    expect(Date.parse(a.cooling_until)).toBeGreaterThan(Date.now());
    expect(b.cooling_until).toBeNull();
    t.deps.gateway.cooldowns.clear(prov.a.id);
  });

  test("a range without requests still lists the configured providers", async () => {
    const r = await get(`/workspaces/${ws.id}/provider-health?range=1h`);
    expect(r.status).toBe(200);
    expect(r.body.providers.map((p: { attempts: number }) => p.attempts)).toEqual([0, 0, 0]);
  });

  test("a bad range is a 422 naming the field; another workspace's user is refused", async () => {
    const rev = await get(`/workspaces/${ws.id}/provider-health?from=2025-07-02&to=2025-07-01`);
    expect(rev.status).toBe(422);
    expect(rev.body.error.param).toBe("from");
    const long = await get(`/workspaces/${ws.id}/provider-health?from=2025-01-01&to=2025-03-01`);
    expect(long.status).toBe(422);
    expect(long.body.error.message).toContain("31 days");
    const bogus = await get(`/workspaces/${ws.id}/provider-health?range=2w`);
    expect(bogus.status).toBe(422);
    expect(bogus.body.error.param).toBe("range");
    const stranger = await t.signup();
    const other = await get(`/workspaces/${ws.id}/provider-health`, stranger.token);
    expect([403, 404]).toContain(other.status);
    expect(other.text).not.toContain("Primary");
  });
});
