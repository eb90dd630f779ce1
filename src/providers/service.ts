import { createId } from "@paralleldrive/cuid2";
import { isUniqueViolation, type Sql } from "../db/client.ts";
import { ApiError, conflict, invalid } from "../http/errors.ts";
import { PROVIDER_CATALOG, type ProviderType } from "./catalog.ts";
import { KeyringError, type EncryptedValue, type Keyring } from "./keyring.ts";
import { privateBaseUrlProblem } from "./base-url.ts";
import { audit, type Actor } from "../events.ts";
import type { Config } from "../config.ts";
import {
  DEFAULT_TIMEOUT_MS,
  MAX_PROVIDERS_PER_WORKSPACE,
  type CreateProviderInput,
  type ProviderConfig,
  type ProviderEntry,
  type UpdateProviderInput,
} from "./model.ts";

/** What the API shows of a provider entry: everything but the key, of which only the last 4 characters. */
export interface ProviderView extends ProviderEntry {
  label: string;
  base_url_is_default: boolean;
  has_key: boolean;
  key_last4: string | null;
  /** `••••abcd`, `••••` for a key too short to show any of, null without a key. */
  key_hint: string | null;
  created_at: Date;
  updated_at: Date;
}

export interface ProviderRow extends Omit<ProviderEntry, "format" | "base_url"> {
  workspace_id: string;
  base_url: string | null;
  key_ciphertext: Buffer | null;
  key_nonce: Buffer | null;
  key_version: string | null;
  key_last4: string | null;
  created_at: Date;
  updated_at: Date;
}

type PublicRow = Omit<ProviderRow, "key_ciphertext" | "key_nonce" | "key_version"> & { has_key: boolean };

/** Ciphertexts are bound to their row: one copied into another row fails authentication. */
export const providerKeyAad = (providerId: string) => `provider_keys:${providerId}`;

// Keys shorter than this show no characters at all; 4 of 12 is already a lot.
const MIN_LENGTH_FOR_LAST4 = 12;

/** What the API and the gateway both see: the row with its type's wire format and effective base URL. */
function toEntry(row: PublicRow | ProviderRow): ProviderEntry {
  const info = PROVIDER_CATALOG[row.type];
  return {
    id: row.id,
    name: row.name,
    type: row.type,
    format: info.format,
    base_url: row.base_url ?? info.defaultBaseUrl ?? "",
    priority: row.priority,
    enabled: row.enabled,
    models: row.models,
    model_map: row.model_map,
    timeout_ms: row.timeout_ms,
    pricing: row.pricing,
  };
}

function toView(row: PublicRow): ProviderView {
  return {
    ...toEntry(row),
    label: PROVIDER_CATALOG[row.type].label,
    base_url_is_default: row.base_url === null,
    has_key: row.has_key,
    key_last4: row.key_last4,
    key_hint: row.has_key ? `••••${row.key_last4 ?? ""}` : null,
    created_at: row.created_at,
    updated_at: row.updated_at,
  };
}

const toConfig = (row: ProviderRow, keyring: Keyring): ProviderConfig => ({ ...toEntry(row), api_key: decryptKey(row, keyring) });

export function storedKey(row: Pick<ProviderRow, "key_ciphertext" | "key_nonce" | "key_version">): EncryptedValue | null {
  if (!row.key_ciphertext || !row.key_nonce || !row.key_version) return null;
  return { ciphertext: row.key_ciphertext, nonce: row.key_nonce, version: row.key_version };
}

function decryptKey(row: ProviderRow, keyring: Keyring): string | null {
  const value = storedKey(row);
  if (!value) return null;
  try {
    return keyring.decrypt(value, providerKeyAad(row.id));
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new KeyringError(`the key of provider '${row.name}' (${row.id}) cannot be decrypted: ${why}`);
  }
}

const NO_KEY = { ciphertext: null, nonce: null, version: null, last4: null };

function sealKey(keyring: Keyring, providerId: string, apiKey: string) {
  const sealed = keyring.encrypt(apiKey, providerKeyAad(providerId));
  return { ...sealed, last4: apiKey.length >= MIN_LENGTH_FOR_LAST4 ? apiKey.slice(-4) : null };
}

/** Type-dependent rules valibot cannot see: they depend on the type (and, for updates, the stored row). */
function checkTypeRules(type: ProviderType, baseUrl: string | null, hasKey: boolean) {
  const info = PROVIDER_CATALOG[type];
  if (!info.defaultBaseUrl && !baseUrl) throw invalid(`base_url is required for type ${type}`, "base_url");
  if (info.keyRequired && !hasKey) throw invalid(`api_key is required for type ${type}`, "api_key");
}

/** What the operator allows for base URLs. */
type BaseUrlPolicy = Pick<Config, "allowPrivateBaseUrls">;

