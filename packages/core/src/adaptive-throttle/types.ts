import type { Clock } from '../clock/clock.js';
import type { ObservabilityOptions } from '../observability/types.js';

/** Configuration of an {@link AdaptiveThrottle}. */
export interface AdaptiveThrottleConfig extends ObservabilityOptions {
  /**
   * The multiplier of Google's formula: the throttle starts rejecting once
   * requests exceed `k` times the accepted ones (a finite number >= 1; lower
   * is more aggressive: 2 lets through about twice what the dependency
   * accepts, so the dependency still sees enough traffic to show it recovered).
   * @default 2
   */
  k?: number | undefined;
  /**
   * The rolling window of the counts, in ms (finite, > 0). It slides in ten
   * steps of `window / 10`. Shorter reacts faster to an outage and to recovery.
   * @default 120000 (two minutes, as in the SRE book)
   */
  window?: number | undefined;
  /**
   * The highest rejection probability (> 0 and <= 1). With 1 this is the
   * SRE book's formula as it stands; but in a long outage its probability
   * creeps towards 1, almost nothing reaches the dependency, and recovery
   * then takes many windows (about `window × ln(1 / (1 − p))`). A cap, as in
   * Envoy's admission control, keeps a share of calls going to the dependency
   * so that it recovers within a few windows.
   * @default 0.9
   */
  maxRejectionProbability?: number | undefined;
  /**
   * Whether an error the dependency answered with still counts as accepted (a
   * 404, a validation error): the dependency did its job. A synchronous
   * predicate; an `async` one is refused at construction.
   * @default every thrown value counts as not accepted
   */
  isSuccessful?: ((error: unknown) => boolean) | undefined;
  /**
   * Called each time the throttle rejects a call locally, with the rejection
   * probability it used. An exception it throws is logged and ignored.
   * @default none
   */
  onRejected?: ((probability: number) => void) | undefined;
  /**
   * The random source of the rejections, returning numbers in `[0, 1)`; inject
   * one for deterministic tests and simulations. A value outside `[0, 1)` or a
   * throw falls back to `Math.random`.
   * @default Math.random
   */
  random?: (() => number) | undefined;
  /**
   * Where the window reads time.
   * @default systemClock
   */
  clock?: Clock | undefined;
}
