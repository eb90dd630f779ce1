import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import pkg from "../package.json" with { type: "json" };
import { startMockUpstream, type MockUpstream } from "./support/mock-upstreams.ts";
import { testDatabase } from "./support/db.ts";
import { listeningTcpPorts, openToOthers } from "./support/embedded-privacy.ts";

// The single binary as it ships: built once with the same command as `bun run build`, copied alone
// into an empty directory (no node_modules, no sql/, no public/ anywhere up the tree), started
// there with no DATA_DIR, then used over HTTP the way a first user would. Runs on the embedded
// database and, when DATABASE_URL is set, once more against that server.
const root = join(import.meta.dir, "..");
let work: string;
let binary: string;
let upstream: MockUpstream;

/** `bun run build`'s own command line, with the output redirected into a temporary directory. */
function buildCommand(outfile: string): string[] {
  const script = pkg.scripts.build;
  const args = script.split(/\s+/).filter(Boolean);
  expect(args.slice(0, 2)).toEqual(["bun", "build"]);
  expect(args).toContain("--compile");
  const i = args.indexOf("--outfile");
  expect(i).toBeGreaterThan(0);
  args[i + 1] = outfile;
  return args;
}

async function freePort(): Promise<number> {
  const s = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response() });
  const p = s.port!;
  s.stop(true);
  return p;
}

/** Only what any machine has: the binary must not need anything from the developer's environment. */
function cleanEnv(extra: Record<string, string>): Record<string, string> {
  // The mock upstream listens on 127.0.0.1.
  return {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: process.env.HOME ?? "/tmp",
    LOG_LEVEL: "warn",
    ALLOW_PRIVATE_BASE_URLS: "true",
    ...extra,
  };
}

interface Running {
  proc: Subprocess<"ignore", "pipe", "pipe">;
  base: string;
  port: number;
  startupMs: number;
}

