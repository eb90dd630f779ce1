// Rounds → rows: the median of each measure over rounds, and the markdown tables (pure functions).
import type { LoadResult } from "./load.ts";
import type { Usage } from "./proc.ts";

export type Mode = "json" | "stream";

/** One measured run: one system, one load shape, one round. */
export interface Sample {
  system: string;
  kind: "direct" | "bare" | "perpetuo" | "peer";
  mode: Mode;
  /** "c64": closed loop with 64 connections; "r1000": open loop at 1,000 requests per second. */
  load: string;
  round: number;
  result: LoadResult;
  usage: Usage;
  /** Request-log rows the run left (Perpetuo only). */
  logged: number | null;
}

export interface Row {
  system: string;
  kind: Sample["kind"];
  mode: Mode;
  load: string;
  rounds: number;
  rps: number;
  p50: number;
  p90: number;
  p99: number;
  sent: number;
  errors: number;
  skipped: number;
  firstError: string | null;
  peakRssMb: number;
  cpuPer1k: number;
  dbCpuPer1k: number | null;
  logged: number | null;
}

export function median(xs: number[]): number {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

/** Groups samples by (mode, load, system), in first-seen order, and takes medians over rounds. */
export function summarise(samples: Sample[]): Row[] {
  const groups = new Map<string, Sample[]>();
  for (const s of samples) {
    const k = `${s.mode}\0${s.load}\0${s.system}`;
    groups.set(k, [...(groups.get(k) ?? []), s]);
  }
  return [...groups.values()].map((g) => {
    const answered = sum(g.map((s) => s.result.ok + s.result.errors));
    const helper = g.map((s) => s.usage.helperCpuSeconds);
    return {
      system: g[0].system,
      kind: g[0].kind,
      mode: g[0].mode,
      load: g[0].load,
      rounds: g.length,
      rps: median(g.map((s) => s.result.rps)),
      p50: median(g.map((s) => s.result.p50)),
      p90: median(g.map((s) => s.result.p90)),
      p99: median(g.map((s) => s.result.p99)),
      sent: sum(g.map((s) => s.result.sent)),
      errors: sum(g.map((s) => s.result.errors)),
      skipped: sum(g.map((s) => s.result.skipped)),
      firstError: g.find((s) => s.result.firstError)?.result.firstError ?? null,
      peakRssMb: Math.max(...g.map((s) => s.usage.peakRss)) / 1024 ** 2,
      // Totals over rounds (not a median of ratios): CPU spent while loaded and until the logs were written.
      cpuPer1k: answered ? (sum(g.map((s) => s.usage.cpuSeconds)) / answered) * 1000 : NaN,
      dbCpuPer1k: helper.every((h) => h !== null) && answered ? (sum(helper as number[]) / answered) * 1000 : null,
      logged: g.every((s) => s.logged !== null) ? sum(g.map((s) => s.logged!)) : null,
    };
  });
}

const num = (n: number, d = 0) =>
  Number.isFinite(n) ? n.toLocaleString("en-US", { minimumFractionDigits: d, maximumFractionDigits: d }) : "—";
const ms = (n: number) => (Number.isFinite(n) ? (n < 10 ? n.toFixed(2) : n.toFixed(1)) : "—");
const signed = (n: number) => (Number.isFinite(n) ? `${n >= 0 ? "+" : "−"}${Math.abs(n).toFixed(2)}` : "—");

function cpu(r: Row): string {
  const own = Number.isFinite(r.cpuPer1k) ? r.cpuPer1k.toFixed(3) : "—";
  return r.dbCpuPer1k === null ? own : `${own} + ${r.dbCpuPer1k.toFixed(3)} db`;
}

/** "all 12,345" when every request left a row; otherwise how many, and the difference. */
export function loggedCell(r: Pick<Row, "logged" | "sent">): string {
  if (r.logged === null) return "—";
  if (r.logged === r.sent) return `all ${num(r.sent)}`;
  const d = r.logged - r.sent;
  return `**${num(r.logged)} of ${num(r.sent)} (${d > 0 ? "+" : "−"}${num(Math.abs(d))})**`;
}

function errorsCell(r: Row): string {
  const parts = [num(r.errors)];
  if (r.skipped) parts.push(`${num(r.skipped)} not sent (generator cap)`);
  return parts.join(", ");
}

/** Closed-loop rows: throughput at each connection count, with the ratio to the bare forwarder's row. */
export function throughputTable(rows: Row[]): string[] {
  const out = [
    "| mode | conns | system | req/s | × bare | p50 ms | p90 ms | p99 ms | errors | peak RSS MB | CPU-s / 1k req | rows logged |",
    "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
  ];
  for (const r of rows.filter((r) => r.load.startsWith("c"))) {
    const bare = rows.find((b) => b.kind === "bare" && b.mode === r.mode && b.load === r.load);
    const ratio = bare ? (r.rps / bare.rps).toFixed(2) : "—";
    out.push(
      `| ${r.mode} | ${r.load.slice(1)} | ${r.system} | ${num(r.rps)} | ${ratio} | ${ms(r.p50)} | ${ms(r.p90)} | ${ms(r.p99)} | ` +
        `${errorsCell(r)} | ${num(r.peakRssMb)} | ${cpu(r)} | ${loggedCell(r)} |`,
    );
  }
  return out;
}

/** A fixed-rate run that answered fewer than 95 % of the rate measured queueing, not the system's latency. */
const reached = (r: Row, rate: number) => r.rps >= 0.95 * rate;

/** Open-loop rows: latency at a fixed rate, and what each system adds to the bare forwarder's. */
export function fixedRateTable(rows: Row[], rate: number): string[] {
  const out = [
    "| mode | system | req/s | p50 ms | p99 ms | added p50 ms | added p99 ms | errors | peak RSS MB | CPU-s / 1k req | rows logged |",
    "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
  ];
  const fixed = rows.filter((r) => r.load.startsWith("r"));
  for (const r of fixed) {
    const bare = rows.find((b) => b.kind === "bare" && b.mode === r.mode && b.load === r.load);
    const comparable = bare !== undefined && reached(r, rate) && reached(bare, rate);
    const added = (a: number, b: number | undefined) =>
      r.kind === "bare" || r.kind === "direct" || b === undefined ? "" : comparable ? signed(a - b) : "n/a";
    out.push(
      `| ${r.mode} | ${r.system} | ${num(r.rps)}${reached(r, rate) ? "" : " (rate not reached)"} | ${ms(r.p50)} | ${ms(r.p99)} | ` +
        `${added(r.p50, bare?.p50)} | ${added(r.p99, bare?.p99)} | ${errorsCell(r)} | ${num(r.peakRssMb)} | ${cpu(r)} | ${loggedCell(r)} |`,
    );
  }
  return out;
}

/** Says why an added-latency cell is n/a, when one is. */
export function fixedRateNote(rows: Row[], rate: number): string[] {
  const missed = rows.some((r) => r.load.startsWith("r") && !reached(r, rate));
  return missed
    ? ["n/a: this system or the bare forwarder answered under 95 % of the rate here, so its latencies are mostly queueing.", ""]
    : [];
}

/** The first error seen per row, so a failing system explains itself under the table. */
export function errorNotes(rows: Row[]): string[] {
  return rows
    .filter((r) => r.firstError)
    .map((r) => `- ${r.system}, ${r.mode} ${r.load}: first error: ${r.firstError!.replaceAll("\n", " ").replaceAll("|", "\\|")}`);
}
