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
import { fromTransfer, toTransfer, type FromWorker, type ToWorker } from "./embedded.ts";

declare const self: Worker;

let db: PGlite | null = null;
let server: PGLiteSocketServer | null = null;

function reply(message: FromWorker, transfer: Transferable[] = []): void {
  self.postMessage(message, transfer);
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

async function start(msg: Extract<ToWorker, { type: "start" }>): Promise<void> {
  // Inside the compiled binary PGlite cannot find its WebAssembly next to its module: use the embedded copies.
  const assets = msg.compiled ? await loadPGliteAssets() : {};
  db = await PGlite.create({ dataDir: msg.pgDir, ...assets, ...(msg.template ? { loadDataDir: fromTransfer(msg.template) } : {}) });
  if (msg.pgDir) makePrivate(msg.pgDir);
  // A Unix socket in a 0700 directory: pglite-socket takes any user and password, so no TCP port.
  server = new PGLiteSocketServer({ db, path: msg.socketPath, maxConnections: 4 });
  await server.start();
  reply({ type: "ready" });
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

self.onmessage = async (event: MessageEvent<ToWorker>) => {
  const msg = event.data;
  switch (msg.type) {
    case "start":
      try {
        await start(msg);
      } catch (err) {
        await stop().catch(() => {});
        reply({ type: "start-failed", message: errorMessage(err) });
      }
      return;
    case "dump":
      try {
        if (!db) throw new Error("the embedded database is not running");
        const blob = await toTransfer((await db.dumpDataDir("none")) as Blob);
        reply({ type: "result", id: msg.id, ok: true, blob }, [blob.bytes]);
      } catch (err) {
        reply({ type: "result", id: msg.id, ok: false, message: errorMessage(err) });
      }
      return;
    case "stop":
      try {
        await stop();
        reply({ type: "result", id: msg.id, ok: true });
      } catch (err) {
        reply({ type: "result", id: msg.id, ok: false, message: errorMessage(err) });
      }
      return;
  }
};
