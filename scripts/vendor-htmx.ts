/**
 * Copies the pinned htmx build from node_modules into public/, where the dashboard serves it.
 * Run with `bun run vendor` after changing the htmx.org version in package.json; commit the result.
 * test/dashboard.test.ts fails when the two copies differ.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const root = join(import.meta.dir, "..");
const pkg = JSON.parse(readFileSync(join(root, "node_modules/htmx.org/package.json"), "utf8")) as { version: string };
const pinned = (JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { dependencies: Record<string, string> }).dependencies[
  "htmx.org"
];
if (pkg.version !== pinned) {
  console.error(`vendor: node_modules has htmx.org ${pkg.version} but package.json pins ${pinned}; run bun install first`);
  process.exit(1);
}
const source = readFileSync(join(root, "node_modules/htmx.org/dist/htmx.min.js"));
writeFileSync(join(root, "public/htmx.min.js"), source);
console.log(`vendor: public/htmx.min.js ← htmx.org ${pkg.version} (${source.length} bytes)`);
