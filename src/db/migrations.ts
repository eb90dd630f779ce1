// Each migration is imported as text so `bun build --compile` carries it inside the binary.
// A test checks this list against the files in sql/.
import m0001 from "../../sql/0001_init.sql" with { type: "text" };

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const migrations: Migration[] = [
  { version: 1, name: "0001_init.sql", sql: m0001 },
];
