import { createId } from "@paralleldrive/cuid2";
import type { Sql } from "../db/client.ts";

export interface PublicUser {
  id: string;
  email: string;
  name: string | null;
  created_at: Date;
}

export interface PasswordOptions {
  memoryCost?: number;
  timeCost?: number;
}

export class EmailTakenError extends Error {}

const hashPassword = (password: string, opts: PasswordOptions = {}) =>
  Bun.password.hash(password, { algorithm: "argon2id", ...opts });

export async function createUser(
  sql: Sql,
  input: { email: string; password: string; name?: string | null },
  opts: PasswordOptions = {},
): Promise<PublicUser> {
  const hash = await hashPassword(input.password, opts);
  try {
    const [user] = await sql<PublicUser[]>`
      insert into users (id, email, password_hash, name)
      values (${createId()}, ${input.email}, ${hash}, ${input.name || null})
      returning id, email, name, created_at`;
    return user;
  } catch (err) {
    if ((err as { code?: string }).code === "23505") throw new EmailTakenError("an account with this email already exists");
    throw err;
  }
}

export async function findUserById(sql: Sql, id: string): Promise<PublicUser | null> {
  const [user] = await sql<PublicUser[]>`select id, email, name, created_at from users where id = ${id}`;
  return user ?? null;
}

// Verifying against a fixed hash when the email is unknown keeps both failure paths equally slow.
let dummyHash: Promise<string> | null = null;

export async function verifyLogin(
  sql: Sql,
  email: string,
  password: string,
  opts: PasswordOptions = {},
): Promise<PublicUser | null> {
  const [row] = await sql<(PublicUser & { password_hash: string })[]>`
    select id, email, name, created_at, password_hash from users where lower(email) = lower(${email})`;
  if (!row) {
    dummyHash ??= hashPassword("not-a-real-password-0000", opts);
    await Bun.password.verify(password, await dummyHash);
    return null;
  }
  const ok = await Bun.password.verify(password, row.password_hash);
  if (!ok) return null;
  const { password_hash: _, ...user } = row;
  return user;
}

/** Sliding-window failure counter per key (email, client address); in memory, per process. */
export class LoginThrottle {
  private failures = new Map<string, number[]>();
  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Milliseconds until another attempt is allowed, or 0. */
  blockedFor(key: string): number {
    const list = this.prune(key);
    if (list.length < this.limit) return 0;
    return list[0] + this.windowMs - this.now();
  }

  fail(key: string): void {
    const list = this.prune(key);
    list.push(this.now());
    this.failures.set(key, list);
    if (this.failures.size > 100_000) this.sweep();
  }

  clear(key: string): void {
    this.failures.delete(key);
  }

  private prune(key: string): number[] {
    const cutoff = this.now() - this.windowMs;
    const list = (this.failures.get(key) ?? []).filter((t) => t > cutoff);
    if (list.length === 0) this.failures.delete(key);
    return list;
  }

  private sweep() {
    for (const key of this.failures.keys()) this.prune(key);
  }
}

/**
 * The sign-in limits, one per app: five failures per email or twenty per client address in
 * 15 minutes. The JSON login and the dashboard's form share it, so neither doubles the allowance.
 */
export class LoginGuard {
  private readonly byEmail = new LoginThrottle(5, 15 * 60_000);
  private readonly byAddress = new LoginThrottle(20, 15 * 60_000);

  /** Milliseconds until this email may try again from this address, or 0. */
  waitFor(email: string, address: string): number {
    return Math.max(this.byEmail.blockedFor(`e:${email.toLowerCase()}`), this.byAddress.blockedFor(`a:${address}`));
  }

  failed(email: string, address: string): void {
    this.byEmail.fail(`e:${email.toLowerCase()}`);
    this.byAddress.fail(`a:${address}`);
  }

  succeeded(email: string): void {
    this.byEmail.clear(`e:${email.toLowerCase()}`);
  }
}
