import { type Histogram, type Meter, metrics } from '@opentelemetry/api';
import type { CircuitStateName, MetricsRecorder, PolicyRegistry, Subscription } from '@resilience/core';
import {
  type Cardinality,
  type DurationAttributes,
  type Instruments,
  instrumentsFor,
  type Points,
} from './instruments.js';
import { DEFAULT_DURATION_BUCKETS } from './names.js';

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
  /**
   * The most attribute sets each instrument reports: the cardinality limit of
   * your metric reader or View, which the SDK sets to 2,000 by default. Pattern
   * names are meant to be few (one per dependency); a name per host, tenant or
   * URL would grow memory for good, slow every collection, and make the SDK
   * drop counts past its limit (of an observable instrument it keeps one value
   * for every set it refuses). The recorder stays within the limit: further
   * sets of a counter or of the duration histogram add up in one point with
   * the attribute `otel.metric.overflow: true`, as the SDK's own overflow point
   * does, and further gauges (state, bulkhead load, adaptive limit) are not reported. Raise it
   * together with the reader's `cardinalityLimit`. A positive integer, or
   * `Infinity` for no limit.
   * @default 2000
   */
  cardinalityLimit?: number | undefined;
  /**
   * A `PolicyRegistry` of `@resilience/core` whose every policy reports to
   * this recorder: those it holds now and those created in it later (through
   * `policies.attach({ metrics })`). A policy keeps reporting to its own
   * recorder as well (a `PrometheusRecorder` during a migration), and a
   * policy this recorder already reaches counts once. `dispose()` stops it.
   * Recorders on the same meter share their tallies: a policy that reaches
   * two of them (its own and an attached one) records through one, once.
   * @default none: only patterns given this recorder as `metrics` report to it
   */
  policies?: Pick<PolicyRegistry, 'attach'> | undefined;
}

const OWNER = 'OTelRecorder';
/** The key under which the core's `combineRecorders` finds which series a recorder writes. */
const RECORDER_SINK = Symbol.for('@resilience/core.sink');

const KNOWN_OPTIONS: ReadonlySet<string> = new Set(['cardinalityLimit', 'durationBuckets', 'durations', 'policies']);
/** The default of {@link OTelRecorderOptions.cardinalityLimit}: the SDK's default. */
const DEFAULT_CARDINALITY_LIMIT = 2000;
/** How many entries of an array an error message shows. */
const MAX_DESCRIBED = 20;
/** How many characters of a string an error message shows. */
const MAX_STRING = 64;

function describe(value: unknown): string {
  if (typeof value === 'string') {
    return value.length > MAX_STRING
      ? `${JSON.stringify(value.slice(0, MAX_STRING))}… (${value.length} characters)`
      : JSON.stringify(value);
  }
  if (typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined) {
    return String(value);
  }
  if (!Array.isArray(value)) return typeof value;
  // An error message names the value, but a hostile million-entry array must not make a megabyte message.
  const shown: string[] = [];
  for (let i = 0; i < Math.min(value.length, MAX_DESCRIBED); i++) {
    const item: unknown = value[i];
    shown.push(!(i in value) ? '<empty>' : Array.isArray(item) ? 'array' : describe(item));
  }
  if (value.length > MAX_DESCRIBED) shown.push(`… ${value.length - MAX_DESCRIBED} more`);
  return `[${shown.join(', ')}]`;
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
    // `new OTelRecorder({ policies })`: the options in the meter's place.
    const looksLikeOptions =
      candidate !== null &&
      typeof candidate === 'object' &&
      Object.keys(candidate).length > 0 &&
      Object.keys(candidate).every((key) => KNOWN_OPTIONS.has(key));
    const hint = looksLikeOptions
      ? ' (options come second: new OTelRecorder(meter, options), meter may be undefined)'
      : '';
    throw new TypeError(
      `${OWNER}: meter must be an OpenTelemetry Meter (from meterProvider.getMeter()), got ${describe(meter)}${hint}`,
    );
  }
  return candidate as Meter;
}

