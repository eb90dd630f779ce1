import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { gatewayHarness, type GatewayHarness } from "./support/gateway.ts";
import { testApp } from "./support/app.ts";
import { makeRecord } from "./support/logs.ts";
import { Counter, escapeLabel, Histogram, Registry } from "../src/metrics/registry.ts";
import { GatewayMetrics, MAX_MODEL_LABELS, metricsSink } from "../src/metrics/gateway.ts";
import { metricsAuthorized } from "../src/metrics/routes.ts";
import { Cooldowns } from "../src/gateway/router.ts";

const TOKEN = "metrics-token-0123456789abcdef";

/** The value of one sample line of an exposition, or undefined. */
function sample(text: string, line: string): number | undefined {
  const hit = text.split("\n").find((l) => l.startsWith(line + " "));
  return hit === undefined ? undefined : Number(hit.slice(line.length + 1));
}

describe("the registry", () => {
  test("counters and histograms in the exposition format, buckets cumulative, labels escaped", () => {
    const r = new Registry();
    const c = r.register(new Counter("x_total", "help text", ["a", "b"]));
    const h = r.register(new Histogram("lat_seconds", "latency", ["e"], [0.1, 1]));
    c.inc("1", 'q"uo\\te\nnl');
    c.inc("1", 'q"uo\\te\nnl');
    c.inc("2", "z");
    h.observe(0.05, "chat");
    h.observe(0.5, "chat");
    h.observe(3, "chat");
    const text = r.render();
    expect(text).toContain("# TYPE x_total counter");
    expect(sample(text, `x_total{a="1",b="${escapeLabel('q"uo\\te\nnl')}"}`)).toBe(2);
    expect(escapeLabel('q"uo\\te\nnl')).toBe('q\\"uo\\\\te\\nnl');
    expect(sample(text, 'x_total{a="2",b="z"}')).toBe(1);
    expect(text).toContain("# TYPE lat_seconds histogram");
    expect(sample(text, 'lat_seconds_bucket{e="chat",le="0.1"}')).toBe(1);
    expect(sample(text, 'lat_seconds_bucket{e="chat",le="1"}')).toBe(2);
    expect(sample(text, 'lat_seconds_bucket{e="chat",le="+Inf"}')).toBe(3);
    expect(sample(text, 'lat_seconds_count{e="chat"}')).toBe(3);
    expect(sample(text, 'lat_seconds_sum{e="chat"}')).toBeCloseTo(3.55, 10);
  });

  test("model labels are capped; later models count as other", () => {
    const m = new GatewayMetrics();
    for (let i = 0; i < MAX_MODEL_LABELS + 50; i++) m.observe(makeRecord("ws", { model_requested: `m-${i}` }));
    m.observe(makeRecord("ws", { model_requested: "m-0" }));
    const text = m.render();
    const models = new Set([...text.matchAll(/^perpetuo_requests_total\{[^}]*model="([^"]*)"/gm)].map((x) => x[1]));
    expect(models.size).toBe(MAX_MODEL_LABELS + 1);
    expect(sample(text, 'perpetuo_requests_total{endpoint="chat",status="200",provider="openai",model="other"}')).toBe(50);
    expect(sample(text, 'perpetuo_requests_total{endpoint="chat",status="200",provider="openai",model="m-0"}')).toBe(2);
  });

  test("the sink wrapper counts and always hands the record on", () => {
    const m = new GatewayMetrics();
    const got: unknown[] = [];
    const sink = metricsSink(m, { enqueue: (r) => got.push(r) });
    const rec = makeRecord("ws", { attempts: [...makeRecord("ws").attempts, ...makeRecord("ws").attempts], endpoint: "embeddings" });
    sink.enqueue(rec);
    // A malformed record (no attempts) must not cost the log row.
    sink.enqueue({ ...rec, attempts: undefined as never });
    expect(got).toHaveLength(2);
    expect(sample(m.render(), 'perpetuo_fallbacks_total{endpoint="embeddings"}')).toBe(1);
  });

  test("cooldowns count when they start, not when an entry already cooling is cooled again", () => {
    let now = 1_000_000;
    const cd = new Cooldowns(() => now);
    cd.cool("a");
    cd.cool("a", 60_000);
    cd.cool("b");
    expect(cd.started).toBe(2);
    now += 10 * 60_000;
    cd.cool("a");
    expect(cd.started).toBe(3);
  });

  test("the token check", () => {
    expect(metricsAuthorized(`Bearer ${TOKEN}`, TOKEN)).toBe(true);
    expect(metricsAuthorized(`bearer ${TOKEN} `, TOKEN)).toBe(true);
    expect(metricsAuthorized(`Bearer ${TOKEN}x`, TOKEN)).toBe(false);
    expect(metricsAuthorized(TOKEN, TOKEN)).toBe(false);
    expect(metricsAuthorized(null, TOKEN)).toBe(false);
    expect(metricsAuthorized("Bearer ", TOKEN)).toBe(false);
  });
});

describe("GET /metrics without METRICS_TOKEN", () => {
  test("does not exist: 404 for everyone", async () => {
    const t = await testApp();
    try {
      const r = await t.call("GET", "/metrics", { token: TOKEN });
      expect(r.status).toBe(404);
      expect(r.body.error.message).toContain("METRICS_TOKEN");
    } finally {
      await t.deps.gateway.stop();
      await t.close();
    }
  });
});

describe("GET /metrics with METRICS_TOKEN", () => {
  let h: GatewayHarness;
  beforeAll(async () => {
    h = await gatewayHarness({ config: { metricsToken: TOKEN } });
  });
  afterAll(() => h.close());

  const scrape = async (authorization?: string) => {
    const res = await fetch(`${h.base}/metrics`, { headers: authorization ? { authorization } : {} });
    return { status: res.status, headers: res.headers, text: await res.text() };
  };

  test("refuses callers without the token: anonymous, a wrong token, a session, a gateway key", async () => {
    for (const auth of [undefined, "Bearer wrong-token-0123456789abcdef", `Bearer ${h.owner.token}`, `Bearer ${h.key}`]) {
      const r = await scrape(auth);
      expect(r.status).toBe(401);
      expect(JSON.parse(r.text).error.message).toContain("metrics token");
      expect(r.headers.get("www-authenticate")).toStartWith("Bearer");
    }
  });

  test("counts requests by status, provider and model, latency, TTFT, fallbacks and cooldowns; reports the log queue and pool", async () => {
    const bad = await h.addProvider("openai", { models: ["gpt-4o-mini"], priority: 1 });
    await h.addProvider("openai", { models: ["gpt-4o-mini"], priority: 2 });
    bad.mock!.script({ status: 500 });
    await h.client().chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: "one" }] });
    await h.client().chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: "two" }] });
    const stream = await h
      .client()
      .chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: "three" }], stream: true });
    for await (const _ of stream);
    await h
      .client()
      .chat.completions.create({ model: "missing-model", messages: [{ role: "user", content: "x" }] })
      .catch(() => {});
    await h.t.deps.logQueue.flush();

    const r = await scrape(`Bearer ${TOKEN}`);
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
    const text = r.text;
    expect(sample(text, 'perpetuo_requests_total{endpoint="chat",status="200",provider="openai",model="gpt-4o-mini"}')).toBe(3);
    expect(sample(text, 'perpetuo_requests_total{endpoint="chat",status="404",provider="none",model="missing-model"}')).toBe(1);
    expect(sample(text, 'perpetuo_fallbacks_total{endpoint="chat"}')).toBe(1);
    expect(sample(text, "perpetuo_cooldowns_started_total")).toBe(1);
    expect(sample(text, 'perpetuo_request_duration_seconds_count{endpoint="chat",provider="openai"}')).toBe(3);
    expect(sample(text, 'perpetuo_time_to_first_token_seconds_count{endpoint="chat",provider="openai"}')).toBe(1);
    expect(sample(text, "perpetuo_log_queue_depth")).toBe(0);
    expect(sample(text, "perpetuo_log_rows_written_total")).toBe(4);
    expect(sample(text, "perpetuo_log_spooled_records_total")).toBe(0);
    expect(sample(text, "perpetuo_db_pool_max_connections")).toBe(h.t.deps.sql.options.max);
    // Every sample line is `name{labels} number`.
    for (const line of text.split("\n").filter((l) => l && !l.startsWith("#"))) expect(line).toMatch(/^[a-z_]+(\{.*\})? [-+0-9.eInfNa]+$/);
  });
});
