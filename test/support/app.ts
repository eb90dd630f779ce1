import { createApp } from "../../src/app.ts";
import { buildDeps, type AppInput } from "../../src/deps.ts";
import { LoginGuard } from "../../src/accounts/service.ts";
import type { Config } from "../../src/config.ts";
import { createLogger } from "../../src/logger.ts";
import { testDatabase } from "./db.ts";
import { scanningWriter } from "./secret-scan.ts";

export const TEST_SECRET = "test-secret-0123456789-abcdefghijklmnopqrstuvwxyz";

export function testConfig(over: Partial<Config> = {}): Config {
  return {
    port: 0,
    host: "127.0.0.1",
    databaseUrl: null,
    secret: TEST_SECRET,
    previousSecrets: [],
    publicUrl: "http://localhost:8080",
    dataDir: "/nonexistent-test-data-dir",
    logLevel: "debug",
    production: false,
    secretSource: "env",
    trustedProxies: [],
    passwordHashConcurrency: 2,
    // Most tests sign up several users; the sign-up modes have their own tests (signup.test.ts).
    signup: "open",
    // Mock upstreams listen on 127.0.0.1; tests of the SSRF guard turn this off explicitly.
    allowPrivateBaseUrls: true,
    shutdownTimeoutMs: 20_000,
    logQueueMax: 10_000,
    logSpoolMaxBytes: 1024 ** 3,
    unpricedModels: "allow",
    metricsToken: null,
    corsOrigins: [],
    ...over,
  };
}

export interface CallResult<T = any> {
  status: number;
  body: T;
  text: string;
  headers: Headers;
}

/** One app over its own database, with captured log lines and small helpers for calling it. */
export async function testApp(over: Partial<Omit<AppInput, "config">> & { config?: Partial<Config> } = {}) {
  const db = await testDatabase();
  const logs: string[] = [];
  const deps = buildDeps({
    sql: db.sql,
    logger: createLogger(
      "debug",
      scanningWriter((line) => logs.push(line)),
    ),
    // Still argon2id, at a cost that keeps the suite quick.
    passwordOptions: { memoryCost: 1024, timeCost: 1 },
    // In-process requests all share one client "address"; suites sign up many users from it.
    loginGuard: new LoginGuard({ signupsPerAddress: 10_000 }),
    ...over,
    config: testConfig(over.config),
  });
  const app = createApp(deps);

  async function call<T = any>(
    method: string,
    path: string,
    opts: { body?: unknown; token?: string; headers?: Record<string, string> } = {},
  ): Promise<CallResult<T>> {
    const headers: Record<string, string> = { ...opts.headers };
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    let body: string | undefined;
    if (opts.body !== undefined) {
      body = typeof opts.body === "string" ? opts.body : JSON.stringify(opts.body);
      headers["content-type"] ??= "application/json";
    }
    const res = await app.handle(new Request(`http://localhost${path}`, { method, headers, body }));
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {}
    return { status: res.status, body: parsed as T, text, headers: res.headers };
  }

  let n = 0;
  async function signup(email = `user${++n}-${crypto.randomUUID().slice(0, 8)}@example.com`, password = "correct horse battery") {
    const r = await call("POST", "/auth/signup", { body: { email, password } });
    if (r.status !== 201) throw new Error(`signup failed: ${r.status} ${r.text}`);
    return { user: r.body.user as { id: string; email: string }, token: r.body.token as string, email, password };
  }

  async function workspace(token: string, name = "Acme") {
    const r = await call("POST", "/workspaces", { token, body: { name } });
    if (r.status !== 201) throw new Error(`workspace failed: ${r.status} ${r.text}`);
    return r.body as { id: string; name: string };
  }

  /** A new user already in the workspace with that role (written directly: invitations have their own tests). */
  async function member(workspaceId: string, role: "member" | "admin" | "owner" = "member") {
    const user = await signup();
    await db.sql`insert into workspace_members (workspace_id, user_id, role) values (${workspaceId}, ${user.user.id}, ${role})`;
    return user;
  }

  return { app, deps, db, sql: db.sql, logs, call, signup, workspace, member, close: () => db.close() };
}

export type TestApp = Awaited<ReturnType<typeof testApp>>;
