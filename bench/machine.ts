// One line saying where the numbers come from: the machine, the runtimes, and how busy it was.
import { cpus, loadavg, totalmem } from "node:os";

let nodeVersion: string | null | undefined;
function node(): string | null {
  if (nodeVersion === undefined) {
    const p = Bun.which("node") ? Bun.spawnSync(["node", "--version"]) : null;
    nodeVersion = p?.success ? p.stdout.toString().trim() : null;
  }
  return nodeVersion;
}

/** Ends with the load average, so a caller can quote just that part again later. */
export function machineLine(): string {
  const model = cpus()[0]?.model?.trim() || "unknown CPU";
  const parts = [
    `${model}, ${navigator.hardwareConcurrency} cores, ${(totalmem() / 1024 ** 3).toFixed(0)} GiB`,
    `${process.platform} ${process.arch}`,
    `Bun ${Bun.version}${node() ? `, node ${node()}` : ""}`,
    `load average ${loadavg()
      .map((x) => x.toFixed(1))
      .join(" / ")} (1 / 5 / 15 min)`,
  ];
  return parts.join("; ");
}
