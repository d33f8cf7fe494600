import {
  type Attributes,
  type BatchObservableCallback,
  type BatchObservableResult,
  type Histogram,
  type Meter,
  metrics,
  type Observable,
  ValueType,
} from '@opentelemetry/api';
import type { CircuitStateName, MetricsRecorder } from '@resilience/core';
import { AttributeNames, DEFAULT_DURATION_BUCKETS, MetricNames } from './names.js';

/** Options of {@link OTelRecorder}. */
export interface OTelRecorderOptions {
  /**
   * Bucket boundaries of `resilience.call.duration`, in seconds, strictly
   * increasing (given to the SDK as advice; a View still wins).
   * @default DEFAULT_DURATION_BUCKETS (1 ms to 10 s)
   */
  durationBuckets?: readonly number[] | undefined;
  /**
   * Record `resilience.call.duration`. A histogram point is the one record
   * that goes through the SDK on the call's path (about 4 µs on SDK 2.12, which
   * hashes the attributes of every record); counters and gauges are tallied
   * here for a few nanoseconds. Turn it off for in-memory calls where that matters.
   * @default true
   */
  durations?: boolean | undefined;
}

const OWNER = 'OTelRecorder';
const KNOWN_OPTIONS: ReadonlySet<string> = new Set(['durationBuckets', 'durations']);
const STATES: readonly CircuitStateName[] = ['closed', 'open', 'half-open'];

/** One attribute set of one instrument and its current value: made once, then only its value changes. */
interface Point {
  readonly attributes: Attributes;
  value: number;
}

/**
 * The points of one instrument, keyed by name (and outcome). Recording is a
 * map lookup and an increment; the SDK sees the values when it collects.
 */
class Points {
  readonly #byName = new Map<string, Point>();
  readonly #byOutcome = new Map<string, Map<string, Point>>();

  /** The point of `name`, attributes `{ resilience.name }`. */
  named(name: string): Point {
    let point = this.#byName.get(name);
    if (point === undefined) {
      point = { attributes: Object.freeze({ [AttributeNames.Name]: name }), value: 0 };
      this.#byName.set(name, point);
    }
    return point;
  }

  /** The point of `name` and `outcome`, attributes `{ resilience.name, resilience.outcome }`. */
  withOutcome(name: string, outcome: string): Point {
    let byOutcome = this.#byOutcome.get(name);
    if (byOutcome === undefined) {
      byOutcome = new Map();
      this.#byOutcome.set(name, byOutcome);
    }
    let point = byOutcome.get(outcome);
    if (point === undefined) {
      point = {
        attributes: Object.freeze({ [AttributeNames.Name]: name, [AttributeNames.Outcome]: outcome }),
        value: 0,
      };
      byOutcome.set(outcome, point);
    }
    return point;
  }

  /** Reports every point to `instrument`. */
  observe(result: BatchObservableResult, instrument: Observable): void {
    for (const point of this.#byName.values()) result.observe(instrument, point.value, point.attributes);
    for (const byOutcome of this.#byOutcome.values()) {
      for (const point of byOutcome.values()) result.observe(instrument, point.value, point.attributes);
    }
  }
}

/** Histogram attribute objects, made once per name, pattern and outcome. */
class DurationAttributes {
  readonly #byName = new Map<string, Map<string, Map<string, Attributes>>>();

  get(name: string, pattern: string, outcome: string): Attributes {
    let byPattern = this.#byName.get(name);
    if (byPattern === undefined) {
      byPattern = new Map();
      this.#byName.set(name, byPattern);
    }
    let byOutcome = byPattern.get(pattern);
    if (byOutcome === undefined) {
      byOutcome = new Map();
      byPattern.set(pattern, byOutcome);
    }
    let attributes = byOutcome.get(outcome);
    if (attributes === undefined) {
      attributes = Object.freeze({
        [AttributeNames.Name]: name,
        [AttributeNames.Pattern]: pattern,
        [AttributeNames.Outcome]: outcome,
      });
      byOutcome.set(outcome, attributes);
    }
    return attributes;
  }
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined) {
    return String(value);
  }
  return Array.isArray(value) ? `[${value.map(describe).join(', ')}]` : typeof value;
}

