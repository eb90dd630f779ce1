import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import postgres from "postgres";
import { TEST_SECRET } from "./app.ts";

/**
 * Real `bun src/index.ts serve` processes for the suites that kill, restart or double them
 * (crash recovery, two instances), and the private databases and PostgreSQL servers they need.
 */
export const ROOT = join(import.meta.dir, "../..");

export async function freePort(): Promise<number> {
  const s = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response() });
  const p = s.port!;
  s.stop(true);
  return p;
}

export interface ServerProcess {
  base: string;
  proc: Bun.Subprocess<"ignore", "pipe", "pipe">;
  /** Everything the process wrote to stderr and stdout so far. */
  output(): string;
  /** Sends the signal and waits for the exit code. */
  kill(signal: "SIGTERM" | "SIGKILL"): Promise<number>;
}

/** Starts a server and waits until /readyz answers 200 (the database is open and migrated). */
export async function startServer(env: {
  DATA_DIR: string;
  DATABASE_URL?: string;
  [k: string]: string | undefined;
}): Promise<ServerProcess> {
  const port = await freePort();
  const proc = Bun.spawn(["bun", "src/index.ts", "serve"], {
    cwd: ROOT,
    env: {
      ...process.env,
      PORT: String(port),
      HOST: "127.0.0.1",
      LOG_LEVEL: "warn",
      PERPETUO_SECRET: TEST_SECRET,
      // The mock upstreams listen on loopback.
      ALLOW_PRIVATE_BASE_URLS: "true",
      ...env,
      DATABASE_URL: env.DATABASE_URL ?? "",
    },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  let out = "";
  const drain = async (s: ReadableStream<Uint8Array>) => {
    const d = new TextDecoder();
    const reader = s.getReader();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      out += d.decode(value, { stream: true });
    }
  };
  void drain(proc.stdout);
  void drain(proc.stderr);
  const base = `http://127.0.0.1:${port}`;
  const until = Date.now() + 120_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`server exited with ${proc.exitCode} before it was ready:\n${out}`);
    try {
      if ((await fetch(`${base}/readyz`)).ok) break;
    } catch {}
    if (Date.now() > until) {
      proc.kill("SIGKILL");
      throw new Error(`server not ready in time:\n${out}`);
    }
    await Bun.sleep(50);
  }
  return {
    base,
    proc,
    output: () => out,
    async kill(signal) {
      proc.kill(signal);
      return proc.exited;
    },
  };
}

/** A fresh, empty database on the server named by `serverUrl`. */
export async function privateDatabase(serverUrl: string, prefix = "perpetuo_p"): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `${prefix}_${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`;
  const admin = postgres(serverUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name}`);
  await admin.end();
  const u = new URL(serverUrl);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    async drop() {
      const a = postgres(serverUrl, { max: 1, onnotice: () => {} });
      await a.unsafe(`drop database if exists ${name} with (force)`);
      await a.end();
    },
  };
}

/** `.ci/pg-server` for a PostgreSQL server of the test's own, which it may stop and start. */
export const pgBinaries = existsSync("/usr/lib/postgresql") && readdirSync("/usr/lib/postgresql").length > 0;

export async function pgServer(...args: string[]): Promise<string> {
  const p = Bun.spawn([join(ROOT, ".ci/pg-server"), ...args], { stdout: "pipe", stderr: "pipe" });
  const out = await new Response(p.stdout).text();
  if ((await p.exited) !== 0) throw new Error(`pg-server ${args.join(" ")}: ${await new Response(p.stderr).text()}`);
  return out;
}

/** Starts a throwaway server; returns its URL and directory (for pgServer("down"|"up"|"stop", dir)). */
export async function startPgServer(): Promise<{ url: string; dir: string }> {
  const env = await pgServer("start");
  return { url: /DATABASE_URL=(\S+)/.exec(env)![1], dir: /PG_TEST_DIR=(\S+)/.exec(env)![1] };
}

/** JSON API calls against a running server; throws on anything but 2xx. */
export function apiClient(base: string) {
  return async function api<T = Record<string, any>>(method: string, path: string, body?: unknown, token?: string): Promise<T> {
    const r = await fetch(base + path, {
      method,
      headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await r.text();
    if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${text}`);
    return (text ? JSON.parse(text) : null) as T;
  };
}

/** One chat completion through a server's gateway; the status and the whole body read. */
export async function chat(
  base: string,
  key: string,
  model: string,
  stream = false,
  requestId?: string,
): Promise<{ status: number; ok: boolean; text: string }> {
  const r = await fetch(`${base}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json", ...(requestId ? { "x-request-id": requestId } : {}) },
    body: JSON.stringify({ model, stream, messages: [{ role: "user", content: "hi" }] }),
  });
  const text = await r.text();
  // Complete answers only: a stream counts when its end marker arrived.
  const ok = r.status === 200 && (stream ? text.includes("data: [DONE]") : text.includes('"chat.completion"'));
  return { status: r.status, ok, text };
}
