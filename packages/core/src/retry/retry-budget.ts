import type { Clock } from '../clock/clock.js';
import { checkConfigKeys } from '../internal/config-keys.js';
import { RollingCounter } from '../internal/rolling-counter.js';
import { clockOption, configObject, numberOption } from '../internal/validate.js';

const knownConfigKeys: ReadonlySet<string> = new Set(['ratio', 'minRetriesPerSecond', 'window', 'clock']);

/** Options of a {@link RetryBudget}. */
export interface RetryBudgetConfig {
  /**
   * The largest share of retries among calls over the window: with 0.2, the
   * retries of every `Retry` sharing the budget add at most 20% to the calls
   * they make (plus the `minRetriesPerSecond` reserve). Between 0 and 1.
   * @default 0.2
   */
  ratio?: number;
  /**
   * Retries allowed per second of the window whatever the ratio says, so a
   * service with little traffic can still retry.
   * @default 10
   */
  minRetriesPerSecond?: number;
  /**
   * How far back calls and retries are counted, in milliseconds.
   * @default 10000
   */
  window?: number;
  /**
   * Where time comes from.
   * @default systemClock
   */
  clock?: Clock;
}

/** The window is counted in this many slices; older slices drop out whole. */
const SLICES = 10;

/** The ring position of a slice number (slice numbers may be negative). */
/** The channels of the budget's counter. */
const CALLS = 0;
const RETRIES = 1;

/**
 * A retry budget that several `Retry` instances can share, like gRPC's retry
 * throttling or Envoy's retry budget: each call through a `Retry` using the
 * budget counts as a call, each retry asks the budget first, and retries stop
 * while the share of retries among the calls of the recent window has reached
 * `ratio`. A failing dependency then sees at most `1 + ratio` times its normal
 * load instead of `maxAttempts` times.
 *
 * A `Retry` whose retry is refused by the budget gives up with a
 * `MaxAttemptsReachedError` whose `cause` is the last error.
 *
 * @example
 * ```ts
 * // One budget for every client of the inventory service.
 * const budget = new RetryBudget({ ratio: 0.1, minRetriesPerSecond: 5 });
 * const reads = new Retry({ maxAttempts: 4, budget });
 * const writes = new Retry({ maxAttempts: 2, budget, nonRetryableErrors: [ConflictError] });
 * // Under an outage, both together retry at most 10% of their calls (plus 5 a second).
 * ```
 */
export class RetryBudget {
  /** The largest share of retries among calls. */
  readonly ratio: number;
  /** Retries always allowed per second. */
  readonly minRetriesPerSecond: number;
  /** The counting window in milliseconds. */
  readonly window: number;
  readonly #clock: Clock;
  readonly #reserve: number;
  readonly #counter: RollingCounter;

  /** @param config - ratio, reserve, window and clock */
  constructor(config?: RetryBudgetConfig) {
    const c = configObject('RetryBudget', config);
    checkConfigKeys('RetryBudget', c, knownConfigKeys, {
      retryRatio: `use "ratio"`,
      ttl: `use "window" (ms)`,
      minRetries: `use "minRetriesPerSecond"`,
    });
    this.ratio = numberOption('RetryBudget', 'ratio', c.ratio, 0.2, { min: 0, max: 1 });
    this.minRetriesPerSecond = numberOption('RetryBudget', 'minRetriesPerSecond', c.minRetriesPerSecond, 10, {
      min: 0,
    });
    this.window = numberOption('RetryBudget', 'window', c.window, 10_000, { min: 0, minExclusive: true });
    const clock = clockOption('RetryBudget', c.clock);
    this.#clock = clock;
    this.#reserve = (this.minRetriesPerSecond * this.window) / 1000;
    this.#counter = new RollingCounter(2, SLICES, this.window / SLICES);
    this.#counter.roll(clock.now());
  }

  /** Calls counted in the current window. */
  get calls(): number {
    this.#roll();
    return this.#counter.total(CALLS);
  }

  /** Retries counted in the current window. */
  get retries(): number {
    this.#roll();
    return this.#counter.total(RETRIES);
  }

  /** True when a retry would be allowed now (takes nothing). */
  canRetry(): boolean {
    this.#roll();
    const counter = this.#counter;
    return counter.total(RETRIES) + 1 <= Math.max(this.#reserve, this.ratio * counter.total(CALLS));
  }

  /** Counts one call (a first attempt). A `Retry` calls it for you. */
  recordCall(): void {
    this.#roll();
    this.#counter.add(CALLS);
  }

  /** Takes one retry from the budget when one is left; returns whether it may happen. */
  tryRetry(): boolean {
    if (!this.canRetry()) return false;
    this.#counter.add(RETRIES);
    return true;
  }

  /** Drops the slices that fell out of the window. */
  #roll(): void {
    this.#counter.roll(this.#clock.now());
  }
}
