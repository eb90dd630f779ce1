import postgres from "postgres";
import { startEmbedded } from "./embedded.ts";

export type Sql = postgres.Sql<{}>;
export type TransactionSql = postgres.TransactionSql<{}>;

/** PostgreSQL's unique_violation: the row would repeat a unique value (an email, a provider's name). */
export const isUniqueViolation = (err: unknown) => (err as { code?: string }).code === "23505";

export interface Database {
  sql: Sql;
  embedded: boolean;
  /** Embedded only: a snapshot of the database (see EmbeddedServer.dump). */
  dump?: () => Promise<Blob>;
  close(): Promise<void>;
}

interface DatabaseOptions {
  databaseUrl: string | null;
  /** Where the embedded database lives; null keeps it in memory (tests). */
  dataDir: string | null;
  max?: number;
  /** Embedded only: start from this snapshot instead of an empty cluster. */
  template?: Blob;
}

const common = {
  onnotice: () => {},
  // Ids are text and counts are cast in SQL; keep numeric (cost) as string to avoid float drift.
  connection: { application_name: "perpetuo" },
} as const;

export async function openDatabase(opts: DatabaseOptions): Promise<Database> {
  if (opts.databaseUrl) {
    const sql = postgres(opts.databaseUrl, { ...common, max: opts.max ?? 10 });
    return { sql, embedded: false, close: () => sql.end({ timeout: 5 }) };
  }
  const server = await startEmbedded(opts.dataDir, opts.template);
  const sql = postgres({ ...common, path: server.path, user: "postgres", database: "postgres", max: 1 });
  return {
    sql,
    embedded: true,
    dump: server.dump,
    async close() {
      await sql.end({ timeout: 5 });
      await server.stop();
    },
  };
}
