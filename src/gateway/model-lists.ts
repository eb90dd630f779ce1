/**
 * The model ids each provider entry reports, for GET /v1/models, cached per entry.
 *
 * A listing gets a short deadline: GET /v1/models is what a client calls first, and one slow
 * provider must not hold it. A good list is kept for `ttlMs`, then served stale while one refresh
 * runs in the background (stale-while-revalidate), and it stays served when refreshes fail. A
 * failure is remembered only for `failureTtlMs`, so a provider that recovers is asked again soon.
 * Concurrent callers share one listing per entry.
 */

export interface ModelListTimes {
  /** How long one listing may take, headers and body. */
  deadlineMs: number;
  /** How long a good list is served without asking again. */
  ttlMs: number;
  /** How long a failed listing stops new ones. */
  failureTtlMs: number;
  now?: () => number;
}

const MODEL_LIST_TIMES: ModelListTimes = { deadlineMs: 1_500, ttlMs: 10 * 60_000, failureTtlMs: 30_000 };

/** Lists one entry's models; rejects on any failure (network, non-2xx, unparsable). */
type ModelLister = (signal: AbortSignal) => Promise<string[]>;

interface Entry {
  good: string[] | null;
  goodAt: number;
  failedAt: number | null;
  refresh: Promise<string[] | null> | null;
}

export class ModelLists {
  private readonly entries = new Map<string, Entry>();
  private readonly times: ModelListTimes;
  private readonly now: () => number;

  constructor(times: Partial<ModelListTimes> = {}) {
    this.times = { ...MODEL_LIST_TIMES, ...times };
    this.now = this.times.now ?? Date.now;
  }

  /** The entry's list: fresh, stale, or [] when none was ever listed and this one fails. */
  get(key: string, list: ModelLister): Promise<string[]> {
    let e = this.entries.get(key);
    if (!e) {
      e = { good: null, goodAt: 0, failedAt: null, refresh: null };
      this.entries.set(key, e);
    }
    const now = this.now();
    if (e.good && now - e.goodAt < this.times.ttlMs) return Promise.resolve(e.good);
    if (e.failedAt !== null && now - e.failedAt < this.times.failureTtlMs) return Promise.resolve(e.good ?? []);
    const refresh = e.refresh ?? this.start(e, list);
    if (e.good) return Promise.resolve(e.good);
    return refresh.then((ids) => ids ?? []);
  }

  /** Forget everything (an entry's settings changed). A listing under way still settles, unseen. */
  clear(): void {
    this.entries.clear();
  }

  private start(e: Entry, list: ModelLister): Promise<string[] | null> {
    const run = (async () => {
      try {
        const ids = await list(AbortSignal.timeout(this.times.deadlineMs));
        e.good = ids;
        e.goodAt = this.now();
        e.failedAt = null;
        return ids;
      } catch {
        e.failedAt = this.now();
        return null;
      } finally {
        e.refresh = null;
      }
    })();
    e.refresh = run;
    return run;
  }
}
