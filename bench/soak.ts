// BENCH_SOAK=1: Perpetuo's RSS over time. BENCH_SOAK_REQUESTS (1,000,000) json requests at 64
// connections, the RSS read after each BENCH_SOAK_STEP (100,000) once that step's logs are written.
// On PostgreSQL when one is available (BENCH_SOAK_DB=embedded to choose the embedded database).
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadInChild } from "./load.ts";
import { freshDatabase, type BenchPostgres } from "./postgres.ts";
import { rssBytes } from "./proc.ts";
import { loggedCell } from "./report.ts";
import { resultsDir, startPerpetuo } from "./systems.ts";

export async function runSoak(o: { upstreamBase: string; pg: BenchPostgres | null; started: Date; machine: string }) {
  const total = Number(process.env.BENCH_SOAK_REQUESTS ?? 1_000_000);
  const step = Number(process.env.BENCH_SOAK_STEP ?? 100_000);
  if (!(total > 0 && step > 0)) throw new Error("BENCH_SOAK_REQUESTS and BENCH_SOAK_STEP must be positive numbers");
  const usePg = o.pg !== null && process.env.BENCH_SOAK_DB !== "embedded";
  const db = usePg ? await freshDatabase(o.pg!.url, "soak") : null;
  const body = JSON.stringify({ model: "bench-model", messages: [{ role: "user", content: "Say hello in five words." }] });
  const lines = ["| requests so far | RSS MB | req/s in this step | errors in this step |", "|---:|---:|---:|---:|"];
  let sent = 0;
  const rss: number[] = [];
  try {
    const p = await startPerpetuo({
      label: "soak",
      name: "Perpetuo (soak)",
      upstreamBase: o.upstreamBase,
      databaseUrl: db?.url ?? null,
      runs: ["soak"],
    });
    try {
      lines.push(`| 0 | ${((rssBytes(p.pid) ?? 0) / 1024 ** 2).toFixed(0)} | | |`);
      while (sent < total) {
        const n = Math.min(step, total - sent);
        const r = await loadInChild({ url: p.url, headers: p.headers("soak"), body, seconds: 3600, connections: 64, requests: n });
        sent += r.sent;
        await p.settle();
        // Give the collector a moment so the figure is the retained set, not this step's garbage.
        await Bun.sleep(500);
        rss.push((rssBytes(p.pid) ?? 0) / 1024 ** 2);
        lines.push(
          `| ${sent.toLocaleString("en-US")} | ${rss.at(-1)!.toFixed(0)} | ${Math.round(r.rps).toLocaleString("en-US")} | ${r.errors} |`,
        );
        console.error(`soak: ${sent} requests, RSS ${rss.at(-1)!.toFixed(0)} MB, ${Math.round(r.rps)} req/s`);
      }
    } finally {
      await p.stop();
    }
    const logged = (await p.countLogged()).get("soak") ?? 0;
    const growth =
      rss.length >= 3
        ? `${(rss[2] - rss[1]).toFixed(1)} MB between the 2nd and 3rd step, ${(rss.at(-1)! - rss[1]).toFixed(1)} MB from the 2nd to the last`
        : "—";
    const out = [
      "# Perpetuo soak: RSS over time",
      "",
      `${o.started.toISOString()} · ${total.toLocaleString("en-US")} json requests, 64 connections, ${usePg ? "PostgreSQL" : "embedded database"}.`,
      "",
      `Machine: ${o.machine}.`,
      "",
      ...lines,
      "",
      `RSS growth: ${growth}; peak ${Math.max(...rss).toFixed(0)} MB. Rows logged: ${loggedCell({ logged, sent })}.`,
      "",
    ].join("\n");
    writeFileSync(join(resultsDir, "soak.md"), out);
    console.log(out);
  } finally {
    await db?.drop();
  }
}