function checkBuckets(buckets: unknown): number[] {
  if (buckets === undefined) return [...DEFAULT_DURATION_BUCKETS];
  // A plain loop, not every(): every() skips the holes of a sparse array, and `[1, ,]` would pass.
  let valid = Array.isArray(buckets) && buckets.length > 0;
  for (let i = 0; valid && i < (buckets as unknown[]).length; i++) {
    const b = (buckets as unknown[])[i];
    valid =
      typeof b === 'number' &&
      Number.isFinite(b) &&
      b >= 0 &&
      (i === 0 || b > ((buckets as number[])[i - 1] as number));
  }
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
    if (!KNOWN_OPTIONS.has(key)) throw new TypeError(`${OWNER}: unknown option ${describe(key)}`);
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
 * Counters and gauges are tallied by the recorder and reported through one
 * batch observable callback when a reader collects; only durations go through
 * the SDK on the call's path. Recorders made on the same meter share one set
 * of instruments and tallies, so their counts add up. Make the recorder after
 * the SDK is registered when you rely on the global meter: OpenTelemetry's
 * metrics API has no proxy, and a meter taken before registration is a no-op. Outcome
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
 *
 * // Or every policy of a PolicyRegistry, now and later:
 * const policies = new PolicyRegistry();
 * const forAll = new OTelRecorder(metrics.getMeter('checkout'), { policies });
 * ```
 */
export class OTelRecorder implements MetricsRecorder {
  readonly #instruments: Instruments;
  readonly #calls: Points;
  readonly #attempts: Points;
  readonly #rejections: Points;
  readonly #timeouts: Points;
  readonly #active: Points;
  readonly #queued: Points;
  readonly #adaptiveLimit: Points;
  readonly #states: Map<string, CircuitStateName>;
  readonly #stateRoom: Cardinality;
  readonly #durationAttributes: DurationAttributes;
  readonly #duration: Histogram | undefined;
  #disposed = false;
  /** What attaching to `policies` returned (`undefined` without `policies`, or once disposed). */
  #attachment: Subscription | undefined = undefined;

  /**
   * @param meter - where the instruments are created
   *   @default the global `metrics.getMeter('@resilience/otel')`, as it is when the recorder is made
   * @param options - see {@link OTelRecorderOptions}
   * @throws TypeError when `meter` is not a `Meter` or an option is unknown
   * @throws RangeError when `durationBuckets` is not strictly increasing finite seconds, `cardinalityLimit` is
   *   not a positive integer or `Infinity`, or another recorder on the same meter uses other `durations`,
   *   `durationBuckets` or `cardinalityLimit`
   */
  constructor(meter?: Meter, options?: OTelRecorderOptions) {
    const m = checkMeter(meter);
    const {
      durationBuckets,
      durations = true,
      cardinalityLimit = DEFAULT_CARDINALITY_LIMIT,
      policies,
    } = checkOptions(options);
    if (
      policies !== undefined &&
      (policies === null || typeof policies !== 'object' || typeof policies.attach !== 'function')
    ) {
      throw new TypeError(
        `${OWNER}: policies must be a PolicyRegistry of @resilience/core (with attach()), got ${describe(policies)}`,
      );
    }
    if (typeof durations !== 'boolean') {
      throw new TypeError(`${OWNER}: durations must be a boolean, got ${describe(durations)}`);
    }
    if (
      !(Number.isInteger(cardinalityLimit) && cardinalityLimit >= 1) &&
      cardinalityLimit !== Number.POSITIVE_INFINITY
    ) {
      throw new RangeError(
        `${OWNER}: cardinalityLimit must be a positive integer or Infinity, got ${describe(cardinalityLimit)}`,
      );
    }
    const instruments = instrumentsFor(m, checkBuckets(durationBuckets), durations, cardinalityLimit);
    this.#instruments = instruments;
    this.#calls = instruments.calls;
    this.#attempts = instruments.attempts;
    this.#rejections = instruments.rejections;
    this.#timeouts = instruments.timeouts;
    this.#active = instruments.active;
    this.#queued = instruments.queued;
    this.#adaptiveLimit = instruments.adaptiveLimit;
    this.#states = instruments.states;
    this.#stateRoom = instruments.stateRoom;
    this.#durationAttributes = instruments.durationAttributes;
    this.#duration = instruments.duration;
    // Recorders on the same meter share these instruments: the core's combineRecorders (behind a PolicyRegistry's
    // attach()) counts them once, so a policy with its own recorder and an attached one does not count twice.
    Object.defineProperty(this, RECORDER_SINK, { value: instruments });
    if (policies !== undefined) {
      try {
        this.#attachment = policies.attach({ metrics: this });
      } catch (err) {
        // A closed registry: give back the share of the instruments taken above.
        this.dispose();
        throw err;
      }
    }
  }

  /**
   * Remembers the breaker's state; the `resilience.circuit_breaker.state` gauge reports it (three sets per
   * name, while they fit in `cardinalityLimit`).
   */
  recordCircuitBreakerState(name: string, state: CircuitStateName): void {
    if (this.#states.has(name) || this.#stateRoom.take(3)) this.#states.set(name, state);
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

  /**
   * Remembers an `AdaptiveBulkhead`'s current concurrency limit; the `resilience.adaptive_bulkhead.limit` gauge
   * reports it (the core reports the limit each time it moves).
   */
  recordAdaptiveBulkheadLimit(name: string, limit: number): void {
    this.#adaptiveLimit.named(name).value = limit;
  }

  /** Counts one fired timeout in `resilience.timeouts`. */
  recordTimeout(name: string): void {
    this.#timeouts.named(name).value++;
  }

  /**
   * Records one call's duration in `resilience.call.duration` (seconds), unless
   * `durations` is off. A duration that is not a finite number >= 0 (a clock
   * that went backwards, `NaN`) is dropped: one `NaN` would make the
   * histogram's sum `NaN` for good.
   */
  recordCallDuration(name: string, pattern: string, outcome: string, seconds: number): void {
    if (!(seconds >= 0 && seconds !== Number.POSITIVE_INFINITY)) return;
    this.#duration?.record(seconds, this.#durationAttributes.get(name, pattern, outcome));
  }

  /**
   * Gives up this recorder's share of the meter's instruments. When every
   * recorder on the meter is disposed, the counters and gauges stop being
   * updated (their callback leaves the meter; a cumulative reader keeps
   * exporting the last values it saw) and a new recorder starts from zero.
   * The histogram keeps what it recorded. With `policies`, it first removes
   * this recorder, and only it, from every policy of the registry. Calling it
   * again does nothing.
   */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    const attachment = this.#attachment;
    this.#attachment = undefined;
    attachment?.dispose();
    const instruments = this.#instruments;
    instruments.users--;
    if (instruments.users === 0) instruments.stop();
  }

  /** The same as {@link OTelRecorder.dispose}, for `using`. */
  [Symbol.dispose](): void {
    this.dispose();
  }
}