function checkMeter(meter: unknown): Meter {
  if (meter === undefined) return metrics.getMeter('@resilience/otel');
  const candidate = meter as Partial<Meter> | null;
  if (
    candidate === null ||
    typeof candidate !== 'object' ||
    typeof candidate.createCounter !== 'function' ||
    typeof candidate.createHistogram !== 'function' ||
    typeof candidate.createObservableGauge !== 'function' ||
    typeof candidate.createObservableCounter !== 'function' ||
    typeof candidate.addBatchObservableCallback !== 'function'
  ) {
    throw new TypeError(
      `${OWNER}: meter must be an OpenTelemetry Meter (from meterProvider.getMeter()), got ${describe(meter)}`,
    );
  }
  return candidate as Meter;
}

function checkBuckets(buckets: unknown): number[] {
  if (buckets === undefined) return [...DEFAULT_DURATION_BUCKETS];
  const valid =
    Array.isArray(buckets) &&
    buckets.length > 0 &&
    buckets.every(
      (b, i) => typeof b === 'number' && Number.isFinite(b) && b >= 0 && (i === 0 || b > (buckets[i - 1] as number)),
    );
  if (!valid) {
    throw new RangeError(
      `${OWNER}: durationBuckets must be a non-empty array of finite seconds >= 0 in strictly increasing order, got ${describe(buckets)}`,
    );
  }
  return [...(buckets as number[])];
}

function checkOptions(options: unknown): OTelRecorderOptions {
  if (options === undefined) return {};
  if (options === null || typeof options !== 'object') {
    throw new TypeError(`${OWNER}: options must be an object, got ${describe(options)}`);
  }
  for (const key of Object.keys(options)) {
    if (!KNOWN_OPTIONS.has(key)) throw new TypeError(`${OWNER}: unknown option "${key}"`);
  }
  return options as OTelRecorderOptions;
}

/**
 * A core `MetricsRecorder` on an OpenTelemetry `Meter`: pass it as the
 * `metrics` option of any pattern. It creates the instruments of
 * {@link MetricNames} once, with bounded attributes (`resilience.name`, and
 * `resilience.outcome` / `resilience.pattern` where they apply; never a
 * rate-limit key). Attribute objects are made once per name and outcome, so
 * recording a call allocates nothing of its own.
 *
 * Breaker states and bulkhead loads are observable gauges: the recorder keeps
 * the last value per `name` and reports it at each collection. Outcome
 * strings pass through unchanged, so outcomes the core adds later (such as
 * `cancelled`) appear as they are.
 *
 * @example
 * ```ts
 * import { metrics } from '@opentelemetry/api';
 * import { CircuitBreaker } from '@resilience/core';
 * import { OTelRecorder } from '@resilience/otel';
 *
 * const recorder = new OTelRecorder(metrics.getMeter('checkout'));
 * const breaker = new CircuitBreaker({ name: 'payments', metrics: recorder });
 * ```
 */
export class OTelRecorder implements MetricsRecorder {
  readonly #calls = new Points();
  readonly #attempts = new Points();
  readonly #rejections = new Points();
  readonly #timeouts = new Points();
  readonly #active = new Points();
  readonly #queued = new Points();
  readonly #states = new Map<string, CircuitStateName>();
  readonly #stateAttributes = new Map<string, readonly Attributes[]>();
  readonly #durationAttributes = new DurationAttributes();
  readonly #duration: Histogram | undefined;
  readonly #meter: Meter;
  readonly #observables: Observable[];
  readonly #observe: BatchObservableCallback;

