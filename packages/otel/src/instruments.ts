import {
  type Attributes,
  type BatchObservableCallback,
  type BatchObservableResult,
  type Histogram,
  type Meter,
  type Observable,
  ValueType,
} from '@opentelemetry/api';
import type { CircuitStateName } from '@resilience/core';
import { AttributeNames, MetricNames } from './names.js';

const STATES: readonly CircuitStateName[] = ['closed', 'open', 'half-open'];

/** One attribute set of one instrument and its current value: made once, then only its value changes. */
export interface Point {
  readonly attributes: Attributes;
  value: number;
}

/**
 * The attributes of the one point that counts what is beyond the limit:
 * the attribute set the SDK itself uses beyond an instrument's cardinality limit.
 */
export const OVERFLOW_ATTRIBUTES: Attributes = Object.freeze({ 'otel.metric.overflow': true });

/** Where a gauge beyond the limit writes: never observed. */
const DISCARDED: Point = { attributes: OVERFLOW_ATTRIBUTES, value: 0 };

/**
 * How many attribute sets one instrument may still report. A pattern's
 * `name` is meant to be one per dependency, but a careless service may make
 * it unbounded (one breaker per host or tenant): each set costs memory for as
 * long as the meter lives and an observation at every collection, and past
 * the SDK's cardinality limit the SDK keeps one value for all the sets it
 * refuses (of an observable instrument, the last one), so counts are lost.
 * Staying one set below the limit leaves room for the overflow point.
 */
export class Cardinality {
  #left: number;

  /** @param limit - the SDK's cardinality limit: the sets an instrument reports, the overflow point included */
  constructor(limit: number) {
    this.#left = limit - 1;
  }

  /** Takes room for `sets` more attribute sets, or returns false when there is none. */
  take(sets: number): boolean {
    if (this.#left < sets) return false;
    this.#left -= sets;
    return true;
  }
}

/**
 * The points of one instrument, keyed by name (and outcome). Recording is a
 * map lookup and an increment; the SDK sees the values when it collects.
 * Attribute sets beyond the {@link Cardinality} add up in one overflow point
 * (counters) or are dropped (gauges, where a sum means nothing).
 */
export class Points {
  readonly #byName = new Map<string, Point>();
  readonly #byOutcome = new Map<string, Map<string, Point>>();
  readonly #room: Cardinality;
  /** `undefined` for gauges. */
  readonly #overflow: Point | undefined;

  /**
   * @param limit - the SDK's cardinality limit
   * @param counts - a counter (beyond the limit: one overflow point) rather than a gauge (beyond it: dropped)
   */
  constructor(limit: number, counts: boolean) {
    this.#room = new Cardinality(limit);
    this.#overflow = counts ? { attributes: OVERFLOW_ATTRIBUTES, value: 0 } : undefined;
  }

