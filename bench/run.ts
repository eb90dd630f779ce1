// `bun run bench`: every system in its own process against the same mock upstream, rounds alternating
// between systems, the median per row. Writes bench/results/latest.md (quick mode: quick.md) and a CPU
// profile of Perpetuo under load (bench/results/profile.md). Settings (environment):
//   BENCH_SECONDS (5), BENCH_ROUNDS (3), BENCH_CONNECTIONS (16,64,256), BENCH_RATE (1000),
//   BENCH_UPSTREAM_LATENCY_MS (0), BENCH_PEER (1), BENCH_PROFILE (1), BENCH_QUICK (1 round, 3 s, 64 only),
//   BENCH_SOAK (1: only the RSS-over-time run, see soak.ts), DATABASE_URL (else a PostgreSQL is started).
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadInChild, type LoadResult } from "./load.ts";
import { peerName, startPeer } from "./peer.ts";
import { startPostgres, freshDatabase, type BenchPostgres } from "./postgres.ts";
import { measure } from "./proc.ts";
import { profilePerpetuo } from "./profile.ts";
import { errorNotes, fixedRateNote, fixedRateTable, summarise, throughputTable, type Mode, type Sample } from "./report.ts";
import { runSoak } from "./soak.ts";
import { machineLine } from "./machine.ts";
import { resultsDir, startBare, startPerpetuo, startUpstream, type PerpetuoSystem, type System } from "./systems.ts";

const env = process.env;
const QUICK = env.BENCH_QUICK === "1";
const SECONDS = Number(env.BENCH_SECONDS ?? (QUICK ? 3 : 5));
const ROUNDS = Number(env.BENCH_ROUNDS ?? (QUICK ? 1 : 3));
const CONNECTIONS = (env.BENCH_CONNECTIONS ?? (QUICK ? "64" : "16,64,256")).split(",").map(Number);
const RATE = Number(env.BENCH_RATE ?? 1000);
const LATENCY = Number(env.BENCH_UPSTREAM_LATENCY_MS ?? 0);
const PEER = env.BENCH_PEER !== "0";
const PROFILE = env.BENCH_PROFILE ? env.BENCH_PROFILE !== "0" : !QUICK;
for (const [name, n] of Object.entries({ SECONDS, ROUNDS, RATE, LATENCY, CONNECTIONS: Math.min(...CONNECTIONS) })) {
  if (!Number.isFinite(n) || n < 0 || (name !== "LATENCY" && n <= 0)) throw new Error(`BENCH_${name} must be a positive number`);
}

const MODES: Mode[] = ["json", "stream"];
const pgName = "Perpetuo, PostgreSQL";
const LOADS = [...CONNECTIONS.map((c) => `c${c}`), `r${RATE}`];
// The direct row shows the load generator's headroom: once per mode is enough.
const DIRECT_LOAD = `c${CONNECTIONS.includes(64) ? 64 : CONNECTIONS[0]}`;
const runId = (mode: Mode, load: string, round: number) => `${mode}-${load}-${round}`;
const RUNS = ["warmup", ...Array.from({ length: ROUNDS }, (_, i) => MODES.flatMap((m) => LOADS.map((l) => runId(m, l, i + 1)))).flat()];
const bodyFor = (mode: Mode) =>
  JSON.stringify({
    model: "bench-model",
    messages: [{ role: "user", content: "Say hello in five words." }],
    ...(mode === "stream" ? { stream: true } : {}),
  });

const cleanups: (() => Promise<unknown>)[] = [];
async function cleanup() {
  for (const f of cleanups.splice(0).reverse()) await f().catch((e) => console.error(`cleanup: ${e instanceof Error ? e.message : e}`));
}
process.on("SIGINT", () => void cleanup().then(() => process.exit(130)));

