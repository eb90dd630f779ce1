import { createId } from "@paralleldrive/cuid2";
import { isUniqueViolation, type Sql } from "../db/client.ts";
import { addressKey } from "../http/client-address.ts";

export interface PublicUser {
  id: string;
  email: string;
  name: string | null;
  created_at: Date;
}

export interface PasswordOptions {
  memoryCost?: number;
  timeCost?: number;
  /** Caps concurrent argon2 work (each hash holds memoryCost KiB, 64 MiB by default). */
  limiter?: WorkLimiter;
}

export class EmailTakenError extends Error {}

/** More password work is queued than the limiter takes: the caller answers 503, nothing was checked. */
export class BusyError extends Error {}

/**
 * A semaphore with a bounded queue: at most `max` tasks run, up to `maxQueue` wait their turn,
 * and the rest are refused at once (BusyError) rather than piling up memory and latency.
 */
export class WorkLimiter {
  private active = 0;
  private waiting: (() => void)[] = [];
  constructor(
    readonly max: number,
    readonly maxQueue: number,
  ) {}

  get running(): number {
    return this.active;
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.active < this.max) this.active++;
    else if (this.waiting.length >= this.maxQueue) throw new BusyError("too many sign-in requests at once; try again in a moment");
    // The finishing task hands its slot over directly, so `active` never overshoots `max`.
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    try {
      return await task();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    }
  }
}

const limited = <T>(limiter: WorkLimiter | undefined, task: () => Promise<T>): Promise<T> => (limiter ? limiter.run(task) : task());

function hashPassword(password: string, opts: PasswordOptions = {}): Promise<string> {
  const { limiter, ...cost } = opts;
  return limited(limiter, () => Bun.password.hash(password, { algorithm: "argon2id", ...cost }));
}

const verifyPassword = (password: string, hash: string, opts: PasswordOptions) =>
  limited(opts.limiter, () => Bun.password.verify(password, hash));

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
    if (isUniqueViolation(err)) throw new EmailTakenError("an account with this email already exists");
    throw err;
  }
}

// Verifying against a fixed hash when the email is unknown keeps both failure paths equally slow.
let dummyHash: Promise<string> | null = null;

export async function verifyLogin(sql: Sql, email: string, password: string, opts: PasswordOptions = {}): Promise<PublicUser | null> {
  const [row] = await sql<(PublicUser & { password_hash: string })[]>`
    select id, email, name, created_at, password_hash from users where lower(email) = lower(${email})`;
  if (!row) {
    dummyHash ??= hashPassword("not-a-real-password-0000", opts);
    // A failed first hash (BusyError) must not stay cached.
    const hash = await dummyHash.catch((err) => {
      dummyHash = null;
      throw err;
    });
    await verifyPassword(password, hash, opts);
    return null;
  }
  const ok = await verifyPassword(password, row.password_hash, opts);
  if (!ok) return null;
  const { password_hash: _, ...user } = row;
  return user;
}

/**
 * Changes a user's password when `current` is right; false when it is not. Ending the user's
 * sessions is the caller's job (it also holds the session cache).
 */
export async function changePassword(sql: Sql, userId: string, current: string, next: string, opts: PasswordOptions = {}) {
  const [row] = await sql<{ password_hash: string }[]>`select password_hash from users where id = ${userId}`;
  if (!row || !(await verifyPassword(current, row.password_hash, opts))) return false;
  const hash = await hashPassword(next, opts);
  await sql`update users set password_hash = ${hash} where id = ${userId}`;
  return true;
}

/** Sliding-window event counter per key; in memory, per process. */
class LoginThrottle {
  private events = new Map<string, number[]>();
  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Milliseconds until another event is allowed, or 0. */
  blockedFor(key: string): number {
    const list = this.prune(key);
    if (list.length < this.limit) return 0;
    return list[list.length - this.limit] + this.windowMs - this.now();
  }

  /** Events in the window, and the time of the latest. */
  recent(key: string): { count: number; last: number } {
    const list = this.prune(key);
    return { count: list.length, last: list.at(-1) ?? 0 };
  }

  /** Records an event at `at`, which `release` takes back. */
  add(key: string, at = this.now()): void {
    const list = this.prune(key);
    list.push(at);
    this.events.set(key, list);
    if (this.events.size > 100_000) this.sweep();
  }

  release(key: string, at: number): void {
    const list = this.events.get(key);
    const i = list?.lastIndexOf(at) ?? -1;
    if (i >= 0) list!.splice(i, 1);
  }

