import { loadConfig, ConfigError, type Config } from "./config.ts";
import { createLogger, type Logger } from "./logger.ts";
import { openDatabase, type Database } from "./db/client.ts";
import { migrate, MigrationError } from "./db/migrate.ts";
import { DataDirInUseError } from "./db/embedded.ts";
import { createApp } from "./app.ts";
import pkg from "../package.json" with { type: "json" };

const USAGE = `perpetuo ${pkg.version} — a self-hosted LLM gateway

Usage: perpetuo [command]

Commands:
  serve           start the gateway, API and dashboard (default)
  migrate         apply pending database migrations and exit
  --version       print the version
  --help          print this help

Configuration comes from the environment (PORT, DATABASE_URL, PERPETUO_SECRET, PUBLIC_URL,
DATA_DIR, LOG_LEVEL); see README.md.`;

async function open(config: Config, logger: Logger): Promise<Database> {
  const db = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  logger.info("database ready", { embedded: db.embedded, data_dir: db.embedded ? config.dataDir : undefined });
  const { applied } = await migrate(db.sql);
  if (applied.length) logger.info("migrations applied", { applied });
  return db;
}

async function serve(config: Config, logger: Logger) {
  const db = await open(config, logger);
  const app = createApp({ sql: db.sql, config, logger });
  app.listen({ port: config.port, hostname: config.host });
  logger.info("perpetuo listening", { url: `http://${config.host}:${app.server?.port}`, public_url: config.publicUrl });

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info("shutting down", { signal });
    // Stop accepting, let in-flight requests finish, then close the database.
    await app.server?.stop(false);
    await app.stop?.().catch(() => {});
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
    console.log(pkg.version);
    return;
  }
  if (!["serve", "migrate"].includes(cmd) || rest.length > 0) {
    console.error(`perpetuo: unknown arguments: ${argv.join(" ")}\n\n${USAGE}`);
    process.exit(2);
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
  if (err instanceof ConfigError || err instanceof MigrationError || err instanceof DataDirInUseError) {
    console.error(`perpetuo: ${err.message}`);
  } else {
    console.error(`perpetuo: failed to start: ${err instanceof Error ? err.message : String(err)}`);
  }
  process.exit(1);
});
