import { describeValue } from '../internal/validate.js';

/**
 * How the delay before each retry grows. Use the constant object or the
 * string literals interchangeably.
 *
 * - `exponential`: `initialDelay * multiplier ** (retry - 1)`, so 100, 200, 400…
 * - `linear`: `initialDelay * retry`, so 100, 200, 300…
 * - `constant`: `initialDelay` every time.
 * - `decorrelated-jitter`: AWS's "decorrelated jitter": each delay is drawn
 *   uniformly between `initialDelay` and three times the previous delay. It is
 *   random by nature, so the `jitter` option is not applied on top of it.
 *
 * Every delay is capped by `maxDelay`, and stays finite and non-negative for
 * any number of retries.
 */
export const BackoffPolicy = {
  Exponential: 'exponential',
  Linear: 'linear',
  Constant: 'constant',
  DecorrelatedJitter: 'decorrelated-jitter',
} as const;

/** One of the values of {@link BackoffPolicy}. */
export type BackoffPolicy = (typeof BackoffPolicy)[keyof typeof BackoffPolicy];

/** Every backoff name, for validation. */
export const backoffPolicies: readonly BackoffPolicy[] = Object.values(BackoffPolicy);

/**
 * A jitter strategy of your own: gets the backoff's delay, the number of the
 * retry (1 for the first retry) and the `random` function of the `Retry`,
 * and returns the delay to wait. The result is clamped to `[0, maxDelay]`; a
 * `NaN` counts as 0.
 */
export type JitterStrategy = (delayMs: number, retry: number, random: () => number) => number;

/**
 * The jitter options:
 * - `false`: no jitter (the default).
 * - `true` or `'full'`: "full jitter", a delay drawn uniformly from `[0, delay)`.
 * - `'equal'`: "equal jitter", half the delay plus a random share of the other half.
 * - a {@link JitterStrategy}.
 */
export type Jitter = boolean | 'full' | 'equal' | JitterStrategy;

/** The settings a delay is computed from, normalised once by the `Retry`. */
export interface BackoffSettings {
  readonly backoff: BackoffPolicy;
  readonly initialDelay: number;
  readonly maxDelay: number;
  readonly multiplier: number;
  /** `undefined` for no jitter. */
  readonly jitter: JitterStrategy | undefined;
  readonly random: () => number;
}

/** Full jitter: uniform in `[0, delay)`. */
export const fullJitter: JitterStrategy = (delayMs, _retry, random) => delayMs * randomNumber(random);

/** Equal jitter: `delay / 2` plus a uniform share of the other half. */
export const equalJitter: JitterStrategy = (delayMs, _retry, random) =>
  delayMs / 2 + (delayMs / 2) * randomNumber(random);

/** The {@link JitterStrategy} for a `jitter` option, `undefined` for none. */
export function jitterStrategy(jitter: Jitter): JitterStrategy | undefined {
  if (jitter === false) return undefined;
  if (jitter === true || jitter === 'full') return fullJitter;
  if (jitter === 'equal') return equalJitter;
  return jitter;
}

/** `value` clamped to `[0, max]`; `NaN` becomes 0. */
export function clampDelay(value: number, max: number): number {
  if (!(value > 0)) return 0;
  return value < max ? value : max;
}

/**
 * The delay before retry number `retry` (1 for the first retry, after the
 * first attempt failed). `previous` is the delay waited before the previous
 * retry (the decorrelated backoff grows from it; others ignore it).
 */
export function computeDelay(settings: BackoffSettings, retry: number, previous: number): number {
  const { initialDelay, maxDelay } = settings;
  let delay: number;
  switch (settings.backoff) {
    case 'constant':
      delay = initialDelay;
      break;
    case 'linear':
      delay = initialDelay * retry;
      break;
    case 'decorrelated-jitter': {
      const base = initialDelay;
      const upper = Math.max(base, (previous > 0 ? previous : base) * 3);
      return clampDelay(base + (upper - base) * randomNumber(settings.random), maxDelay);
    }
    default:
      // `initialDelay * multiplier ** n` overflows to Infinity for large n (and
      // 0 * Infinity is NaN): clampDelay turns both into a finite delay.
      delay = initialDelay === 0 ? 0 : initialDelay * settings.multiplier ** (retry - 1);
  }
  delay = clampDelay(delay, maxDelay);
  const jitter = settings.jitter;
  if (jitter === undefined) return delay;
  const jittered: unknown = jitter(delay, retry, settings.random);
  if (typeof jittered !== 'number') {
    throw new TypeError(`jitter must return a number, got ${describeValue(jittered)}`);
  }
  return clampDelay(jittered, maxDelay);
}

/** A draw of `random`, which must be a number (a BigInt or a string would poison the arithmetic). */
function randomNumber(random: () => number): number {
  const value: unknown = random();
  if (typeof value !== 'number') throw new TypeError(`random must return a number, got ${describeValue(value)}`);
  return value;
}
