import { PGlite } from "@electric-sql/pglite";
import { PGLiteSocketServer } from "@electric-sql/pglite-socket";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";

export interface EmbeddedServer {
  host: string;
  port: number;
  /** A tarball of the whole cluster; loading it is far faster than initdb (tests use it as a template). */
  dump(): Promise<Blob>;
  stop(): Promise<void>;
}

export class DataDirInUseError extends Error {}

/** A second process on the same PGlite directory would corrupt it, so we hold a pid lock file. */
function acquireLock(dir: string): () => void {
  const file = join(dir, "perpetuo.lock");
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, "wx", 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => {
        try {
          if (readFileSync(file, "utf8") === String(process.pid)) rmSync(file);
        } catch {}
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      const owner = Number(readFileSync(file, "utf8").trim());
      if (owner && owner !== process.pid && isAlive(owner)) {
        throw new DataDirInUseError(
          `the embedded database in ${dir} is in use by another Perpetuo process (pid ${owner}); stop it or set DATA_DIR to another directory`,
        );
      }
      // The owner is gone (crash, kill -9): the lock is stale and safe to take over.
      rmSync(file, { force: true });
    }
  }
  throw new DataDirInUseError(`could not lock the embedded database in ${dir}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Options PGlite.create needs besides the data directory; the compiled binary supplies embedded assets here. */
export type PGliteAssets = Record<string, unknown>;
let assetsLoader: (() => Promise<PGliteAssets>) | null = null;
export function setPGliteAssetsLoader(loader: () => Promise<PGliteAssets>): void {
  assetsLoader = loader;
}

/**
 * Starts PGlite (in memory when dataDir is null) behind a loopback socket so postgres.js talks to it
 * exactly as to a real server. Callers must use a single connection: pglite-socket interleaves
 * extended-protocol messages from concurrent connections.
 */
export async function startEmbedded(dataDir: string | null, template?: Blob): Promise<EmbeddedServer> {
  let release = () => {};
  let pgDir: string | undefined;
  if (dataDir) {
    // Inside the compiled binary, paths under /$bunfs name its embedded, read-only files.
    if (dataDir.includes("$bunfs")) throw new Error(`DATA_DIR must be a real directory, not ${dataDir} inside the binary`);
    pgDir = join(dataDir, "pg");
    mkdirSync(pgDir, { recursive: true });
    release = acquireLock(dataDir);
  }
  try {
    const extra = assetsLoader ? await assetsLoader() : {};
    const db = await PGlite.create({ dataDir: pgDir, ...extra, ...(template ? { loadDataDir: template } : {}) });
    const server = new PGLiteSocketServer({ db, host: "127.0.0.1", port: 0, maxConnections: 4 });
    await server.start();
    const [host, port] = server.getServerConn().split(":");
    return {
      host,
      port: Number(port),
      dump: () => db.dumpDataDir("none") as Promise<Blob>,
      async stop() {
        await server.stop();
        await db.close();
        release();
      },
    };
  } catch (err) {
    release();
    throw err;
  }
}

export function embeddedDataExists(dataDir: string): boolean {
  return existsSync(join(dataDir, "pg", "PG_VERSION"));
}
