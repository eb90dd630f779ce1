import { createId } from "@paralleldrive/cuid2";
import type { Sql, TransactionSql } from "../db/client.ts";
import { randomBase62, safeEqual, sha256Hex } from "../crypto.ts";
import type { ScopeLimits } from "../governance/limits.ts";
import type { GatewayKey } from "../gateway/cache.ts";
import { spendPeriod } from "../usage/period.ts";
import { checkedLimits, NO_LIMITS, type BudgetPeriod } from "./limits.ts";
import type { CreateApiKeyInput, UpdateApiKeyInput } from "./model.ts";
import { audit, type Actor } from "../events.ts";

const API_KEY_PREFIX = "prp_";
// 32 random bytes in base62 are 43 characters; longer keys stay valid should the length ever grow.
const API_KEY_FORMAT = /^prp_[0-9A-Za-z]{43,128}$/;
const DISPLAY_CHARS = 6;

type ApiKeyStatus = "active" | "revoked" | "expired";

export interface ApiKeyView {
  id: string;
  name: string;
  /** `prp_` and the first 6 characters: enough to recognise a key, useless to use it. */
  prefix: string;
  created_at: Date;
  created_by: { id: string; email: string } | null;
  last_used_at: Date | null;
  revoked_at: Date | null;
  expires_at: Date | null;
  status: ApiKeyStatus;
  /** Requests per minute; null = no limit. */
  rpm_limit: number | null;
  /** Tokens (prompt + completion) per minute; null = no limit. */
  tpm_limit: number | null;
  /** USD per budget_period; both null = no budget. */
  budget_usd: number | null;
  budget_period: BudgetPeriod | null;
  /** Model patterns the key may use; empty = any. */
  allowed_models: string[];
  tags: string[];
  /** Spend over the current budget period (the current UTC month when there is no budget), from usage_key_daily. */
  spend_usd: number;
  /** The period spend_usd covers. */
  spend_period: BudgetPeriod;
  /** When the budget starts over; null without a budget or for a total one. */
  budget_resets_at: Date | null;
}

/** What the gateway learns from a valid key: all of it, as this answers for a key in the database. */
type AuthenticatedKey = Required<GatewayKey>;

/** The limit columns of api_keys and workspaces, as the governance code reads them. */
export interface LimitColumns {
  rpm_limit: number | null;
  tpm_limit: number | null;
  budget_usd: string | number | null;
  budget_period: string | null;
}

export function limitsFrom(row: LimitColumns): ScopeLimits {
  const usd = row.budget_usd === null ? NaN : Number(row.budget_usd);
  const period = row.budget_period;
  return {
    rpm: row.rpm_limit ?? null,
    tpm: row.tpm_limit ?? null,
    budget: usd > 0 && (period === "day" || period === "month" || period === "total") ? { usd, period } : null,
  };
}

/** A row as stored; the view shows created_by as a user and adds status and the budget's period. */
interface ApiKeyRow extends Omit<ApiKeyView, "created_by" | "status" | "spend_period" | "budget_resets_at"> {
  key_hash: string;
  created_by: string | null;
  created_by_email: string | null;
}

const generateApiKey = (): string => `${API_KEY_PREFIX}${randomBase62(32)}`;
export const isApiKeyFormat = (token: string): boolean => API_KEY_FORMAT.test(token);
/** Hex SHA-256 of the whole key: what is stored, looked up, and sent in `api_key` change events. */
export const hashApiKey = (token: string): string => sha256Hex(token);

function apiKeyStatus(k: { revoked_at: Date | null; expires_at: Date | null }, now: Date = new Date()): ApiKeyStatus {
  if (k.revoked_at) return "revoked";
  if (k.expires_at && k.expires_at.getTime() <= now.getTime()) return "expired";
  return "active";
}

function toView(row: ApiKeyRow, now: Date): ApiKeyView {
  const { key_hash: _, created_by, created_by_email, ...columns } = row;
  const period = spendPeriod(row.budget_period, now);
  return {
    ...columns,
    created_by: created_by && created_by_email ? { id: created_by, email: created_by_email } : null,
    status: apiKeyStatus(row, now),
    spend_period: period.period,
    budget_resets_at: row.budget_usd !== null ? period.resets_at : null,
  };
}

/**
 * The columns of a key with its spend over its own budget period (one lateral sum per key over
 * usage_key_daily's primary key). The day bounds come from `now` so a test can pin them.
 */
function selectKeys(sql: Sql | TransactionSql, now: Date) {
  const day = spendPeriod("day", now).since;
  const month = spendPeriod("month", now).since;
  return sql`
    select k.id, k.name, k.prefix, k.key_hash, k.created_at, k.created_by, u.email as created_by_email,
           k.last_used_at, k.revoked_at, k.expires_at, k.rpm_limit, k.tpm_limit, k.budget_usd::float8 as budget_usd,
           k.budget_period, k.allowed_models, k.tags, s.spend_usd
    from api_keys k
    left join users u on u.id = k.created_by
    left join lateral (
      select coalesce(sum(d.cost_usd), 0)::float8 as spend_usd
      from usage_key_daily d
      where d.workspace_id = k.workspace_id and d.api_key_id = k.id
        and (k.budget_period = 'total'
             or d.day >= (case when k.budget_period = 'day' then ${day}::date else ${month}::date end))
    ) s on true`;
}

