import type { CallOutcome, CircuitStateName, MetricsRecorder, PatternName, Subscription } from '@resilience/core';
import { configObject, describeValue, stringOption } from '@resilience/core/validate';
import { register } from 'prom-client';
import {
  type CounterCell,
  type CounterMetric,
  counterCell,
  type GaugeCell,
  type GaugeMetric,
  gaugeCell,
} from './collect.js';
import { type DurationSink, type RecorderMetrics, recorderMetrics } from './definitions.js';
import type { PrometheusRecorderOptions } from './types.js';

const OWNER = 'PrometheusRecorder';
/** The key under which the core's `combineRecorders` finds which series a recorder writes. */
const RECORDER_SINK = Symbol.for('@resilience/core.sink');

const KNOWN_OPTIONS: readonly string[] = ['registry', 'prefix', 'buckets', 'policies'];
/** prom-client's spellings of an option, and the option to use here. */
const OPTION_HINTS: Readonly<Record<string, string>> = {
  register: " (prom-client's collectDefaultMetrics() spelling); use registry",
  registers: " (a prom-client metric's spelling); use registry, one registry",
};
const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const DEFAULT_BUCKETS: readonly number[] = Object.freeze([0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]);

/** The outcomes every breaker reports, created at 0 when a breaker is first seen so `rate()` sees the first one. */
const BREAKER_OUTCOMES: readonly string[] = ['success', 'failure', 'ignored', 'rejected', 'cancelled'];

/** The three state series of one breaker. */
interface StateCells {
  readonly closed: GaugeCell;
  readonly open: GaugeCell;
  readonly halfOpen: GaugeCell;
}

/** The two outcome series of one retry. */
interface RetryCells {
  readonly success: CounterCell;
  readonly failure: CounterCell;
}

/** The two load series of one bulkhead. */
interface BulkheadCells {
  readonly active: GaugeCell;
  readonly queued: GaugeCell;
}

function validPrefix(value: unknown): string {
  const prefix = stringOption(OWNER, 'prefix', value, 'resilience_');
  if (prefix !== '' && !METRIC_NAME.test(prefix)) {
    throw new RangeError(
      `${OWNER}: prefix must start a valid Prometheus metric name (letters, digits, _ and :, not starting with a digit), got ${describeValue(prefix)}`,
    );
  }
  return prefix;
}

function validBuckets(value: unknown): readonly number[] {
  if (value === undefined) return DEFAULT_BUCKETS;
  if (!Array.isArray(value) || value.length === 0) {
    throw new TypeError(`${OWNER}: buckets must be a non-empty array of numbers, got ${describeValue(value)}`);
  }
  const buckets: number[] = [];
  // An index loop, not forEach: a hole in a sparse array is an undefined bucket, not a skipped one.
  for (let i = 0; i < value.length; i++) {
    const bucket: unknown = value[i];
    if (typeof bucket !== 'number' || !Number.isFinite(bucket) || bucket < 0) {
      throw new RangeError(`${OWNER}: buckets[${i}] must be a finite number >= 0, got ${describeValue(bucket)}`);
    }
    const previous = buckets[i - 1];
    if (previous !== undefined && bucket <= previous) {
      throw new RangeError(`${OWNER}: buckets must increase, got buckets[${i}] ${bucket} after ${previous}`);
    }
    buckets.push(bucket);
  }
  return Object.freeze(buckets);
}

function validRegistry(value: unknown): NonNullable<PrometheusRecorderOptions['registry']> {
  if (value === undefined) return register;
  for (const method of ['getSingleMetric', 'registerMetric']) {
    if (
      value === null ||
      typeof value !== 'object' ||
      typeof (value as Record<string, unknown>)[method] !== 'function'
    ) {
      throw new TypeError(
        `${OWNER}: registry must be a prom-client Registry (with ${method}()), got ${describeValue(value)}`,
      );
    }
  }
  return value as NonNullable<PrometheusRecorderOptions['registry']>;
}

function validPolicies(value: unknown): PrometheusRecorderOptions['policies'] {
  if (value === undefined) return undefined;
  if (value === null || typeof value !== 'object' || typeof (value as { attach?: unknown }).attach !== 'function') {
    throw new TypeError(
      `${OWNER}: policies must be a PolicyRegistry of @resilience/core (with attach()), got ${describeValue(value)}`,
    );
  }
  return value as PrometheusRecorderOptions['policies'];
}