async function start(cwd: string, env: Record<string, string>): Promise<Running> {
  const port = await freePort();
  const t0 = performance.now();
  const proc = Bun.spawn([join(cwd, "perpetuo")], {
    cwd,
    env: cleanEnv({ PORT: String(port), HOST: "127.0.0.1", ...env }),
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const base = `http://127.0.0.1:${port}`;
  // The first start creates the cluster (initdb): 10-40 s on an idle 2-core machine, more on a busy one.
  const until = performance.now() + 90_000;
  while (performance.now() < until) {
    if (proc.exitCode !== null) break;
    try {
      if ((await fetch(`${base}/readyz`)).ok) return { proc, base, port, startupMs: performance.now() - t0 };
    } catch {}
    await Bun.sleep(50);
  }
  proc.kill();
  throw new Error(`the binary did not start: ${await new Response(proc.stderr).text()}`);
}

async function stop(r: Running): Promise<number> {
  r.proc.kill("SIGTERM");
  return r.proc.exited;
}

/**
 * Runs one step of a journey. A failing step is recorded with its name and the journey goes on
 * where it can, so a red run lists every missing feature at once (see Journey.assertAllPassed).
 */
class Journey {
  readonly failures: string[] = [];
  async step<T>(name: string, fn: () => Promise<T>): Promise<T | undefined> {
    try {
      return await fn();
    } catch (err) {
      this.failures.push(`${name}: ${err instanceof Error ? err.message : String(err)}`);
      return undefined;
    }
  }
  skip(name: string, because: string) {
    this.failures.push(`${name}: not run (${because})`);
  }
  assertAllPassed() {
    expect(this.failures).toEqual([]);
  }
}

async function call(base: string, method: string, path: string, opts: { body?: unknown; token?: string } = {}) {
  const headers: Record<string, string> = {};
  if (opts.body !== undefined) headers["content-type"] = "application/json";
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  const res = await fetch(base + path, { method, headers, body: opts.body === undefined ? undefined : JSON.stringify(opts.body) });
  const text = await res.text();
  let json: any = null;
  try {
    json = JSON.parse(text);
  } catch {}
  return { status: res.status, headers: res.headers, text, json };
}

function expectStatus(r: { status: number; text: string }, status: number) {
  if (r.status !== status) throw new Error(`expected ${status}, got ${r.status}: ${r.text.slice(0, 300)}`);
}

/** The gateway key in the API-keys route's answer (shown once): its `key`, else the longest `prp_…` string (a prefix is shorter). */
function findGatewayKey(value: unknown): string | null {
  if (value && typeof value === "object" && typeof (value as { key?: unknown }).key === "string") return (value as { key: string }).key;
  const found: string[] = [];
  const walk = (v: unknown) => {
    if (typeof v === "string" && v.startsWith("prp_")) found.push(v);
    else if (v && typeof v === "object") Object.values(v).forEach(walk);
  };
  walk(value);
  return found.sort((a, b) => b.length - a.length)[0] ?? null;
}

async function chat(base: string, key: string, text: string) {
  const r = await call(base, "POST", "/v1/chat/completions", {
    token: key,
    body: { model: "gpt-4o-mini", messages: [{ role: "user", content: text }] },
  });
  expectStatus(r, 200);
  expect(r.json.object).toBe("chat.completion");
  expect(r.json.choices[0].message.content).toContain(text);
  return r;
}

/** Everything a first user does, then a restart: the data must still be there. */
async function firstUserJourney(j: Journey, dir: string, env: Record<string, string>): Promise<void> {
  let server = await start(dir, env);
  const email = `bin-${crypto.randomUUID().slice(0, 8)}@example.com`;
  const password = "a binary password";
  let key: string | undefined;
  let workspaceId: string | undefined;
  try {
    const token = await j.step("sign up", async () => {
      const r = await call(server.base, "POST", "/auth/signup", { body: { email, password } });
      expectStatus(r, 201);
      return r.json.token as string;
    });
    if (!token) return;
    if (!env.DATABASE_URL) {
      // The binary starts the embedded database's worker from its bundle, not from src/: check it too.
      await j.step("the embedded database opens no TCP port; its socket and files are private to this user", async () => {
        expect(listeningTcpPorts(server.proc.pid)).toEqual([server.port]);
        const run = join(dir, "data", "run");
        expect(statSync(run).mode & 0o777).toBe(0o700);
        expect(statSync(join(run, ".s.PGSQL.5432")).isSocket()).toBe(true);
        expect(openToOthers(join(dir, "data", "pg"))).toEqual([]);
      });
    }
    workspaceId = await j.step("create a workspace", async () => {
      const r = await call(server.base, "POST", "/workspaces", { token, body: { name: "Binary" } });
      expectStatus(r, 201);
      return r.json.id as string;
    });
    if (!workspaceId) return;
    const provider = await j.step("add a provider key pointing at the mock upstream", async () => {
      const r = await call(server.base, "POST", `/workspaces/${workspaceId}/providers`, {
        token,
        body: { name: "mock", type: "openai", base_url: upstream.url, api_key: "sk-binary-test-key", models: ["gpt-4o-mini"] },
      });
      expectStatus(r, 201);
      return true;
    });
    key = await j.step("create a gateway key", async () => {
      const r = await call(server.base, "POST", `/workspaces/${workspaceId}/api-keys`, { token, body: { name: "binary" } });
      expectStatus(r, 201);
      const found = findGatewayKey(r.json);
      if (!found) throw new Error(`no prp_ key in ${r.text}`);
      return found;
    });
    if (provider && key) {
      await j.step("POST /v1/chat/completions through the gateway", async () => {
        await chat(server.base, key!, "hello from the binary");
        expect(upstream.lastChatRequest()?.headers.authorization).toBe("Bearer sk-binary-test-key");
      });
    } else {
      j.skip("POST /v1/chat/completions through the gateway", "no provider or no gateway key");
    }
    await j.step("load the dashboard's login page", async () => {
      const r = await call(server.base, "GET", "/login");
      expectStatus(r, 200);
      expect(r.headers.get("content-type")).toContain("text/html");
    });
    await j.step("load htmx from the public files embedded in the binary", async () => {
      const r = await call(server.base, "GET", "/public/htmx.min.js");
      expectStatus(r, 200);
      expect(r.headers.get("content-type")).toContain("javascript");
      expect(r.text.length).toBeGreaterThan(10_000);
    });
    await j.step("serve the API document and its page", async () => {
      const doc = await call(server.base, "GET", "/openapi.json");
      expectStatus(doc, 200);
      expect(doc.json.paths["/auth/signup"].post).toBeDefined();
      const page = await call(server.base, "GET", "/docs");
      expectStatus(page, 200);
      expect(page.text).toContain("POST /auth/signup");
    });
    await j.step("perpetuo healthcheck against the running server", async () => {
      const hc = Bun.spawn([join(dir, "perpetuo"), "healthcheck"], {
        cwd: dir,
        env: cleanEnv({ PORT: String(server.port) }),
        stderr: "pipe",
      });
      const code = await hc.exited;
      if (code !== 0) throw new Error(`exit ${code}: ${await new Response(hc.stderr).text()}`);
    });
  } finally {
    expect(await stop(server)).toBe(0);
  }
  if (!workspaceId) return;

  await j.step("restart: the account, workspace and gateway key survive", async () => {
    server = await start(dir, env);
    try {
      const login = await call(server.base, "POST", "/auth/login", { body: { email, password } });
      expectStatus(login, 200);
      const ws = await call(server.base, "GET", `/workspaces/${workspaceId}`, { token: login.json.token });
      expectStatus(ws, 200);
      expect(ws.json.name).toBe("Binary");
      if (key && !j.failures.some((f) => f.startsWith("POST /v1"))) await chat(server.base, key, "hello again after a restart");
    } finally {
      expect(await stop(server)).toBe(0);
    }
  });
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), "perpetuo-binary-"));
  binary = join(work, "build", "perpetuo");
  const build = Bun.spawn(buildCommand(binary), { cwd: root, stdout: "pipe", stderr: "pipe" });
  if ((await build.exited) !== 0) throw new Error(`bun build --compile failed:\n${await new Response(build.stderr).text()}`);
  upstream = await startMockUpstream("openai", { expectedKey: "sk-binary-test-key" });
}, 180_000);

