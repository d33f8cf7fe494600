/**
 * Counters and gauges that patterns update on every call are kept as plain
 * numbers and handed to prom-client when the metric is collected (a scrape,
 * `getMetricsAsJSON()`, `metric.get()`), through prom-client's `collect`
 * hook. A call then costs a field update instead of prom-client's label
 * hashing.
 *
 * The numbers belong to the metric, not to a recorder: every recorder that
 * writes to a metric shares one cell per series. So recorders made as a
 * process goes (one per pattern, per tenant, per test) leave nothing behind
 * in the registry once they are dropped, a scrape walks each series once
 * however many recorders there were, and a gauge shows the latest value
 * written by any of them.
 */

/** The part of a prom-client `Counter` the cells use. */
export interface CounterMetric {
  labels(labels: Record<string, string>): { inc(value?: number): void };
  inc(...args: never[]): void;
  /** Set by prom-client when the counter was made with `enableExemplars: true`. */
  readonly enableExemplars?: boolean;
}

/** The part of a prom-client `Gauge` the cells use. */
export interface GaugeMetric {
  labels(labels: Record<string, string>): { set(value: number): void };
}

/** A counter series: increments since the start, and how many of them prom-client has been given. */
export interface CounterCell {
  readonly child: { inc(value?: number): void };
  value: number;
  flushed: number;
}

/** A gauge series: its latest value. */
export interface GaugeCell {
  readonly child: { set(value: number): void };
  value: number;
}

/** The cells of each metric, by series (the JSON of its label values). */
const counterTables = new WeakMap<object, Map<string, CounterCell>>();
const gaugeTables = new WeakMap<object, Map<string, GaugeCell>>();
/** The metrics whose `collect` already flushes their cells. */
const hooked = new WeakSet<object>();

/** The `collect` of the metrics the recorder creates: hands the metric its cells' values. */
export function collectAttached(this: object): void {
  const counters = counterTables.get(this);
  if (counters !== undefined) {
    for (const cell of counters.values()) {
      const delta = cell.value - cell.flushed;
      if (delta > 0) {
        cell.flushed = cell.value;
        cell.child.inc(delta);
      }
    }
  }
  const gauges = gaugeTables.get(this);
  if (gauges !== undefined) {
    // A value that is not a number is never handed over, so a scrape cannot fail on it.
    for (const cell of gauges.values()) if (typeof cell.value === 'number') cell.child.set(cell.value);
  }
}

/**
 * Makes collecting `metric` flush its cells. A metric the recorder did not
 * create (registered by hand, or by another copy of this package) keeps its
 * own `collect`, which runs after the flush.
 */
function hook(metric: object): void {
  if (hooked.has(metric)) return;
  hooked.add(metric);
  const target = metric as { collect?: ((this: object) => unknown) | undefined };
  const previous = target.collect;
  if (previous === collectAttached) return;
  target.collect = function collectAttachedThenOwn(this: object): unknown {
    collectAttached.call(this);
    return previous?.call(this);
  };
}

/** The key of a series in a metric's table: its label values, in the order given. */
function seriesKey(labels: Record<string, string>): string {
  return JSON.stringify(Object.values(labels));
}

/** The cells of `metric` in `tables`, created empty (and `metric` hooked) the first time. */
function tableOf<C>(tables: WeakMap<object, Map<string, C>>, metric: object): Map<string, C> {
  let table = tables.get(metric);
  if (table === undefined) {
    table = new Map();
    tables.set(metric, table);
    hook(metric);
  }
  return table;
}

/**
 * The cell of the counter series `labels` of `metric`, shared by every
 * recorder, created at 0 in prom-client the first time (so `rate()` sees its
 * first increment).
 */
export function counterCell(metric: CounterMetric, labels: Record<string, string>): CounterCell {
  const table = tableOf(counterTables, metric);
  const key = seriesKey(labels);
  let cell = table.get(key);
  if (cell === undefined) {
    // prom-client's labels(...).inc(n) on a counter with exemplars passes the labels as its options
    // object and loses them; its own inc({ labels, value }) keeps them.
    const child =
      metric.enableExemplars === true
        ? { inc: (value = 1): void => (metric.inc as (options: object) => void)({ labels, value }) }
        : metric.labels(labels);
    child.inc(0);
    cell = { child, value: 0, flushed: 0 };
    table.set(key, cell);
  }
  return cell;
}

/** The cell of the gauge series `labels` of `metric`, shared by every recorder; not in prom-client until set. */
export function gaugeCell(metric: GaugeMetric, labels: Record<string, string>): GaugeCell {
  const table = tableOf(gaugeTables, metric);
  const key = seriesKey(labels);
  let cell = table.get(key);
  if (cell === undefined) {
    cell = { child: metric.labels(labels), value: 0 };
    table.set(key, cell);
  }
  return cell;
}
