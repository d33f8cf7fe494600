import type { BulkheadRejectReason } from '../bulkhead/types.js';
import { type Waiter, WaitQueue, type WaitQueueHooks } from '../bulkhead/wait-queue.js';
import type { Clock } from '../clock/clock.js';
import type { ExecuteOptions, ExecutionContext, Operation, Policy } from '../context.js';
import { BulkheadFullError } from '../errors/errors.js';
import { isTimeoutError } from '../errors/guards.js';
import { checkConfigKeys, knownKeys, type PeerHints } from '../internal/config-keys.js';
import { contextAbortReason, enter, isAbortedContext } from '../internal/context.js';
import { EventHub, type EventListener, type Subscription } from '../internal/events.js';
import { predicateOption } from '../internal/hooks.js';
import { Telemetry } from '../internal/telemetry.js';
import { type Commit, knownOptions, mergeUpdate, registerUpdater } from '../internal/update.js';
import { clockOption, configObject, functionOption, numberOption, oneOfOption } from '../internal/validate.js';
import { type AdaptiveBulkheadEvents, adaptiveBulkheadEvents } from './events.js';
import { AimdLimit, clampLimit, GradientLimit, type LimitAlgorithm } from './limits.js';
import type { AdaptiveBulkheadConfig, AdaptiveLimitAlgorithm } from './types.js';

const OWNER = 'AdaptiveBulkhead';
const ALGORITHMS: readonly AdaptiveLimitAlgorithm[] = ['gradient', 'aimd'];

const knownConfigKeys = knownKeys([
  'algorithm',
  'initialLimit',
  'minLimit',
  'maxLimit',
  'maxQueue',
  'queueTimeout',
  'backoffRatio',
  'latencyThreshold',
  'tolerance',
  'smoothing',
  'baselineDrift',
  'isDrop',
  'onRejected',
  'onLimitChange',
  'clock',
]);

/** Options of peer libraries (Netflix concurrency-limits, a fixed bulkhead), and what to use here instead. */
const peerHints: PeerHints = {
  maxConcurrent: `an adaptive bulkhead's limit moves between "minLimit" and "maxLimit", starting at "initialLimit"`,
  rttTolerance: `concurrency-limits' rttTolerance is "tolerance" here`,
  timeout: `concurrency-limits' AIMD timeout is "latencyThreshold" here; "queueTimeout" bounds the wait for a slot`,
  queueSize: `use "maxQueue" (the gradient's headroom is fixed at 4)`,
  longWindow: `the gradient's baseline is the lowest latency seen, rising by at most "baselineDrift" per second`,
};

/** What the wait queue asks of a AdaptiveBulkhead (set by the class's static block, which reaches its private state). */
let queueHooks: WaitQueueHooks<AdaptiveBulkhead<unknown>>;

/**
 * Set while `update()` builds the bulkhead that validates and carries its new
 * settings: that one must not report its `initialLimit` (the live bulkhead
 * keeps its own limit, and an update that is refused reports nothing).
 */
let buildingUpdate = false;

/**
 * A bulkhead whose concurrency limit follows the dependency, as Netflix's
 * concurrency-limits does: each finished call is a sample (its latency, the
 * calls in flight, whether it failed), and the limit algorithm moves the limit
 * within `[minLimit, maxLimit]`. With `'gradient'` (the default) the limit
 * shrinks as soon as latency rises above its long-term level, which is what
 * queueing in the dependency looks like, and grows while it does not; with
 * `'aimd'` it shrinks by `backoffRatio` on each failure (or call slower than
 * `latencyThreshold`) and grows by one per success while busy.
 *
 * Past the limit, calls wait in a FIFO queue (`maxQueue`, `queueTimeout`) or
 * are rejected at once with a {@link BulkheadFullError}, so every bulkhead
 * adapter accepts it. `limit`, `active` and `queued` tell the state. When the
 * limit falls below `active`, running calls finish as they started and no new
 * one starts until `active` is below the limit again.
 *
 * A call whose caller aborted while it ran gives no sample, unless a
 * `Timeout` around the bulkhead aborted it (a `TimeoutError`): that is a drop
 * whose latency counts.
 *
 * @example
 * ```ts
 * const bulkhead = new AdaptiveBulkhead({ algorithm: 'gradient', minLimit: 5, maxLimit: 100, maxQueue: 50 });
 * const rows = await bulkhead.execute(({ signal }) => db.query(sql, { signal }));
 * console.log(bulkhead.limit, bulkhead.active, bulkhead.queued);
 * ```
 */