  clear(key: string): void {
    this.events.delete(key);
  }

  private prune(key: string): number[] {
    const cutoff = this.now() - this.windowMs;
    const list = (this.events.get(key) ?? []).filter((t) => t > cutoff);
    if (list.length === 0) this.events.delete(key);
    return list;
  }

  private sweep() {
    for (const key of this.events.keys()) this.prune(key);
  }
}

/** A sign-in attempt that has been counted as a failure up front; see LoginGuard. */
interface LoginTicket {
  readonly email: string;
  readonly address: string;
  readonly at: number;
}

const WINDOW_MS = 15 * 60_000;

/**
 * Sign-in and sign-up limits, one per app, shared by the JSON API and the dashboard's forms so
 * neither doubles the allowance. All counts are per process and over a sliding 15 minutes.
 *
 * - Per client address: 20 failed sign-ins (any accounts), 10 sign-ups.
 * - Per account and address: 5 failed sign-ins.
 * - Per account, from everywhere: from its 5th failure on, addresses that have failed on it must
 *   wait 1 s, 2 s, 4 s … (doubling with each further failure, at most 15 min) after its latest
 *   failure. An address with no failures on the account is not held back, so nobody can lock an
 *   owner out from elsewhere; each address an attacker brings buys about one guess per window.
 *
 * An attempt is counted as a failure before the password is checked (`reserve`) and taken back
 * when it succeeds, so parallel requests cannot all slip through while the first are hashing.
 * IPv6 addresses count per /64.
 */
export class LoginGuard {
  private readonly byAddress: LoginThrottle;
  private readonly byPair: LoginThrottle;
  private readonly byAccount: LoginThrottle;
  private readonly signups: LoginThrottle;

  private readonly now: () => number;

  constructor(opts: { now?: () => number; signupsPerAddress?: number } = {}) {
    const now = (this.now = opts.now ?? Date.now);
    this.byAddress = new LoginThrottle(20, WINDOW_MS, now);
    this.byPair = new LoginThrottle(5, WINDOW_MS, now);
    this.byAccount = new LoginThrottle(Number.POSITIVE_INFINITY, WINDOW_MS, now);
    this.signups = new LoginThrottle(opts.signupsPerAddress ?? 10, WINDOW_MS, now);
  }

  /** Milliseconds until this email may try again from this address, or 0. */
  waitFor(email: string, address: string): number {
    const { account, pair, addr } = keys(email, address);
    let wait = Math.max(this.byAddress.blockedFor(addr), this.byPair.blockedFor(pair));
    const failures = this.byAccount.recent(account);
    if (failures.count >= 5 && this.byPair.recent(pair).count > 0) {
      const backoff = Math.min(WINDOW_MS, 1000 * 2 ** (failures.count - 5));
      wait = Math.max(wait, failures.last + backoff - this.now());
    }
    return Math.max(0, wait);
  }

  /** Counts an attempt as failed before it is checked: a wait in ms (nothing counted), or its ticket. */
  reserve(email: string, address: string): { wait: number } | { ticket: LoginTicket } {
    const wait = this.waitFor(email, address);
    if (wait > 0) return { wait };
    const { account, pair, addr } = keys(email, address);
    const at = this.now();
    this.byAddress.add(addr, at);
    this.byPair.add(pair, at);
    this.byAccount.add(account, at);
    return { ticket: { email, address, at } };
  }

  /** The password was right: this attempt, and this address's earlier slips on the account, are forgiven. */
  succeeded(ticket: LoginTicket): void {
    const { account, pair, addr } = keys(ticket.email, ticket.address);
    this.byAddress.release(addr, ticket.at);
    this.byAccount.release(account, ticket.at);
    this.byPair.clear(pair);
  }

  /** The password was never checked (the server was busy): the attempt does not count. */
  released(ticket: LoginTicket): void {
    const { account, pair, addr } = keys(ticket.email, ticket.address);
    this.byAddress.release(addr, ticket.at);
    this.byPair.release(pair, ticket.at);
    this.byAccount.release(account, ticket.at);
  }

  /** Counts a sign-up from this address: a wait in ms (nothing counted) or 0 (counted). */
  reserveSignup(address: string): number {
    const key = addressKey(address);
    const wait = this.signups.blockedFor(key);
    if (wait > 0) return wait;
    this.signups.add(key);
    return 0;
  }
}

function keys(email: string, address: string) {
  const account = email.trim().toLowerCase();
  const addr = addressKey(address);
  return { account, addr, pair: `${account} ${addr}` };
}
