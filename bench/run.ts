// `bun run bench`: Perpetuo against a direct call and a bare proxy, on this machine, over loopback.
// Prints a markdown table and writes it to bench/results/latest.md.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createApp } from "../src/app.ts";
import { buildDeps } from "../src/deps.ts";
import { openDatabase } from "../src/db/client.ts";
import { migrate } from "../src/db/migrate.ts";
import { silentLogger } from "../src/logger.ts";
import { startBareProxy } from "./bare-proxy.ts";
import { startBenchUpstream } from "./mock-upstream.ts";

const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32);

const upstream = startBenchUpstream();
const upstreamUrl = `http://127.0.0.1:${upstream.port}/v1`;
const bare = startBareProxy(upstreamUrl);

const db = await openDatabase({ databaseUrl: process.env.DATABASE_URL ?? null, dataDir: null });
await migrate(db.sql);
const config = {
  port: 0,
  host: "127.0.0.1",
  databaseUrl: process.env.DATABASE_URL ?? null,
  secret: "bench-secret-0123456789abcdefghijklmnopqrstuvwxyz",
  previousSecrets: [],
  publicUrl: "http://localhost",
  dataDir: join(import.meta.dir, "results", ".data"),
  logLevel: "error" as const,
  production: false,
  secretSource: "env" as const,
  trustedProxies: [],
  passwordHashConcurrency: 2,
  signup: "open" as const,
  // The mock upstream is on 127.0.0.1.
  allowPrivateBaseUrls: true,
  shutdownTimeoutMs: 20_000,
  logQueueMax: 10_000,
  logSpoolMaxBytes: 1024 ** 3,
  unpricedModels: "allow" as const,
  metricsToken: null,
  corsOrigins: [],
};
const deps = buildDeps({ sql: db.sql, config, logger: silentLogger, passwordOptions: { memoryCost: 1024, timeCost: 1 } });
const app = createApp(deps).listen({ port: 0, hostname: "127.0.0.1" });
const base = `http://127.0.0.1:${app.server!.port}`;

async function call(path: string, body: unknown, token?: string) {
  const res = await fetch(base + path, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  return res.json() as Promise<Record<string, any>>;
}
const { token } = await call("/auth/signup", { email: `bench-${Date.now()}@example.com`, password: "benchmark password" });
const ws = await call("/workspaces", { name: "bench" }, token);
await call(`/workspaces/${ws.id}/providers`, { name: "bench", type: "openai_compatible", base_url: upstreamUrl, api_key: "sk-bench" }, token);
const { key } = await call(`/workspaces/${ws.id}/api-keys`, { name: "bench" }, token);

interface Result { requests: number; errors: number; rps: number; p50: number; p99: number }
async function load(url: string, stream: boolean): Promise<Result> {
  const p = Bun.spawn(["bun", join(import.meta.dir, "load.ts"), url, key, String(SECONDS), String(CONCURRENCY), stream ? "1" : "0"], { stdout: "pipe" });
  const out = await new Response(p.stdout).text();
  await p.exited;
  return JSON.parse(out.trim().split("\n").pop()!);
}

const rows: [string, Result][] = [];
for (const stream of [false, true]) {
  const mode = stream ? "stream" : "json";
  rows.push([`direct to upstream (${mode})`, await load(`${upstreamUrl}/chat/completions`, stream)]);
  rows.push([`bare Bun proxy (${mode})`, await load(`http://127.0.0.1:${bare.port}/v1/chat/completions`, stream)]);
  rows.push([`Perpetuo (${mode})`, await load(`${base}/v1/chat/completions`, stream)]);
}
await deps.logQueue.flush();
const [logged] = await db.sql`select count(*)::int as n from request_logs`;

const f = (n: number, d = 2) => (Number.isFinite(n) ? n.toFixed(d) : "—");
const lines = [
  `Perpetuo benchmark — ${new Date().toISOString()} — ${SECONDS}s per row, ${CONCURRENCY} connections, ${db.embedded ? "embedded PGlite" : "PostgreSQL"}, Bun ${Bun.version}, ${navigator.hardwareConcurrency} cores`,
  "",
  "| path | requests | errors | req/s | p50 ms | p99 ms |",
  "|---|---:|---:|---:|---:|---:|",
  ...rows.map(([name, r]) => `| ${name} | ${r.requests} | ${r.errors} | ${f(r.rps, 0)} | ${f(r.p50)} | ${f(r.p99)} |`),
  "",
  `Request log rows written during the run: ${logged.n}; log writer: ${JSON.stringify(deps.logQueue.stats())}.`,
];
const table = lines.join("\n");
console.log(table);
mkdirSync(join(import.meta.dir, "results"), { recursive: true });
writeFileSync(join(import.meta.dir, "results", "latest.md"), table + "\n");

app.stop();
await deps.gateway.stop();
deps.logQueue.stop();
await db.close();
upstream.stop(true);
bare.stop(true);
process.exit(0);
