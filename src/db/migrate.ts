import { createHash } from "node:crypto";
import type { Sql } from "./client.ts";
import { migrations as bundled, type Migration } from "./migrations.ts";

export class MigrationError extends Error {}

// Any constant works; it only has to be the same for every Perpetuo instance.
const LOCK_KEY = 0x70657270; // "perp"

export const checksum = (text: string) => createHash("sha256").update(text).digest("hex");

interface Applied {
  version: number;
  name: string;
  checksum: string;
}

/**
 * Applies pending migrations, each in its own transaction under a transaction-level advisory lock,
 * so several instances starting together apply each migration exactly once.
 */
export async function migrate(sql: Sql, list: Migration[] = bundled): Promise<{ applied: string[] }> {
  await sql.begin(async (tx) => {
    await tx`select pg_advisory_xact_lock(${LOCK_KEY})`;
    await tx`create table if not exists schema_migrations (
      version    integer primary key,
      name       text not null,
      checksum   text not null,
      applied_at timestamptz not null default now()
    )`;
  });

  const known = new Map(list.map((m) => [m.version, m]));
  const appliedNow: string[] = [];
  for (const m of list) {
    const done = await sql.begin(async (tx) => {
      await tx`select pg_advisory_xact_lock(${LOCK_KEY})`;
      const rows = await tx<Applied[]>`select version, name, checksum from schema_migrations order by version`;
      verify(rows, known);
      if (rows.some((r) => r.version === m.version)) return false;
      await tx.unsafe(m.sql);
      await tx`insert into schema_migrations (version, name, checksum) values (${m.version}, ${m.name}, ${checksum(m.sql)})`;
      return true;
    });
    if (done) appliedNow.push(m.name);
  }
  if (list.length === 0) verify(await sql<Applied[]>`select version, name, checksum from schema_migrations`, known);
  return { applied: appliedNow };
}

function verify(rows: Applied[], known: Map<number, Migration>) {
  for (const row of rows) {
    const m = known.get(row.version);
    if (!m) {
      throw new MigrationError(`the database has migration ${row.name} that this Perpetuo version does not know; run a newer Perpetuo`);
    }
    if (checksum(m.sql) !== row.checksum) {
      throw new MigrationError(
        `migration sql/${m.name} was edited after it was applied (checksum ${row.checksum.slice(0, 12)} in the database, ${checksum(m.sql).slice(0, 12)} in the file); restore it and add a new migration instead`,
      );
    }
  }
}