/** Loopback and private targets need the operator's consent; the type's default URL counts too (Ollama's is localhost). */
function checkBaseUrlPolicy(type: ProviderType, baseUrl: string | null, policy: BaseUrlPolicy) {
  if (policy.allowPrivateBaseUrls) return;
  const effective = baseUrl ?? PROVIDER_CATALOG[type].defaultBaseUrl;
  const problem = effective ? privateBaseUrlProblem(effective) : null;
  if (!problem) return;
  const which = baseUrl ? "base_url" : `base_url (the ${type} default, ${effective})`;
  throw invalid(`${which} ${problem}`, "base_url");
}

const originOf = (type: ProviderType, baseUrl: string | null) => {
  const url = baseUrl ?? PROVIDER_CATALOG[type].defaultBaseUrl;
  return url ? new URL(url).origin : null;
};

/** A write that would repeat a provider's name in the workspace answers 409 naming it. */
const uniqueName = <T>(name: string, write: Promise<T>): Promise<T> =>
  write.catch((err) => {
    throw isUniqueViolation(err) ? conflict(`a provider named '${name}' already exists in this workspace`, "name") : err;
  });

/** Every column but the sealed key, of which only whether there is one. */
const selectPublic = (sql: Sql) => sql`
  select id, workspace_id, name, type, base_url, key_ciphertext is not null as has_key, key_last4, priority, enabled,
         models, model_map, timeout_ms, pricing, created_at, updated_at
  from provider_keys`;

export async function listProviders(sql: Sql, workspaceId: string): Promise<ProviderView[]> {
  const rows = await sql<PublicRow[]>`${selectPublic(sql)} where workspace_id = ${workspaceId} order by priority, created_at, id`;
  return rows.map(toView);
}

export async function getProvider(sql: Sql, workspaceId: string, providerId: string): Promise<ProviderView | null> {
  const [row] = await sql<PublicRow[]>`${selectPublic(sql)} where workspace_id = ${workspaceId} and id = ${providerId}`;
  return row ? toView(row) : null;
}

/** Every change of a workspace's providers makes the gateway's cache reload them (here and, over NOTIFY, elsewhere). */
const changed = (actor: Actor, workspaceId: string) => actor.events.emit({ type: "provider", workspace_id: workspaceId });

export async function createProvider(
  actor: Actor,
  keyring: Keyring,
  workspaceId: string,
  input: CreateProviderInput,
  policy: BaseUrlPolicy,
): Promise<ProviderView> {
  const { sql } = actor;
  const baseUrl = input.base_url ?? null;
  const apiKey = input.api_key ?? null;
  checkTypeRules(input.type, baseUrl, apiKey !== null);
  checkBaseUrlPolicy(input.type, baseUrl, policy);
  const id = createId();
  const key = apiKey === null ? NO_KEY : sealKey(keyring, id, apiKey);
  await uniqueName(
    input.name,
    sql.begin(async (tx) => {
      // One creation at a time per workspace, so the count limit and "after the last" priority hold.
      await tx`select id from workspaces where id = ${workspaceId} for update`;
      const [{ n, next }] = await tx<{ n: number; next: number }[]>`
        select count(*)::int as n, (coalesce(max(priority), 0) + 10)::int as next
        from provider_keys where workspace_id = ${workspaceId}`;
      if (n >= MAX_PROVIDERS_PER_WORKSPACE) {
        throw new ApiError(409, `a workspace can have at most ${MAX_PROVIDERS_PER_WORKSPACE} providers`, { code: "limit_reached" });
      }
      await tx`
        insert into provider_keys (id, workspace_id, name, type, base_url, key_ciphertext, key_nonce, key_version, key_last4,
                                   priority, enabled, models, model_map, timeout_ms, pricing)
        values (${id}, ${workspaceId}, ${input.name}, ${input.type}, ${baseUrl},
                ${key.ciphertext}, ${key.nonce}, ${key.version}, ${key.last4},
                ${input.priority ?? Math.min(next, 1_000_000)}, ${input.enabled ?? true}, ${sql.array(input.models ?? [])}::text[],
                ${sql.json(input.model_map ?? {})}, ${input.timeout_ms ?? DEFAULT_TIMEOUT_MS}, ${sql.json(input.pricing ?? {})})`;
    }),
  );
  changed(actor, workspaceId);
  audit(actor, "provider created", { workspace_id: workspaceId, provider_id: id, type: input.type });
  return (await getProvider(sql, workspaceId, id))!;
}

/**
 * Applies a partial update; an absent api_key keeps the stored one, null removes it. Null when not found.
 * A stored key stays only while it keeps going where it went: a new host (origin) or type needs the key
 * again, or an admin could point the entry at their own server and receive it.
 */
