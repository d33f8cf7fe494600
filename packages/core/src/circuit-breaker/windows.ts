import type { WindowSettings } from './config.js';

const FAILED = 1;
const SLOW = 2;

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
 * time moves past a bucket, the whole bucket drops out.
 */
export class TimeWindow implements OutcomeWindow {
  /** Calls in the window (as of the latest record). */
  calls = 0;
  /** Failed calls in the window. */
  failures = 0;
  /** Slow calls in the window. */
  slowCalls = 0;
  readonly #bucketMs: number;
  readonly #calls: Uint32Array;
  readonly #failures: Uint32Array;
  readonly #slow: Uint32Array;
  /** The bucket number (time / bucketMs) of the newest bucket, or -Infinity when empty. */
  #head = Number.NEGATIVE_INFINITY;

  /**
   * @param buckets - how many buckets the window has
   * @param bucketMs - the length of one bucket in ms
   */
  constructor(buckets: number, bucketMs: number) {
    this.#bucketMs = bucketMs;
    this.#calls = new Uint32Array(buckets);
    this.#failures = new Uint32Array(buckets);
    this.#slow = new Uint32Array(buckets);
  }

  /** Adds one outcome at clock time `now`, first dropping the buckets that time moved past. */
  record(now: number, failed: boolean, slow: boolean): void {
    const n = this.#calls.length;
    let bucket = Math.floor(now / this.#bucketMs);
    if (bucket > this.#head) {
      this.#expire(bucket, n);
      this.#head = bucket;
    } else {
      bucket = this.#head; // a clock that went backwards lands in the newest bucket
    }
    const index = ((bucket % n) + n) % n;
    const calls = this.#calls;
    calls[index] = (calls[index] as number) + 1;
    this.calls++;
    if (failed) {
      const failures = this.#failures;
      failures[index] = (failures[index] as number) + 1;
      this.failures++;
    }
    if (slow) {
      const slowCalls = this.#slow;
      slowCalls[index] = (slowCalls[index] as number) + 1;
      this.slowCalls++;
    }
  }

  /** Forgets every outcome. */
  reset(): void {
    this.#calls.fill(0);
    this.#failures.fill(0);
    this.#slow.fill(0);
    this.calls = 0;
    this.failures = 0;
    this.slowCalls = 0;
    this.#head = Number.NEGATIVE_INFINITY;
  }

  /** Empties the buckets that time moved past, on the way from the head to `bucket`. */
  #expire(bucket: number, n: number): void {
    if (this.calls === 0) return;
    const steps = Math.min(bucket - this.#head, n);
    for (let i = 1; i <= steps; i++) {
      const index = (((this.#head + i) % n) + n) % n;
      this.calls -= this.#calls[index] as number;
      this.failures -= this.#failures[index] as number;
      this.slowCalls -= this.#slow[index] as number;
      this.#calls[index] = 0;
      this.#failures[index] = 0;
      this.#slow[index] = 0;
    }
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
