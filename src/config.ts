import * as v from "valibot";
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseCidr } from "./http/client-address.ts";

const url = (protocols: RegExp, rule: string) =>
  v.pipe(v.string(), v.trim(), v.url(`must be a URL (${rule})`), v.regex(protocols, `must be a URL (${rule})`));

/** A whole number from the environment, within [min, max]. */
const whole = (fallback: string, min: number, max: number, range: string) =>
  v.pipe(
    v.optional(v.string(), fallback),
    v.regex(/^\d+$/, "must be a whole number"),
    v.transform(Number),
    v.minValue(min, range),
    v.maxValue(max, range),
  );

const secret = v.pipe(v.string(), v.minLength(32, "must be at least 32 characters (try: openssl rand -base64 48)"));

/** A comma-separated setting as its trimmed, non-empty items. */
const commaList = v.pipe(
  v.string(),
  v.transform((s) =>
    s
      .split(",")
      .map((x) => x.trim())
      .filter(Boolean),
  ),
);

const ConfigSchema = v.object({
  PORT: whole("8080", 0, 65535, "must be between 0 and 65535"),
  HOST: v.optional(v.pipe(v.string(), v.minLength(1)), "0.0.0.0"),
  DATABASE_URL: v.optional(url(/^postgres(ql)?:\/\//, "postgres://user:pass@host:5432/db")),
  PERPETUO_SECRET: v.optional(secret),
  // Older secrets still able to decrypt, newest first, comma-separated; used during rotation.
  PERPETUO_SECRET_PREVIOUS: v.optional(v.pipe(commaList, v.array(secret))),
  PUBLIC_URL: v.optional(url(/^https?:\/\//, "http:// or https://")),
  DATA_DIR: v.optional(v.pipe(v.string(), v.minLength(1)), "./data"),
  LOG_LEVEL: v.optional(v.picklist(["debug", "info", "warn", "error"], "must be one of debug, info, warn, error"), "info"),
  NODE_ENV: v.optional(v.string(), "development"),
  // Reverse proxies whose X-Forwarded-For is believed (IPs or CIDRs, comma-separated); none by default.
  TRUSTED_PROXIES: v.optional(
    v.pipe(
      commaList,
      v.check(
        (list) => list.every((x) => parseCidr(x) !== null),
        "must be IP addresses or CIDR ranges, comma-separated (e.g. 10.0.0.0/8,::1)",
      ),
    ),
  ),
  // Password hashes/verifications (argon2id, ~64 MiB each) run at once; more wait in a bounded queue.
  PASSWORD_HASH_CONCURRENCY: whole("2", 1, 64, "must be between 1 and 64"),
  // Who may create an account through sign-up (see src/accounts/signup.ts).
  SIGNUP: v.optional(v.picklist(["open", "invite", "closed"], "must be one of open, invite, closed"), "invite"),
  // Lets provider base URLs reach loopback, private, CGNAT and other non-public addresses, never metadata ones (SSRF guard: src/net/).
  ALLOW_PRIVATE_BASE_URLS: v.optional(
    v.pipe(
      v.picklist(["true", "false", "1", "0"], "must be true or false"),
      v.transform((s) => s === "true" || s === "1"),
    ),
    "false",
  ),
  // How long open requests and streams may finish after SIGTERM before streams are ended with an error event.
  // Platforms send SIGKILL 30 s after SIGTERM: open streams are ended before that, with time left to write their logs.
  SHUTDOWN_TIMEOUT_MS: whole("20000", 0, 25_000, "must be between 0 and 25000 (platforms kill 30 s after SIGTERM)"),
  // Request-log records held in memory before spilling to the spool (and the bound when it cannot).
  LOG_QUEUE_MAX: whole("10000", 1_000, 10_000_000, "must be between 1000 and 10000000"),
  // Bound on DATA_DIR/spool; beyond it (and LOG_QUEUE_MAX) records are dropped and counted.
  LOG_SPOOL_MAX_BYTES: whole(String(1024 ** 3), 1024 ** 2, Number.MAX_SAFE_INTEGER, "must be at least 1048576 (1 MiB)"),
  // A model with no known price cannot be charged to a budget (src/governance): serve it anyway, or refuse it where one applies.
  UNPRICED_MODELS: v.optional(v.picklist(["allow", "refuse"], "must be allow or refuse"), "allow"),
  // Bearer token for GET /metrics; unset, /metrics does not exist (404).
  METRICS_TOKEN: v.optional(
    v.pipe(
      v.string(),
      v.minLength(16, "must be at least 16 characters (try: openssl rand -hex 24)"),
      v.regex(/^[\x21-\x7e]+$/, "must be printable ASCII without spaces (it is sent as Authorization: Bearer <token>)"),
    ),
  ),
  // Browser origins allowed to call /v1 (CORS): exact origins, comma-separated, or *; unset = none.
  CORS_ORIGINS: v.optional(
    v.pipe(
      commaList,
      v.check((list) => list.length === 1 || !list.includes("*"), "must be * alone or a list of origins, not both"),
      v.check(
        (list) => list.every((x) => x === "*" || isOrigin(x)),
        "must be origins like https://app.example.com (scheme, host and port only, no path), comma-separated, or *",
      ),
    ),
  ),
});

/** `https://host[:port]` exactly as browsers send it in the Origin header. */
function isOrigin(s: string): boolean {
  try {
    const u = new URL(s);
    return (u.protocol === "http:" || u.protocol === "https:") && u.origin === s;
  } catch {
    return false;
  }
}

/** The settings as the code reads them; each field's rule and meaning is beside its variable in ConfigSchema. */
export type Config = ReturnType<typeof loadConfig>;

export class ConfigError extends Error {}

type Env = Record<string, string | undefined>;

/** Parses the environment; the first bad variable becomes one readable line. */
export function parseEnv(env: Env): v.InferOutput<typeof ConfigSchema> {
  const cleaned: Env = {};
  for (const key of Object.keys(ConfigSchema.entries)) {
    const value = env[key];
    // An empty variable (FOO= in a .env file) means "unset", not "invalid".
    if (value !== undefined && value !== "") cleaned[key] = value;
  }
  const result = v.safeParse(ConfigSchema, cleaned);
  if (!result.success) {
    const issue = result.issues[0];
    const name = issue.path?.[0]?.key ?? "environment";
    throw new ConfigError(`invalid configuration: ${String(name)} ${issue.message}`);
  }
  return result.output;
}

/**
 * Reads configuration. Without PERPETUO_SECRET a development secret is generated once into
 * DATA_DIR (0600) so restarts can still decrypt stored provider keys; production refuses that.
 */
export function loadConfig(env: Env = process.env) {
  const parsed = parseEnv(env);
  const production = parsed.NODE_ENV === "production";
  const dataDir = resolve(parsed.DATA_DIR);
  let secret = parsed.PERPETUO_SECRET;
  let secretSource: "env" | "file" = "env";
  if (!secret) {
    if (production) throw new ConfigError("invalid configuration: PERPETUO_SECRET is required when NODE_ENV=production");
    secret = readOrCreateSecretFile(dataDir);
    secretSource = "file";
  }
  return {
    port: parsed.PORT,
    host: parsed.HOST,
    databaseUrl: parsed.DATABASE_URL ?? null,
    secret,
    previousSecrets: parsed.PERPETUO_SECRET_PREVIOUS ?? [],
    publicUrl: (parsed.PUBLIC_URL ?? `http://localhost:${parsed.PORT}`).replace(/\/+$/, ""),
    dataDir,
    logLevel: parsed.LOG_LEVEL,
    production,
    secretSource,
    trustedProxies: parsed.TRUSTED_PROXIES ?? [],
    passwordHashConcurrency: parsed.PASSWORD_HASH_CONCURRENCY,
    signup: parsed.SIGNUP,
    allowPrivateBaseUrls: parsed.ALLOW_PRIVATE_BASE_URLS,
    shutdownTimeoutMs: parsed.SHUTDOWN_TIMEOUT_MS,
    logQueueMax: parsed.LOG_QUEUE_MAX,
    logSpoolMaxBytes: parsed.LOG_SPOOL_MAX_BYTES,
    unpricedModels: parsed.UNPRICED_MODELS,
    metricsToken: parsed.METRICS_TOKEN ?? null,
    corsOrigins: parsed.CORS_ORIGINS ?? [],
  };
}

function readOrCreateSecretFile(dataDir: string): string {
  const file = join(dataDir, "secret");
  if (existsSync(file)) {
    const value = readFileSync(file, "utf8").trim();
    if (value.length < 32) throw new ConfigError(`invalid configuration: ${file} holds a secret shorter than 32 characters`);
    return value;
  }
  mkdirSync(dataDir, { recursive: true });
  const value = randomBytes(48).toString("base64url");
  writeFileSync(file, value + "\n", { mode: 0o600, flag: "wx" });
  chmodSync(file, 0o600);
  return value;
}
