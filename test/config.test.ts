import { describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig, parseEnv } from "../src/config.ts";

const tmp = () => mkdtempSync(join(tmpdir(), "perpetuo-config-"));

describe("configuration", () => {
  test("defaults apply when nothing is set", () => {
    const dir = tmp();
    const c = loadConfig({ DATA_DIR: dir });
    expect(c).toMatchObject({
      port: 8080,
      host: "0.0.0.0",
      databaseUrl: null,
      logLevel: "info",
      production: false,
      publicUrl: "http://localhost:8080",
    });
    expect(c.dataDir).toBe(dir);
  });

  test("shutdown and log queue bounds default to 20 s, 10,000 records and 1 GiB, and can be set", () => {
    const dir = tmp();
    expect(loadConfig({ DATA_DIR: dir })).toMatchObject({ shutdownTimeoutMs: 20_000, logQueueMax: 10_000, logSpoolMaxBytes: 1024 ** 3 });
    expect(
      loadConfig({ DATA_DIR: dir, SHUTDOWN_TIMEOUT_MS: "5000", LOG_QUEUE_MAX: "50000", LOG_SPOOL_MAX_BYTES: "104857600" }),
    ).toMatchObject({
      shutdownTimeoutMs: 5_000,
      logQueueMax: 50_000,
      logSpoolMaxBytes: 104_857_600,
    });
  });

  test("unpriced models are allowed unless UNPRICED_MODELS=refuse", () => {
    expect(loadConfig({ DATA_DIR: tmp() }).unpricedModels).toBe("allow");
    expect(loadConfig({ DATA_DIR: tmp(), UNPRICED_MODELS: "refuse" }).unpricedModels).toBe("refuse");
  });

  test.each([
    [{ PORT: "eighty" }, "PORT must be a whole number"],
    [{ PORT: "70000" }, "PORT must be between 0 and 65535"],
    [{ DATABASE_URL: "mysql://x" }, "DATABASE_URL must be a URL"],
    [{ PUBLIC_URL: "ftp://x" }, "PUBLIC_URL must be a URL"],
    [{ LOG_LEVEL: "loud" }, "LOG_LEVEL must be one of debug, info, warn, error"],
    [{ PERPETUO_SECRET: "short" }, "PERPETUO_SECRET must be at least 32 characters"],
    [{ ALLOW_PRIVATE_BASE_URLS: "maybe" }, "ALLOW_PRIVATE_BASE_URLS must be true or false"],
    [{ SHUTDOWN_TIMEOUT_MS: "30000" }, "SHUTDOWN_TIMEOUT_MS must be between 0 and 25000 (platforms kill 30 s after SIGTERM)"],
    [{ SHUTDOWN_TIMEOUT_MS: "20s" }, "SHUTDOWN_TIMEOUT_MS must be a whole number"],
    [{ LOG_QUEUE_MAX: "10" }, "LOG_QUEUE_MAX must be between 1000 and 10000000"],
    [{ LOG_SPOOL_MAX_BYTES: "1000" }, "LOG_SPOOL_MAX_BYTES must be at least 1048576 (1 MiB)"],
    [{ UNPRICED_MODELS: "maybe" }, "UNPRICED_MODELS must be allow or refuse"],
  ])("%j stops start-up with one line naming the variable", (env, message) => {
    expect(() => parseEnv(env)).toThrow(`invalid configuration: ${message}`);
  });

  test("ALLOW_PRIVATE_BASE_URLS is off unless set to true (or 1)", () => {
    expect(loadConfig({ DATA_DIR: tmp() }).allowPrivateBaseUrls).toBe(false);
    expect(loadConfig({ DATA_DIR: tmp(), ALLOW_PRIVATE_BASE_URLS: "false" }).allowPrivateBaseUrls).toBe(false);
    expect(loadConfig({ DATA_DIR: tmp(), ALLOW_PRIVATE_BASE_URLS: "true" }).allowPrivateBaseUrls).toBe(true);
    expect(loadConfig({ DATA_DIR: tmp(), ALLOW_PRIVATE_BASE_URLS: "1" }).allowPrivateBaseUrls).toBe(true);
  });

  test("empty variables count as unset", () => {
    const c = parseEnv({ PORT: "", DATABASE_URL: "" });
    expect(c.PORT).toBe(8080);
    expect(c.DATABASE_URL).toBeUndefined();
  });

  test("without a secret, development generates one into DATA_DIR with mode 0600 and reuses it", () => {
    const dir = tmp();
    const a = loadConfig({ DATA_DIR: dir });
    const b = loadConfig({ DATA_DIR: dir });
    expect(a.secret).toBe(b.secret);
    expect(a.secret.length).toBeGreaterThanOrEqual(32);
    expect(a.secretSource).toBe("file");
    expect(readFileSync(join(dir, "secret"), "utf8").trim()).toBe(a.secret);
    expect(statSync(join(dir, "secret")).mode & 0o777).toBe(0o600);
  });

  test("production refuses to start without PERPETUO_SECRET", () => {
    expect(() => loadConfig({ DATA_DIR: tmp(), NODE_ENV: "production" })).toThrow("PERPETUO_SECRET is required when NODE_ENV=production");
  });

  test("TRUSTED_PROXIES takes IPs and CIDRs, comma-separated; none by default", () => {
    expect(loadConfig({ DATA_DIR: tmp() }).trustedProxies).toEqual([]);
    const c = loadConfig({ DATA_DIR: tmp(), TRUSTED_PROXIES: " 10.0.0.0/8, 192.0.2.1 ,::1,fd00::/8" });
    expect(c.trustedProxies).toEqual(["10.0.0.0/8", "192.0.2.1", "::1", "fd00::/8"]);
  });

  test.each(["proxy.internal", "10.0.0.0/33", "::1/129", "10.0.0.1/8/8", "10.0.0.0/x"])("TRUSTED_PROXIES=%s stops start-up", (value) => {
    expect(() => parseEnv({ TRUSTED_PROXIES: value })).toThrow(
      "invalid configuration: TRUSTED_PROXIES must be IP addresses or CIDR ranges",
    );
  });

  test("PASSWORD_HASH_CONCURRENCY defaults to 2 and takes 1-64", () => {
    expect(loadConfig({ DATA_DIR: tmp() }).passwordHashConcurrency).toBe(2);
    expect(loadConfig({ DATA_DIR: tmp(), PASSWORD_HASH_CONCURRENCY: "4" }).passwordHashConcurrency).toBe(4);
    expect(() => parseEnv({ PASSWORD_HASH_CONCURRENCY: "0" })).toThrow(
      "invalid configuration: PASSWORD_HASH_CONCURRENCY must be between 1 and 64",
    );
    expect(() => parseEnv({ PASSWORD_HASH_CONCURRENCY: "many" })).toThrow(
      "invalid configuration: PASSWORD_HASH_CONCURRENCY must be a whole number",
    );
  });

  test("SIGNUP defaults to invite and accepts open, invite and closed", () => {
    expect(loadConfig({ DATA_DIR: tmp() }).signup).toBe("invite");
    for (const mode of ["open", "invite", "closed"] as const) expect(loadConfig({ DATA_DIR: tmp(), SIGNUP: mode }).signup).toBe(mode);
    expect(() => parseEnv({ SIGNUP: "anyone" })).toThrow("invalid configuration: SIGNUP must be one of open, invite, closed");
  });
});
