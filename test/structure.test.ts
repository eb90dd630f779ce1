import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cyclicGroups, findCycles } from "../scripts/import-cycles.ts";

describe("import structure", () => {
  test("src/ and views/ have no import cycle (scripts/import-cycles.ts)", () => {
    const { cycles } = findCycles();
    expect(cycles.map((ring) => ring.join(" -> "))).toEqual([]);
  });

  test("the script exits 1 and names the files when there is a cycle, type-only imports included", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cycles-"));
    writeFileSync(join(dir, "a.ts"), `import type { B } from "./b.ts";\nexport interface A { b: B }\n`);
    writeFileSync(join(dir, "b.ts"), `import { type A } from "./a";\nexport interface B { a?: A }\n`);
    writeFileSync(join(dir, "c.ts"), `import type { A } from "./a.ts";\nexport const c = (a: A) => a;\n`);
    try {
      const run = async (...args: string[]) => {
        const proc = Bun.spawn(["bun", "scripts/import-cycles.ts", ...args], { stdout: "pipe", stderr: "pipe" });
        return { out: await new Response(proc.stdout).text(), rc: await proc.exited };
      };
      const found = await run(dir);
      expect(found.rc).toBe(1);
      expect(found.out).toMatch(/cycle: \S*a\.ts -> \S*b\.ts -> \S*a\.ts/);
      expect(found.out).not.toContain("c.ts");
      rmSync(join(dir, "b.ts"));
      const clean = await run(dir);
      expect(clean.rc).toBe(0);
      expect(clean.out).toContain("import cycles: none");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("cycle detection finds rings, self-imports and leaves chains alone", () => {
    const graph = new Map([
      ["a.ts", ["b.ts"]],
      ["b.ts", ["c.ts"]],
      ["c.ts", ["a.ts", "d.ts"]],
      ["d.ts", []],
      ["e.ts", ["e.ts"]],
      ["f.ts", ["d.ts"]],
    ]);
    expect(cyclicGroups(graph).sort()).toEqual([["a.ts", "b.ts", "c.ts"], ["e.ts"]]);
  });
});