afterAll(async () => {
  await upstream?.stop();
  rmSync(work, { recursive: true, force: true });
});

/** A fresh directory holding nothing but a copy of the binary. */
function emptyDirWithBinary(name: string): string {
  const dir = join(work, name);
  mkdirSync(dir);
  copyFileSync(binary, join(dir, "perpetuo"));
  chmodSync(join(dir, "perpetuo"), 0o755);
  expect(readdirSync(dir)).toEqual(["perpetuo"]);
  return dir;
}

describe("the compiled binary", () => {
  test("prints its version and usage without any files around it", async () => {
    const dir = emptyDirWithBinary("cli");
    const version = Bun.spawn([join(dir, "perpetuo"), "--version"], { cwd: dir, env: cleanEnv({}), stdout: "pipe" });
    expect(await version.exited).toBe(0);
    expect((await new Response(version.stdout).text()).trim()).toBe(pkg.version);
    const wrong = Bun.spawn([join(dir, "perpetuo"), "nonsense"], { cwd: dir, env: cleanEnv({}), stderr: "pipe" });
    expect(await wrong.exited).toBe(2);
    expect(await new Response(wrong.stderr).text()).toContain("Usage: perpetuo");
    expect(readdirSync(dir)).toEqual(["perpetuo"]);
  });

  test("refuses a DATA_DIR inside its own embedded file system", async () => {
    const dir = emptyDirWithBinary("bunfs");
    const p = Bun.spawn([join(dir, "perpetuo"), "serve"], {
      cwd: dir,
      env: cleanEnv({ DATA_DIR: "/$bunfs/root/data", PERPETUO_SECRET: "x".repeat(40), PORT: "0" }),
      stderr: "pipe",
    });
    expect(await p.exited).toBe(1);
    expect(await new Response(p.stderr).text()).toContain("DATA_DIR must be a real directory");
  });

  test("runs alone in an empty directory on the embedded database in ./data: signup, workspace, provider, gateway key, chat, dashboard, restart", async () => {
    const dir = emptyDirWithBinary("embedded");
    const j = new Journey();
    await firstUserJourney(j, dir, {});
    // No DATA_DIR: everything lives in ./data next to where it was started.
    expect(existsSync(join(dir, "data", "pg", "PG_VERSION"))).toBe(true);
    expect(statSync(join(dir, "data", "secret")).mode & 0o777).toBe(0o600);
    expect(existsSync(join(dir, "data", "perpetuo.lock"))).toBe(false);

    await j.step("create-user with the binary, then sign in as that user", async () => {
      const email = `bin-cli-${crypto.randomUUID().slice(0, 8)}@example.com`;
      const cu = Bun.spawn([join(dir, "perpetuo"), "create-user", "--email", email, "--workspace", "From the CLI"], {
        cwd: dir,
        env: cleanEnv({ PERPETUO_PASSWORD: "made by the binary" }),
        stdout: "pipe",
        stderr: "pipe",
      });
      const code = await cu.exited;
      if (code !== 0) throw new Error(`create-user exited ${code}: ${await new Response(cu.stderr).text()}`);
      const id = (await new Response(cu.stdout).text()).trim();
      const server = await start(dir, {});
      try {
        const login = await call(server.base, "POST", "/auth/login", { body: { email, password: "made by the binary" } });
        expectStatus(login, 200);
        expect(login.json.user.id).toBe(id);
        const list = await call(server.base, "GET", "/workspaces", { token: login.json.token });
        expect(list.json.data.map((w: { name: string }) => w.name)).toEqual(["From the CLI"]);
      } finally {
        expect(await stop(server)).toBe(0);
      }
    });
    j.assertAllPassed();
  }, 240_000);

  test.skipIf(!process.env.DATABASE_URL)(
    "runs alone against the PostgreSQL server in DATABASE_URL",
    async () => {
      const db = await testDatabase({ migrate: false });
      try {
        const dir = emptyDirWithBinary("postgres");
        const j = new Journey();
        await firstUserJourney(j, dir, { DATABASE_URL: db.url! });
        j.assertAllPassed();
        // With a server, ./data holds only the generated secret: no embedded database.
        expect(existsSync(join(dir, "data", "pg"))).toBe(false);
      } finally {
        await db.close();
      }
    },
    240_000,
  );
});