export class AdaptiveBulkhead<T = unknown> implements Policy<T> {
  /** The limit algorithm. */
  readonly algorithm: AdaptiveLimitAlgorithm;
  /** The lowest the limit goes. */
  readonly minLimit: number;
  /** The highest the limit goes. */
  readonly maxLimit: number;
  /** How many calls may wait for a slot. */
  readonly maxQueue: number;
  /** The longest a call may wait in the queue, in ms. */
  readonly queueTimeout: number;
  readonly #clock: Clock;
  #telemetry: Telemetry;
  #algo: LimitAlgorithm;
  #isDrop: ((error: unknown) => boolean) | undefined;
  #onRejected: ((reason: BulkheadRejectReason) => void) | undefined;
  #onLimitChange: ((limit: number, previous: number) => void) | undefined;
  readonly #queue: WaitQueue<AdaptiveBulkhead<unknown>>;
  #limit: number;
  #active = 0;
  #draining = false;
  /** The config as built and updated, for `update()` to merge over. */
  #config: AdaptiveBulkheadConfig;
  /** The listeners of `on()`; `undefined` until the first one. */
  #events: EventHub<AdaptiveBulkheadEvents> | undefined = undefined;

  /**
   * @param config - `algorithm`, the limits, the queue, the algorithms' tuning, hooks, `clock` and observability options
   * @throws TypeError or RangeError naming the option when the config is invalid
   */
  constructor(config?: AdaptiveBulkheadConfig) {
    const c = configObject(OWNER, config) as Partial<AdaptiveBulkheadConfig>;
    checkConfigKeys(OWNER, c, knownConfigKeys, peerHints);
    this.algorithm = oneOfOption(OWNER, 'algorithm', c.algorithm, ALGORITHMS, 'gradient');
    this.minLimit = numberOption(OWNER, 'minLimit', c.minLimit, 1, { min: 1, integer: true });
    this.maxLimit = numberOption(OWNER, 'maxLimit', c.maxLimit, Math.max(200, this.minLimit), {
      min: this.minLimit,
      integer: true,
    });
    const initial = numberOption(OWNER, 'initialLimit', c.initialLimit, clampLimit(20, this.minLimit, this.maxLimit), {
      min: this.minLimit,
      max: this.maxLimit,
      integer: true,
    });
    this.maxQueue = numberOption(OWNER, 'maxQueue', c.maxQueue, 0, { min: 0, integer: true, allowInfinity: true });
    this.queueTimeout = numberOption(OWNER, 'queueTimeout', c.queueTimeout, Number.POSITIVE_INFINITY, {
      min: 0,
      allowInfinity: true,
    });
    const backoffRatio = numberOption(OWNER, 'backoffRatio', c.backoffRatio, 0.9, {
      min: 0,
      minExclusive: true,
      max: 0.999_999,
    });
    const latencyThreshold = numberOption(OWNER, 'latencyThreshold', c.latencyThreshold, 5000, {
      min: 0,
      minExclusive: true,
      allowInfinity: true,
    });
    const tolerance = numberOption(OWNER, 'tolerance', c.tolerance, 1.5, { min: 1 });
    const smoothing = numberOption(OWNER, 'smoothing', c.smoothing, 0.2, { min: 0, minExclusive: true, max: 1 });
    const baselineDrift = numberOption(OWNER, 'baselineDrift', c.baselineDrift, 0.02, { min: 0, max: 1 });
    this.#isDrop = predicateOption(OWNER, 'isDrop', c.isDrop);
    this.#onRejected = functionOption(OWNER, 'onRejected', c.onRejected);
    this.#onLimitChange = functionOption(OWNER, 'onLimitChange', c.onLimitChange);
    this.#clock = clockOption(OWNER, c.clock);
    this.#telemetry = Telemetry.for('adaptive_bulkhead', c);
    this.#algo =
      this.algorithm === 'aimd'
        ? new AimdLimit(initial, this.minLimit, this.maxLimit, backoffRatio, latencyThreshold)
        : new GradientLimit(initial, this.minLimit, this.maxLimit, tolerance, smoothing, baselineDrift);
    this.#limit = initial;
    this.#config = c as AdaptiveBulkheadConfig;
    this.#queue = new WaitQueue(this.#clock, this as AdaptiveBulkhead<unknown>, queueHooks);
    // A recorder shows the limit and load from the start, not only once the limit first moves (which may be never).
    if (!buildingUpdate && this.#telemetry.metrics !== undefined) {
      this.#telemetry.recordAdaptiveBulkheadLimit(initial);
      this.#record();
    }
  }

