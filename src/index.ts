import { loadConfig, ConfigError, type Config } from "./config.ts";
import { createLogger, type Logger } from "./logger.ts";
import { openDatabase, type Database } from "./db/client.ts";
import { migrate, MigrationError } from "./db/migrate.ts";
import { DataDirInUseError } from "./db/embedded.ts";
import { createApp } from "./app.ts";
import { buildDeps } from "./deps.ts";
import { bridgeChangesOverPostgres } from "./gateway/cache.ts";
import { startRetention } from "./telemetry/retention.ts";
import { USAGE, VERSION } from "./cli/usage.ts";
import { UsageError } from "./cli/args.ts";
import { createUserCommand, CreateUserError, parseCreateUserArgs, readPassword } from "./cli/create-user.ts";
import { healthcheck } from "./cli/healthcheck.ts";
import { rotateSecretCommand } from "./cli/rotate-secret.ts";
import { RotationError } from "./providers/rotate.ts";

async function open(config: Config, logger: Logger): Promise<Database> {
  const db = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  logger.info("database ready", { embedded: db.embedded, data_dir: db.embedded ? config.dataDir : undefined });
  const { applied } = await migrate(db.sql);
  if (applied.length) logger.info("migrations applied", { applied });
  return db;
}

async function serve(config: Config, logger: Logger) {
  // postgres.js can leave a rejection unhandled when the server drops a connection mid-handshake
  // (a database restart); a gateway must keep serving through that, not exit.
  process.on("unhandledRejection", (reason) => {
    logger.warn("unhandled rejection (kept running)", { error: reason instanceof Error ? reason.message : String(reason) });
  });
  const db = await open(config, logger);
  const deps = buildDeps({ sql: db.sql, config, logger });
  // Several instances may share one PostgreSQL server: carry cache invalidations between them.
  // The embedded database belongs to this process alone, so there is nobody to tell.
  const unbridge = db.embedded ? null : await bridgeChangesOverPostgres(db.sql, deps.events, () => deps.gateway.cache.clear(), logger);
  const app = createApp(deps);
  // A spool left by a crash (or by a shutdown while the database was away) is replayed in the background.
  await deps.logQueue.start();
  const retention = startRetention(db.sql, { logger });
  app.listen({ port: config.port, hostname: config.host });
  logger.info("perpetuo listening", { url: `http://${config.host}:${app.server?.port}`, public_url: config.publicUrl });

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info("shutting down", { signal, drain_timeout_ms: config.shutdownTimeoutMs });
    const began = Date.now();
    // Stop accepting and let in-flight requests finish, but not past the deadline: a platform's
    // SIGKILL (30 s after SIGTERM) would lose the rows of streams still open.
    const server = app.server;
    const closed = (server?.stop(false) ?? Promise.resolve()).then(() => true);
    const within = (ms: number) => Promise.race([closed, Bun.sleep(ms).then(() => false)]);
    if (!(await within(config.shutdownTimeoutMs))) {
      logger.warn("shutdown: drain deadline passed; ending open requests and streams with server_shutting_down", {
        timeout_ms: config.shutdownTimeoutMs,
      });
      deps.gateway.drain();
      // Streams end with their error event at once; a client that is not reading is disconnected.
      if (!(await within(2_000))) await server?.stop(true);
    }
    await app.stop?.().catch(() => {});
    await unbridge?.().catch(() => {});
    await deps.gateway.stop();
    await retention.stop();
    // Every request log still in memory goes to the database, or to DATA_DIR/spool if it is away.
    // Within what is left of the 30 s a platform allows (at least 2 s); then the rest goes to the spool.
    const left = 28_000 - (Date.now() - began);
    await deps.logQueue.flush({ replaySpool: false, timeoutMs: Math.min(10_000, Math.max(2_000, left)) });
    deps.logQueue.stop();
    const { queued: unsaved, discarded } = deps.logQueue.stats();
    if (discarded > 0) logger.warn("request logs dropped since start because the log queue and spool were full", { count: discarded });
    if (unsaved > 0) logger.error("request logs lost at shutdown: neither the database nor the spool took them", { count: unsaved });
    await db.close();
    logger.info("stopped");
    process.exit(0);
  };
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.on("SIGINT", () => void shutdown("SIGINT"));
}

async function main(argv: string[]) {
  const [cmd = "serve", ...rest] = argv;
  if (cmd === "--help" || cmd === "-h" || cmd === "help") {
    console.log(USAGE);
    return;
  }
  if (cmd === "--version" || cmd === "-v") {
    console.log(VERSION);
    return;
  }
  if (cmd === "healthcheck" && rest.length === 0) {
    const { ok, message } = await healthcheck();
    if (!ok) console.error(`perpetuo: healthcheck failed: ${message}`);
    process.exit(ok ? 0 : 1);
  }
  if (cmd === "create-user") {
    const args = parseCreateUserArgs(rest);
    const config = loadConfig();
    const password = await readPassword();
    const { userId, workspaceId } = await createUserCommand(config, { ...args, password });
    if (workspaceId) console.error(`perpetuo: created workspace ${JSON.stringify(args.workspace)} (${workspaceId}) owned by the user`);
    console.log(userId);
    return;
  }
  if (cmd === "rotate-secret" && rest.length === 0) {
    const { reencrypted, version } = await rotateSecretCommand(loadConfig());
    console.log(`re-encrypted ${reencrypted} provider key${reencrypted === 1 ? "" : "s"}; all are now sealed with key version ${version}`);
    return;
  }
  if (!["serve", "migrate"].includes(cmd) || rest.length > 0) {
    throw new UsageError(`unknown arguments: ${argv.join(" ")}`);
  }
  const config = loadConfig();
  const logger = createLogger(config.logLevel);
  if (cmd === "migrate") {
    const db = await open(config, logger);
    await db.close();
    return;
  }
  await serve(config, logger);
}

main(process.argv.slice(2)).catch((err) => {
  if (err instanceof UsageError) {
    console.error(`perpetuo: ${err.message}\n\n${USAGE}`);
    process.exit(2);
  }
  if (
    err instanceof ConfigError ||
    err instanceof CreateUserError ||
    err instanceof RotationError ||
    err instanceof MigrationError ||
    err instanceof DataDirInUseError
  ) {
    console.error(`perpetuo: ${err.message}`);
  } else {
    console.error(`perpetuo: failed to start: ${err instanceof Error ? err.message : String(err)}`);
  }
  process.exit(1);
});
