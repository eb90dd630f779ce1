// PGlite's WebAssembly and file-system bundle, embedded in the compiled binary.
//
// PGlite finds these files next to its own module (`new URL("./pglite.data", import.meta.url)`).
// Inside a `bun build --compile` binary that is /$bunfs/root/…, where they do not exist, so start-up
// fails with ENOENT. Importing them `with { type: "file" }` makes Bun embed them and hands us a path
// Bun.file() can read in both modes; we compile the modules ourselves and pass them to PGlite.create.
// Only the compiled binary needs this (src/db/embedded-worker.ts loads it when told it runs inside one):
// from source PGlite reads the same files from node_modules.
import pgliteWasmPath from "@electric-sql/pglite/pglite.wasm" with { type: "file" };
import initdbWasmPath from "@electric-sql/pglite/initdb.wasm" with { type: "file" };
import pgliteDataPath from "@electric-sql/pglite/pglite.data" with { type: "file" };

interface EmbeddedPGliteAssets {
  pgliteWasmModule: WebAssembly.Module;
  initdbWasmModule: WebAssembly.Module;
  fsBundle: Blob;
}

let loaded: Promise<EmbeddedPGliteAssets> | null = null;

/** Reads and compiles the embedded assets once per process. */
export function loadPGliteAssets(): Promise<EmbeddedPGliteAssets> {
  loaded ??= (async () => {
    const [pglite, initdb, data] = await Promise.all(
      [pgliteWasmPath, initdbWasmPath, pgliteDataPath].map((path) => Bun.file(path).arrayBuffer()),
    );
    const [pgliteWasmModule, initdbWasmModule] = await Promise.all([WebAssembly.compile(pglite), WebAssembly.compile(initdb)]);
    return { pgliteWasmModule, initdbWasmModule, fsBundle: new Blob([data]) };
  })();
  loaded.catch(() => {
    loaded = null;
  });
  return loaded;
}
