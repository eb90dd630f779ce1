// The durable PostgreSQL for the benchmark: DATABASE_URL when set, else a throwaway server started
// with .ci/pg-server (and stopped at the end). Each Perpetuo under test gets a fresh database on it.
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import postgres from "postgres";

export interface BenchPostgres {
  /** The server's admin URL (databases are created and dropped through it). */
  url: string;
  /** The postmaster's pid when the server is ours, so its CPU can be counted; null for DATABASE_URL. */
  pid: number | null;
  describe: string;
  stop(): Promise<void>;
}

const root = join(import.meta.dir, "..");

function installed(): boolean {
  const base = "/usr/lib/postgresql";
  if (process.env.PG_BIN) return existsSync(join(process.env.PG_BIN, "initdb"));
  return existsSync(base) && readdirSync(base).some((v) => existsSync(join(base, v, "bin", "initdb")));
}

/** A server to use, or the reason there is none (the table says it and the run goes on). */
export async function startPostgres(): Promise<BenchPostgres | { error: string }> {
  const given = process.env.DATABASE_URL;
  if (given)
    return { url: given, pid: null, describe: "PostgreSQL from DATABASE_URL (shared; its CPU is not counted)", stop: async () => {} };
  // .ci/pg-server would install PostgreSQL with apt-get; a benchmark must not change the machine.
  if (!installed()) return { error: "PostgreSQL is not installed (set DATABASE_URL or install it)" };
  const p = Bun.spawn(["bash", join(root, ".ci", "pg-server"), "start"], { stdout: "pipe", stderr: "pipe" });
  const [out, err] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text()]);
  if ((await p.exited) !== 0) return { error: `could not start PostgreSQL: ${err.trim().split("\n").pop()}` };
  const env = Object.fromEntries([...out.matchAll(/(\w+)=(\S+)/g)].map((m) => [m[1], m[2]]));
  const dir = env.PG_TEST_DIR;
  if (!env.DATABASE_URL || !dir) return { error: "could not start PostgreSQL: .ci/pg-server printed no address" };
  const script = (...args: string[]) =>
    Bun.spawn(["bash", join(root, ".ci", "pg-server"), ...args], { stdout: "ignore", stderr: "ignore", env: { ...process.env, ...env } })
      .exited;
  // CI's server runs with fsync off; a durable database commits to disk, so restart it with the defaults.
  await script("down", dir);
  const options = join(dir, "options");
  writeFileSync(options, readFileSync(options, "utf8").replace(/ -c (fsync|synchronous_commit|full_page_writes)=off/g, ""));
  if ((await script("up", dir)) !== 0) {
    await script("stop", dir);
    return { error: "could not restart PostgreSQL with fsync on" };
  }
  const pid = Number(readFileSync(join(dir, "data", "postmaster.pid"), "utf8").split("\n")[0]);
  const version = /postgresql\/(\d+)/.exec(env.PG_BIN ?? "")?.[1] ?? "";
  return {
    url: env.DATABASE_URL,
    pid,
    describe: `PostgreSQL ${version} started for the run (.ci/pg-server, fsync and synchronous_commit on)`,
    async stop() {
      await script("stop", dir);
    },
  };
}

/** A fresh database on the server; drop() removes it. */
export async function freshDatabase(serverUrl: string, label: string) {
  const name = `perpetuo_bench_${label}_${crypto.randomUUID().replaceAll("-", "").slice(0, 8)}`;
  const admin = postgres(serverUrl, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`create database ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const a = postgres(serverUrl, { max: 1, onnotice: () => {} });
      try {
        await a.unsafe(`drop database if exists ${name} with (force)`);
      } finally {
        await a.end();
      }
    },
  };
}
