import type { Registry, RegistryContentType } from 'prom-client';

/** One series of a {@link DurationHistogram}: counts per bucket, the sum and the count, updated in place. */
export class HistogramSeries {
  /** The series' labels (without `le`). */
  readonly labels: Readonly<Record<string, string>>;
  readonly #bounds: readonly number[];
  /** Observations per bucket (not cumulative); the last one is `+Inf`. */
  readonly #counts: Float64Array;
  #sum = 0;
  #count = 0;

  /** A series at 0 with the histogram's bounds. */
  constructor(labels: Readonly<Record<string, string>>, bounds: readonly number[]) {
    this.labels = labels;
    this.#bounds = bounds;
    this.#counts = new Float64Array(bounds.length + 1);
  }

  /** Counts `value` in its bucket (the first whose bound is >= `value`). Allocates nothing. */
  observe(value: number): void {
    if (!Number.isFinite(value)) throw new TypeError(`Value is not a valid number: ${value}`);
    const bounds = this.#bounds;
    const counts = this.#counts;
    let i = 0;
    while (i < bounds.length && value > (bounds[i] as number)) i++;
    counts[i] = (counts[i] as number) + 1;
    this.#sum += value;
    this.#count++;
  }

  /** Back to 0, keeping the series (the recorder holds on to it). */
  reset(): void {
    this.#counts.fill(0);
    this.#sum = 0;
    this.#count = 0;
  }

  /** Appends the series' samples in prom-client's shape: cumulative buckets, then `_sum` and `_count`. */
  samples(name: string, into: HistogramSample[]): void {
    let cumulative = 0;
    this.#bounds.forEach((bound, i) => {
      cumulative += this.#counts[i] as number;
      into.push({ labels: { le: bound, ...this.labels }, value: cumulative, metricName: `${name}_bucket` });
    });
    cumulative += this.#counts[this.#bounds.length] as number;
    into.push({ labels: { le: '+Inf', ...this.labels }, value: cumulative, metricName: `${name}_bucket` });
    into.push({ labels: this.labels, value: this.#sum, metricName: `${name}_sum` });
    into.push({ labels: this.labels, value: this.#count, metricName: `${name}_count` });
  }
}

/** One sample as prom-client's registry reads it. */
export interface HistogramSample {
  readonly labels: Readonly<Record<string, string | number>>;
  readonly value: number;
  readonly metricName: string;
}

/**
 * The duration histogram the recorder registers: a prom-client-compatible
 * metric (the registry renders it in both formats, `getMetricsAsJSON()` and
 * `resetMetrics()` work) whose series are plain counters updated in place, so
 * an observation allocates nothing and hashes no labels. prom-client's own
 * `Histogram` costs microseconds and a kilobyte per observation on a busy
 * process; this one costs a bucket search.
 *
 * It answers what prom-client's registry and cluster aggregation use (`name`,
 * `help`, `type`, `labelNames`, `aggregator`, `get()`, `reset()`) and the usual
 * way to record (`labels(labels).observe(value)`, `observe(labels, value)`).
 */
export class DurationHistogram {
  /** The full metric name. */
  readonly name: string;
  /** The help text. */
  readonly help: string;
  /** Always `histogram`. */
  readonly type = 'histogram';
  /** The label names, without `le`. */
  readonly labelNames: readonly string[];
  /** The bucket bounds, as prom-client's `Histogram` exposes them. */
  readonly upperBounds: readonly number[];
  /** How prom-client's cluster aggregation merges it. */
  readonly aggregator = 'sum';
  readonly #series = new Map<string, HistogramSeries>();

  /** Creates the histogram and registers it in `registry`. */
  constructor(
    registry: Registry<RegistryContentType>,
    name: string,
    help: string,
    labelNames: readonly string[],
    bounds: readonly number[],
  ) {
    this.name = name;
    this.help = help;
    this.labelNames = labelNames;
    this.upperBounds = bounds;
    registry.registerMetric(this as never);
  }

  /** The series of a label set, created at 0 the first time. */
  labels(labels: Readonly<Record<string, string>>): HistogramSeries {
    const own: Record<string, string> = {};
    for (const label of this.labelNames) {
      const value = labels[label];
      if (typeof value !== 'string') throw new TypeError(`${this.name}: label ${label} must be a string`);
      own[label] = value;
    }
    const key = this.labelNames.map((label) => own[label]).join('\u0000');
    let series = this.#series.get(key);
    if (series === undefined) {
      series = new HistogramSeries(own, this.upperBounds);
      this.#series.set(key, series);
    }
    return series;
  }

  /** Counts `value` in the series of `labels`. */
  observe(labels: Readonly<Record<string, string>>, value: number): void {
    this.labels(labels).observe(value);
  }

  /** Every series back to 0. */
  reset(): void {
    for (const series of this.#series.values()) series.reset();
  }

  /** The metric in prom-client's shape, as its registry renders and aggregates it. */
  async get(): Promise<{
    name: string;
    help: string;
    type: 'histogram';
    values: HistogramSample[];
    aggregator: 'sum';
  }> {
    const values: HistogramSample[] = [];
    for (const series of this.#series.values()) series.samples(this.name, values);
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }
}
