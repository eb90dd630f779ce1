/**
 * A small metrics registry rendered in Prometheus' text exposition format (0.0.4). Recording is
 * the hot path: a series is found through one Map lookup per label value (created on first use)
 * and updated in place, so a request allocates nothing once its series exist. Label values are
 * passed as fixed arguments, not arrays, for the same reason.
 */

export const CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** Upper bounds (seconds) for request latency and time to first token; +Inf is implied. */
const LATENCY_BUCKETS: readonly number[] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

/** A label value as the exposition format quotes it. */
export function escapeLabel(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
}

function labelText(names: readonly string[], values: readonly string[], extra?: string): string {
  const parts = names.map((n, i) => `${n}="${escapeLabel(values[i] ?? "")}"`);
  if (extra) parts.push(extra);
  return `{${parts.join(",")}}`;
}

/** Numbers as Prometheus writes them (no exponent surprises for whole counts). */
const num = (x: number) => (x === Infinity ? "+Inf" : x === -Infinity ? "-Inf" : String(x));

interface Metric {
  render(out: string[]): void;
}

type Tree<T> = Map<string, Tree<T> | T>;

function branch<T>(node: Tree<T>, key: string): Tree<T> {
  let next = node.get(key) as Tree<T> | undefined;
  if (!next) node.set(key, (next = new Map()));
  return next;
}

/** A metric with one series per combination of values of its one to four labels, kept in a tree of Maps. */
abstract class Family<T> implements Metric {
  private readonly root: Tree<T> = new Map();
  constructor(
    readonly name: string,
    readonly help: string,
    private readonly type: string,
    readonly labelNames: readonly string[],
  ) {
    if (labelNames.length < 1 || labelNames.length > 4) throw new Error("one to four labels");
  }

  protected abstract create(): T;
  protected abstract samples(labels: string[], series: T, out: string[]): void;

  protected series(a: string, b?: string, c?: string, d?: string): T {
    const n = this.labelNames.length;
    let node = this.root;
    if (n > 1) node = branch(node, a);
    if (n > 2) node = branch(node, b!);
    if (n > 3) node = branch(node, c!);
    const key = n === 1 ? a : n === 2 ? b! : n === 3 ? c! : d!;
    let s = node.get(key) as T | undefined;
    if (s === undefined) node.set(key, (s = this.create()));
    return s;
  }

  render(out: string[]): void {
    out.push(`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} ${this.type}`);
    // Series in the order they were first recorded.
    const walk = (node: Tree<T>, path: string[]) => {
      for (const [k, v] of node) {
        if (path.length + 1 === this.labelNames.length) this.samples([...path, k], v as T, out);
        else walk(v as Tree<T>, [...path, k]);
      }
    };
    walk(this.root, []);
  }
}

export class Counter extends Family<{ value: number }> {
  constructor(name: string, help: string, labelNames: readonly string[]) {
    super(name, help, "counter", labelNames);
  }
  protected create() {
    return { value: 0 };
  }
  inc(a: string, b?: string, c?: string, d?: string): void {
    this.series(a, b, c, d).value++;
  }
  protected samples(labels: string[], s: { value: number }, out: string[]): void {
    out.push(`${this.name}${labelText(this.labelNames, labels)} ${num(s.value)}`);
  }
}

interface HistogramSeries {
  /** Observations per bucket (not cumulative; the last slot is +Inf). */
  counts: Float64Array;
  sum: number;
  count: number;
}

export class Histogram extends Family<HistogramSeries> {
  constructor(
    name: string,
    help: string,
    labelNames: readonly string[],
    readonly buckets: readonly number[] = LATENCY_BUCKETS,
  ) {
    super(name, help, "histogram", labelNames);
  }
  protected create(): HistogramSeries {
    return { counts: new Float64Array(this.buckets.length + 1), sum: 0, count: 0 };
  }
  observe(value: number, a: string, b?: string, c?: string, d?: string): void {
    if (!Number.isFinite(value)) return;
    const s = this.series(a, b, c, d);
    let i = 0;
    while (i < this.buckets.length && value > this.buckets[i]!) i++;
    s.counts[i]!++;
    s.sum += value;
    s.count++;
  }
  protected samples(labels: string[], s: HistogramSeries, out: string[]): void {
    const names = this.labelNames;
    let cumulative = 0;
    for (let i = 0; i <= this.buckets.length; i++) {
      cumulative += s.counts[i]!;
      const le = i < this.buckets.length ? num(this.buckets[i]!) : "+Inf";
      out.push(`${this.name}_bucket${labelText(names, labels, `le="${le}"`)} ${num(cumulative)}`);
    }
    out.push(`${this.name}_sum${labelText(names, labels)} ${num(s.sum)}`, `${this.name}_count${labelText(names, labels)} ${num(s.count)}`);
  }
}

/** A value read when scraped (queue depth, pool size): nothing on the hot path at all. */
export class Collected implements Metric {
  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: "gauge" | "counter",
    private readonly read: () => number | null,
  ) {}
  render(out: string[]): void {
    const v = this.read();
    // Unknown (no such source in this process): the metric is left out rather than reported as 0.
    if (v === null) return;
    out.push(`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} ${this.type}`, `${this.name} ${num(v)}`);
  }
}

export class Registry {
  private readonly metrics: Metric[] = [];
  register<M extends Metric>(m: M): M {
    this.metrics.push(m);
    return m;
  }
  render(): string {
    const out: string[] = [];
    for (const m of this.metrics) m.render(out);
    return out.join("\n") + "\n";
  }
}
