/**
 * Formatting for views. Every time and date the dashboard shows is UTC and says so: one rule, so a
 * time on a page matches the one in a log line, an API answer or a colleague's screenshot.
 */

/** A figure formatted by `f`, or "—" when there is none. */
const figure =
  (f: (n: number) => string) =>
  (n: number | null | undefined): string =>
    typeof n === "number" && Number.isFinite(n) ? f(n) : "—";

export const formatInt = figure((n) => Math.round(n).toLocaleString("en-US"));

/** Large counts compactly: 1.2k, 3.4M. */
export const formatCompact = figure((n) =>
  Math.abs(n) < 10_000 ? formatInt(n) : new Intl.NumberFormat("en-US", { notation: "compact", maximumFractionDigits: 1 }).format(n),
);

/** US dollars; sub-cent amounts keep enough digits to be non-zero. */
export const formatCost = figure((n) => {
  if (n === 0) return "$0.00";
  const abs = Math.abs(n);
  return `$${n.toFixed(abs >= 1 ? 2 : abs >= 0.01 ? 4 : 6)}`;
});

export const formatPercent = figure((ratio) => {
  const pct = ratio * 100;
  return `${pct < 10 && pct > 0 ? pct.toFixed(1) : Math.round(pct)}%`;
});

export const formatMs = figure((ms) => (ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`));

/** The ISO form (UTC) of a time, or "" when there is none or it is not a valid date. */
export function isoOrEmpty(d: Date | string | null | undefined): string {
  if (d === null || d === undefined) return "";
  const date = d instanceof Date ? d : new Date(d);
  return Number.isNaN(date.getTime()) ? "" : date.toISOString();
}

/** "2026-11-26 07:57:03 UTC" */
export function formatDateTime(d: Date | string | null | undefined): string {
  const iso = isoOrEmpty(d);
  return iso ? `${iso.slice(0, 19).replace("T", " ")} UTC` : "—";
}

/** Short dollar amounts for chart axes: $0, $0.0025, $1.5, $120. */
export function formatCostTick(n: number): string {
  if (!Number.isFinite(n) || n === 0) return "$0";
  const digits = Math.min(10, Math.max(0, 1 - Math.floor(Math.log10(Math.abs(n)))));
  return `$${n
    .toFixed(digits)
    .replace(/(\.\d*?)0+$/, "$1")
    .replace(/\.$/, "")}`;
}

/** "07:57:03 UTC": a time today, where the date goes without saying (a cooldown's end). */
export function formatClock(d: Date | string | null | undefined): string {
  const iso = isoOrEmpty(d);
  return iso ? `${iso.slice(11, 19)} UTC` : "—";
}

/** "2026-11-26T07:57": the form inputs' ISO shape (UTC, to the minute). */
export const isoMinute = (d: Date | string | null | undefined): string => isoOrEmpty(d).slice(0, 16);
