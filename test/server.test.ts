import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { testDatabase } from "./support/db.ts";
import { listeningTcpPorts, openToOthers } from "./support/embedded-privacy.ts";

// The real entry point as a user starts it: a process, a port, the embedded database on disk
// (or the server in DATABASE_URL), then curl-like calls over HTTP.
const root = join(import.meta.dir, "..");
let dir: string;

async function freePort(): Promise<number> {
  const s = Bun.serve({ port: 0, fetch: () => new Response() });
  const p = s.port!;
  s.stop(true);
  return p;
}

async function start(env: Record<string, string>) {
  const port = await freePort();
  const proc = Bun.spawn(["bun", "src/index.ts", "serve"], {
    cwd: root,
    env: { ...process.env, PORT: String(port), HOST: "127.0.0.1", DATA_DIR: dir, LOG_LEVEL: "warn", ...env },
    stdout: "pipe",
    stderr: "pipe",
  });
  const base = `http://127.0.0.1:${port}`;
  // A first start on the embedded database creates the cluster (initdb): 10-40 s on an idle 2-core machine, more on a busy one.
  const until = performance.now() + 120_000;
  while (performance.now() < until) {
    if (proc.exitCode !== null) break;
    try {
      if ((await fetch(`${base}/readyz`)).ok) return { proc, base };
    } catch {}
    await Bun.sleep(100);
  }
  throw new Error(`server did not start: ${await new Response(proc.stderr).text()}`);
}

async function stop(proc: Subprocess) {
  proc.kill("SIGTERM");
  await proc.exited;
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "perpetuo-server-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("the server process", () => {
  test("serves signup, login and workspaces over HTTP, keeps data across a restart and exits 0 on SIGTERM", async () => {
    // A database of its own on the server (the shared one may hold other branches' migrations).
    const db = process.env.DATABASE_URL ? await testDatabase({ migrate: false }) : null;
    const env = { DATABASE_URL: db?.url ?? "", SIGNUP: "open" };
    try {
      let { proc, base } = await start(env);
      const json = (body: unknown, token?: string) => ({
        method: "POST",
        headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify(body),
      });
      const email = `srv-${crypto.randomUUID()}@example.com`;
      const signup = await fetch(`${base}/auth/signup`, json({ email, password: "0123456789" }));
      expect(signup.status).toBe(201);
      const { token } = (await signup.json()) as { token: string };
      const ws = (await (await fetch(`${base}/workspaces`, json({ name: "Persisted" }, token))).json()) as { id: string };
      await stop(proc);
      expect(proc.exitCode).toBe(0);

      ({ proc, base } = await start(env));
      try {
        const login = await fetch(`${base}/auth/login`, json({ email, password: "0123456789" }));
        expect(login.status).toBe(200);
        const { token: t2 } = (await login.json()) as { token: string };
        const got = await fetch(`${base}/workspaces/${ws.id}`, { headers: { authorization: `Bearer ${t2}` } });
        expect(((await got.json()) as { name: string }).name).toBe("Persisted");
      } finally {
        await stop(proc);
      }
    } finally {
      await db?.close();
    }
  });

  // Runs with and without DATABASE_URL: the embedded database is forced here. One server for both
  // tests, since creating the cluster is the slow part.
  describe("on the embedded database", () => {
    let embedded: { proc: Subprocess; base: string };
    beforeAll(async () => {
      embedded = await start({ DATABASE_URL: "" });
    }, 150_000);
    afterAll(async () => {
      if (embedded) await stop(embedded.proc);
    });

    test("a second process on the same data directory is refused with a clear error", async () => {
      const second = Bun.spawn(["bun", "src/index.ts", "serve"], {
        cwd: root,
        env: { ...process.env, PORT: String(await freePort()), DATA_DIR: dir, DATABASE_URL: "" },
        stderr: "pipe",
        stdout: "pipe",
      });
      expect(await second.exited).toBe(1);
      expect(await new Response(second.stderr).text()).toContain("is in use by another Perpetuo process");
    });

    test("the database opens no TCP port and keeps its socket and files private to this user", () => {
      // Every TCP socket the process listens on (worker threads included) is the HTTP port.
      expect(listeningTcpPorts(embedded.proc.pid)).toEqual([Number(new URL(embedded.base).port)]);
      const run = join(dir, "run");
      expect(statSync(run).mode & 0o777).toBe(0o700);
      expect(readdirSync(run)).toEqual([".s.PGSQL.5432"]);
      expect(statSync(join(run, ".s.PGSQL.5432")).isSocket()).toBe(true);
      expect(openToOthers(join(dir, "pg"))).toEqual([]);
    });
  });

  test("a bad variable stops start-up with one line naming it", async () => {
    const p = Bun.spawn(["bun", "src/index.ts"], { cwd: root, env: { ...process.env, PORT: "nope", DATA_DIR: dir }, stderr: "pipe" });
    expect(await p.exited).toBe(1);
    expect((await new Response(p.stderr).text()).trim()).toBe("perpetuo: invalid configuration: PORT must be a whole number");
  });

  test("wrong arguments print usage and exit 2", async () => {
    const p = Bun.spawn(["bun", "src/index.ts", "frobnicate"], { cwd: root, stderr: "pipe" });
    expect(await p.exited).toBe(2);
    expect(await new Response(p.stderr).text()).toContain("Usage: perpetuo");
  });
});
