export {};
// A closed-loop load generator run in its own process so it does not share an event loop with
// the server under test: N connections, each sending the next request when the last completes.
const [url, key, seconds, concurrency, stream] = process.argv.slice(2);
const body = JSON.stringify({
  model: "bench-model",
  messages: [{ role: "user", content: "Say hello in five words." }],
  ...(stream === "1" ? { stream: true } : {}),
});
const headers = { "content-type": "application/json", authorization: `Bearer ${key}` };
const deadline = performance.now() + Number(seconds) * 1000;
const latencies: number[] = [];
let errors = 0;
async function worker() {
  while (performance.now() < deadline) {
    const t0 = performance.now();
    try {
      const res = await fetch(url, { method: "POST", headers, body });
      await res.arrayBuffer();
      if (res.status !== 200) errors++;
      else latencies.push(performance.now() - t0);
    } catch {
      errors++;
    }
  }
}
const t0 = performance.now();
await Promise.all(Array.from({ length: Number(concurrency) }, worker));
const elapsed = (performance.now() - t0) / 1000;
latencies.sort((a, b) => a - b);
const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? NaN;
console.log(JSON.stringify({ requests: latencies.length, errors, rps: latencies.length / elapsed, p50: q(0.5), p99: q(0.99) }));