  /** The current concurrency limit (a whole number within `[minLimit, maxLimit]`). */
  get limit(): number {
    return this.#limit;
  }

  /** How many calls are running now. */
  get active(): number {
    return this.#active;
  }

  /** How many calls are waiting for a slot. */
  get queued(): number {
    return this.#queue.size;
  }

  /**
   * Runs `fn` when the limit allows: at once, after a wait in the queue, or
   * not at all (a {@link BulkheadFullError}). Settles with `fn`'s own value or
   * error. Never throws synchronously.
   */
  execute<R extends T>(fn: Operation<R>, options?: ExecuteOptions): Promise<R> {
    let ctx: ExecutionContext;
    try {
      ctx = enter(OWNER, fn, options);
    } catch (err) {
      return Promise.reject(err);
    }
    if (this.#telemetry.tracer !== undefined) {
      return this.#telemetry.traced('resilience.adaptive_bulkhead', undefined, () => this.#admit(fn, ctx));
    }
    return this.#admit(fn, ctx);
  }

  static {
    queueHooks = {
      name: OWNER,
      changed: (owner) => owner.#record(),
      timedOut: (owner) => owner.#rejection('queue-timeout'),
      clockFailed: (owner, message, err) => owner.#telemetry.log('error', message, { err }),
    };
  }

  #admit<R>(fn: Operation<R>, ctx: ExecutionContext): Promise<R> {
    if (this.#active < this.#limit && this.#queue.size === 0) {
      this.#active++;
      this.#record();
      return this.#run(fn, ctx);
    }
    if (this.#queue.size < this.maxQueue) return this.#queue.enqueue(fn, ctx);
    return Promise.reject(this.#rejection('full'));
  }

  /** Runs `fn` in a slot and turns its end into a sample; the slot is released once. */
  async #run<R>(fn: Operation<R>, ctx: ExecutionContext): Promise<R> {
    const start = this.#now();
    const inflight = this.#active;
    let value: R;
    try {
      value = await fn(ctx);
    } catch (error) {
      this.#finished(start, inflight, ctx, true, error);
      throw error;
    }
    this.#finished(start, inflight, ctx, false, undefined);
    return value;
  }

