import { createId } from "@paralleldrive/cuid2";
import type { Sql } from "../db/client.ts";
import type { ChangeBus, ChangeEvent } from "../events.ts";
import type { Logger } from "../logger.ts";
import type { ProviderConfig } from "../providers/model.ts";
import type { ScopeLimits } from "../governance/limits.ts";

export interface GatewayKey {
  id: string;
  workspace_id: string;
  name: string;
  expires_at: Date | null;
  /** Governance (src/governance); absent = no limits, any model, no tags. */
  limits?: ScopeLimits;
  allowed_models?: string[];
  tags?: string[];
}

export interface WorkspaceRuntime {
  providers: ProviderConfig[];
  logContent: boolean;
  /** The workspace's own rate limits and budget (all its keys together); absent = none. */
  limits?: ScopeLimits;
}

interface CacheLoaders {
  authenticate(token: string): Promise<GatewayKey | null>;
  workspace(workspaceId: string): Promise<WorkspaceRuntime>;
}

/** How long a key or workspace is served from memory should its change notification be missed; a key found unknown, less. */
const TTL_MS = 300_000;
const UNKNOWN_KEY_TTL_MS = 30_000;
/** Past this many cached keys the map starts over: a flood of made-up tokens must not grow it without bound. */
const MAX_KEYS = 50_000;

// Bun's native hasher: node:crypto builds a Hash object per call, and this runs per request.
const sha256 = (s: string) => Bun.SHA256.hash(s, "hex") as string;

/**
 * Keeps the hot path off the database: gateway key → workspace → decrypted provider config,
 * dropped the moment a change event arrives (locally or over LISTEN/NOTIFY). A short safety TTL
 * bounds staleness should a notification ever be missed.
 */
export class GatewayCache {
  private keys = new Map<string, { key: GatewayKey | null; at: number }>();
  private workspaces = new Map<string, { value: Promise<WorkspaceRuntime>; at: number }>();
  /**
   * Bumped by every key invalidation. A lookup that saw it change while it was reading the database
   * may have read the key before a revocation committed: its answer is checked again, never cached.
   */
  private keyGeneration = 0;
  private unsubscribe: () => void;

  constructor(
    private readonly loaders: CacheLoaders,
    bus: ChangeBus,
  ) {
    this.unsubscribe = bus.on((e) => this.invalidate(e));
  }

  async authenticate(token: string): Promise<GatewayKey | null> {
    const h = sha256(token);
    const hit = this.keys.get(h);
    const now = Date.now();
    if (hit && now - hit.at < (hit.key ? TTL_MS : UNKNOWN_KEY_TTL_MS)) {
      if (hit.key?.expires_at && hit.key.expires_at.getTime() <= now) return null;
      return hit.key;
    }
    for (let tries = 0; ; tries++) {
      const generation = this.keyGeneration;
      const key = await this.loaders.authenticate(token);
      if (generation === this.keyGeneration) {
        if (this.keys.size >= MAX_KEYS) this.keys.clear();
        this.keys.set(h, { key, at: now });
        return key;
      }
      // Invalidated mid-flight. After a second look the answer reflects the change, but under a storm
      // of invalidations it is served uncached rather than retried forever.
      if (tries >= 1) return key;
    }
  }

  workspace(id: string): Promise<WorkspaceRuntime> {
    const hit = this.workspaces.get(id);
    if (hit && Date.now() - hit.at < TTL_MS) return hit.value;
    const value = this.loaders.workspace(id);
    const entry = { value, at: Date.now() };
    this.workspaces.set(id, entry);
    // A failed load must not stay cached.
    value.catch(() => {
      if (this.workspaces.get(id) === entry) this.workspaces.delete(id);
    });
    return value;
  }

  invalidate(e: ChangeEvent): void {
    if (e.type === "api_key") {
      this.keyGeneration++;
      if (e.key_hash) this.keys.delete(e.key_hash);
      else for (const [h, v] of this.keys) if (!v.key || v.key.workspace_id === e.workspace_id) this.keys.delete(h);
    } else {
      this.workspaces.delete(e.workspace_id);
    }
  }

  clear(): void {
    this.keyGeneration++;
    this.keys.clear();
    this.workspaces.clear();
  }

  close(): void {
    this.unsubscribe();
  }
}

const CHANNEL = "perpetuo_changes";

/**
 * Carries change events between instances sharing one PostgreSQL server. On every (re)connect of
 * the listening connection the caches are cleared, since events may have been missed meanwhile.
 */
export async function bridgeChangesOverPostgres(sql: Sql, bus: ChangeBus, onReconnect: () => void, logger: Logger) {
  const instance = createId();
  bus.remote = (event) => {
    sql
      .notify(CHANNEL, JSON.stringify({ ...event, from: instance }))
      .catch((err) => logger.warn("could not publish a change to other instances", { error: err }));
  };
  const sub = await sql.listen(
    CHANNEL,
    (payload) => {
      try {
        const { from, ...event } = JSON.parse(payload) as ChangeEvent & { from?: string };
        if (from !== instance) bus.deliver(event as ChangeEvent);
      } catch {
        logger.warn("ignored a malformed change notification");
      }
    },
    onReconnect,
  );
  return () => {
    bus.remote = null;
    return sub.unlisten();
  };
}
