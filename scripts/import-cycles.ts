// Import cycles in src/ and views/: prints each group of files that import one another in a ring (with one
// cycle per file in it) and exits 1 if there is any. Type-only imports count: a cycle of types still means
// neither file can be read, moved or tested without the other.
import { readdirSync, readFileSync, existsSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

const root = resolve(import.meta.dir, "..");
const transpilers = { ts: new Bun.Transpiler({ loader: "ts" }), tsx: new Bun.Transpiler({ loader: "tsx" }) };

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sources(path);
    return /\.tsx?$/.test(e.name) && !e.name.endsWith(".d.ts") ? [path] : [];
  });
}

// The transpiler drops type-only imports (`import type`, `{ type X }`); the static import and export clauses are read too.
const staticClause = /^\s*(?:import|export)\b[^;'"]*?\bfrom\s+["']([^"']+)["']/gm;
const specifiers = (text: string, loader: "ts" | "tsx") => [
  ...transpilers[loader].scanImports(text).map((i) => i.path),
  ...Array.from(text.matchAll(staticClause), (m) => m[1]),
];

function resolveImport(from: string, spec: string): string | null {
  if (!spec.startsWith(".")) return null;
  const base = resolve(dirname(from), spec);
  for (const candidate of [base, `${base}.ts`, `${base}.tsx`, join(base, "index.ts"), join(base, "index.tsx")]) {
    if (existsSync(candidate) && statSync(candidate).isFile() && /\.tsx?$/.test(candidate)) return candidate;
  }
  return null;
}

export function importGraph(dirs: string[]): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of dirs.flatMap((d) => sources(resolve(root, d)))) {
    const targets = specifiers(readFileSync(file, "utf8"), file.endsWith(".tsx") ? "tsx" : "ts")
      .map((spec) => resolveImport(file, spec))
      .filter((p): p is string => p !== null);
    graph.set(relative(root, file), [...new Set(targets.map((p) => relative(root, p)))]);
  }
  return graph;
}

/** Strongly connected components with more than one file (or a file importing itself): Tarjan's algorithm. */
export function cyclicGroups(graph: Map<string, string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const groups: string[][] = [];
  const visit = (v: string) => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const group: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      group.push(w);
    } while (w !== v);
    if (group.length > 1 || (graph.get(v) ?? []).includes(v)) groups.push(group.sort());
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return groups;
}

/** The shortest ring from `start` back to itself inside its group (breadth-first). */
function shortestCycle(graph: Map<string, string[]>, group: Set<string>, start: string): string[] {
  const previous = new Map<string, string>();
  const queue = [start];
  while (queue.length) {
    const v = queue.shift()!;
    for (const w of graph.get(v) ?? []) {
      if (!group.has(w)) continue;
      if (w === start) {
        const path = [v];
        while (path[0] !== start) path.unshift(previous.get(path[0])!);
        return [...path, start];
      }
      if (!previous.has(w)) {
        previous.set(w, v);
        queue.push(w);
      }
    }
  }
  return [start];
}

export function findCycles(dirs = ["src", "views"]): { groups: string[][]; cycles: string[][] } {
  const graph = importGraph(dirs);
  const groups = cyclicGroups(graph);
  const seen = new Set<string>();
  const cycles: string[][] = [];
  for (const group of groups) {
    const members = new Set(group);
    for (const file of group) {
      const ring = shortestCycle(graph, members, file);
      const body = ring.slice(0, -1);
      const first = body.indexOf([...body].sort()[0]);
      const key = [...body.slice(first), ...body.slice(0, first)].join(" ");
      if (seen.has(key)) continue;
      seen.add(key);
      cycles.push(ring);
    }
  }
  return { groups, cycles };
}

// `bun scripts/import-cycles.ts [dir...]`: src/ and views/ unless folders are named.
if (import.meta.main) {
  const dirs = process.argv.slice(2);
  const { groups, cycles } = findCycles(dirs.length ? dirs : undefined);
  if (groups.length === 0) {
    console.log(`import cycles: none in ${dirs.length ? dirs.join(", ") : "src/ and views/"}`);
    process.exit(0);
  }
  groups.forEach((group, i) => console.log(`group ${i + 1}: ${group.length} files\n  ${group.join("\n  ")}`));
  for (const ring of cycles) console.log(`cycle: ${ring.join(" -> ")}`);
  console.log(`import cycles: ${cycles.length} distinct shortest cycles in ${groups.length} groups, ${groups.flat().length} files`);
  process.exit(1);
}
