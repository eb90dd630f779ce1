// What a process costs, read from Linux's /proc: resident memory and CPU time (user + system).
import { readdirSync, readFileSync } from "node:fs";

// sysconf(_SC_CLK_TCK): 100 on every Linux this runs on (x86-64 and arm64 kernels both use USER_HZ 100).
const TICKS_PER_SECOND = 100;

/** Resident set size in bytes, or null once the process is gone. */
export function rssBytes(pid: number): number | null {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/** CPU seconds used so far (user + system, all threads), or null once the process is gone. */
export function cpuSeconds(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) may hold spaces and parentheses: count fields after its closing ")".
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return null;
  }
}

/** The direct children of pid (PostgreSQL's backends, checkpointer, WAL writer… under its postmaster). */
export function childPids(pid: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      if (Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]) === pid) out.push(Number(name));
    } catch {}
  }
  return out;
}

/** CPU seconds of a process tree one level deep (a postmaster and its backends). */
export function treeCpuSeconds(pid: number): number {
  return [pid, ...childPids(pid)].reduce((sum, p) => sum + (cpuSeconds(p) ?? 0), 0);
}

export interface Usage {
  /** Highest RSS sampled while measuring, in bytes. */
  peakRss: number;
  cpuSeconds: number;
  /** CPU seconds of a helper process tree (the PostgreSQL server), when one was given. */
  helperCpuSeconds: number | null;
}

/**
 * Samples RSS every intervalMs (a per-row peak: VmHWM would be the peak since the process began)
 * and takes CPU time deltas between start and stop.
 */
export function measure(pid: number, helperPid: number | null = null, intervalMs = 100) {
  const cpu0 = cpuSeconds(pid) ?? 0;
  const helper0 = helperPid ? treeCpuSeconds(helperPid) : 0;
  let peak = rssBytes(pid) ?? 0;
  const timer = setInterval(() => {
    peak = Math.max(peak, rssBytes(pid) ?? 0);
  }, intervalMs);
  return {
    stop(): Usage {
      clearInterval(timer);
      peak = Math.max(peak, rssBytes(pid) ?? 0);
      return {
        peakRss: peak,
        cpuSeconds: (cpuSeconds(pid) ?? cpu0) - cpu0,
        helperCpuSeconds: helperPid ? treeCpuSeconds(helperPid) - helper0 : null,
      };
    },
  };
}
