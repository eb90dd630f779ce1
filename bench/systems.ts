// Every system under test in its own process: the mock upstream, the bare forwarder and Perpetuo.
// (The peer gateway is in peer.ts.) Each is started on a free loopback port and awaited until it answers.
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { openDatabase } from "../src/db/client.ts";

export const root = join(import.meta.dir, "..");
export const resultsDir = join(import.meta.dir, "results");

export interface System {
  /** Row label. */
  name: string;
  kind: "direct" | "bare" | "perpetuo" | "peer";
  /** The process whose memory and CPU are measured. */
  pid: number;
  /** A PostgreSQL server whose CPU is counted along (ours only). */
  helperPid: number | null;
  url: string;
  /** Request headers for one run (Perpetuo: the run's own gateway key, so rows can be counted per run). */
  headers(run: string): Record<string, string>;
  /** Waits until everything the run caused is done (Perpetuo: its request logs are committed). */
  settle(): Promise<void>;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  const s = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response() });
  const port = s.port!;
  await s.stop(true);
  return port;
}

export async function waitFor(url: string, timeoutMs: number, proc: { exitCode: number | null }): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (proc.exitCode !== null) throw new Error(`exited with code ${proc.exitCode} before answering ${url}`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      if (res.ok) return;
    } catch {}
    await Bun.sleep(100);
  }
  throw new Error(`no answer from ${url} within ${timeoutMs / 1000} s`);
}

function spawnLogged(name: string, cmd: string[], env: Record<string, string | undefined> = {}) {
  mkdirSync(resultsDir, { recursive: true });
  const log = Bun.file(join(resultsDir, `${name}.log`));
  return Bun.spawn(cmd, { cwd: root, env: { ...process.env, ...env }, stdout: log, stderr: log });
}

async function stopProcess(p: ReturnType<typeof Bun.spawn>, graceMs = 25_000) {
  if (p.exitCode !== null) return;
  p.kill("SIGTERM");
  const done = await Promise.race([p.exited.then(() => true), Bun.sleep(graceMs).then(() => false)]);
  if (!done) p.kill("SIGKILL");
  await p.exited;
}

const noop = async () => {};

export async function startUpstream(latencyMs: number) {
  const port = await freePort();
  const p = spawnLogged("upstream", ["bun", "bench/mock-upstream.ts", String(port)], { BENCH_UPSTREAM_LATENCY_MS: String(latencyMs) });
  const base = `http://127.0.0.1:${port}/v1`;
  await waitFor(`${base}/models`, 10_000, p);
  const system: System = {
    name: "direct to the mock upstream (no proxy)",
    kind: "direct",
    pid: p.pid,
    helperPid: null,
    url: `${base}/chat/completions`,
    headers: () => ({ "content-type": "application/json" }),
    settle: noop,
    stop: () => stopProcess(p),
  };
  return { base, system };
}

export async function startBare(upstreamBase: string): Promise<System> {
  const port = await freePort();
  const p = spawnLogged("bare-proxy", ["bun", "bench/bare-proxy.ts", upstreamBase, String(port)]);
  await waitFor(`http://127.0.0.1:${port}/v1/models`, 10_000, p);
  return {
    name: "bare Bun fetch forwarder",
    kind: "bare",
    pid: p.pid,
    helperPid: null,
    url: `http://127.0.0.1:${port}/v1/chat/completions`,
    headers: () => ({ "content-type": "application/json" }),
    settle: noop,
    stop: () => stopProcess(p),
  };
}

export interface PerpetuoOptions {
  label: string;
  name: string;
  upstreamBase: string;
  /** A PostgreSQL database URL, or null for the embedded database in a fresh data dir. */
  databaseUrl: string | null;
  helperPid?: number | null;
  /** One gateway key is made for each. */
  runs: string[];
  /** Extra arguments for bun before the entry point (the CPU profile). */
  bunArgs?: string[];
}

export interface PerpetuoSystem extends System {
  /** Request-log rows per run, counted in the database after a graceful stop (call after stop()). */
  countLogged(): Promise<Map<string, number>>;
}

