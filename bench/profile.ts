// A CPU profile of Perpetuo's process under the benchmark's load (json, then stream, 64 connections),
// taken in a separate run because the profiler's sampling would skew the measured rows.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadInChild } from "./load.ts";
import { freshDatabase, type BenchPostgres } from "./postgres.ts";
import type { Mode } from "./report.ts";
import { resultsDir, startPerpetuo } from "./systems.ts";

export async function profilePerpetuo(o: {
  upstreamBase: string;
  pg: BenchPostgres | null;
  seconds: number;
  bodyFor: (m: Mode) => string;
}): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), "perpetuo-bench-profile-"));
  const db = o.pg ? await freshDatabase(o.pg.url, "profile") : null;
  try {
    const p = await startPerpetuo({
      label: "profile",
      name: "Perpetuo (profiled)",
      upstreamBase: o.upstreamBase,
      databaseUrl: db?.url ?? null,
      runs: ["profile"],
      bunArgs: ["--cpu-prof-md", `--cpu-prof-dir=${dir}`, "--cpu-prof-name=profile.md"],
    });
    try {
      for (const mode of ["json", "stream"] as const) {
        await loadInChild({ url: p.url, headers: p.headers("profile"), body: o.bodyFor(mode), seconds: o.seconds, connections: 64 });
      }
      await p.settle();
    } finally {
      // The profile is written when the process exits.
      await p.stop();
      await p.countLogged();
    }
    const file = existsSync(join(dir, "profile.md")) ? join(dir, "profile.md") : readdirSync(dir).map((f) => join(dir, f))[0];
    if (!file) return "CPU profile: bun wrote no profile file.";
    writeFileSync(join(resultsDir, "profile.md"), topOfProfile(readFileSync(file, "utf8")));
    const on = db ? "PostgreSQL" : "the embedded database";
    return `CPU profile of Perpetuo (on ${on}; json then stream, 64 connections, ${o.seconds} s each): bench/results/profile.md.`;
  } finally {
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The summary and the hottest functions: the full call tree and per-function details run to ~300 KB, too much to keep in git. */
export function topOfProfile(md: string, rows = 60): string {
  const tree = md.indexOf("\n## Call Tree");
  const head = (tree < 0 ? md : md.slice(0, tree)).split("\n");
  const table = head.findIndex((l) => l.startsWith("|------"));
  const kept = table < 0 ? head : head.slice(0, table + 1 + rows);
  return `${kept.join("\n").trimEnd()}\n\n(The call tree and per-function details are left out to keep this file small.)\n`;
}
