import postgres from "postgres";
import { openDatabase, type Database } from "../../src/db/client.ts";
import { migrate } from "../../src/db/migrate.ts";

// initdb in PGlite takes seconds; every test file after the first starts from a snapshot instead.
const templates = new Map<boolean, Promise<Blob>>();
/** A dump of a fresh (and migrated) embedded cluster, made once per test process. */
export function embeddedTemplate(migrated = true): Promise<Blob> {
  let template = templates.get(migrated);
  if (!template) {
    template = (async () => {
      const seed = await openDatabase({ databaseUrl: null, dataDir: null });
      if (migrated) await migrate(seed.sql);
      const blob = await seed.dump!();
      await seed.close();
      return blob;
    })();
    templates.set(migrated, template);
  }
  return template;
}

async function embeddedFromTemplate(migrated: boolean): Promise<Database> {
  return openDatabase({ databaseUrl: null, dataDir: null, template: await embeddedTemplate(migrated) });
}

/**
 * A private, migrated database for one test file: a fresh database on the server named by
 * DATABASE_URL, or an in-memory embedded PGlite when it is unset.
 */
export async function testDatabase(opts: { migrate?: boolean } = {}): Promise<Database & { url: string | null }> {
  const serverUrl = process.env.DATABASE_URL;
  let db: Database;
  let url: string | null = null;
  let drop = async () => {};
  if (serverUrl) {
    const name = `perpetuo_t_${crypto.randomUUID().replaceAll("-", "").slice(0, 16)}`;
    const admin = postgres(serverUrl, { max: 1, onnotice: () => {} });
    await admin.unsafe(`create database ${name}`);
    await admin.end();
    const u = new URL(serverUrl);
    u.pathname = `/${name}`;
    url = u.toString();
    db = await openDatabase({ databaseUrl: url, dataDir: null });
    drop = async () => {
      const a = postgres(serverUrl, { max: 1, onnotice: () => {} });
      await a.unsafe(`drop database if exists ${name} with (force)`);
      await a.end();
    };
  } else {
    db = await embeddedFromTemplate(opts.migrate !== false);
  }
  if (opts.migrate !== false) await migrate(db.sql);
  return {
    ...db,
    url,
    async close() {
      await db.close();
      await drop();
    },
  };
}