export async function listApiKeys(sql: Sql, workspaceId: string, now: Date = new Date()): Promise<ApiKeyView[]> {
  const rows = await sql<ApiKeyRow[]>`
    ${selectKeys(sql, now)}
    where k.workspace_id = ${workspaceId}
    order by k.created_at desc, k.id`;
  return rows.map((r) => toView(r, now));
}

/** The key's view and the hash the gateway's cache knows it by. */
async function findApiKey(sql: Sql | TransactionSql, workspaceId: string, keyId: string, now: Date = new Date()) {
  const [row] = await sql<ApiKeyRow[]>`
    ${selectKeys(sql, now)}
    where k.workspace_id = ${workspaceId} and k.id = ${keyId}`;
  return row ? { view: toView(row, now), keyHash: row.key_hash } : null;
}

export async function getApiKey(sql: Sql, workspaceId: string, keyId: string, now: Date = new Date()): Promise<ApiKeyView | null> {
  return (await findApiKey(sql, workspaceId, keyId, now))?.view ?? null;
}

/** Mints a key. The plaintext is in the result once and nowhere else, ever. */
export async function createApiKey(actor: Actor, workspaceId: string, input: CreateApiKeyInput) {
  const { sql } = actor;
  const limits = checkedLimits(NO_LIMITS, input);
  const id = createId();
  const key = generateApiKey();
  const keyHash = hashApiKey(key);
  await sql`
    insert into api_keys (id, workspace_id, name, prefix, key_hash, created_by, expires_at,
                          rpm_limit, tpm_limit, budget_usd, budget_period, allowed_models, tags)
    values (${id}, ${workspaceId}, ${input.name}, ${key.slice(0, API_KEY_PREFIX.length + DISPLAY_CHARS)}, ${keyHash},
            ${actor.userId}, ${input.expires_at ?? null}, ${limits.rpm_limit}, ${limits.tpm_limit}, ${limits.budget_usd},
            ${limits.budget_period}, ${sql.array(input.allowed_models ?? [])}::text[], ${sql.array(input.tags ?? [])}::text[])`;
  const view = (await getApiKey(sql, workspaceId, id))!;
  changed(actor, workspaceId, keyHash);
  audit(actor, "api key created", { workspace_id: workspaceId, api_key_id: id, prefix: view.prefix });
  return { view, key };
}

/** Every change of a key tells the gateway's cache (here and, over NOTIFY, on other instances) to forget it at once. */
const changed = (actor: Actor, workspaceId: string, keyHash: string) =>
  actor.events.emit({ type: "api_key", workspace_id: workspaceId, key_hash: keyHash });

/** A changed key: the gateway forgets it, the audit line is written, and its view goes back. */
function announce(actor: Actor, workspaceId: string, found: { view: ApiKeyView; keyHash: string }, what: string, detail = {}): ApiKeyView {
  changed(actor, workspaceId, found.keyHash);
  audit(actor, what, { workspace_id: workspaceId, api_key_id: found.view.id, ...detail });
  return found.view;
}

/** Changes a key's name, limits, budget, allow-list or tags (absent: unchanged; null: cleared). Null when not found. */
export async function updateApiKey(actor: Actor, workspaceId: string, keyId: string, patch: UpdateApiKeyInput): Promise<ApiKeyView | null> {
  const updated = await actor.sql.begin(async (tx) => {
    // Locked so two edits at once cannot mix their halves of a budget.
    const [locked] = await tx`select 1 from api_keys where workspace_id = ${workspaceId} and id = ${keyId} for update`;
    if (!locked) return null;
    const current = (await findApiKey(tx, workspaceId, keyId))!.view;
    const limits = checkedLimits(current, patch);
    const allowed = patch.allowed_models !== undefined ? (patch.allowed_models ?? []) : current.allowed_models;
    const tags = patch.tags !== undefined ? (patch.tags ?? []) : current.tags;
    await tx`
      update api_keys set
        name = ${patch.name ?? current.name},
        rpm_limit = ${limits.rpm_limit}, tpm_limit = ${limits.tpm_limit},
        budget_usd = ${limits.budget_usd}, budget_period = ${limits.budget_period},
        allowed_models = ${tx.array(allowed)}::text[], tags = ${tx.array(tags)}::text[]
      where workspace_id = ${workspaceId} and id = ${keyId}`;
    return (await findApiKey(tx, workspaceId, keyId))!;
  });
  // The gateway caches a key with its limits: the same event as a revocation makes it reload them.
  return updated && announce(actor, workspaceId, updated, "api key updated", { fields: Object.keys(patch) });
}

