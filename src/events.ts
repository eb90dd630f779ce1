import type { Sql } from "./db/client.ts";
import type { LogFields, Logger } from "./logger.ts";

/**
 * Change notifications for in-memory caches. Routes that change keys, providers or workspace
 * settings publish here; the gateway cache listens. Across instances the same events travel over
 * PostgreSQL LISTEN/NOTIFY (see gateway/cache.ts), so a revoked key stops working everywhere at once.
 */
export type ChangeEvent =
  | { type: "api_key"; workspace_id: string; key_hash?: string }
  | { type: "provider"; workspace_id: string }
  | { type: "workspace"; workspace_id: string };

type ChangeListener = (event: ChangeEvent) => void;

export class ChangeBus {
  private listeners = new Set<ChangeListener>();
  /** Set by whoever bridges to other instances; called for local events only. */
  remote: ((event: ChangeEvent) => void) | null = null;

  on(listener: ChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** A change made by this process. */
  emit(event: ChangeEvent): void {
    this.deliver(event);
    this.remote?.(event);
  }

  /** A change made by another instance. */
  deliver(event: ChangeEvent): void {
    for (const l of this.listeners) l(event);
  }
}

/**
 * Who makes a change, and where its side effects go. The services that change keys, providers, workspaces, members
 * and invitations take one and emit the cache event and write the audit line themselves: the JSON API and the
 * dashboard call the same functions, so neither can leave a revoked key in the gateway's cache.
 */
export interface Actor {
  sql: Sql;
  events: ChangeBus;
  logger: Logger;
  userId: string;
}

export const actorFor = (deps: Omit<Actor, "userId">, userId: string): Actor => ({
  sql: deps.sql,
  events: deps.events,
  logger: deps.logger,
  userId,
});

/** The audit line of a change: what happened, to what, and by whom (always last, under user_id). */
export const audit = (actor: Actor, what: string, fields: LogFields): void => actor.logger.info(what, { ...fields, user_id: actor.userId });