  #finished(start: number, inflight: number, ctx: ExecutionContext, failed: boolean, error: unknown): void {
    this.#active--;
    // A call the caller abandoned gives no sample; one a Timeout around the bulkhead gave up on (a TimeoutError) is
    // a drop whose latency counts, or a dependency that hangs until the deadline would never lower the limit.
    const timedOut = isAbortedContext(ctx) && isTimeoutError(contextAbortReason(ctx));
    if (timedOut || !isAbortedContext(ctx)) {
      const dropped =
        timedOut || (failed && (this.#isDrop === undefined || this.#telemetry.ask(this.#isDrop, error, 'isDrop')));
      const at = this.#now();
      const rtt = at - start;
      // A clock that failed (or gave NaN) at either end gives no sample.
      if (!Number.isNaN(rtt)) this.#sample(rtt, inflight, dropped, timedOut, at);
    }
    this.#record();
    this.#drain();
  }

  #sample(rtt: number, inflight: number, dropped: boolean, timedOut: boolean, at: number): void {
    const estimate = this.#algo.update({ rtt, inflight, dropped, timedOut, at });
    const next = clampLimit(Math.floor(estimate), this.minLimit, this.maxLimit);
    const previous = this.#limit;
    if (next === previous) return;
    this.#limit = next;
    const telemetry = this.#telemetry;
    telemetry.recordAdaptiveBulkheadLimit(next);
    telemetry.invokeHook(this.#onLimitChange, 'onLimitChange', next, previous);
    this.#events?.emit('limitChange', { limit: next, previous });
    if (telemetry.logger !== undefined)
      telemetry.log('debug', 'adaptive bulkhead limit changed', { limit: next, previous });
  }

  /** Starts queued calls while the limit allows, in a loop (a call that throws synchronously does not recurse). */
  #drain(): void {
    if (this.#draining) return;
    this.#draining = true;
    try {
      const queue = this.#queue;
      while (queue.size > 0 && this.#active < this.#limit) {
        const waiter = queue.take() as Waiter;
        this.#active++;
        this.#record();
        waiter.resolve(this.#run(waiter.fn, waiter.ctx));
      }
    } finally {
      this.#draining = false;
    }
  }

  /** The clock's time; `NaN` (logged) when the user's clock throws, so a broken clock never leaks a slot. */
  #now(): number {
    try {
      return this.#clock.now();
    } catch (err) {
      this.#telemetry.log('error', 'clock.now threw', { err });
      return Number.NaN;
    }
  }

  #rejection(reason: BulkheadRejectReason): BulkheadFullError {
    const telemetry = this.#telemetry;
    telemetry.invokeHook(this.#onRejected, 'onRejected', reason);
    this.#events?.emit('rejected', { reason, limit: this.#limit, active: this.#active, queued: this.#queue.size });
    if (telemetry.logger !== undefined) {
      telemetry.log('debug', 'adaptive bulkhead rejected a call', {
        reason,
        limit: this.#limit,
        active: this.#active,
        queued: this.#queue.size,
      });
    }
    return new BulkheadFullError(
      reason === 'full'
        ? { message: `Adaptive bulkhead is full (limit ${this.#limit})` }
        : { message: `Adaptive bulkhead queue wait exceeded ${this.queueTimeout} ms` },
    );
  }

  #record(): void {
    this.#telemetry.recordBulkheadUtilization(this.#active, this.#queue.size);
  }

  /**
   * Follows the bulkhead from code that did not build it: `'rejected'`
   * (`{ reason, limit, active, queued }`) for each refused call, and
   * `'limitChange'` (`{ limit, previous }`) each time the limit moves.
   * Listeners run synchronously after the config hooks (`onRejected`,
   * `onLimitChange`); one that throws or returns a rejected promise is
   * logged and changes nothing. Nobody listening costs nothing.
   *
   * @returns a subscription: `dispose()` it (or `using` it) to stop listening
   * @throws TypeError for an unknown event or a listener that is not a function
   */
  on<K extends keyof AdaptiveBulkheadEvents>(
    event: K,
    listener: EventListener<AdaptiveBulkheadEvents[K]>,
  ): Subscription {
    this.#events ??= new EventHub<AdaptiveBulkheadEvents>(OWNER, this.#telemetry);
    return this.#events.on(adaptiveBulkheadEvents, event, listener);
  }

