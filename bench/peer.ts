// The peer row: the Portkey AI gateway (open source), pinned, installed on demand into bench/.peers
// (gitignored) and run with node, pointed at the same mock upstream as an OpenAI provider. Any failure
// (no network, no node) becomes the row's note: the benchmark never fails because of the peer.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { freePort, resultsDir, waitFor, type System } from "./systems.ts";

export const PEER_PACKAGE = "@portkey-ai/gateway";
export const PEER_VERSION = "1.15.2";
const prefix = join(import.meta.dir, ".peers");
const pkgDir = join(prefix, "node_modules", ...PEER_PACKAGE.split("/"));

export const peerName = `Portkey gateway ${PEER_VERSION} (node)`;

function installedVersion(): string | null {
  try {
    return JSON.parse(readFileSync(join(pkgDir, "package.json"), "utf8")).version;
  } catch {
    return null;
  }
}

async function run(cmd: string[], timeoutMs: number): Promise<{ ok: boolean; output: string }> {
  try {
    const p = Bun.spawn(cmd, { stdout: "pipe", stderr: "pipe", timeout: timeoutMs });
    const [out, err] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text()]);
    return { ok: (await p.exited) === 0, output: (err || out).trim() };
  } catch (e) {
    return { ok: false, output: e instanceof Error ? e.message : String(e) };
  }
}

export async function startPeer(upstreamBase: string): Promise<System | { error: string }> {
  const node = Bun.which("node");
  if (!node) return { error: "node is not installed" };
  if (installedVersion() !== PEER_VERSION) {
    console.error(`installing ${PEER_PACKAGE}@${PEER_VERSION} into bench/.peers …`);
    const npm = Bun.which("npm");
    if (!npm) return { error: "npm is not installed, so the peer could not be installed" };
    const r = await run(
      [npm, "install", "--prefix", prefix, "--no-audit", "--no-fund", "--loglevel=error", `${PEER_PACKAGE}@${PEER_VERSION}`],
      300_000,
    );
    if (!r.ok || installedVersion() !== PEER_VERSION) {
      return { error: `install failed (${r.output.split("\n").pop()?.slice(0, 160) || "no output"})` };
    }
  }
  const entry = join(pkgDir, "build", "start-server.js");
  if (!existsSync(entry)) return { error: `${PEER_PACKAGE}@${PEER_VERSION} has no build/start-server.js` };
  const port = await freePort();
  const log = Bun.file(join(resultsDir, "peer.log"));
  // --headless and production: no dashboard, no log streaming to a browser; the gateway only.
  const p = Bun.spawn([node, entry, `--port=${port}`, "--headless"], {
    env: { ...process.env, NODE_ENV: "production" },
    stdout: log,
    stderr: log,
  });
  try {
    await waitFor(`http://127.0.0.1:${port}/`, 30_000, p);
  } catch (e) {
    p.kill("SIGKILL");
    return { error: `did not start (${e instanceof Error ? e.message : String(e)})` };
  }
  return {
    name: peerName,
    kind: "peer",
    pid: p.pid,
    helperPid: null,
    url: `http://127.0.0.1:${port}/v1/chat/completions`,
    headers: () => ({
      "content-type": "application/json",
      authorization: "Bearer sk-bench",
      "x-portkey-provider": "openai",
      "x-portkey-custom-host": upstreamBase,
    }),
    settle: async () => {},
    async stop() {
      p.kill("SIGTERM");
      await Promise.race([p.exited, Bun.sleep(5_000)]);
      if (p.exitCode === null) p.kill("SIGKILL");
      await p.exited;
    },
  };
}
