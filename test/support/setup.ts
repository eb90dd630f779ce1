import { afterEach, setDefaultTimeout } from "bun:test";
import { installSecretScan, settle, takeHits } from "./secret-scan.ts";

// PGlite start-up and real HTTP round trips outgrow Bun's 5 s default on a 2-core machine. A first
// PGlite start on a busy machine takes 30-60 s (its own limit is 60 s), so the embedded run waits longer.
setDefaultTimeout(process.env.DATABASE_URL ? 30_000 : 90_000);

// Every response and log line of every test is searched for the keys the suite configured;
// a hit fails the test it happened in (a hit from a stream still open shows up in a later test).
installSecretScan();
afterEach(async () => {
  await settle();
  const hits = takeHits();
  if (hits.length === 0) return;
  const lines = hits.map(
    (h) => `  ${h.secret.slice(0, 6)}… (${h.form === "whole" ? "whole key" : `as ${JSON.stringify(h.form.slice(0, 12))}…`}) in ${h.where}`,
  );
  throw new Error(`secret scan: ${hits.length} leak(s) of a configured key:\n${[...new Set(lines)].join("\n")}`);
});
