import { redactSecrets } from "./adapters/types.ts";

type Level = "debug" | "info" | "warn" | "error";
const order: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export type LogFields = Record<string, unknown>;
export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
}

// Anything shaped like a credential is masked even if a caller passes it by mistake (adapters/types.ts, the one redaction).
const SECRET_KEYS = /^(password|api_?key|apikey|token|secret|authorization|cookie|key_ciphertext)$/i;

function clean(fields: LogFields): LogFields {
  const out: LogFields = {};
  for (const [k, val] of Object.entries(fields)) {
    if (SECRET_KEYS.test(k)) out[k] = "[redacted]";
    else if (typeof val === "string") out[k] = redactSecrets(val);
    else if (val instanceof Error) out[k] = redactSecrets(val.message);
    else out[k] = val;
  }
  return out;
}

export function createLogger(level: Level = "info", write: (line: string) => void = (l) => process.stdout.write(l + "\n")): Logger {
  const min = order[level];
  const emit = (lvl: Level, msg: string, fields?: LogFields) => {
    if (order[lvl] < min) return;
    write(JSON.stringify({ t: new Date().toISOString(), level: lvl, msg: redactSecrets(msg), ...(fields ? clean(fields) : {}) }));
  };
  return {
    debug: (m, f) => emit("debug", m, f),
    info: (m, f) => emit("info", m, f),
    warn: (m, f) => emit("warn", m, f),
    error: (m, f) => emit("error", m, f),
  };
}

export const silentLogger: Logger = createLogger("error", () => {});
