import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { openDatabase } from "../src/db/client.ts";
import { startMockUpstream, type MockUpstream } from "./support/mock-upstreams.ts";
import { gatewayHarness } from "./support/gateway.ts";

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

/** A server process on a private database (on the server when there is one, else embedded in DATA_DIR), with a key for a provider at `upstream`. */
async function startServer(upstream: MockUpstream, env: Record<string, string> = {}) {
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
  const dataDir = mkdtempSync(join(dir, "data-"));
  const port = await freePort();
  const proc = Bun.spawn(["bun", "src/index.ts", "serve"], {
    cwd: root,
    env: {
      ...process.env,
      PORT: String(port),
      HOST: "127.0.0.1",
      DATA_DIR: dataDir,
      DATABASE_URL: url,
      LOG_LEVEL: "warn",
      ALLOW_PRIVATE_BASE_URLS: "true",
      ...env,
    },
    stdout: "pipe",
    stderr: "pipe",
  });
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 600; i++) {
    try {
      if ((await fetch(`${base}/readyz`)).ok) break;
    } catch {}
    await Bun.sleep(100);
  }
  const post = async (path: string, body: unknown, token?: string) => {
    const r = await fetch(base + path, {
      method: "POST",
      headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    });
    return (await r.json()) as Record<string, any>;
  };
  const { token } = await post("/auth/signup", { email: "sigterm@example.com", password: "sigterm password" });
  const ws = await post("/workspaces", { name: "sigterm" }, token);
  await post(
    `/workspaces/${ws.id}/providers`,
    { name: "up", type: "openai", base_url: upstream.url, api_key: "sk-sigterm-0123456789" },
    token,
  );
  const { key } = await post(`/workspaces/${ws.id}/api-keys`, { name: "k" }, token);
  /** The database the server used, once it has exited. */
  const openDb = () => openDatabase({ databaseUrl: url || null, dataDir: url ? null : dataDir });
  return { proc, base, key: key as string, openDb, dropDb };
}

test("SIGTERM under load loses no request log", async () => {
  const { proc, base, key, openDb, dropDb } = await startServer(mock);
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

  const db = await openDb();
  try {
    const [{ n }] = await db.sql`select count(*)::int as n from request_logs where status = 200`;
    expect(n).toBe(answered);
    const [{ r }] = await db.sql`select coalesce(sum(requests), 0)::int as r from usage_daily`;
    expect(r).toBe(answered);
  } finally {
    await db.close();
    await dropDb();
  }
}, 120_000);

test("SIGTERM ends a stream still open at the drain deadline with an error event, and logs it", async () => {
  // 200 words, one every 300 ms: this stream would last a minute.
  const slow = await startMockUpstream("openai", {
    expectedKey: "sk-sigterm-0123456789",
    behaviour: { text: Array.from({ length: 200 }, (_, i) => `w${i}`).join(" "), chunkDelayMs: 300 },
  });
  const { proc, base, key, openDb, dropDb } = await startServer(slow, { SHUTDOWN_TIMEOUT_MS: "1000" });
  try {
    const res = await fetch(`${base}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "gpt-4o-mini", stream: true, messages: [{ role: "user", content: "hi" }] }),
    });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = "";
    while (!text.includes("w1")) text += decoder.decode((await reader.read()).value, { stream: true });
    proc.kill("SIGTERM");
    const signalled = Date.now();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
    // Ended by the deadline, not by the upstream: far from the last word, no [DONE], an OpenAI-style error last.
    expect(await proc.exited).toBe(0);
    // Before a platform's SIGKILL (30 s), where the stream alone would have taken a minute.
    expect(Date.now() - signalled).toBeLessThan(30_000);
    expect(text).not.toContain("w199");
    expect(text).not.toContain("[DONE]");
    const events = text.trim().split("\n\n");
    expect(JSON.parse(events.at(-1)!.replace(/^data: /, ""))).toEqual({
      error: {
        message: "the gateway is shutting down; retry the request",
        type: "server_error",
        param: null,
        code: "server_shutting_down",
      },
    });
    expect(await new Response(proc.stdout).text()).toContain("drain deadline passed");
    const db = await openDb();
    try {
      const rows = await db.sql`select status, stream, error_class, completion_tokens from request_logs`;
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ status: 503, stream: true, error_class: "shutdown" });
      expect(rows[0].completion_tokens).toBeGreaterThan(0);
    } finally {
      await db.close();
    }
  } finally {
    proc.kill("SIGKILL");
    await slow.stop();
    await dropDb();
  }
}, 120_000);

test("a request still waiting on its provider at the drain deadline answers 503 server_shutting_down, and is logged", async () => {
  const h = await gatewayHarness();
  try {
    await h.addProvider("openai", {}, { behaviour: { delayMs: 60_000 } });
    const pending = fetch(`${h.base}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${h.key}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "gpt-4o-mini", messages: [{ role: "user", content: "hi" }] }),
    });
    await Bun.sleep(300);
    h.t.deps.gateway.drain();
    const res = await pending;
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({
      error: {
        message: "the gateway is shutting down; retry the request",
        type: "server_error",
        param: null,
        code: "server_shutting_down",
      },
    });
    await h.t.deps.logQueue.flush();
    const rows = await h.t.sql`select status, error_class from request_logs`;
    expect([...rows]).toEqual([{ status: 503, error_class: "shutdown" }]);
  } finally {
    await h.close();
  }
}, 90_000);
