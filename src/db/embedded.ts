import { chmodSync, closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface EmbeddedServer {
  /** The Unix socket postgres.js connects to (postgres.js's `path`); no TCP port is ever opened. */
  path: string;
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

/** A Blob crossing the thread boundary: its bytes are transferred, not copied. */
export interface TransferredBlob {
  bytes: ArrayBuffer;
  type: string;
  /** Set when the Blob was a File (PGlite's dumps are). */
  name?: string;
}

export async function toTransfer(blob: Blob): Promise<TransferredBlob> {
  return { bytes: await blob.arrayBuffer(), type: blob.type, name: blob instanceof File ? blob.name : undefined };
}

export function fromTransfer(t: TransferredBlob): Blob {
  return t.name === undefined ? new Blob([t.bytes], { type: t.type }) : new File([t.bytes], t.name, { type: t.type });
}

/** What src/db/embedded-worker.ts is asked to do. */
type WorkerRequest =
  | { type: "start"; pgDir: string | undefined; socketPath: string; template?: TransferredBlob; compiled: boolean }
  | { type: "dump" }
  | { type: "stop" };

/** Each request carries an id; the worker answers it with one FromWorker of the same id. */
export type ToWorker = WorkerRequest & { id: number };

/** Messages from src/db/embedded-worker.ts. */
export type FromWorker = { id: number; ok: true; blob?: TransferredBlob } | { id: number; ok: false; message: string };

/** Creating the cluster from scratch (initdb) takes seconds; a minute means the worker is stuck. */
const START_TIMEOUT_MS = 60_000;

// From source the worker sits next to this module. The compiled binary bundles it as a second
// entrypoint of `bun build --compile` (the `build` script), stored under the entrypoints' common root
// (src/), where this module's own URL no longer points: there it is named relative to that root.
const WORKER_URL = Bun.isStandaloneExecutable ? "./db/embedded-worker.ts" : new URL("./embedded-worker.ts", import.meta.url).href;

/** sun_path holds 108 bytes on Linux (104 on macOS); stay clear of both. */
const MAX_SOCKET_PATH = 100;
const SOCKET_NAME = ".s.PGSQL.5432";

/** A directory only this user can enter, created (or tightened) now. */
function privateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
}

/**
 * Where the socket lives. pglite-socket accepts any user and password, so the socket's directory is
 * the access control: 0700, this user only. DATA_DIR/run for a database on disk (the lock file makes
 * a leftover socket there ours to remove); a fresh private temp directory in memory, or when
 * DATA_DIR's path is too long for a socket address.
 */
function socketDir(dataDir: string | null): { dir: string; temporary: boolean } {
  if (dataDir && join(dataDir, "run", SOCKET_NAME).length < MAX_SOCKET_PATH) {
    const dir = join(dataDir, "run");
    privateDir(dir);
    rmSync(join(dir, SOCKET_NAME), { force: true });
    return { dir, temporary: false };
  }
  // mkdtemp creates the directory 0700.
  return { dir: mkdtempSync(join(tmpdir(), "perpetuo-pg-")), temporary: true };
}

/**
 * Starts PGlite (in memory when dataDir is null) behind a Unix socket in a private directory, so
 * postgres.js talks to it exactly as to a real server and no other local user can. PGlite runs in a Worker (src/db/embedded-worker.ts): its queries use a
 * second core instead of stalling this thread's event loop. Callers must use a single connection:
 * pglite-socket interleaves extended-protocol messages from concurrent connections.
 */
export async function startEmbedded(dataDir: string | null, template?: Blob): Promise<EmbeddedServer> {
  let release = () => {};
  let pgDir: string | undefined;
  if (dataDir) {
    // Inside the compiled binary, paths under /$bunfs name its embedded, read-only files.
    if (dataDir.includes("$bunfs")) throw new Error(`DATA_DIR must be a real directory, not ${dataDir} inside the binary`);
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    pgDir = join(dataDir, "pg");
    // Before PGlite writes anything: its files are created 0666 (see the worker), the directory keeps others out.
    privateDir(pgDir);
    release = acquireLock(dataDir);
  }
  let worker: Worker | null = null;
  let socket: { dir: string; temporary: boolean } | null = null;
  const removeSocket = () => {
    if (!socket) return;
    rmSync(socket.temporary ? socket.dir : join(socket.dir, SOCKET_NAME), { recursive: true, force: true });
  };
  try {
    socket = socketDir(dataDir);
    const socketPath = join(socket.dir, SOCKET_NAME);
    worker = new Worker(WORKER_URL);
    const w = worker;
    const pending = new Map<number, { resolve: (blob?: TransferredBlob) => void; reject: (err: Error) => void }>();
    let nextId = 1;
    let dead: Error | null = null;

    const fail = (err: Error) => {
      dead ??= err;
      for (const p of pending.values()) p.reject(err);
      pending.clear();
    };
    w.addEventListener("message", (event: MessageEvent<FromWorker>) => {
      const msg = event.data;
      const p = pending.get(msg.id);
      if (!p) return;
      pending.delete(msg.id);
      if (msg.ok) p.resolve(msg.blob);
      else p.reject(new Error(msg.message));
    });
    w.addEventListener("error", (event: ErrorEvent) => {
      event.preventDefault();
      fail(new Error(`embedded database worker failed: ${event.message}`));
    });
    w.addEventListener("close", () => fail(new Error("embedded database worker exited")));

    const call = (msg: WorkerRequest, transfer: Transferable[] = []) =>
      new Promise<TransferredBlob | undefined>((resolve, reject) => {
        if (dead) return reject(dead);
        const id = nextId++;
        pending.set(id, { resolve, reject });
        w.postMessage({ ...msg, id } satisfies ToWorker, transfer);
      });

    const seed = template ? await toTransfer(template) : undefined;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const stuck = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`the embedded database did not start within ${START_TIMEOUT_MS / 1000}s`)),
        START_TIMEOUT_MS,
      );
    });
    const started = call(
      { type: "start", pgDir, socketPath, template: seed, compiled: Bun.isStandaloneExecutable },
      seed ? [seed.bytes] : [],
    );
    await Promise.race([started, stuck]).finally(() => clearTimeout(timer));

    let stopped: Promise<void> | null = null;
    return {
      path: socketPath,
      async dump() {
        const t = await call({ type: "dump" });
        if (!t) throw new Error("the embedded database worker sent no dump");
        return fromTransfer(t);
      },
      stop() {
        stopped ??= (async () => {
          try {
            await call({ type: "stop" });
          } finally {
            w.terminate();
            removeSocket();
            release();
          }
        })();
        return stopped;
      },
    };
  } catch (err) {
    worker?.terminate();
    removeSocket();
    release();
    throw err;
  }
}