  /**
   * Changes settings at run time: `partial` is merged over the current config
   * and the whole result validated as the constructor does (a bad value
   * throws, naming it, and the old settings stay). Running and queued calls
   * are kept, and so is the limit (clamped into a new `[minLimit, maxLimit]`,
   * which is a `'limitChange'`); `initialLimit` is checked against the new
   * bounds but only says where a new bulkhead starts. With the same
   * `algorithm`, its state (the estimate, the gradient's baseline latency)
   * is kept and new tuning applies from the next sample; a new `algorithm`
   * starts from the current limit. A higher limit starts queued calls at
   * once, oldest first; a lower one lets running calls finish. A smaller
   * `maxQueue` keeps the calls already queued; a new `queueTimeout` applies
   * to calls queued afterwards, and calls queued while the wait was
   * unbounded wait the new bound from now. `name` and `clock` cannot change.
   * An option given as `undefined` goes back to its default.
   *
   * @throws TypeError or RangeError naming the option
   */
  update(partial: Partial<AdaptiveBulkheadConfig>): void {
    this.#prepare(partial)();
  }

  static {
    // biome-ignore lint/complexity/noThisInStatic: tsc 7 compiles the class's name here to undefined (see registerUpdater)
    registerUpdater(this, (bulkhead, partial) => bulkhead.#prepare(partial));
  }

  /** The validating half of {@link AdaptiveBulkhead.update}: throws, or returns what applies the change. */
  #prepare(partial: Partial<AdaptiveBulkheadConfig>): Commit {
    const config = mergeUpdate(OWNER, this.#config, partial, knownOptions.adaptiveBulkhead);
    buildingUpdate = true;
    let next: AdaptiveBulkhead<T>;
    try {
      next = new AdaptiveBulkhead(config);
    } finally {
      buildingUpdate = false;
    }
    return () => {
      if (this.queueTimeout === Number.POSITIVE_INFINITY && next.queueTimeout !== Number.POSITIVE_INFINITY) {
        // Calls queued while the wait was unbounded wait the new bound from now.
        const expiresAt = this.#now() + next.queueTimeout;
        for (let waiter = this.#queue.first; waiter !== null; waiter = waiter.listNext) waiter.expiresAt = expiresAt;
      }
      const self = this as {
        algorithm: AdaptiveLimitAlgorithm;
        minLimit: number;
        maxLimit: number;
        maxQueue: number;
        queueTimeout: number;
      };
      const sameAlgorithm = next.algorithm === this.algorithm;
      self.algorithm = next.algorithm;
      self.minLimit = next.minLimit;
      self.maxLimit = next.maxLimit;
      self.maxQueue = next.maxQueue;
      self.queueTimeout = next.queueTimeout;
      const previous = this.#limit;
      const limit = clampLimit(previous, next.minLimit, next.maxLimit);
      // The new algorithm's tuning, with the old one's learning when it is the same algorithm.
      next.#algo.resume(sameAlgorithm ? this.#algo : undefined, limit);
      this.#algo = next.#algo;
      this.#isDrop = next.#isDrop;
      this.#onRejected = next.#onRejected;
      this.#onLimitChange = next.#onLimitChange;
      const newRecorder = next.#telemetry.metrics !== undefined && next.#telemetry.metrics !== this.#telemetry.metrics;
      this.#telemetry = next.#telemetry;
      this.#config = config;
      if (this.#events !== undefined) this.#events.telemetry = next.#telemetry;
      if (newRecorder && limit === previous) {
        // A new recorder learns the current limit and load at once, not at the next change.
        next.#telemetry.recordAdaptiveBulkheadLimit(limit);
        this.#record();
      }
      if (limit !== previous) {
        this.#limit = limit;
        const telemetry = this.#telemetry;
        telemetry.recordAdaptiveBulkheadLimit(limit);
        telemetry.invokeHook(this.#onLimitChange, 'onLimitChange', limit, previous);
        this.#events?.emit('limitChange', { limit, previous });
      }
      // Unbounded now: the calls already queued wait without a bound too, and the queue's timer goes (arm() clears it).
      try {
        this.#queue.arm();
      } catch (err) {
        this.#telemetry.log('error', 'clock.setTimeout threw', { err });
      }
      this.#drain();
    };
  }
}
