// The floor for any gateway: a Bun server that forwards the body to the upstream and pipes the
// answer back, with no auth, routing, translation or logging.
export function startBareProxy(upstream: string, port = 0) {
  return Bun.serve({
    port,
    hostname: "127.0.0.1",
    async fetch(req) {
      const url = new URL(req.url);
      const res = await fetch(upstream + url.pathname.replace(/^\/v1/, ""), {
        method: req.method,
        headers: { "content-type": "application/json" },
        body: await req.text(),
      });
      return new Response(res.body, {
        status: res.status,
        headers: { "content-type": res.headers.get("content-type") ?? "application/json" },
      });
    },
  });
}

if (import.meta.main) {
  const s = startBareProxy(process.argv[2], Number(process.argv[3] ?? 0));
  console.log(`http://127.0.0.1:${s.port}/v1`);
}