  /**
   * @param meter - where the instruments are created
   *   @default the global `metrics.getMeter('@resilience/otel')`
   * @param options - see {@link OTelRecorderOptions}
   * @throws TypeError when `meter` is not a `Meter` or an option is unknown
   * @throws RangeError when `durationBuckets` is not strictly increasing finite seconds
   */
  constructor(meter?: Meter, options?: OTelRecorderOptions) {
    const m = checkMeter(meter);
    const { durationBuckets, durations = true } = checkOptions(options);
    if (typeof durations !== 'boolean') {
      throw new TypeError(`${OWNER}: durations must be a boolean, got ${describe(durations)}`);
    }
    const buckets = checkBuckets(durationBuckets);
    const int = { valueType: ValueType.INT };
    this.#meter = m;
    // Counters and gauges are tallied here and observed at collection: recording one is a
    // map lookup and an increment, where a synchronous SDK instrument hashes its attributes
    // on every call (about 3 µs on SDK 2.12). Durations need the SDK's histogram.
    const calls = m.createObservableCounter(MetricNames.CircuitBreakerCalls, {
      ...int,
      unit: '{call}',
      description: 'Calls through a circuit breaker, by outcome.',
    });
    const attempts = m.createObservableCounter(MetricNames.RetryAttempts, {
      ...int,
      unit: '{attempt}',
      description: 'Attempts made by a retry, by outcome.',
    });
    const rejections = m.createObservableCounter(MetricNames.RateLimitRejections, {
      ...int,
      unit: '{call}',
      description: 'Calls refused by a rate limiter.',
    });
    const timeouts = m.createObservableCounter(MetricNames.Timeouts, {
      ...int,
      unit: '{timeout}',
      description: 'Time limits that fired.',
    });
    const state = m.createObservableGauge(MetricNames.CircuitBreakerState, {
      ...int,
      unit: '1',
      description: "A circuit breaker's state: 1 for the current state, 0 for the other two.",
    });
    const active = m.createObservableGauge(MetricNames.BulkheadActive, {
      ...int,
      unit: '{call}',
      description: 'Calls running in a bulkhead.',
    });
    const queued = m.createObservableGauge(MetricNames.BulkheadQueued, {
      ...int,
      unit: '{call}',
      description: 'Calls waiting in a bulkhead queue.',
    });
    this.#duration = durations
      ? m.createHistogram(MetricNames.CallDuration, {
          unit: 's',
          description: 'Duration of calls through a pattern, by pattern and outcome.',
          advice: { explicitBucketBoundaries: buckets },
        })
      : undefined;
    this.#observables = [calls, attempts, rejections, timeouts, state, active, queued];
    this.#observe = (result) => {
      this.#calls.observe(result, calls);
      this.#attempts.observe(result, attempts);
      this.#rejections.observe(result, rejections);
      this.#timeouts.observe(result, timeouts);
      this.#active.observe(result, active);
      this.#queued.observe(result, queued);
      for (const [name, current] of this.#states) {
        const attributes = this.#stateAttributesOf(name);
        for (let i = 0; i < STATES.length; i++) {
          result.observe(state, STATES[i] === current ? 1 : 0, attributes[i]);
        }
      }
    };
    m.addBatchObservableCallback(this.#observe, this.#observables);
  }

  /** Remembers the breaker's state; the `resilience.circuit_breaker.state` gauge reports it. */
  recordCircuitBreakerState(name: string, state: CircuitStateName): void {
    this.#states.set(name, state);
  }

  /** Counts one call through a breaker in `resilience.circuit_breaker.calls`. */
  recordCircuitBreakerCall(name: string, outcome: string): void {
    this.#calls.withOutcome(name, outcome).value++;
  }

  /** Counts one attempt in `resilience.retry.attempts`, outcome `success` or `failure`. */
  recordRetryAttempt(name: string, _attempt: number, success: boolean): void {
    this.#attempts.withOutcome(name, success ? 'success' : 'failure').value++;
  }

  /** Counts one refusal in `resilience.rate_limit.rejections` (the key is never seen here). */
  recordRateLimitHit(name: string): void {
    this.#rejections.named(name).value++;
  }

  /** Remembers the bulkhead's load; the `resilience.bulkhead.active` and `.queued` gauges report it. */
  recordBulkheadUtilization(name: string, active: number, queued: number): void {
    this.#active.named(name).value = active;
    this.#queued.named(name).value = queued;
  }

  /** Counts one fired timeout in `resilience.timeouts`. */
  recordTimeout(name: string): void {
    this.#timeouts.named(name).value++;
  }

  /** Records one call's duration in `resilience.call.duration` (seconds), unless `durations` is off. */
  recordCallDuration(name: string, pattern: string, outcome: string, seconds: number): void {
    this.#duration?.record(seconds, this.#durationAttributes.get(name, pattern, outcome));
  }

  /**
   * Stops reporting the counters and gauges of this recorder (their callback
   * is removed from the meter). The histogram keeps what it recorded.
   */
  dispose(): void {
    this.#meter.removeBatchObservableCallback(this.#observe, this.#observables);
  }

  /** The same as {@link OTelRecorder.dispose}, for `using`. */
  [Symbol.dispose](): void {
    this.dispose();
  }

  #stateAttributesOf(name: string): readonly Attributes[] {
    let attributes = this.#stateAttributes.get(name);
    if (attributes === undefined) {
      attributes = STATES.map((state) =>
        Object.freeze({ [AttributeNames.Name]: name, [AttributeNames.CircuitBreakerState]: state }),
      );
      this.#stateAttributes.set(name, attributes);
    }
    return attributes;
  }
}
