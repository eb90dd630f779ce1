import type { Sql } from "../db/client.ts";
import type { PublicUser } from "./service.ts";
import type { Logger } from "../logger.ts";

/**
 * The per-request session check, with a short in-process cache so a burst of requests (a
 * dashboard page and its htmx calls) costs one query. Ending a session here drops it from this
 * cache at once; another instance sharing the database notices within `ttlMs` (2 s).
 */
export class SessionStore {
  private entries = new Map<string, { user: PublicUser; at: number }>();
  // Bumped by every revocation: a lookup that started before one must not cache what it read.
  private generation = 0;

  constructor(
    private readonly sql: Sql,
    private readonly opts: { ttlMs?: number; maxEntries?: number; now?: () => number } = {},
  ) {}

  private now() {
    return this.opts.now?.() ?? Date.now();
  }

  /**
   * Records a new session (the token's jti). Each new session also clears up to 100 expired ones,
   * so the table stays about the size of the live sessions without a separate job; skip locked
   * keeps simultaneous sign-ins from waiting on each other's clean-up.
   */
  async open(userId: string, id: string, expiresAt: Date): Promise<void> {
    await this.sql`
      with gone as (
        delete from sessions where id in (select id from sessions where expires_at < now() limit 100 for update skip locked)
      )
      insert into sessions (id, user_id, expires_at) values (${id}, ${userId}, ${expiresAt})`;
  }

  /** The session's user, or null when the session was ended (or never existed). Expiry is the token's own `exp`, checked before this. */
  async user(id: string, userId: string): Promise<PublicUser | null> {
    const hit = this.entries.get(id);
    if (hit && hit.user.id === userId && this.now() - hit.at < (this.opts.ttlMs ?? 2_000)) return hit.user;
    const generation = this.generation;
    const [user] = await this.sql<PublicUser[]>`
      select u.id, u.email, u.name, u.created_at
      from sessions s join users u on u.id = s.user_id
      where s.id = ${id} and s.user_id = ${userId} and s.revoked_at is null`;
    if (!user) {
      this.entries.delete(id);
      return null;
    }
    if (generation === this.generation) {
      if (this.entries.size >= (this.opts.maxEntries ?? 10_000)) this.entries.delete(this.entries.keys().next().value!);
      this.entries.set(id, { user, at: this.now() });
    }
    return user;
  }

  async end(id: string): Promise<boolean> {
    this.forget((sessionId) => sessionId === id);
    const ended = await this.sql`update sessions set revoked_at = now() where id = ${id} and revoked_at is null returning id`;
    // Again after the write: a lookup that read the row before it committed must not cache it.
    this.forget((sessionId) => sessionId === id);
    return ended.length > 0;
  }

  /** Ends every live session of a user; returns how many. */
  async endAll(userId: string): Promise<number> {
    this.forget((_, user) => user.id === userId);
    const ended = await this.sql`
      update sessions set revoked_at = now() where user_id = ${userId} and revoked_at is null and expires_at > now() returning id`;
    this.forget((_, user) => user.id === userId);
    return ended.length;
  }

  private forget(match: (id: string, user: PublicUser) => boolean): void {
    this.generation++;
    for (const [id, e] of this.entries) if (match(id, e.user)) this.entries.delete(id);
  }
}

/** Every session of the user ends at once (sign out everywhere, a new password), with its audit line: JSON API and dashboard alike. */
export async function endAllSessions(
  deps: { sessions: SessionStore; logger: Logger },
  userId: string,
  why = "signed out everywhere",
): Promise<void> {
  await deps.sessions.endAll(userId);
  deps.logger.info(why, { user_id: userId });
}