/** `bun src/index.ts serve` exactly as deployed, set up through its own HTTP API. */
export async function startPerpetuo(o: PerpetuoOptions): Promise<PerpetuoSystem> {
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), `perpetuo-bench-${o.label}-`));
  const metricsToken = `bench-metrics-${crypto.randomUUID()}`;
  const p = spawnLogged(`perpetuo-${o.label}`, ["bun", ...(o.bunArgs ?? []), "src/index.ts", "serve"], {
    PORT: String(port),
    HOST: "127.0.0.1",
    // Empty means unset: the embedded database.
    DATABASE_URL: o.databaseUrl ?? "",
    DATA_DIR: dataDir,
    PERPETUO_SECRET: `bench-secret-${crypto.randomUUID()}`,
    SIGNUP: "open",
    // The mock upstream is on 127.0.0.1.
    ALLOW_PRIVATE_BASE_URLS: "true",
    LOG_LEVEL: "error",
    METRICS_TOKEN: metricsToken,
    NODE_ENV: "development",
  });
  const base = `http://127.0.0.1:${port}`;
  try {
    // The embedded database runs initdb on first start: tens of seconds on a busy machine.
    await waitFor(`${base}/healthz`, 300_000, p);
  } catch (err) {
    await stopProcess(p);
    rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }

  const call = async (path: string, body: unknown, token?: string) => {
    const res = await fetch(base + path, {
      method: "POST",
      headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`${path}: HTTP ${res.status} ${(await res.text()).slice(0, 300)}`);
    return res.json() as Promise<Record<string, any>>;
  };
  const { token } = await call("/auth/signup", { email: `bench-${o.label}@example.com`, password: "benchmark password" });
  const ws = await call("/workspaces", { name: "bench" }, token);
  await call(
    `/workspaces/${ws.id}/providers`,
    { name: "bench", type: "openai_compatible", base_url: o.upstreamBase, api_key: "sk-bench" },
    token,
  );
  const keys = new Map<string, { id: string; key: string }>();
  for (const run of o.runs) {
    const k = await call(`/workspaces/${ws.id}/api-keys`, { name: run.slice(0, 100) }, token);
    keys.set(run, { id: k.id, key: k.key });
  }

  const queueEmpty = async () => {
    const res = await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${metricsToken}` } });
    const text = await res.text();
    const gauge = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, "m").exec(text)?.[1] ?? NaN);
    // Unknown gauges (a renamed metric) count as empty rather than waiting out the timeout.
    return !(gauge("perpetuo_log_queue_depth") > 0) && !(gauge("perpetuo_log_spool_bytes") > 0);
  };

  return {
    name: o.name,
    kind: "perpetuo",
    pid: p.pid,
    helperPid: o.helperPid ?? null,
    url: `${base}/v1/chat/completions`,
    headers: (run) => {
      const k = keys.get(run);
      if (!k) throw new Error(`no gateway key for run ${run}`);
      return { "content-type": "application/json", authorization: `Bearer ${k.key}` };
    },
    async settle() {
      const until = Date.now() + 60_000;
      while (Date.now() < until && !(await queueEmpty().catch(() => false))) await Bun.sleep(200);
    },
    stop: () => stopProcess(p),
    async countLogged() {
      const db = o.databaseUrl
        ? { sql: postgres(o.databaseUrl, { max: 1, onnotice: () => {} }), close: noop }
        : await openDatabase({ databaseUrl: null, dataDir });
      const counted = new Map<string, number>();
      try {
        const rows = await db.sql<{ api_key_id: string; n: number }[]>`
          select api_key_id, count(*)::int as n from request_logs group by api_key_id`;
        const byId = new Map(rows.map((r) => [r.api_key_id, r.n]));
        for (const [run, k] of keys) counted.set(run, byId.get(k.id) ?? 0);
      } finally {
        if (o.databaseUrl) await db.sql.end();
        else await db.close();
        rmSync(dataDir, { recursive: true, force: true });
      }
      return counted;
    },
  };
}
