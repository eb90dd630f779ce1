// The benchmark's building blocks, cheaply: the load generator against the bench upstream (directly
// and through the bare forwarder), the /proc readers, and the median/table arithmetic of the report.
import { afterAll, describe, expect, test } from "bun:test";
import { startBareProxy } from "../bench/bare-proxy.ts";
import { quantile, runLoad, type LoadResult } from "../bench/load.ts";
import { startBenchUpstream } from "../bench/mock-upstream.ts";
import { childPids, cpuSeconds, measure, rssBytes } from "../bench/proc.ts";
import { fixedRateNote, fixedRateTable, loggedCell, median, summarise, throughputTable, type Sample } from "../bench/report.ts";

const upstream = startBenchUpstream();
const slow = startBenchUpstream(0, 40);
const base = `http://127.0.0.1:${upstream.port}/v1`;
const bare = startBareProxy(base);
const failing = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response("overloaded", { status: 503 }) });
afterAll(() => {
  failing.stop(true);
  upstream.stop(true);
  slow.stop(true);
  bare.stop(true);
});
const json = JSON.stringify({ model: "m", messages: [{ role: "user", content: "hi" }] });
const headers = { "content-type": "application/json" };

describe("load generator", () => {
  test("closed loop: every request started is answered and counted, up to the request limit", async () => {
    const r = await runLoad({ url: `${base}/chat/completions`, headers, body: json, seconds: 30, connections: 4, requests: 25 });
    expect(r).toMatchObject({ sent: 25, ok: 25, errors: 0, skipped: 0, firstError: null });
    expect(r.p50).toBeLessThanOrEqual(r.p90);
    expect(r.p90).toBeLessThanOrEqual(r.p99);
  });

  test("through the bare forwarder, streams arrive whole", async () => {
    const url = `http://127.0.0.1:${bare.port}/v1/chat/completions`;
    const res = await fetch(url, { method: "POST", headers, body: JSON.stringify({ model: "m", messages: [], stream: true }) });
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    expect(await res.text()).toEndWith("data: [DONE]\n\n");
    const r = await runLoad({ url, headers, body: json, seconds: 30, connections: 2, requests: 10 });
    expect(r).toMatchObject({ sent: 10, ok: 10, errors: 0 });
  });

  test("errors are counted with the first one's reason", async () => {
    const r = await runLoad({ url: `http://127.0.0.1:${failing.port}/`, headers, body: json, seconds: 30, connections: 2, requests: 6 });
    expect(r).toMatchObject({ sent: 6, ok: 0, errors: 6, firstError: "HTTP 503: overloaded" });
    expect(Number.isNaN(r.p50)).toBe(true);
  });

  test("open loop: a due request beyond the in-flight cap is skipped and counted, not queued", async () => {
    // 40 ms answers at 200 req/s need ~8 in flight; with a cap of 1 most due requests must be skipped.
    const r = await runLoad({
      url: `http://127.0.0.1:${slow.port}/v1/chat/completions`,
      headers,
      body: json,
      seconds: 0.5,
      rate: 200,
      maxInFlight: 1,
    });
    expect(r.errors).toBe(0);
    expect(r.ok).toBe(r.sent);
    expect(r.skipped).toBeGreaterThan(0);
    expect(r.sent).toBeGreaterThan(0);
    expect(r.sent).toBeLessThan(r.skipped);
  });

  test("quantile is the nearest rank", () => {
    const xs = Array.from({ length: 100 }, (_, i) => i + 1);
    expect([quantile(xs, 0.5), quantile(xs, 0.9), quantile(xs, 0.99), quantile(xs, 1)]).toEqual([50, 90, 99, 100]);
    expect(quantile([7], 0.99)).toBe(7);
  });
});

