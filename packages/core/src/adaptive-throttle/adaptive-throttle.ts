import type { Clock } from '../clock/clock.js';
import type { ExecuteOptions, ExecutionContext, Operation, Policy } from '../context.js';
import { CircuitOpenError } from '../errors/errors.js';
import { isTimeoutError } from '../errors/guards.js';
import { checkConfigKeys, knownKeys, type PeerHints } from '../internal/config-keys.js';
import { contextAbortReason, enter, isAbortedContext } from '../internal/context.js';
import { EventHub, type EventListener, type Subscription } from '../internal/events.js';
import { predicateOption } from '../internal/hooks.js';
import { Telemetry } from '../internal/telemetry.js';
import { type Commit, knownOptions, mergeUpdate, registerUpdater } from '../internal/update.js';
import { clockOption, configObject, functionOption, numberOption } from '../internal/validate.js';
import { type AdaptiveThrottleEvents, adaptiveThrottleEvents } from './events.js';
import type { AdaptiveThrottleConfig } from './types.js';

const OWNER = 'AdaptiveThrottle';

/** The window slides in this many steps. */
const BUCKETS = 10;

const knownConfigKeys = knownKeys([
  'k',
  'window',
  'maxRejectionProbability',
  'isSuccessful',
  'onRejected',
  'random',
  'clock',
]);

/** Options of circuit breakers elsewhere, and what to do here instead. */
const peerHints: PeerHints = {
  multiplier: `the SRE book's multiplier is "k" here`,
  K: `use "k"`,
  windowMs: `use "window"`,
  interval: `the rolling window is "window" here`,
  timeout: `there is no open state to time out: the throttle admits calls again as the dependency accepts them`,
  readyToTrip: `there are no thresholds: the rejection probability follows requests and accepts (see "k")`,
  failureThreshold: `there are no thresholds: the rejection probability follows requests and accepts (see "k")`,
  errorThresholdPercentage: `there are no thresholds: the rejection probability follows requests and accepts (see "k")`,
};

/**
 * The adaptive circuit breaker of Google's SRE book ("Handling Overload",
 * client-side throttling). Over a rolling `window` it counts the requests the
 * caller made (locally rejected ones included) and those the dependency
 * accepted, and rejects a new call locally, with a {@link CircuitOpenError},
 * with probability `max(0, (requests − k × accepts) / (requests + 1))`,
 * capped at `maxRejectionProbability` (0.9 by default, so a long outage
 * cannot starve the dependency of the calls that show it recovered).
 *
 * There are no thresholds to tune: while the dependency accepts everything
 * the probability is 0, and it never rejects (with `k >= 1`); in a partial
 * outage it sheds about the share of calls the dependency would fail anyway,
 * and it lets enough through (`k` times the accepts) to notice recovery,
 * which it follows smoothly, with no half-open probing.
 *
 * A call whose caller aborted while it ran is counted neither way, unless a
 * `Timeout` around the throttle aborted it (a `TimeoutError`): that is a
 * request the dependency did not accept. With
 * `isSuccessful`, an error the dependency answered with (a 404) counts as accepted.
 *
 * @example
 * ```ts
 * const throttle = new AdaptiveThrottle({ k: 2, window: 60_000 });
 * const user = await throttle.execute(({ signal }) => fetchUser(id, { signal }));
 * ```
 */
export class AdaptiveThrottle<T = unknown> implements Policy<T> {
  /** The multiplier of the formula. */
  readonly k: number;
  /** The rolling window, in ms. */
  readonly window: number;
  /** The highest rejection probability. */
  readonly maxRejectionProbability: number;
  readonly #clock: Clock;
  #telemetry: Telemetry;
  #isSuccessful: ((error: unknown) => boolean) | undefined;
  #onRejected: ((probability: number) => void) | undefined;
  #random: () => number;
  #bucketMs: number;
  #origin: number;
  readonly #requests: number[] = new Array<number>(BUCKETS).fill(0);
  readonly #accepts: number[] = new Array<number>(BUCKETS).fill(0);
  #bucket = 0;
  #totalRequests = 0;
  #totalAccepts = 0;
  /** The config as built and updated, for `update()` to merge over. */
  #config: AdaptiveThrottleConfig;
  /** The listeners of `on()`; `undefined` until the first one. */
  #events: EventHub<AdaptiveThrottleEvents> | undefined = undefined;

