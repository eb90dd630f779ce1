import type { Sql } from "../db/client.ts";
import {
  checkBudget,
  checkRate,
  hasRateLimit,
  periodStart,
  windowStart,
  WINDOW_MS,
  type BudgetPeriod,
  type BudgetScope,
  type RateScope,
  type RateVerdict,
  type ScopeKind,
  type ScopeLimits,
  type WindowUse,
} from "./limits.ts";
import { deleteOldWindows, exchange, rateId, type RateDelta, type SpendQuery } from "./sync.ts";

export interface GovernorOptions {
  /** How often increments go to PostgreSQL and totals come back. Default 500 ms; 0 = no timer (tests call sync()). */
  syncIntervalMs?: number;
  now?: () => number;
  onError?: (err: unknown) => void;
}

/** A key or a workspace, with its limits as the cache holds them right now. */
export interface Scope {
  kind: ScopeKind;
  /** `key:<id>` or `workspace:<id>`. */
  id: string;
  workspace_id: string;
  key_id: string | null;
  limits: ScopeLimits;
}

interface RateEntry {
  scope: string;
  window: number;
  /** Totals of every instance at the last sync (this instance's synced increments included). */
  global: WindowUse;
  /** Admitted here and not yet sent. */
  pending: WindowUse;
  /** Sent, answer not yet back. */
  inflight: WindowUse;
}

interface SpendEntry {
  period: BudgetPeriod;
  query: SpendQuery;
  /** Spend read from the usage counters at the last sync. */
  base: number;
}

/** Spend settled here that the last read may not have included yet. */
interface LocalSpend {
  scopes: string[];
  cost: number;
  at: number;
  /** When the log writer committed its row; null = not yet. */
  writtenAt: number | null;
}

interface Reservation {
  scopes: string[];
  window: number;
  tokens: number;
  at: number;
}

type Admission =
  | { ok: true; rates: RateScope[]; resetMs: number }
  | { ok: false; rate: Extract<RateVerdict, { ok: false }>; rates: RateScope[]; resetMs: number }
  | { ok: false; budget: BudgetScope; rates: RateScope[]; resetMs: number };

/** Scopes not used for this long stop being synced (and are loaded again on their next request). */
const IDLE_MS = 10 * 60_000;

const noUse = (): WindowUse => ({ requests: 0, tokens: 0 });
const plus = (a: WindowUse, b: WindowUse): WindowUse => ({ requests: a.requests + b.requests, tokens: a.tokens + b.tokens });
const isNone = (u: WindowUse) => u.requests === 0 && u.tokens === 0;
const spendQuery = (s: Scope, now: number): SpendQuery => ({
  scope: s.id,
  workspace_id: s.workspace_id,
  key_id: s.key_id,
  since: periodStart(s.limits.budget!.period, now),
});

/**
 * Rate limits and budgets held across instances that share only PostgreSQL, with no database round
 * trip on the request path (except the first request of a scope this process has not seen, which
 * waits for one read of its totals so a restart does not hand out a fresh allowance).
 *
 * Each instance counts what it admits locally and, every sync interval I, sends its increments for
 * all scopes in ONE statement that also returns the totals of all instances (src/governance/sync.ts).
 * A request admitted elsewhere is therefore counted here at most 2·I later (the other instance's
 * next sync, then ours), so OVERSHOOT IS BOUNDED: a limit can be exceeded by at most what the other
 * instances admit within 2·I (plus one statement's round trip); a single instance is exact. The
 * same holds for budgets, whose spend is read from the usage counters: other instances' spend shows
 * up once their log writer has committed it (~200 ms) and our next sync has read it.
 */
export class Governor {
  private readonly rates = new Map<string, RateEntry>();
  private readonly spends = new Map<string, SpendEntry>();
  private readonly local = new Map<string, LocalSpend>();
  /** The same spend summed per scope, so an admission does not walk every pending row. */
  private readonly localByScope = new Map<string, number>();
  private readonly reservations = new Map<string, Reservation[]>();
  /** Scope → when it was last used; loaded scopes only. */
  private readonly seen = new Map<string, number>();
  /** Loaded scopes that have a rate limit: synced every interval. */
  private readonly rated = new Set<string>();
  private readonly loading = new Map<string, Promise<void>>();
  private readonly timer: ReturnType<typeof setInterval> | null = null;
  private syncing: Promise<void> | null = null;
  private lastCleanup = 0;
  readonly now: () => number;

  constructor(
    private readonly sql: Sql,
    private readonly opts: GovernorOptions = {},
  ) {
    this.now = opts.now ?? Date.now;
    const every = opts.syncIntervalMs ?? 500;
    if (every > 0) {
      this.timer = setInterval(() => void this.sync().catch((err) => this.opts.onError?.(err)), every);
      this.timer.unref();
    }
  }