export async function updateProvider(
  actor: Actor,
  keyring: Keyring,
  workspaceId: string,
  providerId: string,
  patch: UpdateProviderInput,
  policy: BaseUrlPolicy,
): Promise<ProviderView | null> {
  const { sql } = actor;
  const found = await uniqueName(
    patch.name ?? "",
    sql.begin(async (tx) => {
      const [cur] = await tx<ProviderRow[]>`
        select * from provider_keys where workspace_id = ${workspaceId} and id = ${providerId} for update`;
      if (!cur) return false;
      const type = patch.type ?? cur.type;
      const baseUrl = patch.base_url !== undefined ? patch.base_url : cur.base_url;
      const kept = { ciphertext: cur.key_ciphertext, nonce: cur.key_nonce, version: cur.key_version, last4: cur.key_last4 };
      const key = patch.api_key === undefined ? kept : patch.api_key === null ? NO_KEY : sealKey(keyring, cur.id, patch.api_key);
      checkTypeRules(type, baseUrl, key.ciphertext !== null);
      const moved = type !== cur.type || originOf(type, baseUrl) !== originOf(cur.type, cur.base_url);
      if (moved) checkBaseUrlPolicy(type, baseUrl, policy);
      if (moved && patch.api_key === undefined && cur.key_ciphertext !== null) {
        throw invalid("api_key is required when base_url's host or type changes: send the key again, or null to remove it", "api_key");
      }
      await tx`
        update provider_keys set
          name = ${patch.name ?? cur.name},
          type = ${type},
          base_url = ${baseUrl},
          key_ciphertext = ${key.ciphertext}, key_nonce = ${key.nonce}, key_version = ${key.version}, key_last4 = ${key.last4},
          priority = ${patch.priority ?? cur.priority},
          enabled = ${patch.enabled ?? cur.enabled},
          models = ${sql.array(patch.models ?? cur.models)}::text[],
          model_map = ${sql.json(patch.model_map ?? cur.model_map)},
          timeout_ms = ${patch.timeout_ms ?? cur.timeout_ms},
          pricing = ${sql.json(patch.pricing ?? cur.pricing)},
          updated_at = now()
        where id = ${cur.id}`;
      return true;
    }),
  );
  if (!found) return null;
  changed(actor, workspaceId);
  audit(actor, "provider updated", { workspace_id: workspaceId, provider_id: providerId, fields: Object.keys(patch).join(",") });
  return getProvider(sql, workspaceId, providerId);
}

export async function deleteProvider(actor: Actor, workspaceId: string, providerId: string): Promise<boolean> {
  const rows = await actor.sql`delete from provider_keys where workspace_id = ${workspaceId} and id = ${providerId} returning id`;
  if (rows.length === 0) return false;
  changed(actor, workspaceId);
  audit(actor, "provider deleted", { workspace_id: workspaceId, provider_id: providerId });
  return true;
}

/** Priorities 10, 20, 30… in the given order; `ids` must name every provider of the workspace once. */
export async function reorderProviders(actor: Actor, workspaceId: string, ids: string[]): Promise<ProviderView[]> {
  const { sql } = actor;
  await sql.begin(async (tx) => {
    await tx`select id from workspaces where id = ${workspaceId} for update`;
    const rows = await tx<{ id: string }[]>`select id from provider_keys where workspace_id = ${workspaceId} for update`;
    const known = new Set(rows.map((r) => r.id));
    const seen = new Set<string>();
    ids.forEach((id, i) => {
      if (!known.has(id)) throw invalid(`ids[${i}] is not a provider of this workspace`, `ids[${i}]`);
      if (seen.has(id)) throw invalid(`ids[${i}] is listed twice`, `ids[${i}]`);
      seen.add(id);
    });
    const missing = [...known].filter((id) => !seen.has(id));
    if (missing.length) throw invalid(`ids must list every provider of the workspace; missing: ${missing.join(", ")}`, "ids");
    if (ids.length === 0) return;
    const priorities = ids.map((_, i) => (i + 1) * 10);
    await tx`
      update provider_keys as p set priority = v.priority, updated_at = now()
      from unnest(${sql.array(ids)}::text[], ${sql.array(priorities)}::int[]) as v(id, priority)
      where p.id = v.id and p.workspace_id = ${workspaceId}`;
  });
  changed(actor, workspaceId);
  audit(actor, "providers reordered", { workspace_id: workspaceId });
  return listProviders(sql, workspaceId);
}

/**
 * The workspace's providers for the gateway, by (priority, created_at), keys decrypted; disabled
 * ones included (see `enabled`). Throws KeyringError when a key cannot be decrypted with any known secret.
 */
export async function loadProviderConfigs(sql: Sql, workspaceId: string, keyring: Keyring): Promise<ProviderConfig[]> {
  const rows = await sql<ProviderRow[]>`
    select * from provider_keys where workspace_id = ${workspaceId} order by priority, created_at, id`;
  return rows.map((row) => toConfig(row, keyring));
}

export async function loadProviderConfig(
  sql: Sql,
  workspaceId: string,
  providerId: string,
  keyring: Keyring,
): Promise<ProviderConfig | null> {
  const [row] = await sql<ProviderRow[]>`select * from provider_keys where workspace_id = ${workspaceId} and id = ${providerId}`;
  return row ? toConfig(row, keyring) : null;
}