  /**
   * @param config - `k`, `window`, `isSuccessful`, `onRejected`, `random`, `clock` and observability options
   * @throws TypeError or RangeError naming the option when the config is invalid
   */
  constructor(config?: AdaptiveThrottleConfig) {
    const c = configObject(OWNER, config) as Partial<AdaptiveThrottleConfig>;
    checkConfigKeys(OWNER, c, knownConfigKeys, peerHints);
    this.k = numberOption(OWNER, 'k', c.k, 2, { min: 1 });
    this.window = numberOption(OWNER, 'window', c.window, 120_000, { min: 0, minExclusive: true });
    this.maxRejectionProbability = numberOption(OWNER, 'maxRejectionProbability', c.maxRejectionProbability, 0.9, {
      min: 0,
      minExclusive: true,
      max: 1,
    });
    this.#isSuccessful = predicateOption(OWNER, 'isSuccessful', c.isSuccessful);
    this.#onRejected = functionOption(OWNER, 'onRejected', c.onRejected);
    this.#random = functionOption(OWNER, 'random', c.random) ?? Math.random;
    this.#clock = clockOption(OWNER, c.clock);
    this.#telemetry = Telemetry.for('adaptive_throttle', c);
    this.#bucketMs = this.window / BUCKETS;
    this.#origin = this.#clock.now();
    this.#config = c as AdaptiveThrottleConfig;
  }

  /** Requests counted in the window (locally rejected ones included). */
  get requests(): number {
    this.#roll(this.#clock.now());
    return this.#totalRequests;
  }

  /** Requests the dependency accepted in the window. */
  get accepts(): number {
    this.#roll(this.#clock.now());
    return this.#totalAccepts;
  }

  /** The probability with which the next call is rejected locally, from 0 to `maxRejectionProbability`. */
  get rejectionProbability(): number {
    this.#roll(this.#clock.now());
    return this.#probability();
  }

  /** Forgets every count (the probability goes back to 0). */
  reset(): void {
    this.#requests.fill(0);
    this.#accepts.fill(0);
    this.#totalRequests = 0;
    this.#totalAccepts = 0;
  }

  /**
   * Runs `fn` unless the throttle rejects it locally (a {@link CircuitOpenError},
   * without calling `fn`); settles with `fn`'s own value or error otherwise.
   * Never throws synchronously.
   */
  execute<R extends T>(fn: Operation<R>, options?: ExecuteOptions): Promise<R> {
    let ctx: ExecutionContext;
    try {
      ctx = enter(OWNER, fn, options);
    } catch (err) {
      return Promise.reject(err);
    }
    if (this.#telemetry.tracer !== undefined) {
      return this.#telemetry.traced('resilience.adaptive_throttle', undefined, () => this.#run(fn, ctx));
    }
    return this.#run(fn, ctx);
  }

  async #run<R>(fn: Operation<R>, ctx: ExecutionContext): Promise<R> {
    this.#roll(this.#clock.now());
    const probability = this.#probability();
    if (probability > 0 && this.#draw() < probability) throw this.#reject(probability);
    let value: R;
    try {
      value = await fn(ctx);
    } catch (error) {
      this.#settled(error, ctx);
      throw error;
    }
    this.#count(true);
    this.#telemetry.recordCircuitBreakerCall('success', undefined);
    return value;
  }

