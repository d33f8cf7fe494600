import type { Clock } from '../clock/clock.js';
import type { ExecutionContext } from '../context.js';
import type { ObservabilityOptions } from '../observability/types.js';

/** What a {@link Chaos} policy did to a call it picked: `'latency'`, then `'fault'` or `'result'` (or neither). */
export type ChaosInjection = 'latency' | 'fault' | 'result';

/** Configuration of a {@link Chaos} policy. At least one of `fault`, `latency` and `result` is required. */
export interface ChaosConfig<T = unknown> extends ObservabilityOptions {
  /** The share of calls to inject into, from 0 to 1. Required. */
  rate: number;
  /**
   * The failure to inject: the value thrown (an `Error` instance, usually),
   * or a function of the call's context that makes one (an arrow function or
   * plain function; a class is refused, wrap it: `() => new MyError()`).
   * Cannot be combined with `result`.
   * @default none
   */
  fault?: unknown;
  /**
   * Latency to add before the call (or the injected fault or result), in ms
   * (finite, >= 0, at most 2^31 − 1). The wait ends at once when the caller's signal aborts.
   * @default 0
   */
  latency?: number | undefined;
  /**
   * The value to return instead of calling `fn` (`undefined` counts as not
   * given: inject latency alone, or a value). Cannot be combined with `fault`.
   * @default none
   */
  result?: T | undefined;
  /**
   * Whether the policy injects anything. Off unless enabled, so a policy can
   * ship in every environment and be switched on (`enable()`) in staging.
   * @default false
   */
  enabled?: boolean | undefined;
  /**
   * Called each time a call is picked, with what is injected. An exception
   * it throws is logged and ignored.
   * @default none
   */
  onInject?: ((injection: ChaosInjection, ctx: ExecutionContext) => void) | undefined;
  /**
   * The random source that picks calls, returning numbers in `[0, 1)`. A value
   * outside `[0, 1)` or a throw falls back to `Math.random`.
   * @default Math.random
   */
  random?: (() => number) | undefined;
  /**
   * Where the injected latency is waited.
   * @default systemClock
   */
  clock?: Clock | undefined;
}
