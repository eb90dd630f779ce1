import { afterEach, describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { checksum, migrate, MigrationError } from "../src/db/migrate.ts";
import { migrations } from "../src/db/migrations.ts";
import { testDatabase } from "./support/db.ts";

const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  while (open.length) await open.pop()!.close();
});
async function fresh() {
  const db = await testDatabase({ migrate: false });
  open.push(db);
  return db;
}

describe("migrations", () => {
  test("the bundled list matches the files in sql/, in order, byte for byte", () => {
    const dir = join(import.meta.dir, "..", "sql");
    const files = readdirSync(dir)
      .filter((f) => f.endsWith(".sql"))
      .sort();
    expect(migrations.map((m) => m.name)).toEqual(files);
    // Versions are the files' numbers, increasing; parallel branches take numbers ahead, so a gap is allowed.
    migrations.forEach((m, i) => {
      expect(m.name).toMatch(/^\d{4}_/);
      expect(m.version).toBe(Number(m.name.slice(0, 4)));
      if (i > 0) expect(m.version).toBeGreaterThan(migrations[i - 1].version);
      expect(m.sql).toBe(readFileSync(join(dir, m.name), "utf8"));
    });
  });

  test("a fresh database gets every migration, recorded with its checksum", async () => {
    const { sql } = await fresh();
    const { applied } = await migrate(sql);
    expect(applied).toEqual(migrations.map((m) => m.name));
    const rows = await sql`select version, name, checksum from schema_migrations order by version`;
    expect(rows.map((r) => r.checksum)).toEqual(migrations.map((m) => checksum(m.sql)));
  });

  test("running again applies nothing", async () => {
    const { sql } = await fresh();
    await migrate(sql);
    expect((await migrate(sql)).applied).toEqual([]);
  });

  test("an edited, already applied migration stops with a clear error", async () => {
    const { sql } = await fresh();
    await migrate(sql);
    const edited = migrations.map((m, i) => (i === 0 ? { ...m, sql: m.sql + "\n-- edited\n" } : m));
    expect(migrate(sql, edited)).rejects.toThrow(/sql\/0001_init\.sql was edited after it was applied/);
    await migrate(sql, edited).catch((e) => expect(e).toBeInstanceOf(MigrationError));
  });

  test("a failing migration rolls back whole and is not recorded", async () => {
    const { sql } = await fresh();
    const bad = [...migrations, { version: 9999, name: "9999_bad.sql", sql: "create table half_done (x int); select nope_fn();" }];
    await expect(migrate(sql, bad)).rejects.toThrow();
    const [t] = await sql`select to_regclass('half_done') as t`;
    expect(t.t).toBeNull();
    const [c] = await sql`select count(*)::int as n from schema_migrations`;
    expect(c.n).toBe(migrations.length);
  });

  test("a database newer than the code stops start-up", async () => {
    const { sql } = await fresh();
    await migrate(sql);
    await sql`insert into schema_migrations (version, name, checksum) values (999, '0999_future.sql', 'x')`;
    await expect(migrate(sql)).rejects.toThrow(/0999_future.sql that this Perpetuo version does not know/);
  });

  test("two concurrent runners apply each migration exactly once", async () => {
    const db = await fresh();
    if (db.embedded) {
      // One embedded database serves one process; concurrency here is two runners on one pool.
      const [a, b] = await Promise.all([migrate(db.sql), migrate(db.sql)]);
      expect([...a.applied, ...b.applied].sort()).toEqual(migrations.map((m) => m.name).sort());
      return;
    }
    const postgres = (await import("postgres")).default;
    const other = postgres(db.url!, { max: 2, onnotice: () => {} });
    try {
      const [a, b] = await Promise.all([migrate(db.sql), migrate(other)]);
      expect([...a.applied, ...b.applied].sort()).toEqual(migrations.map((m) => m.name).sort());
      const [c] = await db.sql`select count(*)::int as n from schema_migrations`;
      expect(c.n).toBe(migrations.length);
    } finally {
      await other.end();
    }
  });
});