  /** Checks every scope and, when all agree, counts the request (one request, its token estimate). */
  async admit(scopes: Scope[], estimatedTokens: number, reservationId: string): Promise<Admission> {
    const governed = scopes.filter((s) => hasRateLimit(s.limits) || s.limits.budget);
    const unknown = governed.filter((s) => this.needsLoad(s));
    if (unknown.length) await this.load(unknown);
    const now = this.now();
    const window = windowStart(now);
    const resetMs = window + WINDOW_MS - now;
    for (const s of governed) this.markSeen(s, now);

    const rated = governed.filter((s) => hasRateLimit(s.limits));
    const rateScopes = (): RateScope[] => rated.map((s) => ({ kind: s.kind, limits: s.limits, used: this.used(s.id, window) }));
    const rates = rateScopes();
    const budgets: BudgetScope[] = governed
      .filter((s) => s.limits.budget)
      .map((s) => ({ kind: s.kind, budget: s.limits.budget!, spent: this.spent(s, now) }));
    const broke = checkBudget(budgets);
    if (broke) return { ok: false, budget: broke, rates, resetMs };
    const verdict = checkRate(rates, estimatedTokens);
    if (!verdict.ok) return { ok: false, rate: verdict, rates, resetMs };

    for (const s of rated) {
      const e = this.entry(s.id, window);
      e.pending.requests += 1;
      e.pending.tokens += estimatedTokens;
    }
    if (rated.length) {
      const list = this.reservations.get(reservationId) ?? [];
      list.push({ scopes: rated.map((s) => s.id), window, tokens: estimatedTokens, at: now });
      this.reservations.set(reservationId, list);
    }
    return { ok: true, rates: rateScopes(), resetMs };
  }

  /**
   * A request ended: its real tokens replace the estimate in the minute it was admitted, and its
   * cost counts against budgets until the usage counters (read at the next sync) include its row.
   */
  settle(r: { id: string; reservationId: string; scopes: string[]; tokens: number; cost: number }): void {
    const now = this.now();
    const list = this.reservations.get(r.reservationId);
    const reservation = list?.shift();
    if (list && list.length === 0) this.reservations.delete(r.reservationId);
    if (reservation) {
      const delta = r.tokens - reservation.tokens;
      if (delta !== 0) for (const s of reservation.scopes) this.entry(s, reservation.window).pending.tokens += delta;
    } else if (r.tokens > 0) {
      // Logged by a path that admitted nothing: its tokens still count where a limit is kept.
      const window = windowStart(now);
      for (const s of r.scopes) if (this.rated.has(s)) this.entry(s, window).pending.tokens += r.tokens;
    }
    const budgeted = r.scopes.filter((s) => this.spends.has(s));
    if (r.cost > 0 && budgeted.length && !this.local.has(r.id)) {
      this.local.set(r.id, { scopes: budgeted, cost: r.cost, at: now, writtenAt: null });
      for (const s of budgeted) this.localByScope.set(s, (this.localByScope.get(s) ?? 0) + r.cost);
    }
  }

  /** The log writer committed these rows: the next read of the usage counters includes them. */
  stored(ids: Iterable<string>): void {
    const now = this.now();
    for (const id of ids) {
      const l = this.local.get(id);
      if (l && l.writtenAt === null) l.writtenAt = now;
    }
  }

  /** Sends pending increments and reads totals and spend back; one statement. */
  sync(): Promise<void> {
    this.syncing ??= this.syncOnce().finally(() => (this.syncing = null));
    return this.syncing;
  }

  /** Stops the timer and sends what is still pending, so other instances count it. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    // Shutdown has its own deadline: an unreachable database must not hold it up.
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<void>((resolve) => (timer = setTimeout(resolve, 2_000)));
    await Promise.race([this.sync(), deadline]).finally(() => clearTimeout(timer));
  }

  private used(scope: string, window: number): WindowUse {
    const e = this.rates.get(rateId(scope, window));
    return e ? plus(plus(e.global, e.inflight), e.pending) : noUse();
  }

  private spent(s: Scope, now: number): number {
    let entry = this.spends.get(s.id);
    // A new period began: nothing is spent in it yet as far as we know; the next sync reads the rest.
    if (!entry || entry.query.since !== periodStart(s.limits.budget!.period, now)) entry = this.setSpend(s, now, 0);
    // Just after a period ends this may still hold the old period's last rows (until the next sync): it errs towards refusing.
    return entry.base + (this.localByScope.get(s.id) ?? 0);
  }

  private markSeen(s: Scope, at: number): void {
    this.seen.set(s.id, at);
    if (hasRateLimit(s.limits)) this.rated.add(s.id);
  }

  /** Not seen by this process yet, or a limit it was not keeping (a rate limit or a budget period just set). */
  private needsLoad(s: Scope): boolean {
    if (!this.seen.has(s.id)) return true;
    if (hasRateLimit(s.limits) && !this.rated.has(s.id)) return true;
    return s.limits.budget !== null && this.spends.get(s.id)?.period !== s.limits.budget.period;
  }

