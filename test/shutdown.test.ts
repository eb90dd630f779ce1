import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { openDatabase } from "../src/db/client.ts";
import { startMockUpstream, type MockUpstream } from "./support/mock-upstreams.ts";

// SIGTERM while requests are in flight: the process stops accepting, lets what it accepted finish,
// writes every request log, and exits 0. Afterwards the database holds one row per answered request.
const root = join(import.meta.dir, "..");
let dir: string;
let mock: MockUpstream;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "perpetuo-sigterm-"));
  mock = await startMockUpstream("openai", { expectedKey: "sk-sigterm-0123456789", behaviour: { chunkDelayMs: 5 } });
});
afterAll(async () => {
  await mock.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function freePort(): Promise<number> {
  const s = Bun.serve({ port: 0, fetch: () => new Response() });
  const p = s.port!;
  s.stop(true);
  return p;
}

test("SIGTERM under load loses no request log", async () => {
  // A private database on the server when there is one, else the embedded one in DATA_DIR.
  let url = "";
  let dropDb = async () => {};
  if (process.env.DATABASE_URL) {
    const name = `perpetuo_sigterm_${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`;
    const admin = postgres(process.env.DATABASE_URL, { max: 1, onnotice: () => {} });
    await admin.unsafe(`create database ${name}`);
    await admin.end();
    const u = new URL(process.env.DATABASE_URL);
    u.pathname = `/${name}`;
    url = u.toString();
    dropDb = async () => {
      const a = postgres(process.env.DATABASE_URL!, { max: 1, onnotice: () => {} });
      await a.unsafe(`drop database if exists ${name} with (force)`);
      await a.end();
    };
  }
  const port = await freePort();
  const proc = Bun.spawn(["bun", "src/index.ts", "serve"], {
    cwd: root,
    env: { ...process.env, PORT: String(port), HOST: "127.0.0.1", DATA_DIR: dir, DATABASE_URL: url, LOG_LEVEL: "warn", ALLOW_PRIVATE_BASE_URLS: "true" },
    stdout: "pipe",
    stderr: "pipe",
  });
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 300; i++) {
    try {
      if ((await fetch(`${base}/readyz`)).ok) break;
    } catch {}
    await Bun.sleep(100);
  }
  const post = async (path: string, body: unknown, token?: string) => {
    const r = await fetch(base + path, { method: "POST", headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) }, body: JSON.stringify(body) });
    return (await r.json()) as Record<string, any>;
  };
  const { token } = await post("/auth/signup", { email: "sigterm@example.com", password: "sigterm password" });
  const ws = await post("/workspaces", { name: "sigterm" }, token);
  await post(`/workspaces/${ws.id}/providers`, { name: "up", type: "openai", base_url: mock.url, api_key: "sk-sigterm-0123456789" }, token);
  const { key } = await post(`/workspaces/${ws.id}/api-keys`, { name: "k" }, token);

  let answered = 0;
  let stopping = false;
  const worker = async (w: number) => {
    for (let i = 0; !stopping; i++) {
      try {
        const r = await fetch(`${base}/v1/chat/completions`, {
          method: "POST",
          headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
          body: JSON.stringify({ model: "gpt-4o-mini", stream: (w + i) % 2 === 0, messages: [{ role: "user", content: "hi" }] }),
        });
        const text = await r.text();
        if (r.status === 200 && (text.includes("[DONE]") || text.includes("chat.completion"))) answered++;
      } catch {
        // Refused once the server stopped listening: never answered, never logged.
        return;
      }
    }
  };
  const load = Promise.all(Array.from({ length: 16 }, (_, w) => worker(w)));
  while (answered < 150) await Bun.sleep(20);
  proc.kill("SIGTERM");
  const code = await proc.exited;
  stopping = true;
  await load;
  expect(code).toBe(0);
  expect(answered).toBeGreaterThanOrEqual(150);

  const db = await openDatabase({ databaseUrl: url || null, dataDir: url ? null : dir });
  try {
    const [{ n }] = await db.sql`select count(*)::int as n from request_logs where status = 200`;
    expect(n).toBe(answered);
    const [{ r }] = await db.sql`select coalesce(sum(requests), 0)::int as r from usage_daily`;
    expect(r).toBe(answered);
  } finally {
    await db.close();
    await dropDb();
  }
});
