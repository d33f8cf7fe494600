import { RollingCounter } from '../internal/rolling-counter.js';
import type { WindowSettings } from './config.js';

const FAILED = 1;
const SLOW = 2;
/** The channels of a {@link TimeWindow}'s counter. */
const CALLS = 0;
const FAILURES = 1;
const SLOW_CALLS = 2;

/**
 * A sliding window of call outcomes with running totals, so that the rates
 * cost O(1) per call. Allocated only for a breaker configured with a window.
 */
export interface OutcomeWindow {
  /** Calls in the window (as of the latest record). */
  readonly calls: number;
  /** Failed calls in the window. */
  readonly failures: number;
  /** Slow calls in the window (failed or not). */
  readonly slowCalls: number;
  /** Adds one outcome observed at clock time `now`. */
  record(now: number, failed: boolean, slow: boolean): void;
  /** Forgets every outcome. */
  reset(): void;
}

/** The last `size` outcomes, in a ring of one byte each. */
export class CountWindow implements OutcomeWindow {
  /** Calls in the window. */
  calls = 0;
  /** Failed calls in the window. */
  failures = 0;
  /** Slow calls in the window. */
  slowCalls = 0;
  readonly #ring: Uint8Array;
  #next = 0;

  /** @param size - how many outcomes the window holds */
  constructor(size: number) {
    this.#ring = new Uint8Array(size);
  }

  /** Adds one outcome, pushing out the oldest when the window is full (`now` is not needed). */
  record(_now: number, failed: boolean, slow: boolean): void {
    const ring = this.#ring;
    const index = this.#next;
    if (this.calls === ring.length) {
      const old = ring[index] as number;
      this.failures -= old & FAILED;
      this.slowCalls -= (old & SLOW) >> 1;
    } else {
      this.calls++;
    }
    const code = (failed ? FAILED : 0) | (slow ? SLOW : 0);
    ring[index] = code;
    this.failures += code & FAILED;
    this.slowCalls += (code & SLOW) >> 1;
    this.#next = index + 1 === ring.length ? 0 : index + 1;
  }

  /** Forgets every outcome. */
  reset(): void {
    this.#ring.fill(0);
    this.calls = 0;
    this.failures = 0;
    this.slowCalls = 0;
    this.#next = 0;
  }
}

/**
 * The outcomes of the last `buckets × bucketMs` ms, in rolling buckets: when
 * time moves past a bucket, the whole bucket drops out (a {@link RollingCounter}
 * of calls, failures and slow calls).
 */
export class TimeWindow implements OutcomeWindow {
  readonly #counter: RollingCounter;

  /**
   * @param buckets - how many buckets the window has
   * @param bucketMs - the length of one bucket in ms
   */
  constructor(buckets: number, bucketMs: number) {
    this.#counter = new RollingCounter(3, buckets, bucketMs);
  }

  /** Calls in the window (as of the latest record). */
  get calls(): number {
    return this.#counter.total(CALLS);
  }

  /** Failed calls in the window. */
  get failures(): number {
    return this.#counter.total(FAILURES);
  }

  /** Slow calls in the window. */
  get slowCalls(): number {
    return this.#counter.total(SLOW_CALLS);
  }

  /** Adds one outcome at clock time `now`, first dropping the buckets that time moved past. */
  record(now: number, failed: boolean, slow: boolean): void {
    const counter = this.#counter;
    counter.roll(now);
    counter.add(CALLS);
    if (failed) counter.add(FAILURES);
    if (slow) counter.add(SLOW_CALLS);
  }

  /** Forgets every outcome. */
  reset(): void {
    this.#counter.reset();
  }
}

/** The window for these settings. */
export function createWindow(settings: WindowSettings): OutcomeWindow {
  return settings.kind === 'count'
    ? new CountWindow(settings.slots)
    : new TimeWindow(settings.slots, settings.bucketMs);
}

/**
 * Whether the window's rates call for opening: enough calls, and the failure
 * rate or the slow-call rate at or above its threshold.
 */
export function ratesExceeded(window: OutcomeWindow, settings: WindowSettings): boolean {
  const calls = window.calls;
  if (calls < settings.minimumCalls) return false;
  return (
    window.failures / calls >= settings.failureRateThreshold ||
    window.slowCalls / calls >= settings.slowCallRateThreshold
  );
}
