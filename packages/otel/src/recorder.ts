import {
  type Attributes,
  type Counter,
  type Histogram,
  type Meter,
  metrics,
  type ObservableCallback,
  type ObservableGauge,
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
}

const OWNER = 'OTelRecorder';
const KNOWN_OPTIONS: ReadonlySet<string> = new Set(['durationBuckets']);
const STATES: readonly CircuitStateName[] = ['closed', 'open', 'half-open'];

/** The last load a bulkhead reported. */
interface Load {
  active: number;
  queued: number;
}

/** Attribute objects made once per name (and outcome), so recording allocates nothing. */
class AttributeCache {
  readonly #byName = new Map<string, Attributes>();
  readonly #byOutcome = new Map<string, Map<string, Attributes>>();
  readonly #byPattern = new Map<string, Map<string, Map<string, Attributes>>>();

  name(name: string): Attributes {
    let attributes = this.#byName.get(name);
    if (attributes === undefined) {
      attributes = Object.freeze({ [AttributeNames.Name]: name });
      this.#byName.set(name, attributes);
    }
    return attributes;
  }

  outcome(name: string, outcome: string): Attributes {
    let byOutcome = this.#byOutcome.get(name);
    if (byOutcome === undefined) {
      byOutcome = new Map();
      this.#byOutcome.set(name, byOutcome);
    }
    let attributes = byOutcome.get(outcome);
    if (attributes === undefined) {
      attributes = Object.freeze({ [AttributeNames.Name]: name, [AttributeNames.Outcome]: outcome });
      byOutcome.set(outcome, attributes);
    }
    return attributes;
  }

  duration(name: string, pattern: string, outcome: string): Attributes {
    let byPattern = this.#byPattern.get(name);
    if (byPattern === undefined) {
      byPattern = new Map();
      this.#byPattern.set(name, byPattern);
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
    typeof candidate.createObservableGauge !== 'function'
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
  readonly #attributes = new AttributeCache();
  readonly #states = new Map<string, CircuitStateName>();
  readonly #loads = new Map<string, Load>();
  readonly #calls: Counter;
  readonly #attempts: Counter;
  readonly #rejections: Counter;
  readonly #timeouts: Counter;
  readonly #duration: Histogram;
  readonly #stateGauge: ObservableGauge;
  readonly #activeGauge: ObservableGauge;
  readonly #queuedGauge: ObservableGauge;
  readonly #observeStates: ObservableCallback;
  readonly #observeActive: ObservableCallback;
  readonly #observeQueued: ObservableCallback;
  readonly #stateAttributes = new Map<string, readonly Attributes[]>();

  /**
   * @param meter - where the instruments are created
   *   @default the global `metrics.getMeter('@resilience/otel')`
   * @param options - see {@link OTelRecorderOptions}
   * @throws TypeError when `meter` is not a `Meter` or an option is unknown
   * @throws RangeError when `durationBuckets` is not strictly increasing finite seconds
   */
  constructor(meter?: Meter, options?: OTelRecorderOptions) {
    const m = checkMeter(meter);
    const { durationBuckets } = checkOptions(options);
    const buckets = checkBuckets(durationBuckets);
    const int = { valueType: ValueType.INT };
    this.#calls = m.createCounter(MetricNames.CircuitBreakerCalls, {
      ...int,
      unit: '{call}',
      description: 'Calls through a circuit breaker, by outcome.',
    });
    this.#attempts = m.createCounter(MetricNames.RetryAttempts, {
      ...int,
      unit: '{attempt}',
      description: 'Attempts made by a retry, by outcome.',
    });
    this.#rejections = m.createCounter(MetricNames.RateLimitRejections, {
      ...int,
      unit: '{call}',
      description: 'Calls refused by a rate limiter.',
    });
    this.#timeouts = m.createCounter(MetricNames.Timeouts, {
      ...int,
      unit: '{timeout}',
      description: 'Time limits that fired.',
    });
    this.#duration = m.createHistogram(MetricNames.CallDuration, {
      unit: 's',
      description: 'Duration of calls through a pattern, by pattern and outcome.',
      advice: { explicitBucketBoundaries: buckets },
    });
    this.#stateGauge = m.createObservableGauge(MetricNames.CircuitBreakerState, {
      ...int,
      unit: '1',
      description: "A circuit breaker's state: 1 for the current state, 0 for the other two.",
    });
    this.#activeGauge = m.createObservableGauge(MetricNames.BulkheadActive, {
      ...int,
      unit: '{call}',
      description: 'Calls running in a bulkhead.',
    });
    this.#queuedGauge = m.createObservableGauge(MetricNames.BulkheadQueued, {
      ...int,
      unit: '{call}',
      description: 'Calls waiting in a bulkhead queue.',
    });
    this.#observeStates = (result) => {
      for (const [name, state] of this.#states) {
        const attributes = this.#stateAttributesOf(name);
        for (let i = 0; i < STATES.length; i++) {
          result.observe(STATES[i] === state ? 1 : 0, attributes[i]);
        }
      }
    };
    this.#observeActive = (result) => {
      for (const [name, load] of this.#loads) result.observe(load.active, this.#attributes.name(name));
    };
    this.#observeQueued = (result) => {
      for (const [name, load] of this.#loads) result.observe(load.queued, this.#attributes.name(name));
    };
    this.#stateGauge.addCallback(this.#observeStates);
    this.#activeGauge.addCallback(this.#observeActive);
    this.#queuedGauge.addCallback(this.#observeQueued);
  }

  /** Remembers the breaker's state; the `resilience.circuit_breaker.state` gauge reports it. */
  recordCircuitBreakerState(name: string, state: CircuitStateName): void {
    this.#states.set(name, state);
  }

  /** Counts one call through a breaker in `resilience.circuit_breaker.calls`. */
  recordCircuitBreakerCall(name: string, outcome: string): void {
    this.#calls.add(1, this.#attributes.outcome(name, outcome));
  }

  /** Counts one attempt in `resilience.retry.attempts`, outcome `success` or `failure`. */
  recordRetryAttempt(name: string, _attempt: number, success: boolean): void {
    this.#attempts.add(1, this.#attributes.outcome(name, success ? 'success' : 'failure'));
  }

  /** Counts one refusal in `resilience.rate_limit.rejections` (the key is never seen here). */
  recordRateLimitHit(name: string): void {
    this.#rejections.add(1, this.#attributes.name(name));
  }

  /** Remembers the bulkhead's load; the `resilience.bulkhead.active` and `.queued` gauges report it. */
  recordBulkheadUtilization(name: string, active: number, queued: number): void {
    const load = this.#loads.get(name);
    if (load === undefined) this.#loads.set(name, { active, queued });
    else {
      load.active = active;
      load.queued = queued;
    }
  }

  /** Counts one fired timeout in `resilience.timeouts`. */
  recordTimeout(name: string): void {
    this.#timeouts.add(1, this.#attributes.name(name));
  }

  /** Records one call's duration in `resilience.call.duration` (seconds). */
  recordCallDuration(name: string, pattern: string, outcome: string, seconds: number): void {
    this.#duration.record(seconds, this.#attributes.duration(name, pattern, outcome));
  }

  /**
   * Stops reporting the gauges of this recorder (their callbacks are removed
   * from the meter). Counters and the histogram keep what they recorded.
   */
  dispose(): void {
    this.#stateGauge.removeCallback(this.#observeStates);
    this.#activeGauge.removeCallback(this.#observeActive);
    this.#queuedGauge.removeCallback(this.#observeQueued);
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
