/**
 * `perpetuo healthcheck`: the container's HEALTHCHECK, for images without curl. GETs /healthz on
 * this machine's PORT (and HOST, unless it binds every address) and answers with the exit code.
 */
export async function healthcheck(
  env: Record<string, string | undefined> = process.env,
  timeoutMs = 4000,
): Promise<{ ok: boolean; message: string }> {
  const port = env.PORT || "8080";
  if (!/^\d+$/.test(port) || Number(port) < 1 || Number(port) > 65535) return { ok: false, message: `invalid PORT: ${port}` };
  const host = !env.HOST || env.HOST === "0.0.0.0" || env.HOST === "::" ? "127.0.0.1" : env.HOST;
  const url = `http://${host.includes(":") ? `[${host}]` : host}:${port}/healthz`;
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), redirect: "manual" });
    await res.body?.cancel();
    return res.status === 200 ? { ok: true, message: `${url}: ok` } : { ok: false, message: `${url}: status ${res.status}` };
  } catch (err) {
    return { ok: false, message: `${url}: ${err instanceof Error ? err.message : String(err)}` };
  }
}
