// A minimal OpenAI-compatible upstream for benchmarks: fixed answers, Bun.serve, optionally a fixed
// delay before each answer (a provider's think time) so gateways are compared with requests open.
// (The test mocks in test/support favour fidelity and fault injection over speed.)
const completion = (model: string) =>
  JSON.stringify({
    id: "chatcmpl-bench",
    object: "chat.completion",
    created: 1700000000,
    model,
    choices: [
      { index: 0, message: { role: "assistant", content: "Hello from the benchmark upstream." }, finish_reason: "stop", logprobs: null },
    ],
    usage: { prompt_tokens: 12, completion_tokens: 7, total_tokens: 19 },
  });

function streamBody(model: string): string {
  const words = ["Hello", " from", " the", " benchmark", " upstream", "."];
  let out = "";
  for (const [i, w] of words.entries()) {
    const delta = i === 0 ? { role: "assistant", content: w } : { content: w };
    out += `data: ${JSON.stringify({ id: "chatcmpl-bench", object: "chat.completion.chunk", created: 1700000000, model, choices: [{ index: 0, delta, finish_reason: null, logprobs: null }] })}\n\n`;
  }
  out += `data: ${JSON.stringify({ id: "chatcmpl-bench", object: "chat.completion.chunk", created: 1700000000, model, choices: [{ index: 0, delta: {}, finish_reason: "stop", logprobs: null }] })}\n\n`;
  out += `data: ${JSON.stringify({ id: "chatcmpl-bench", object: "chat.completion.chunk", created: 1700000000, model, choices: [], usage: { prompt_tokens: 12, completion_tokens: 7, total_tokens: 19 } })}\n\n`;
  return out + "data: [DONE]\n\n";
}

export function startBenchUpstream(port = 0, latencyMs = 0) {
  return Bun.serve({
    port,
    hostname: "127.0.0.1",
    async fetch(req) {
      const url = new URL(req.url);
      if (latencyMs > 0) await Bun.sleep(latencyMs);
      if (url.pathname.endsWith("/models")) return Response.json({ object: "list", data: [{ id: "bench-model", object: "model" }] });
      const body = (await req.json()) as { model: string; stream?: boolean };
      if (body.stream) return new Response(streamBody(body.model), { headers: { "content-type": "text/event-stream" } });
      return new Response(completion(body.model), { headers: { "content-type": "application/json" } });
    },
  });
}

if (import.meta.main) {
  const s = startBenchUpstream(Number(process.argv[2] ?? 0), Number(process.env.BENCH_UPSTREAM_LATENCY_MS ?? 0));
  console.log(`http://127.0.0.1:${s.port}/v1`);
}