  private setSpend(s: Scope, now: number, base: number): SpendEntry {
    const entry = { period: s.limits.budget!.period, query: spendQuery(s, now), base };
    this.spends.set(s.id, entry);
    return entry;
  }

  private entry(scope: string, window: number): RateEntry {
    const id = rateId(scope, window);
    let e = this.rates.get(id);
    if (!e) {
      e = { scope, window, global: noUse(), pending: noUse(), inflight: noUse() };
      this.rates.set(id, e);
    }
    return e;
  }

  /** First sight of a scope in this process: wait for its totals once. A failed read admits (logged) rather than refusing everyone. */
  private async load(scopes: Scope[]): Promise<void> {
    const now = this.now();
    const waits: Promise<void>[] = [];
    const fresh: Scope[] = [];
    for (const s of scopes) {
      const pending = this.loading.get(s.id);
      if (pending) waits.push(pending);
      else fresh.push(s);
    }
    if (fresh.length) {
      const window = windowStart(now);
      const work = (async () => {
        try {
          const res = await exchange(
            this.sql,
            fresh.filter((s) => hasRateLimit(s.limits)).map((s) => ({ scope: s.id, window, requests: 0, tokens: 0 })),
            fresh.filter((s) => s.limits.budget).map((s) => spendQuery(s, now)),
          );
          for (const s of fresh) {
            const r = res.rates.get(rateId(s.id, window));
            if (r) this.entry(s.id, window).global = { requests: r.requests, tokens: r.tokens };
            const spent = res.spend.get(s.id);
            if (spent !== undefined) this.setSpend(s, now, spent);
          }
        } catch (err) {
          this.opts.onError?.(err);
        } finally {
          // Loaded or not, the scope is known now: during an outage each request must not try the database again.
          for (const s of fresh) {
            this.markSeen(s, this.now());
            if (s.limits.budget && this.spends.get(s.id)?.period !== s.limits.budget.period) this.setSpend(s, now, 0);
            this.loading.delete(s.id);
          }
        }
      })();
      for (const s of fresh) this.loading.set(s.id, work);
      waits.push(work);
    }
    await Promise.all(waits);
  }

  private async syncOnce(): Promise<void> {
    const now = this.now();
    const window = windowStart(now);
    this.forgetIdle(now);
    // Every scope in use is read each time, even without local traffic, so what other instances admit shows up here.
    for (const scope of this.rated) this.entry(scope, window);
    const sent: RateEntry[] = [];
    const deltas: RateDelta[] = [];
    for (const [id, e] of this.rates) {
      if (e.window !== window && isNone(e.pending)) {
        if (isNone(e.inflight)) this.rates.delete(id);
        continue;
      }
      e.inflight = e.pending;
      e.pending = noUse();
      sent.push(e);
      deltas.push({ scope: e.scope, window: e.window, requests: e.inflight.requests, tokens: e.inflight.tokens });
    }
    const queries = [...this.spends.values()].map((s) => s.query);
    if (deltas.length === 0 && queries.length === 0) return;
    const startedAt = now;
    try {
      const res = await exchange(this.sql, deltas, queries);
      for (const e of sent) {
        const r = res.rates.get(rateId(e.scope, e.window));
        if (r) e.global = { requests: r.requests, tokens: r.tokens };
        e.inflight = noUse();
      }
      for (const q of queries) {
        const spent = res.spend.get(q.scope);
        const entry = this.spends.get(q.scope);
        if (spent !== undefined && entry && entry.query.since === q.since) entry.base = spent;
      }
      // Rows committed before the read began are in what it returned.
      for (const [id, l] of this.local) if (l.writtenAt !== null && l.writtenAt <= startedAt) this.dropLocal(id, l);
    } catch (err) {
      for (const e of sent) {
        e.pending = plus(e.pending, e.inflight);
        e.inflight = noUse();
      }
      throw err;
    }
    if (now - this.lastCleanup >= WINDOW_MS) {
      this.lastCleanup = now;
      await deleteOldWindows(this.sql, window - 5 * WINDOW_MS);
    }
  }

  private forgetIdle(now: number): void {
    for (const [scope, at] of this.seen) {
      if (now - at < IDLE_MS) continue;
      this.seen.delete(scope);
      this.rated.delete(scope);
      this.spends.delete(scope);
    }
    for (const [id, list] of this.reservations) {
      const kept = list.filter((r) => now - r.at < IDLE_MS);
      if (kept.length) this.reservations.set(id, kept);
      else this.reservations.delete(id);
    }
    // A row the log writer never stored (dropped, or spooled for long) stops counting after a while.
    for (const [id, l] of this.local) if (now - l.at > IDLE_MS) this.dropLocal(id, l);
  }

  private dropLocal(id: string, l: LocalSpend): void {
    this.local.delete(id);
    for (const s of l.scopes) {
      const left = (this.localByScope.get(s) ?? 0) - l.cost;
      // Float sums drift; a scope with nothing left pending is exactly zero.
      if (left <= 1e-12) this.localByScope.delete(s);
      else this.localByScope.set(s, left);
    }
  }
}