// No Docker engine runs in CI, so the container files are checked by reading them: the parts that
// decide whether the image builds, stays small, runs as non-root and reports its health.
describe("the container files", () => {
  /** Instructions of a Dockerfile, line continuations joined, comments dropped, grouped by stage. */
  function dockerfileStages(text: string): { from: string; instructions: [string, string][] }[] {
    const lines = text
      .replace(/\\\n/g, " ")
      .split("\n")
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith("#"));
    const stages: { from: string; instructions: [string, string][] }[] = [];
    for (const line of lines) {
      const [, op, rest] = /^(\S+)\s+(.*)$/.exec(line)!;
      if (op.toUpperCase() === "FROM") stages.push({ from: rest, instructions: [] });
      else stages.at(-1)?.instructions.push([op.toUpperCase(), rest]);
    }
    return stages;
  }

  test("Dockerfile: tests and the build run on the pinned Bun image; the runtime stage holds only the binary, as non-root", async () => {
    const stages = dockerfileStages(await Bun.file(join(root, "Dockerfile")).text());
    expect(stages.length).toBe(2);
    const [build, runtime] = stages;
    expect(build.from).toBe(`oven/bun:${pkg.engines.bun} AS build`);
    const runs = build.instructions
      .filter(([op]) => op === "RUN")
      .map(([, r]) => r)
      .join("\n");
    expect(runs).toContain("bun install --frozen-lockfile");
    expect(runs).toMatch(/\bbun (run )?test\b/);
    expect(runs).toContain("bun run build");
    for (const [op, args] of build.instructions) {
      if (op !== "COPY" || args.startsWith("--from")) continue;
      const sources = args.split(/\s+/).slice(0, -1);
      for (const src of sources) if (src !== ".") expect(existsSync(join(root, src))).toBe(true);
    }

    expect(runtime.from).not.toContain("oven/bun");
    const get = (op: string) => runtime.instructions.filter(([o]) => o === op).map(([, r]) => r);
    expect(get("COPY").every((c) => c.startsWith("--from=build"))).toBe(true);
    const user = get("USER").at(-1) ?? "";
    expect(user).not.toBe("");
    expect(user).not.toMatch(/^(0|root)(:|$)/);
    const env = get("ENV").join(" ");
    expect(env).toContain("DATA_DIR=/data");
    expect(env).toContain("NODE_ENV=production");
    expect(get("VOLUME")).toEqual(["/data"]);
    expect(get("EXPOSE")).toEqual(["8080"]);
    const health = get("HEALTHCHECK")[0];
    expect(health).toContain('CMD ["/usr/local/bin/perpetuo", "healthcheck"]');
    expect(get("ENTRYPOINT")).toEqual(['["/usr/local/bin/perpetuo"]']);
  });

  test(".dockerignore keeps dependencies, data, secrets and build output out of the build context", async () => {
    const ignored = (await Bun.file(join(root, ".dockerignore")).text()).split("\n").map((l) => l.trim());
    for (const entry of ["node_modules", "data", ".env", "dist", ".git"]) expect(ignored).toContain(entry);
  });

  test("docker-compose.yml: PostgreSQL 16 on a named volume, healthy before Perpetuo starts, PERPETUO_SECRET required", async () => {
    const compose = Bun.YAML.parse(await Bun.file(join(root, "docker-compose.yml")).text()) as any;
    const { db, perpetuo } = compose.services;
    expect(db.image).toMatch(/^postgres:16(\b|$)/);
    const dbVolume = db.volumes.find((v: string) => v.endsWith(":/var/lib/postgresql/data"));
    expect(dbVolume).toBeDefined();
    expect(Object.keys(compose.volumes)).toContain(dbVolume.split(":")[0]);
    expect(db.healthcheck.test.join(" ")).toContain("pg_isready");
    expect(perpetuo.build).toBe(".");
    expect(perpetuo.depends_on.db.condition).toBe("service_healthy");
    expect(perpetuo.environment.PERPETUO_SECRET).toMatch(/^\$\{PERPETUO_SECRET:\?[^}]+\}$/);
    expect(perpetuo.environment.DATABASE_URL).toMatch(/^postgres:\/\/[^@]+@db:5432\/\w+$/);
    for (const v of perpetuo.volumes) expect(Object.keys(compose.volumes)).toContain(v.split(":")[0]);
  });
});