  /** The point of `name`, attributes `{ resilience.name }`. */
  named(name: string): Point {
    let point = this.#byName.get(name);
    if (point === undefined) {
      if (!this.#room.take(1)) return this.#overflow ?? DISCARDED;
      point = { attributes: Object.freeze({ [AttributeNames.Name]: name }), value: 0 };
      this.#byName.set(name, point);
    }
    return point;
  }

  /** The point of `name` and `outcome`, attributes `{ resilience.name, resilience.outcome }`. */
  withOutcome(name: string, outcome: string): Point {
    let byOutcome = this.#byOutcome.get(name);
    if (byOutcome === undefined) {
      if (!this.#room.take(1)) return this.#overflow ?? DISCARDED;
      byOutcome = new Map();
      this.#byOutcome.set(name, byOutcome);
    } else if (!byOutcome.has(outcome) && !this.#room.take(1)) {
      return this.#overflow ?? DISCARDED;
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
    const overflow = this.#overflow;
    if (overflow !== undefined && overflow.value > 0) result.observe(instrument, overflow.value, overflow.attributes);
  }
}

/** Histogram attribute objects, made once per name, pattern and outcome, up to the cardinality limit. */
export class DurationAttributes {
  readonly #byName = new Map<string, Map<string, Map<string, Attributes>>>();
  readonly #room: Cardinality;

  /** @param limit - the SDK's cardinality limit */
  constructor(limit: number) {
    this.#room = new Cardinality(limit);
  }

  /** The attributes of `name`, `pattern` and `outcome`; the overflow attributes once the limit is reached. */
  get(name: string, pattern: string, outcome: string): Attributes {
    const known = this.#byName.get(name)?.get(pattern)?.get(outcome);
    if (known !== undefined) return known;
    // The SDK sums a histogram's overflow itself; staying below its limit keeps the memory here bounded.
    if (!this.#room.take(1)) return OVERFLOW_ATTRIBUTES;
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
    const attributes: Attributes = Object.freeze({
      [AttributeNames.Name]: name,
      [AttributeNames.Pattern]: pattern,
      [AttributeNames.Outcome]: outcome,
    });
    byOutcome.set(outcome, attributes);
    return attributes;
  }
}

/**
 * The instruments of one `Meter` and the values tallied for them. Every
 * `OTelRecorder` on the same meter shares one set: two sets would each report
 * their own total for the same attributes, and OpenTelemetry keeps only the
 * last observation, so counts would be lost.
 */
export interface Instruments {
  readonly calls: Points;
  readonly attempts: Points;
  readonly rejections: Points;
  readonly timeouts: Points;
  readonly active: Points;
  readonly queued: Points;
  readonly adaptiveLimit: Points;
  /** The last state reported per breaker name. */
  readonly states: Map<string, CircuitStateName>;
  /** Room for the state gauge's sets (three per breaker name). */
  readonly stateRoom: Cardinality;
  /** The SDK's cardinality limit the instruments stay within. */
  readonly cardinalityLimit: number;
  readonly durationAttributes: DurationAttributes;
  /** `undefined` when durations are off. */
  readonly duration: Histogram | undefined;
  /** The bucket boundaries the histogram was made with. */
  readonly buckets: readonly number[];
  /** Recorders using this set. */
  users: number;
  /** Removes the observable callback from the meter. */
  readonly stop: () => void;
}

const byMeter = new WeakMap<Meter, Instruments>();

function sameBuckets(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((value, i) => value === b[i]);
}

/**
 * The shared instruments of `meter`, made on first use. A second recorder on
 * the same meter must ask for the same histogram.
 *
 * @throws RangeError when the meter's instruments were made with other `durations`, `durationBuckets` or `cardinalityLimit`
 */
export function instrumentsFor(
  meter: Meter,
  buckets: readonly number[],
  durations: boolean,
  cardinalityLimit: number,
): Instruments {
  const existing = byMeter.get(meter);
  if (existing !== undefined) {
    if (
      (existing.duration !== undefined) !== durations ||
      (durations && !sameBuckets(existing.buckets, buckets)) ||
      existing.cardinalityLimit !== cardinalityLimit
    ) {
      throw new RangeError(
        `OTelRecorder: this meter already has a recorder with durations ${existing.duration !== undefined} and ` +
          `durationBuckets [${existing.buckets.join(', ')}] (cardinalityLimit ${existing.cardinalityLimit}); ` +
          `got durations ${durations} and durationBuckets [${buckets.join(', ')}] (cardinalityLimit ${cardinalityLimit}). ` +
          'Share one recorder per meter, or use another meter',
      );
    }
    existing.users++;
    return existing;
  }
  const made = make(meter, buckets, durations, cardinalityLimit);
  byMeter.set(meter, made);
  return made;
}

function make(meter: Meter, buckets: readonly number[], durations: boolean, cardinalityLimit: number): Instruments {
  const int = { valueType: ValueType.INT };
  // Counters and gauges are tallied here and observed at collection: recording one is a
  // map lookup and an increment, where a synchronous SDK instrument hashes its attributes
  // on every call (about 3 µs on SDK 2.12). Durations need the SDK's histogram.
  const calls = meter.createObservableCounter(MetricNames.CircuitBreakerCalls, {
    ...int,
    unit: '{call}',
    description: 'Calls through a circuit breaker, by outcome.',
  });
  const attempts = meter.createObservableCounter(MetricNames.RetryAttempts, {
    ...int,
    unit: '{attempt}',
    description: 'Attempts made by a retry, by outcome.',
  });
  const rejections = meter.createObservableCounter(MetricNames.RateLimitRejections, {
    ...int,
    unit: '{call}',
    description: 'Calls refused by a rate limiter.',
  });
  const timeouts = meter.createObservableCounter(MetricNames.Timeouts, {
    ...int,
    unit: '{timeout}',
    description: 'Time limits that fired.',
  });
  const state = meter.createObservableGauge(MetricNames.CircuitBreakerState, {
    ...int,
    unit: '1',
    description: "A circuit breaker's state: 1 for the current state, 0 for the other two.",
  });
  const active = meter.createObservableGauge(MetricNames.BulkheadActive, {
    ...int,
    unit: '{call}',
    description: 'Calls running in a bulkhead.',
  });
  const queued = meter.createObservableGauge(MetricNames.BulkheadQueued, {
    ...int,
    unit: '{call}',
    description: 'Calls waiting in a bulkhead queue.',
  });
  const adaptiveLimit = meter.createObservableGauge(MetricNames.AdaptiveBulkheadLimit, {
    ...int,
    unit: '{call}',
    description: "An adaptive bulkhead's current concurrency limit.",
  });
  const duration = durations
    ? meter.createHistogram(MetricNames.CallDuration, {
        unit: 's',
        description: 'Duration of calls through a pattern, by pattern and outcome.',
        advice: { explicitBucketBoundaries: [...buckets] },
      })
    : undefined;
  const limit = cardinalityLimit;
  const instruments: Instruments = {
    calls: new Points(limit, true),
    attempts: new Points(limit, true),
    rejections: new Points(limit, true),
    timeouts: new Points(limit, true),
    active: new Points(limit, false),
    queued: new Points(limit, false),
    adaptiveLimit: new Points(limit, false),
    states: new Map(),
    stateRoom: new Cardinality(limit),
    cardinalityLimit,
    durationAttributes: new DurationAttributes(limit),
    duration,
    buckets: Object.freeze([...buckets]),
    users: 1,
    stop: () => {
      meter.removeBatchObservableCallback(observe, observables);
      byMeter.delete(meter);
    },
  };
  const stateAttributes = new Map<string, readonly Attributes[]>();
  const stateAttributesOf = (name: string): readonly Attributes[] => {
    let attributes = stateAttributes.get(name);
    if (attributes === undefined) {
      attributes = STATES.map((s) =>
        Object.freeze({ [AttributeNames.Name]: name, [AttributeNames.CircuitBreakerState]: s }),
      );
      stateAttributes.set(name, attributes);
    }
    return attributes;
  };
  const observables: Observable[] = [calls, attempts, rejections, timeouts, state, active, queued, adaptiveLimit];
  const observe: BatchObservableCallback = (result) => {
    instruments.calls.observe(result, calls);
    instruments.attempts.observe(result, attempts);
    instruments.rejections.observe(result, rejections);
    instruments.timeouts.observe(result, timeouts);
    instruments.active.observe(result, active);
    instruments.queued.observe(result, queued);
    instruments.adaptiveLimit.observe(result, adaptiveLimit);
    for (const [name, current] of instruments.states) {
      const attributes = stateAttributesOf(name);
      for (let i = 0; i < STATES.length; i++) result.observe(state, STATES[i] === current ? 1 : 0, attributes[i]);
    }
  };
  meter.addBatchObservableCallback(observe, observables);
  return instruments;
}
