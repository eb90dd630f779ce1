// The load generator, run in its own process so it does not share an event loop with the system under
// test. Closed loop (N connections, each sending the next request when the last completes) or open
// loop (a fixed rate, whatever the answers do). Latency is measured with performance.now(), so the
// fixed-rate run can show sub-millisecond differences that whole-millisecond tools round away.
//
//   bun bench/load.ts '<LoadSpec as JSON>'   → prints one LoadResult as JSON on the last line

export interface LoadSpec {
  url: string;
  headers: Record<string, string>;
  body: string;
  /** Stop starting requests after this long (in-flight ones are awaited and counted). */
  seconds: number;
  /** Closed loop: this many concurrent requests. */
  connections?: number;
  /** Open loop: requests per second, started on a 1 ms tick. */
  rate?: number;
  /** Open loop: requests in flight beyond which a due request is skipped (and counted) instead of queued. */
  maxInFlight?: number;
  /** Stop after this many requests were started (the soak run); seconds still bounds the run. */
  requests?: number;
}

export interface LoadResult {
  /** Requests started (each reached the network or failed trying). */
  sent: number;
  ok: number;
  /** Non-200 answers plus network failures. */
  errors: number;
  /** Open loop only: due requests not started because maxInFlight were already waiting. */
  skipped: number;
  firstError: string | null;
  seconds: number;
  rps: number;
  p50: number;
  p90: number;
  p99: number;
}

/** The q-quantile of ascending values (nearest rank); NaN when empty. */
export function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

export async function runLoad(spec: LoadSpec): Promise<LoadResult> {
  const latencies: number[] = [];
  let sent = 0;
  let errors = 0;
  let skipped = 0;
  let inFlight = 0;
  let firstError: string | null = null;
  const limit = spec.requests ?? Infinity;

  async function one() {
    sent++;
    inFlight++;
    const t0 = performance.now();
    try {
      const res = await fetch(spec.url, { method: "POST", headers: spec.headers, body: spec.body });
      // The whole body: for a stream, latency is the time to its last event.
      const text = await res.text();
      if (res.status === 200) latencies.push(performance.now() - t0);
      else {
        errors++;
        firstError ??= `HTTP ${res.status}: ${text.slice(0, 200)}`;
      }
    } catch (err) {
      errors++;
      firstError ??= err instanceof Error ? err.message : String(err);
    } finally {
      inFlight--;
    }
  }

  const started = performance.now();
  const deadline = started + spec.seconds * 1000;
  if (spec.rate) {
    const pending = new Set<Promise<void>>();
    const cap = spec.maxInFlight ?? 1024;
    let due = 0;
    while (performance.now() < deadline && sent + skipped < limit) {
      const shouldHave = Math.floor(((performance.now() - started) / 1000) * spec.rate);
      for (; due < shouldHave; due++) {
        if (inFlight >= cap) {
          skipped++;
          continue;
        }
        const p = one();
        pending.add(p);
        void p.then(() => pending.delete(p));
      }
      await Bun.sleep(1);
    }
    await Promise.all(pending);
  } else {
    const worker = async () => {
      while (performance.now() < deadline && sent < limit) await one();
    };
    await Promise.all(Array.from({ length: spec.connections ?? 1 }, worker));
  }
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    sent,
    ok: latencies.length,
    errors,
    skipped,
    firstError,
    seconds,
    rps: latencies.length / seconds,
    p50: quantile(latencies, 0.5),
    p90: quantile(latencies, 0.9),
    p99: quantile(latencies, 0.99),
  };
}

/** Runs a load in a child process and returns its result. */
export async function loadInChild(spec: LoadSpec): Promise<LoadResult> {
  const p = Bun.spawn(["bun", import.meta.path, JSON.stringify(spec)], { stdout: "pipe", stderr: "pipe" });
  const [out, err] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text()]);
  if ((await p.exited) !== 0) throw new Error(`load generator failed: ${err.trim().slice(0, 500)}`);
  return JSON.parse(out.trim().split("\n").pop()!) as LoadResult;
}

if (import.meta.main) {
  console.log(JSON.stringify(await runLoad(JSON.parse(process.argv[2]) as LoadSpec)));
}
