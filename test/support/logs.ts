import postgres from "postgres";
import { createServer } from "node:net";
import { createId } from "@paralleldrive/cuid2";
import type { Sql } from "../../src/db/client.ts";
import type { RequestRecord } from "../../src/telemetry/types.ts";

/** cuid2's createId costs about a millisecond here; tests that make thousands of records use this. */
export const fastId = () => crypto.randomUUID().replaceAll("-", "");

/** A complete, successful record; override what the test is about. */
export function makeRecord(workspaceId: string, over: Partial<RequestRecord> = {}): RequestRecord {
  return {
    id: fastId(),
    request_id: `req_${fastId()}`,
    workspace_id: workspaceId,
    api_key_id: null,
    provider_id: "prov_a",
    provider_name: "OpenAI",
    provider_type: "openai",
    model_requested: "gpt-4o-mini",
    model_used: "gpt-4o-mini-2024-07-18",
    stream: false,
    status: 200,
    error_class: null,
    error_message: null,
    latency_ms: 120,
    ttft_ms: null,
    prompt_tokens: 10,
    completion_tokens: 5,
    cached_tokens: 0,
    reasoning_tokens: 0,
    usage_estimated: false,
    cost_usd: 0.0000045,
    attempts: [
      {
        provider_id: "prov_a",
        provider_name: "OpenAI",
        provider_type: "openai",
        model: "gpt-4o-mini",
        status: 200,
        error_class: null,
        message: null,
        latency_ms: 118,
      },
    ],
    request_body: null,
    response_body: null,
    created_at: new Date().toISOString(),
    ...over,
  };
}

const isTemplateCall = (args: unknown[]) => Array.isArray(args[0]) && Object.prototype.hasOwnProperty.call(args[0], "raw");

/** Forwards to `sql` and counts the statements issued through it (tagged-template calls). */
export function countingSql(sql: Sql): { sql: Sql; statements: () => number; reset(): void } {
  let n = 0;
  const proxy = new Proxy(sql, {
    apply(target, thisArg, args) {
      if (isTemplateCall(args)) n++;
      return Reflect.apply(target as unknown as (...a: unknown[]) => unknown, thisArg, args);
    },
  });
  return { sql: proxy, statements: () => n, reset: () => void (n = 0) };
}

/** A sql whose target can be swapped at run time: the database "goes away" and "comes back". */
export function switchableSql(initial: Sql): { sql: Sql; use(next: Sql): void } {
  let current = initial;
  const proxy = new Proxy(function () {} as unknown as Sql, {
    apply: (_t, thisArg, args) => Reflect.apply(current as unknown as (...a: unknown[]) => unknown, thisArg, args),
    get: (_t, prop) => Reflect.get(current as object, prop),
  });
  return { sql: proxy, use: (next) => void (current = next) };
}

/** A real postgres.js client aimed at a port nobody listens on: every query fails as with a server that is down. */
export async function unreachableSql(): Promise<Sql> {
  const port = await new Promise<number>((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
  return postgres({ host: "127.0.0.1", port, max: 1, connect_timeout: 2, onnotice: () => {} });
}

export async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for: ${what}`);
    await Bun.sleep(10);
  }
}

/** A workspace row to hang logs on (no user needed). */
export async function insertWorkspace(sql: Sql, settings: Record<string, unknown> = {}): Promise<string> {
  const id = createId();
  await sql`insert into workspaces (id, name, settings) values (${id}, 'logs test', ${sql.json(settings as postgres.JSONValue)})`;
  return id;
}