async function main() {
  const started = new Date();
  const loadBefore = machineLine();
  const { base: upstreamBase, system: direct } = await startUpstream(LATENCY);
  cleanups.push(() => direct.stop());

  if (env.BENCH_SOAK === "1") {
    const pg = await startPostgres();
    if (!("error" in pg)) cleanups.push(() => pg.stop());
    await runSoak({ upstreamBase, pg: "error" in pg ? null : pg, started, machine: loadBefore });
    return null;
  }

  const bare = await startBare(upstreamBase);
  cleanups.push(() => bare.stop());

  const unavailable: { name: string; reason: string }[] = [];
  const perpetuos: PerpetuoSystem[] = [];
  const embeddedName = "Perpetuo, embedded DB";
  // On a starved machine PGlite's first start can outlast Perpetuo's own 60 s limit: once more, then a row says so.
  for (let attempt = 1; attempt <= 2; attempt++) {
    try {
      const embedded = await startPerpetuo({ label: "embedded", name: embeddedName, upstreamBase, databaseUrl: null, runs: RUNS });
      perpetuos.push(embedded);
      cleanups.push(() => embedded.stop());
      break;
    } catch (e) {
      if (attempt === 2) {
        const why = e instanceof Error ? e.message : String(e);
        unavailable.push({ name: embeddedName, reason: `did not start twice (${why}; see bench/results/perpetuo-embedded.log)` });
      }
    }
  }

  const pg = await startPostgres();
  let pgServer: BenchPostgres | null = null;
  if ("error" in pg) unavailable.push({ name: pgName, reason: pg.error });
  else {
    pgServer = pg;
    cleanups.push(() => pg.stop());
    const db = await freshDatabase(pg.url, "main");
    cleanups.push(() => db.drop());
    const p = await startPerpetuo({ label: "postgres", name: pgName, upstreamBase, databaseUrl: db.url, helperPid: pg.pid, runs: RUNS });
    perpetuos.push(p);
    cleanups.push(() => p.stop());
  }

  const systems: System[] = [bare, ...perpetuos];
  if (PEER) {
    const peer = await startPeer(upstreamBase);
    if ("error" in peer) unavailable.push({ name: peerName, reason: peer.error });
    else {
      systems.push(peer);
      cleanups.push(() => peer.stop());
    }
  }

  async function measureRun(
    system: System,
    mode: Mode,
    load: string,
    run: string,
  ): Promise<{ result: LoadResult; usage: Sample["usage"] }> {
    const m = measure(system.pid, system.helperPid);
    const connections = load.startsWith("c") ? Number(load.slice(1)) : undefined;
    const rate = load.startsWith("r") ? Number(load.slice(1)) : undefined;
    const result = await loadInChild({
      url: system.url,
      headers: system.headers(run),
      body: bodyFor(mode),
      seconds: SECONDS,
      connections,
      rate,
      maxInFlight: 512,
    });
    // CPU and memory until the run's work is done: a log written after the load still counts.
    await system.settle();
    return { result, usage: m.stop() };
  }

  const samples: Sample[] = [];
  try {
    for (const s of [direct, ...systems]) {
      for (const mode of MODES)
        await loadInChild({ url: s.url, headers: s.headers("warmup"), body: bodyFor(mode), seconds: 1, connections: 16 });
      await s.settle();
    }
    for (let round = 1; round <= ROUNDS; round++) {
      for (const mode of MODES) {
        for (const load of LOADS) {
          const here = [...(load === DIRECT_LOAD ? [direct] : []), ...systems];
          // Alternate who goes first from round to round so no system always meets a warmer (or busier) machine.
          const order = here.map((_, i) => here[(i + round - 1) % here.length]);
          for (const s of order) {
            const run = runId(mode, load, round);
            process.stderr.write(`round ${round}/${ROUNDS} ${mode} ${load} ${s.name} … `);
            const { result, usage } = await measureRun(s, mode, load, run);
            process.stderr.write(`${Math.round(result.rps)} req/s, ${result.errors} errors\n`);
            samples.push({ system: s.name, kind: s.kind, mode, load, round, result, usage, logged: null });
          }
        }
      }
    }
    // A graceful stop writes every log still in memory; then the rows are counted per run in the database.
    for (const p of perpetuos) {
      await p.stop();
      const counted = await p.countLogged();
      for (const s of samples) if (s.system === p.name) s.logged = counted.get(runId(s.mode, s.load, s.round)) ?? 0;
    }
  } finally {
    await Promise.all(systems.map((s) => s.stop()));
  }

  let profileNote = "";
  if (PROFILE) {
    try {
      profileNote = await profilePerpetuo({ upstreamBase, pg: pgServer, seconds: SECONDS, bodyFor });
    } catch (e) {
      profileNote = `CPU profile failed: ${e instanceof Error ? e.message : String(e)}`;
    }
  }
  return { started, loadBefore, samples, unavailable, pgServer, profileNote };
}

let outcome: Awaited<ReturnType<typeof main>>;
try {
  outcome = await main();
} finally {
  await cleanup();
}
if (!outcome) process.exit(0);
const { started, loadBefore, samples, unavailable, pgServer, profileNote } = outcome;
const rows = summarise(samples);
const settings =
  `${ROUNDS} round${ROUNDS === 1 ? "" : "s"} × ${SECONDS} s per row, alternating systems, median per row; ` +
  `upstream latency ${LATENCY} ms; fixed rate ${RATE.toLocaleString("en-US")} req/s`;
const lines = [
  `# Perpetuo benchmark${QUICK ? " (quick mode)" : ""}`,
  "",
  `${started.toISOString()} · ${settings}.`,
  "",
  `Machine: ${loadBefore}; at the end: ${machineLine().split("; ").pop()}.`,
  `Database: embedded = PGlite in a fresh data dir; PostgreSQL = ${pgServer?.describe ?? unavailable.find((u) => u.name === pgName)?.reason ?? "—"}.`,
  "",
  "## Throughput (closed loop)",
  "",
  ...throughputTable(rows),
  ...unavailable.map((u) => `| | | ${u.name} | ${u.reason} | | | | | | | | |`),
  "",
  `## Added latency at a fixed ${RATE.toLocaleString("en-US")} req/s (open loop; added = system − bare forwarder)`,
  "",
  ...fixedRateTable(rows, RATE),
  ...unavailable.map((u) => `| | ${u.name} | ${u.reason} | | | | | | | | |`),
  "",
  ...fixedRateNote(rows, RATE),
  ...(errorNotes(rows).length ? ["Errors:", "", ...errorNotes(rows), ""] : []),
  ...(profileNote ? [profileNote, ""] : []),
];
const out = join(resultsDir, QUICK ? "quick.md" : "latest.md");
writeFileSync(out, lines.join("\n"));
console.log(lines.join("\n"));
console.error(`written to ${out}`);
process.exit(0);
