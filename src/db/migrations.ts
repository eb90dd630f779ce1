// Each migration is imported as text so `bun build --compile` carries it inside the binary.
// A test checks this list against the files in sql/.
import m0001 from "../../sql/0001_init.sql" with { type: "text" };
import m0002 from "../../sql/0002_keys.sql" with { type: "text" };
import m0003 from "../../sql/0003_logs.sql" with { type: "text" };
import m0004 from "../../sql/0004_sessions.sql" with { type: "text" };
import m0005 from "../../sql/0005_invitations.sql" with { type: "text" };
import m0006 from "../../sql/0006_governance.sql" with { type: "text" };
import m0007 from "../../sql/0007_rate_windows.sql" with { type: "text" };
import m0008 from "../../sql/0008_log_request_id.sql" with { type: "text" };
import m0009 from "../../sql/0009_log_endpoint.sql" with { type: "text" };
import m0010 from "../../sql/0010_log_logged_at.sql" with { type: "text" };

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const migrations: Migration[] = [
  { version: 1, name: "0001_init.sql", sql: m0001 },
  { version: 2, name: "0002_keys.sql", sql: m0002 },
  { version: 3, name: "0003_logs.sql", sql: m0003 },
  { version: 4, name: "0004_sessions.sql", sql: m0004 },
  { version: 5, name: "0005_invitations.sql", sql: m0005 },
  { version: 6, name: "0006_governance.sql", sql: m0006 },
  { version: 7, name: "0007_rate_windows.sql", sql: m0007 },
  { version: 8, name: "0008_log_request_id.sql", sql: m0008 },
  { version: 9, name: "0009_log_endpoint.sql", sql: m0009 },
  { version: 10, name: "0010_log_logged_at.sql", sql: m0010 },
];
