/**
 * Counters and gauges that patterns update on every call are kept as plain
 * numbers by the recorder and handed to prom-client when the metric is
 * collected (a scrape, `getMetricsAsJSON()`, `metric.get()`), through
 * prom-client's `collect` hook. A call then costs a field update instead of
 * prom-client's label hashing.
 */

/** The flush functions of every recorder writing to a metric, by metric. */
const flushes = new WeakMap<object, (() => void)[]>();

/** The `collect` of the metrics the recorder creates: runs every flush attached to the metric. */
export function collectAttached(this: object): void {
  const list = flushes.get(this);
  if (list !== undefined) for (const flush of list) flush();
}

/**
 * Makes `flush` run whenever `metric` is collected. A metric the recorder did
 * not create (registered by hand, or by another copy of this package) keeps
 * its own `collect`, which runs after the flushes.
 */
export function attachFlush(metric: object, flush: () => void): void {
  let list = flushes.get(metric);
  if (list === undefined) {
    list = [];
    flushes.set(metric, list);
    const target = metric as { collect?: ((this: object) => unknown) | undefined };
    const previous = target.collect;
    if (previous !== collectAttached) {
      target.collect = function collectAttachedThenOwn(this: object): unknown {
        collectAttached.call(this);
        return previous?.call(this);
      };
    }
  }
  list.push(flush);
}

/** A counter series: increments since the start, and how many of them prom-client has been given. */
export interface CounterCell {
  readonly child: { inc(value?: number): void };
  value: number;
  flushed: number;
}

/** Creates the cell of a counter series, at 0 in prom-client at once (so `rate()` sees its first increment). */
export function counterCell(child: CounterCell['child']): CounterCell {
  child.inc(0);
  return { child, value: 0, flushed: 0 };
}

/** Hands the increments of `cells` not yet given to prom-client. */
export function flushCounters(cells: readonly CounterCell[]): void {
  for (const cell of cells) {
    const delta = cell.value - cell.flushed;
    if (delta > 0) {
      cell.flushed = cell.value;
      cell.child.inc(delta);
    }
  }
}

/** A gauge series: its latest value. */
export interface GaugeCell {
  readonly child: { set(value: number): void };
  value: number;
}

/** Sets every gauge series of `cells` to its latest value (a value that is not a number, never, so a scrape cannot fail). */
export function flushGauges(cells: readonly GaugeCell[]): void {
  for (const cell of cells) if (typeof cell.value === 'number') cell.child.set(cell.value);
}