  #settled(error: unknown, ctx: ExecutionContext): void {
    const telemetry = this.#telemetry;
    // The caller went away: no outcome. A Timeout around the throttle that gave up is one (not accepted), or a
    // dependency that hangs until the deadline would never be throttled.
    if (isAbortedContext(ctx) && !isTimeoutError(contextAbortReason(ctx))) {
      telemetry.recordCircuitBreakerCall('cancelled', undefined);
      return;
    }
    const accepted = this.#isSuccessful !== undefined && telemetry.ask(this.#isSuccessful, error, 'isSuccessful');
    this.#count(accepted);
    telemetry.recordCircuitBreakerCall(accepted ? 'success' : 'failure', undefined);
  }

  #reject(probability: number): CircuitOpenError {
    this.#totalRequests++;
    const slot = slotOf(this.#bucket);
    this.#requests[slot] = (this.#requests[slot] as number) + 1;
    const telemetry = this.#telemetry;
    telemetry.recordCircuitBreakerCall('rejected', undefined);
    telemetry.invokeHook(this.#onRejected, 'onRejected', probability);
    this.#events?.emit('rejected', { probability });
    if (telemetry.logger !== undefined) telemetry.log('debug', 'adaptive throttle rejected a call', { probability });
    return new CircuitOpenError({
      message: `Adaptive throttle rejected the call locally (rejection probability ${probability.toFixed(3)})`,
    });
  }

  /** The clock's time; `NaN` (logged) when the user's clock throws: the call's own outcome stands. */
  #now(): number {
    try {
      return this.#clock.now();
    } catch (err) {
      this.#telemetry.log('error', 'clock.now threw', { err });
      return Number.NaN;
    }
  }

  #count(accepted: boolean): void {
    // A clock that threw counts the call in the current step of the window.
    this.#roll(this.#now());
    const slot = slotOf(this.#bucket);
    this.#totalRequests++;
    this.#requests[slot] = (this.#requests[slot] as number) + 1;
    if (accepted) {
      this.#totalAccepts++;
      this.#accepts[slot] = (this.#accepts[slot] as number) + 1;
    }
  }

  #probability(): number {
    const requests = this.#totalRequests;
    const p = (requests - this.k * this.#totalAccepts) / (requests + 1);
    if (!(p > 0)) return 0;
    return p < this.maxRejectionProbability ? p : this.maxRejectionProbability;
  }

  #draw(): number {
    let r: unknown;
    try {
      r = this.#random();
    } catch (err) {
      this.#telemetry.log('error', 'random threw', { err });
      return Math.random();
    }
    return typeof r === 'number' && r >= 0 && r < 1 ? r : Math.random();
  }

  /**
   * Moves the window to `now`, clearing the buckets that slid out of it. A
   * clock that went back moves the window back with it (the counts stay), so
   * it goes on sliding from there instead of waiting for the clock to catch
   * up; a step too fine for the clock's numbers (a tiny `window`) clears it all.
   */
  #roll(now: number): void {
    const index = Math.floor((now - this.#origin) / this.#bucketMs);
    const current = this.#bucket;
    if (index === current || Number.isNaN(index)) return; // Same bucket, or a clock that cannot tell the time.
    if (index === Number.POSITIVE_INFINITY) {
      this.reset(); // More buckets passed than a number can count: nothing is left in the window.
      return;
    }
    if (index < current) {
      if (index !== Number.NEGATIVE_INFINITY) this.#bucket = index;
      return;
    }
    this.#bucket = index;
    if (index - current >= BUCKETS) {
      this.reset(); // The whole window slid out (also when the indices are too large to step through one by one).
      return;
    }
    const steps = index - current;
    for (let i = 1; i <= steps; i++) {
      const slot = slotOf(current + i);
      this.#totalRequests -= this.#requests[slot] as number;
      this.#totalAccepts -= this.#accepts[slot] as number;
      this.#requests[slot] = 0;
      this.#accepts[slot] = 0;
    }
  }

  /**
   * Follows the throttle from code that did not build it: `'rejected'`
   * (`{ probability }`) for each call it rejects locally. Listeners run
   * synchronously after `onRejected`; one that throws or returns a rejected
   * promise is logged and changes nothing. Nobody listening costs nothing.
   *
   * @returns a subscription: `dispose()` it (or `using` it) to stop listening
   * @throws TypeError for an unknown event or a listener that is not a function
   */
  on<K extends keyof AdaptiveThrottleEvents>(
    event: K,
    listener: EventListener<AdaptiveThrottleEvents[K]>,
  ): Subscription {
    this.#events ??= new EventHub<AdaptiveThrottleEvents>(OWNER, this.#telemetry);
    return this.#events.on(adaptiveThrottleEvents, event, listener);
  }

  /**
   * Changes settings at run time: `partial` is merged over the current config
   * and the whole result validated as the constructor does (a bad value
   * throws, naming it, and the old settings stay). The counts of the window
   * are kept, so the rejection probability moves at once with a new `k` or
   * `maxRejectionProbability`. A new `window` keeps them too: from now on the
   * window slides in ten steps of the new `window / 10`, the current step
   * having half a step left, so what was counted ages out at the new pace.
   * Calls running finish as they started and are counted when they settle,
   * with the `isSuccessful` of that moment. `name` and `clock` cannot change.
   * An option given as `undefined` goes back to its default.
   *
   * @throws TypeError or RangeError naming the option
   */
  update(partial: Partial<AdaptiveThrottleConfig>): void {
    this.#prepare(partial)();
  }

  static {
    // biome-ignore lint/complexity/noThisInStatic: tsc 7 compiles the class's name here to undefined (see registerUpdater)
    registerUpdater(this, (throttle, partial) => throttle.#prepare(partial));
  }

  /** The validating half of {@link AdaptiveThrottle.update}: throws, or returns what applies the change. */
  #prepare(partial: Partial<AdaptiveThrottleConfig>): Commit {
    const config = mergeUpdate(OWNER, this.#config, partial, knownOptions.adaptiveThrottle);
    const next = new AdaptiveThrottle(config);
    return () => {
      if (next.window !== this.window) {
        const now = this.#now();
        this.#roll(now);
        const bucketMs = next.#bucketMs;
        // The current step goes on (with half a new step left), so no count is dropped by the change itself.
        const origin = now - (this.#bucket + 0.5) * bucketMs;
        this.#bucketMs = bucketMs;
        if (Number.isFinite(origin)) this.#origin = origin;
        else {
          // A clock that cannot tell the time, or indices too large to place: start the window again from here.
          this.reset();
          this.#bucket = 0;
          this.#origin = Number.isFinite(now) ? now : next.#origin;
        }
      }
      const self = this as { k: number; window: number; maxRejectionProbability: number };
      self.k = next.k;
      self.window = next.window;
      self.maxRejectionProbability = next.maxRejectionProbability;
      this.#isSuccessful = next.#isSuccessful;
      this.#onRejected = next.#onRejected;
      this.#random = next.#random;
      this.#telemetry = next.#telemetry;
      this.#config = config;
      if (this.#events !== undefined) this.#events.telemetry = next.#telemetry;
    };
  }
}

/** The ring slot of bucket `index` (a clock that went back before the origin gives negative indices). */
function slotOf(index: number): number {
  const slot = index % BUCKETS;
  return slot < 0 ? slot + BUCKETS : slot;
}