describe("/proc readers", () => {
  test("memory and CPU of a live process, null for a gone one, and its children", async () => {
    expect(rssBytes(process.pid)).toBeGreaterThan(1024 * 1024);
    const child = Bun.spawn(["sleep", "5"]);
    expect(childPids(process.pid)).toContain(child.pid);
    child.kill();
    await child.exited;
    expect(rssBytes(child.pid)).toBeNull();
    expect(cpuSeconds(child.pid)).toBeNull();

    const m = measure(process.pid);
    const until = Date.now() + 300;
    let x = 0;
    while (Date.now() < until) x += Math.sqrt(x + 1);
    const usage = m.stop();
    expect(x).toBeGreaterThan(0);
    expect(usage.cpuSeconds).toBeGreaterThan(0);
    expect(usage.peakRss).toBeGreaterThan(0);
    expect(usage.helperCpuSeconds).toBeNull();
  });
});

describe("report", () => {
  const result = (rps: number, p50: number, extra: Partial<LoadResult> = {}): LoadResult => ({
    sent: 100,
    ok: 100,
    errors: 0,
    skipped: 0,
    firstError: null,
    seconds: 1,
    rps,
    p50,
    p90: p50 * 2,
    p99: p50 * 3,
    ...extra,
  });
  const sample = (system: string, kind: Sample["kind"], load: string, round: number, r: LoadResult, logged: number | null): Sample => ({
    system,
    kind,
    mode: "json",
    load,
    round,
    result: r,
    usage: { peakRss: round * 1024 ** 2, cpuSeconds: 0.1, helperCpuSeconds: null },
    logged,
  });

  test("median of odd and even counts, ignoring NaN", () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([NaN, 5])).toBe(5);
    expect(Number.isNaN(median([]))).toBe(true);
  });

  test("rows: medians over rounds, totals for counts, peak of peaks, ratio to the bare forwarder", () => {
    const samples = [
      sample("bare", "bare", "c64", 1, result(1000, 1), null),
      sample("gw", "perpetuo", "c64", 1, result(400, 5), 100),
      sample("bare", "bare", "c64", 2, result(1200, 2), null),
      sample("gw", "perpetuo", "c64", 2, result(600, 4), 99),
      sample("bare", "bare", "c64", 3, result(800, 3), null),
      sample("gw", "perpetuo", "c64", 3, result(500, 6, { errors: 2, ok: 98 }), 100),
    ];
    const rows = summarise(samples);
    expect(rows.map((r) => r.system)).toEqual(["bare", "gw"]);
    const gw = rows[1];
    expect(gw).toMatchObject({ rounds: 3, rps: 500, p50: 5, sent: 300, errors: 2, logged: 299, peakRssMb: 3 });
    expect(gw.cpuPer1k).toBeCloseTo((0.3 / 300) * 1000, 6);
    const table = throughputTable(rows);
    expect(table[2]).toContain("| bare | 1,000 | 1.00 |");
    expect(table[3]).toContain("| gw | 500 | 0.50 |");
    expect(table[3]).toContain("**299 of 300 (−1)**");
  });

  test("fixed rate: added latency is the system's minus the bare forwarder's", () => {
    const rows = summarise([
      sample("bare", "bare", "r1000", 1, result(1000, 1.5), null),
      sample("gw", "perpetuo", "r1000", 1, result(1000, 1.75), 100),
    ]);
    const table = fixedRateTable(rows, 1000);
    expect(table[3]).toContain("| +0.25 | +0.75 |");
    expect(table.join("\n")).not.toContain("n/a");
    expect(fixedRateNote(rows, 1000)).toEqual([]);
    // Under 95 % of the rate, the latencies are queueing: no added latency is claimed.
    const slowGateway = fixedRateTable(rows, 1100);
    expect(slowGateway[3]).toContain("| 1,000 (rate not reached) |");
    expect(slowGateway[3]).toContain("| n/a | n/a |");
    expect(fixedRateNote(rows, 1100)[0]).toStartWith("n/a:");
    expect(loggedCell({ logged: 100, sent: 100 })).toBe("all 100");
    expect(loggedCell({ logged: 101, sent: 100 })).toContain("(+1)");
  });
});