/**
 * A core `MetricsRecorder` on prom-client, with the metric names, labels and
 * types of the project's telemetry contract (see the package README):
 * `resilience_circuit_breaker_state{name,state}`,
 * `resilience_circuit_breaker_calls_total{name,outcome}`,
 * `resilience_retry_attempts_total{name,outcome}`,
 * `resilience_rate_limit_rejections_total{name}`,
 * `resilience_bulkhead_active{name}`, `resilience_bulkhead_queued{name}`,
 * `resilience_adaptive_bulkhead_limit{name}`,
 * `resilience_timeouts_total{name}` and
 * `resilience_call_duration_seconds{name,pattern,outcome}`.
 *
 * Labels stay bounded: `name` is the pattern's name (never a rate-limit key),
 * `outcome` and `pattern` come from the core. The label children of a name
 * are resolved once, on its first record, and reused by every later call.
 * Counters and gauges are kept as plain numbers and handed to prom-client
 * when the metric is collected (a scrape, `getMetricsAsJSON()`), and
 * durations go to a histogram whose series are counters updated in place,
 * so a call costs a few `Map` lookups and field updates, never prom-client's
 * label hashing. Those numbers belong to the metric, one per series, shared
 * by every recorder on the registry: a recorder that is dropped leaves
 * nothing behind, and a gauge shows the latest value any recorder wrote.
 *
 * Construction throws when an option is invalid or when the registry already
 * holds one of these metrics with another definition (type, help, labels or
 * buckets); a metric with the same definition is shared.
 *
 * With `policies` (a core `PolicyRegistry`), every policy of that registry,
 * now and later, reports to the recorder; `dispose()` stops that. Two
 * recorders on the same prom-client registry and prefix share their series,
 * and a policy that reaches both (its own recorder and an attached one, or
 * two attached) records through only one of them, so nothing counts twice.
 *
 * @example
 * ```ts
 * import { CircuitBreaker } from '@resilience/core';
 * import { metricsHandler, PrometheusRecorder } from '@resilience/metrics-prometheus';
 * import { Registry } from 'prom-client';
 *
 * const registry = new Registry();
 * const metrics = new PrometheusRecorder({ registry });
 * const breaker = new CircuitBreaker({ name: 'payments', metrics });
 * app.get('/metrics', metricsHandler(registry));
 *
 * // Or every policy of a PolicyRegistry, including those created later:
 * const policies = new PolicyRegistry();
 * const recorder = new PrometheusRecorder({ registry, policies });
 * policies.circuitBreaker('payments');
 * ```
 */
export class PrometheusRecorder implements MetricsRecorder {
  /** The metric name prefix in use. */
  readonly prefix: string;
  /** The upper bounds of the duration histogram's buckets, in seconds. */
  readonly buckets: readonly number[];
  readonly #metrics: RecorderMetrics;
  // This recorder's way to the cells of each name; the cells themselves belong to the metrics (see collect.ts).
  readonly #states = new Map<string, StateCells>();
  readonly #calls = new Map<string, Map<string, CounterCell>>();
  readonly #retries = new Map<string, RetryCells>();
  readonly #rateLimits = new Map<string, CounterCell>();
  readonly #bulkheads = new Map<string, BulkheadCells>();
  readonly #adaptiveLimits = new Map<string, GaugeCell>();
  readonly #timeouts = new Map<string, CounterCell>();
  /** name → pattern → outcome → histogram child. */
  readonly #durations = new Map<string, Map<string, Map<string, DurationSink>>>();
  /** What attaching to `policies` returned (`undefined` without `policies`, or once disposed). */
  #attachment: Subscription | undefined;

