import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openDatabase, type Database } from "../src/db/client.ts";
import { verifyLogin } from "../src/accounts/service.ts";
import { parseOptions, UsageError } from "../src/cli/args.ts";
import { readFirstLine } from "../src/cli/create-user.ts";
import { testDatabase } from "./support/db.ts";
import pkg from "../package.json" with { type: "json" };

// The command line as a user runs it: `bun src/index.ts …` (the binary runs the same code; see
// binary.test.ts). create-user writes to the database named by DATABASE_URL (a fresh database on
// that server) or, when it is unset, to an embedded database in a temporary DATA_DIR.
const root = join(import.meta.dir, "..");
/** A command that opens the embedded database (initdb the first time) on a busy 2-core machine. */
const SLOW = 90_000;
let dir: string;
let server: (Database & { url: string | null }) | null = null;

function targetEnv(): Record<string, string> {
  return server?.url ? { DATABASE_URL: server.url } : { DATABASE_URL: "", DATA_DIR: dir };
}

/** Runs the CLI; the environment is the test's plus `env`, stdin is `input` (or empty). */
async function cli(args: string[], opts: { env?: Record<string, string>; input?: string } = {}) {
  const proc = Bun.spawn(["bun", "src/index.ts", ...args], {
    cwd: root,
    env: { ...process.env, PERPETUO_PASSWORD: "", LOG_LEVEL: "warn", ...opts.env },
    stdin: new Blob([opts.input ?? ""]),
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, stdout, stderr };
}

/** Reads the target database after the CLI has exited (an embedded directory takes one process at a time). */
async function withDb<T>(fn: (db: Database) => Promise<T>): Promise<T> {
  if (server) return fn(server);
  const db = await openDatabase({ databaseUrl: null, dataDir: dir });
  try {
    return await fn(db);
  } finally {
    await db.close();
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "perpetuo-cli-"));
  if (process.env.DATABASE_URL) server = await testDatabase({ migrate: false });
}, 60_000);
afterAll(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("perpetuo --help and --version", () => {
  test("--help lists every command and exits 0", async () => {
    const r = await cli(["--help"]);
    expect(r.code).toBe(0);
    for (const cmd of ["serve", "migrate", "rotate-secret", "create-user --email", "healthcheck", "--version"])
      expect(r.stdout).toContain(cmd);
  });

  test("--version prints the package version", async () => {
    const r = await cli(["--version"]);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(pkg.version);
  });
});

describe("wrong arguments", () => {
  const cases: [string, string[]][] = [
    ["an unknown command", ["frobnicate"]],
    ["an extra argument to serve", ["serve", "now"]],
    ["create-user without --email", ["create-user"]],
    ["--email without a value", ["create-user", "--email"]],
    ["a password on the command line", ["create-user", "--email", "a@example.com", "--password", "0123456789"]],
    ["a positional argument to create-user", ["create-user", "a@example.com"]],
    ["an argument to healthcheck", ["healthcheck", "now"]],
  ];
  for (const [name, args] of cases) {
    test(`${name} prints the usage and exits 2`, async () => {
      const r = await cli(args);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain("Usage: perpetuo");
      expect(r.stdout).toBe("");
    });
  }
});

describe("perpetuo create-user", () => {
  test(
    "creates a user and their workspace from stdin's password and prints only the user id",
    async () => {
      const email = `cli-${crypto.randomUUID().slice(0, 8)}@example.com`;
      const r = await cli(["create-user", "--email", email, "--name", "Ada Lovelace", "--workspace=Analytical Engines"], {
        env: targetEnv(),
        input: "a long enough password\nignored second line\n",
      });
      expect(r.stderr).not.toContain("failed");
      expect(r.code).toBe(0);
      const id = r.stdout.trim();
      expect(id).toMatch(/^[a-z0-9]{20,}$/);
      expect(r.stdout).toBe(`${id}\n`);
      await withDb(async (db) => {
        const user = await verifyLogin(db.sql, email, "a long enough password");
        expect(user).toMatchObject({ id, email, name: "Ada Lovelace" });
        const rows = await db.sql`
        select w.name, m.role from workspace_members m join workspaces w on w.id = m.workspace_id where m.user_id = ${id}`;
        expect(rows.map((x) => ({ ...x }))).toEqual([{ name: "Analytical Engines", role: "owner" }]);
      });
    },
    SLOW,
  );

  test(
    "takes the password from PERPETUO_PASSWORD before stdin, and refuses the same email again in any case",
    async () => {
      const email = `cli-env-${crypto.randomUUID().slice(0, 8)}@example.com`;
      const r = await cli(["create-user", "--email", email], {
        env: { ...targetEnv(), PERPETUO_PASSWORD: "from the environment" },
        input: "from stdin, unused\n",
      });
      expect(r.code).toBe(0);
      const again = await cli(["create-user", "--email", email.toUpperCase()], { env: targetEnv(), input: "0123456789ab\n" });
      expect(again.code).toBe(1);
      expect(again.stderr).toContain("already exists");
      await withDb(async (db) => {
        expect(await verifyLogin(db.sql, email, "from the environment")).not.toBeNull();
        const [{ n }] =
          await db.sql`select count(*)::int as n from workspace_members m join users u on u.id = m.user_id where u.email = ${email}`;
        expect(n).toBe(0);
      });
    },
    SLOW,
  );

  test(
    "works whatever SIGNUP says: closed, and invite with accounts already present",
    async () => {
      for (const mode of ["closed", "invite"]) {
        const email = `cli-${mode}-${crypto.randomUUID().slice(0, 8)}@example.com`;
        const r = await cli(["create-user", "--email", email], {
          env: { ...targetEnv(), SIGNUP: mode },
          input: "a long enough password\n",
        });
        expect(r.stderr).toBe("");
        expect(r.code).toBe(0);
        await withDb(async (db) => expect(await verifyLogin(db.sql, email, "a long enough password")).not.toBeNull());
      }
    },
    SLOW,
  );

  test(
    "refuses a short password with the signup rule",
    async () => {
      const r = await cli(["create-user", "--email", "short@example.com"], { env: targetEnv(), input: "short\n" });
      expect(r.code).toBe(1);
      expect(r.stderr.trim()).toBe("perpetuo: password must be at least 10 characters");
    },
    SLOW,
  );

  test("refuses an invalid email or workspace name before touching the database", async () => {
    // A database nobody could reach: the command must fail on the value, never get that far.
    const env = { DATABASE_URL: "postgres://nobody@127.0.0.1:9/none", DATA_DIR: dir, PERPETUO_SECRET: "x".repeat(40) };
    const bad = await cli(["create-user", "--email", "not-an-email"], { env, input: "0123456789ab\n" });
    expect(bad.code).toBe(1);
    expect(bad.stderr.trim()).toBe("perpetuo: email must be a valid email address");
    const ws = await cli(["create-user", "--email", "ok@example.com", "--workspace", "   "], { env, input: "0123456789ab\n" });
    expect(ws.code).toBe(1);
    expect(ws.stderr.trim()).toBe("perpetuo: workspace must not be empty");
  });

  test(
    "without PERPETUO_PASSWORD and with nothing on stdin it says how to give one",
    async () => {
      const r = await cli(["create-user", "--email", "nopass@example.com"], { env: targetEnv(), input: "" });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain("no password given: set PERPETUO_PASSWORD or write it on stdin");
    },
    SLOW,
  );
});

describe("perpetuo healthcheck", () => {
  function stub(status: number) {
    return Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      fetch: (req) => new Response(new URL(req.url).pathname === "/healthz" ? "{}" : "no", { status }),
    });
  }

  test("exits 0 when /healthz on 127.0.0.1:$PORT answers 200", async () => {
    const s = stub(200);
    try {
      const r = await cli(["healthcheck"], { env: { PORT: String(s.port), HOST: "0.0.0.0" } });
      expect(r.code).toBe(0);
      expect(r.stdout + r.stderr).toBe("");
    } finally {
      s.stop(true);
    }
  });

  test("exits 1 when /healthz answers an error", async () => {
    const s = stub(503);
    try {
      const r = await cli(["healthcheck"], { env: { PORT: String(s.port), HOST: "" } });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain("status 503");
    } finally {
      s.stop(true);
    }
  });

  test("exits 1 when nothing listens on the port", async () => {
    const s = stub(200);
    const port = s.port;
    s.stop(true);
    const r = await cli(["healthcheck"], { env: { PORT: String(port), HOST: "" } });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`perpetuo: healthcheck failed: http://127.0.0.1:${port}/healthz`);
  });
});

describe("argument parsing", () => {
  test("accepts --name value and --name=value, and refuses anything else", () => {
    expect(parseOptions(["--email", "a@b.c", "--name=Ada Lovelace"], ["email", "name"])).toEqual({ email: "a@b.c", name: "Ada Lovelace" });
    expect(() => parseOptions(["--email", "a", "--email", "b"], ["email"])).toThrow(UsageError);
    expect(() => parseOptions(["--nope", "x"], ["email"])).toThrow("unknown option: --nope");
    expect(() => parseOptions(["--email", "--name", "x"], ["email", "name"])).toThrow("--email needs a value");
  });

  test("reads the first line of a stream, without its line ending", async () => {
    const stream = (text: string) => new Blob([text]).stream();
    expect(await readFirstLine(stream("secret one\r\nsecond\n"))).toBe("secret one");
    expect(await readFirstLine(stream("no newline at all"))).toBe("no newline at all");
    expect(await readFirstLine(stream(""))).toBe("");
  });
});
