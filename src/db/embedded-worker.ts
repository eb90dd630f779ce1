// The embedded database's own thread: PGlite (WebAssembly) and the pglite-socket server run here,
// so the queries they execute — request-log batches above all — never block the event loop that
// serves gateway requests. src/db/embedded.ts starts this worker and speaks to it by messages.
//
// The compiled binary lists this file as a second entrypoint of `bun build --compile` (see the
// `build` script), as Bun requires for any Worker inside a standalone executable.
import { chmodSync, lstatSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { PGLiteSocketServer } from "@electric-sql/pglite-socket";
import { loadPGliteAssets } from "./pglite-assets.ts";
import { fromTransfer, toTransfer, type FromWorker, type ToWorker, type TransferredBlob } from "./embedded.ts";

declare const self: Worker;

let db: PGlite | null = null;
let server: PGLiteSocketServer | null = null;

async function start(msg: Extract<ToWorker, { type: "start" }>): Promise<void> {
  // Inside the compiled binary PGlite cannot find its WebAssembly next to its module: use the embedded copies.
  const assets = msg.compiled ? await loadPGliteAssets() : {};
  db = await PGlite.create({ dataDir: msg.pgDir, ...assets, ...(msg.template ? { loadDataDir: fromTransfer(msg.template) } : {}) });
  if (msg.pgDir) makePrivate(msg.pgDir);
  // A Unix socket in a 0700 directory: pglite-socket takes any user and password, so no TCP port.
  server = new PGLiteSocketServer({ db, path: msg.socketPath, maxConnections: 4 });
  await server.start();
}

/**
 * PGlite's initdb copies the cluster's files in with mode 0666 (an explicit chmod, so no umask helps);
 * files PostgreSQL creates later are 0600. Take group and world access away from what is there, and
 * from data directories created by older versions.
 */
function makePrivate(path: string): void {
  const st = lstatSync(path);
  if (st.isSymbolicLink()) return;
  if ((st.mode & 0o077) !== 0) chmodSync(path, st.mode & 0o700);
  if (st.isDirectory()) for (const name of readdirSync(path)) makePrivate(join(path, name));
}

async function stop(): Promise<void> {
  await server?.stop();
  server = null;
  await db?.close();
  db = null;
}

async function handle(msg: ToWorker): Promise<TransferredBlob | undefined> {
  switch (msg.type) {
    case "start":
      // A half-started database is closed again, so the caller can try anew.
      await start(msg).catch(async (err) => {
        await stop().catch(() => {});
        throw err;
      });
      return;
    case "dump":
      if (!db) throw new Error("the embedded database is not running");
      return toTransfer((await db.dumpDataDir("none")) as Blob);
    case "stop":
      await stop();
      return;
  }
}

self.onmessage = async ({ data: msg }: MessageEvent<ToWorker>) => {
  try {
    const blob = await handle(msg);
    self.postMessage({ id: msg.id, ok: true, blob } satisfies FromWorker, blob ? [blob.bytes] : []);
  } catch (err) {
    self.postMessage({ id: msg.id, ok: false, message: err instanceof Error ? err.message : String(err) } satisfies FromWorker);
  }
};
