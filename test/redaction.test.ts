import { describe, expect, test } from "bun:test";
import { randomBase62 } from "../src/crypto.ts";
import { redactSecrets } from "../src/adapters/types.ts";
import { createLogger } from "../src/logger.ts";
import { bodyForLog } from "../src/telemetry/content.ts";
import { scrubUpstreamMessage } from "../src/providers/connection-test.ts";
import { echoOfKey, leakedRun } from "./support/leaks.ts";

/** The one redaction every relayed error, attempt message, log row and log line goes through. */
describe("redactSecrets with the provider's key", () => {
  const key = `custom-${randomBase62(24)}`;
  const pct = (s: string) => [...s].map((c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`).join("");
  const uEsc = (s: string) => [...s].map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`).join("");
  const b64 = (s: string) => Buffer.from(s).toString("base64");

  test.each([
    ["the whole key", `bad key ${key}!`],
    ["a 9-character piece of it", `bad key …${key.slice(10, 19)}…`],
    ["its first 12 characters, as a cut would leave them", `bad key ${key.slice(0, 12)}`],
    ["its last 8 characters", `ends ${key.slice(-8)}`],
    ["every character URL-encoded, in upper and lower case", `${pct(key)} and ${pct(key).toLowerCase()}`],
    ["URL-encoded in part", `k=${key.slice(0, 10)}${pct(key.slice(10, 20))}${key.slice(20)}`],
    ["JSON-escaped", `"${uEsc(key)}" or ${key.slice(0, 6)}\\u00${key.charCodeAt(6).toString(16)}${key.slice(7)}`],
    ["base64", `b64 ${b64(key)}`],
    ["base64 of :key (Basic auth without a user)", `Basic ${b64(`:${key}`)}`],
    ["base64 of key: and of user:key", `${b64(`${key}:`)} ${b64(`someone:${key}`)} ${b64(`ab:${key}`)}`],
    ["base64url", Buffer.from(`::${key}`).toString("base64url")],
    ["hex", Buffer.from(key).toString("hex")],
    ["a careless provider's echo", echoOfKey(key)],
  ])("masks %s", (_, text) => {
    expect(leakedRun(text, key)).not.toBeNull(); // the case is a real leak…
    const out = redactSecrets(text, key);
    expect(leakedRun(out, key)).toBeNull(); // …and nothing of it survives
    expect(out).toContain("[redacted]");
  });

  test("leaves text without the key alone", () => {
    const text = "model gpt-4o-mini not found (request req_abc123, https://example.com/v1?x=%20y)";
    expect(redactSecrets(text, key)).toBe(text);
  });

  test("a message redacted and then cut at any point never shows 8 characters of the key", () => {
    const text = `${"x".repeat(290)}${key}`;
    for (let cut = 280; cut < 330; cut++) expect(leakedRun(redactSecrets(text, key).slice(0, cut), key)).toBeNull();
  });

  test("the provider test's scrubbing and the log bodies use it too", () => {
    expect(leakedRun(scrubUpstreamMessage(echoOfKey(key), key), key)).toBeNull();
    expect(leakedRun(bodyForLog(`${"y".repeat(16_380)}${key}`, undefined, key), key)).toBeNull();
  });

  test("log lines mask credential-shaped values", () => {
    const lines: string[] = [];
    const log = createLogger("debug", (l) => lines.push(l));
    const gatewayKey = `prp_${randomBase62(32)}`;
    log.info(`key ${gatewayKey}`, { detail: `Authorization: Bearer ${key}`, other: `https://x/?key=${key}` });
    expect(lines.join("\n")).not.toContain(gatewayKey.slice(4, 12));
    expect(leakedRun(lines.join("\n"), key)).toBeNull();
  });
});
