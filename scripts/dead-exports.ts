// Exports nothing else imports: named in no other file of src/, views/, test/, bench/ or scripts/. Such an `export`
// only widens what a reader must keep in mind. `bun scripts/dead-exports.ts [skip-prefix...]`; exits 1 if any.
import { readdirSync, readFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";

const root = resolve(import.meta.dir, "..");
const skip = process.argv.slice(2);

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return e.name === "node_modules" ? [] : files(path);
    return /\.tsx?$/.test(e.name) ? [path] : [];
  });
}

const all = ["src", "views", "test", "bench", "scripts"].flatMap((d) => files(join(root, d))).map((f) => relative(root, f));
const text = new Map(all.map((f) => [f, readFileSync(join(root, f), "utf8")]));
const declared = /^export\s+(?:declare\s+)?(?:async\s+)?(?:function\*?|const|let|class|interface|type|enum)\s+([A-Za-z_$][\w$]*)/gm;

const dead: string[] = [];
for (const file of all.filter((f) => (f.startsWith("src/") || f.startsWith("views/")) && !skip.some((s) => f.startsWith(s)))) {
  for (const [, name] of text.get(file)!.matchAll(declared)) {
    const word = new RegExp(`\\b${name.replace(/\$/g, "\\$")}\\b`);
    if (!all.some((other) => other !== file && word.test(text.get(other)!))) dead.push(`${file}: ${name}`);
  }
}
for (const line of dead) console.log(line);
console.log(`exports used only in their own file: ${dead.length}`);
process.exit(dead.length ? 1 : 0);
