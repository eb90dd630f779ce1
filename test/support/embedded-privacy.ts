import { lstatSync, readFileSync, readdirSync, readlinkSync } from "node:fs";
import { join } from "node:path";

/**
 * What another local user could reach of a running Perpetuo's embedded database (issue 11, item 1):
 * the TCP ports its process listens on, and the files under a directory that group or world can use.
 * Shared by the source-tree server test and the compiled binary's test, which must hold alike.
 */

/** TCP ports in LISTEN state owned by the process (its worker threads included), from /proc (Linux). */
export function listeningTcpPorts(pid: number): number[] {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1]);
    } catch {}
  }
  const ports = new Set<number>();
  for (const table of ["tcp", "tcp6"]) {
    const lines = readFileSync(`/proc/${pid}/net/${table}`, "utf8").trim().split("\n").slice(1);
    for (const line of lines) {
      const f = line.trim().split(/\s+/);
      if (f[3] === "0A" && inodes.has(f[9])) ports.add(parseInt(f[1].split(":")[1], 16));
    }
  }
  return [...ports].sort((a, b) => a - b);
}

/** Every path under `root` (itself included) with any group or world permission bit, as "path mode". */
export function openToOthers(root: string): string[] {
  const open: string[] = [];
  const walk = (p: string) => {
    const st = lstatSync(p);
    if (st.mode & 0o077) open.push(`${p} ${(st.mode & 0o777).toString(8)}`);
    if (st.isDirectory()) for (const n of readdirSync(p)) walk(join(p, n));
  };
  walk(root);
  return open;
}