/** Revokes (idempotently: a revoked key keeps its first revoked_at). Null when not found. */
export async function revokeApiKey(actor: Actor, workspaceId: string, keyId: string): Promise<ApiKeyView | null> {
  await actor.sql`update api_keys set revoked_at = coalesce(revoked_at, now()) where workspace_id = ${workspaceId} and id = ${keyId}`;
  const found = await findApiKey(actor.sql, workspaceId, keyId);
  return found && announce(actor, workspaceId, found, "api key revoked");
}

/** Deletes for good; false when not found. */
export async function deleteApiKey(actor: Actor, workspaceId: string, keyId: string): Promise<boolean> {
  const [row] = await actor.sql<{ key_hash: string }[]>`
    delete from api_keys where workspace_id = ${workspaceId} and id = ${keyId} returning key_hash`;
  if (!row) return false;
  changed(actor, workspaceId, row.key_hash);
  audit(actor, "api key deleted", { workspace_id: workspaceId, api_key_id: keyId });
  return true;
}

/**
 * The gateway's check of a `prp_…` token: a format check rejects garbage without a query, then the
 * key is found by its hash. Revoked, expired and deleted keys give null.
 */
export async function authenticateApiKey(sql: Sql, token: string, now: Date = new Date()): Promise<AuthenticatedKey | null> {
  if (!isApiKeyFormat(token)) return null;
  const hash = hashApiKey(token);
  const [row] = await sql<(Omit<AuthenticatedKey, "limits"> & LimitColumns & { key_hash: string; revoked_at: Date | null })[]>`
    select id, workspace_id, name, key_hash, revoked_at, expires_at,
           rpm_limit, tpm_limit, budget_usd::text as budget_usd, budget_period, allowed_models, tags
    from api_keys where key_hash = ${hash}`;
  // The index found it by equality; compare again in constant time so no timing depends on the hash bytes.
  if (!row || !safeEqual(row.key_hash, hash)) return null;
  if (apiKeyStatus(row, now) !== "active") return null;
  const { id, workspace_id, name, expires_at, allowed_models, tags } = row;
  return { id, workspace_id, name, expires_at, limits: limitsFrom(row), allowed_models, tags };
}

interface LastUsedTrackerOptions {
  /** At most one write per key per this many ms. Default 60 s. */
  intervalMs?: number;
  /** How often the timer looks for due writes. Default 10 s; 0 = no timer (call flush yourself). */
  tickMs?: number;
  now?: () => number;
  onError?: (err: unknown) => void;
}

/**
 * Records `last_used_at` without a database write per request: `touch()` notes the use in memory and
 * a timer (unref'd, so it never keeps the process alive) writes what is due in one statement, at
 * most once per key per interval. Call `stop()` at shutdown to write what is still pending.
 */
export class LastUsedTracker {
  private readonly pending = new Map<string, number>();
  private readonly written = new Map<string, number>();
  private readonly intervalMs: number;
  private readonly now: () => number;
  private readonly timer: ReturnType<typeof setInterval> | null = null;

  constructor(
    private readonly sql: Sql,
    opts: LastUsedTrackerOptions = {},
  ) {
    this.intervalMs = opts.intervalMs ?? 60_000;
    this.now = opts.now ?? Date.now;
    const tickMs = opts.tickMs ?? 10_000;
    if (tickMs > 0) {
      const onError = opts.onError ?? (() => {});
      this.timer = setInterval(() => void this.flush().catch(onError), tickMs);
      this.timer.unref();
    }
  }

  touch(keyId: string): void {
    this.pending.set(keyId, this.now());
  }

  /** Writes the pending uses that are due (all of them with `force`); returns how many keys were written. */
  async flush(opts: { force?: boolean } = {}): Promise<number> {
    const now = this.now();
    for (const [id, at] of this.written) if (now - at >= this.intervalMs) this.written.delete(id);
    const due: [string, number][] = [];
    for (const [id, at] of this.pending) if (opts.force || !this.written.has(id)) due.push([id, at]);
    if (due.length === 0) return 0;
    for (const [id] of due) {
      this.pending.delete(id);
      this.written.set(id, now);
    }
    try {
      await this.sql`
        update api_keys as k set last_used_at = greatest(k.last_used_at, v.at)
        from unnest(${this.sql.array(due.map(([id]) => id))}::text[],
                    ${this.sql.array(due.map(([, at]) => new Date(at).toISOString()))}::timestamptz[]) as v(id, at)
        where k.id = v.id`;
    } catch (err) {
      for (const [id, at] of due) {
        this.written.delete(id);
        if (!this.pending.has(id)) this.pending.set(id, at);
      }
      throw err;
    }
    return due.length;
  }

  /** Stops the timer and writes everything pending. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.flush({ force: true });
  }
}