  /** Validates `options` and registers (or reuses) the metrics; see the class description for what throws. */
  constructor(options?: PrometheusRecorderOptions) {
    const opts = configObject(OWNER, options, 'options');
    for (const key of Object.keys(opts)) {
      if (!KNOWN_OPTIONS.includes(key)) {
        const hint = Object.hasOwn(OPTION_HINTS, key) ? OPTION_HINTS[key] : '';
        throw new TypeError(
          `${OWNER}: unknown option ${JSON.stringify(key)}${hint} (known: ${KNOWN_OPTIONS.join(', ')})`,
        );
      }
    }
    const registry = validRegistry(opts.registry);
    this.prefix = validPrefix(opts.prefix);
    this.buckets = validBuckets(opts.buckets);
    const policies = validPolicies(opts.policies);
    this.#metrics = recorderMetrics(registry, this.prefix, this.buckets);
    // Recorders on the same registry and prefix write the same series (the metric objects are shared): the core's
    // combineRecorders (behind a PolicyRegistry's attach()) counts them once, so a policy with its own recorder
    // and an attached one on the same registry does not count each call twice.
    Object.defineProperty(this, RECORDER_SINK, { value: this.#metrics.breakerCalls });
    this.#attachment = policies?.attach({ metrics: this });
  }

  /**
   * Stops recording the policies of the `policies` option: removes this
   * recorder from each of them, and only this recorder (what they report to
   * otherwise stays). The metrics stay registered, with their values; a
   * pattern given this recorder in its own config keeps reporting to it.
   * Disposing twice, or a recorder made without `policies`, does nothing.
   */
  dispose(): void {
    const attachment = this.#attachment;
    this.#attachment = undefined;
    attachment?.dispose();
  }

  /** The same as {@link PrometheusRecorder.dispose}, for `using`. */
  [Symbol.dispose](): void {
    this.dispose();
  }

  /** Sets `<prefix>circuit_breaker_state{name,state}` to 1 for `state` and 0 for the other two. */
  recordCircuitBreakerState(name: string, state: CircuitStateName): void {
    let cells = this.#states.get(name);
    if (cells === undefined) {
      const gauge = this.#metrics.breakerState as GaugeMetric;
      cells = {
        closed: gaugeCell(gauge, { name, state: 'closed' }),
        open: gaugeCell(gauge, { name, state: 'open' }),
        halfOpen: gaugeCell(gauge, { name, state: 'half-open' }),
      };
      this.#states.set(name, cells);
    }
    cells.closed.value = state === 'closed' ? 1 : 0;
    cells.open.value = state === 'open' ? 1 : 0;
    cells.halfOpen.value = state === 'half-open' ? 1 : 0;
  }

  /**
   * Adds one to `<prefix>circuit_breaker_calls_total{name,outcome}`. Any
   * outcome string is accepted; the five known ones start at 0 for a new name.
   */
  recordCircuitBreakerCall(name: string, outcome: CallOutcome): void {
    let byOutcome = this.#calls.get(name);
    if (byOutcome === undefined) {
      byOutcome = new Map();
      for (const known of BREAKER_OUTCOMES) byOutcome.set(known, this.#callCell(name, known));
      this.#calls.set(name, byOutcome);
    }
    let cell = byOutcome.get(outcome);
    if (cell === undefined) {
      cell = this.#callCell(name, outcome);
      byOutcome.set(outcome, cell);
    }
    cell.value++;
  }

  #callCell(name: string, outcome: string): CounterCell {
    return counterCell(this.#metrics.breakerCalls as unknown as CounterMetric, { name, outcome });
  }

  /** Adds one to `<prefix>retry_attempts_total{name,outcome}`, outcome `success` or `failure`. */
  recordRetryAttempt(name: string, _attempt: number, success: boolean): void {
    let cells = this.#retries.get(name);
    if (cells === undefined) {
      const counter = this.#metrics.retryAttempts as unknown as CounterMetric;
      cells = {
        success: counterCell(counter, { name, outcome: 'success' }),
        failure: counterCell(counter, { name, outcome: 'failure' }),
      };
      this.#retries.set(name, cells);
    }
    (success ? cells.success : cells.failure).value++;
  }

  /** Adds one to `<prefix>rate_limit_rejections_total{name}`. */
  recordRateLimitHit(name: string): void {
    let cell = this.#rateLimits.get(name);
    if (cell === undefined) {
      cell = counterCell(this.#metrics.rateLimitRejections as unknown as CounterMetric, { name });
      this.#rateLimits.set(name, cell);
    }
    cell.value++;
  }

  /** Sets `<prefix>bulkhead_active{name}` and `<prefix>bulkhead_queued{name}`. */
  recordBulkheadUtilization(name: string, active: number, queued: number): void {
    let cells = this.#bulkheads.get(name);
    if (cells === undefined) {
      cells = {
        active: gaugeCell(this.#metrics.bulkheadActive as GaugeMetric, { name }),
        queued: gaugeCell(this.#metrics.bulkheadQueued as GaugeMetric, { name }),
      };
      this.#bulkheads.set(name, cells);
    }
    cells.active.value = active;
    cells.queued.value = queued;
  }

  /** Sets `<prefix>adaptive_bulkhead_limit{name}` to an `AdaptiveBulkhead`'s current concurrency limit. */
  recordAdaptiveBulkheadLimit(name: string, limit: number): void {
    let cell = this.#adaptiveLimits.get(name);
    if (cell === undefined) {
      cell = gaugeCell(this.#metrics.adaptiveBulkheadLimit as GaugeMetric, { name });
      this.#adaptiveLimits.set(name, cell);
    }
    cell.value = limit;
  }

  /** Adds one to `<prefix>timeouts_total{name}`. */
  recordTimeout(name: string): void {
    let cell = this.#timeouts.get(name);
    if (cell === undefined) {
      cell = counterCell(this.#metrics.timeouts as unknown as CounterMetric, { name });
      this.#timeouts.set(name, cell);
    }
    cell.value++;
  }

  /**
   * Observes `seconds` in `<prefix>call_duration_seconds{name,pattern,outcome}`.
   * A duration that is not a finite number >= 0 (a clock that went backwards)
   * is dropped rather than recorded.
   */
  recordCallDuration(name: string, pattern: PatternName, outcome: CallOutcome, seconds: number): void {
    if (!(seconds >= 0 && seconds !== Number.POSITIVE_INFINITY)) return;
    let byPattern = this.#durations.get(name);
    if (byPattern === undefined) {
      byPattern = new Map();
      this.#durations.set(name, byPattern);
    }
    let byOutcome = byPattern.get(pattern);
    if (byOutcome === undefined) {
      byOutcome = new Map();
      byPattern.set(pattern, byOutcome);
    }
    let child = byOutcome.get(outcome);
    if (child === undefined) {
      child = this.#metrics.callDuration.labels({ name, pattern, outcome });
      byOutcome.set(outcome, child);
    }
    child.observe(seconds);
  }
}
