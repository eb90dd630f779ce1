// CI's dependency audit: `bun audit --json` asks the registry's advisory service; any high or
// critical advisory fails the build. When the service cannot be reached (an offline or proxied
// registry) the audit is not done: that is said loudly, and fails too with AUDIT_REQUIRED=1.
const proc = Bun.spawn(["bun", "audit", "--json"], { stdout: "pipe", stderr: "pipe" });
const [text, err, rc] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);

let report: unknown;
try {
  report = JSON.parse(text);
} catch {
  if (rc === 0) {
    console.log("bun audit: no advisories");
    process.exit(0);
  }
  console.error(err.trim());
  console.error(`WARNING: bun audit could not get advisories from the registry (exit ${rc}); the dependency audit was NOT done`);
  process.exit(process.env.AUDIT_REQUIRED === "1" ? 1 : 0);
}

type Advisory = { pkg: string | null; severity: string; title?: string; url?: string; vulnerable_versions?: string };
const found: Advisory[] = [];
const walk = (v: unknown, pkg: string | null): void => {
  if (Array.isArray(v)) return v.forEach((x) => walk(x, pkg));
  if (v && typeof v === "object") {
    const o = v as Record<string, unknown>;
    if (typeof o.severity === "string") found.push({ pkg, ...(o as Omit<Advisory, "pkg">) });
    else for (const [k, x] of Object.entries(o)) walk(x, pkg ?? k);
  }
};
walk(report, null);
for (const a of found)
  console.log(`  ${a.severity}\t${a.pkg ?? "?"}\t${a.title ?? ""}\t${a.url ?? ""}\t(vulnerable: ${a.vulnerable_versions ?? "?"})`);
const bad = found.filter((a) => a.severity === "high" || a.severity === "critical");
console.log(`bun audit: ${found.length} advisories, ${bad.length} high or critical`);
if (bad.length) console.error("bun audit: upgrade the packages above (see 'bun audit fix --dry-run')");
process.exit(bad.length ? 1 : 0);
