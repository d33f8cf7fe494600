import type { Clock } from '../clock/clock.js';
import type { ExecuteOptions, ExecutionContext, Operation, Policy } from '../context.js';
import { BulkheadFullError } from '../errors/errors.js';
import { checkConfigKeys, knownKeys, type PeerHints } from '../internal/config-keys.js';
import { enter } from '../internal/context.js';
import { EventHub, type EventListener, type Subscription } from '../internal/events.js';
import { asOperation, invoke, registerStepRunner, type StepOp } from '../internal/step.js';
import { Telemetry } from '../internal/telemetry.js';
import { type Commit, knownOptions, mergeUpdate, registerUpdater } from '../internal/update.js';
import { clockOption, configObject, functionOption, numberOption, requiredNumber } from '../internal/validate.js';
import { type BulkheadEvents, bulkheadEvents } from './events.js';
import type { BulkheadConfig, BulkheadRejectReason } from './types.js';
import { type Waiter, WaitQueue, type WaitQueueHooks } from './wait-queue.js';

const OWNER = 'Bulkhead';

const knownConfigKeys = knownKeys(['maxConcurrent', 'maxQueue', 'queueTimeout', 'onRejected', 'clock']);

/** Options of peer libraries (p-limit, cockatiel, opossum, resilience4j), and what to use here instead. */
const peerHints: PeerHints = {
  concurrency: `p-limit's concurrency is "maxConcurrent" here`,
  limit: `cockatiel's bulkhead limit is "maxConcurrent" here`,
  queue: `cockatiel's bulkhead queue is "maxQueue" here`,
  capacity: `opossum's capacity is "maxConcurrent" here`,
  maxConcurrentCalls: `resilience4j's maxConcurrentCalls is "maxConcurrent" here`,
  maxWaitDuration: `resilience4j's maxWaitDuration is "queueTimeout" here`,
  maxQueueSize: `use "maxQueue"`,
  timeout: `use "queueTimeout" (how long a call may wait for a slot); bound the work itself with a Timeout`,
};

/** What the wait queue asks of a Bulkhead (set by the class's static block, which reaches its private state). */
let queueHooks: WaitQueueHooks<Bulkhead<unknown>>;

/** Set while `update()` builds the bulkhead that validates its new settings: that one reports nothing. */
let buildingUpdate = false;

/**
 * Limits how many calls run at once, like the watertight compartments of a
 * ship: a slow dependency can tie up at most `maxConcurrent` calls, and the
 * rest of the service keeps its resources. Up to `maxQueue` further calls wait
 * for a slot in FIFO order (at most `queueTimeout` ms); the others are rejected
 * at once with a {@link BulkheadFullError}.
 *
 * A slot is released exactly once, when `fn` settles, whatever it does (throws
 * synchronously, rejects, resolves late). It stays held until then even if the
 * caller has given up: `fn` is told through `ctx.signal` and should stop, but a
 * bulkhead cannot reclaim a slot from work that is still running. A queued call
 * whose signal aborts leaves the queue at once, rejecting with the abort reason.
 *
 * A call that finds a free slot costs one `async` layer: no closure, timer or
 * listener. Queued calls that share a caller's signal share one listener on
 * it. The queue timeout is one timer for the whole queue, held only while
 * calls wait (so it fires even when nothing else keeps the process running),
 * and it waits out any `queueTimeout`, even one beyond the 24.8 days a single
 * platform timer holds. Work that throws synchronously hands its slot over in
 * a loop, never recursively, however long the queue.
 *
 * @example
 * ```ts
 * const bulkhead = new Bulkhead({ maxConcurrent: 10, maxQueue: 100, queueTimeout: 2_000 });
 * const user = await bulkhead.execute(({ signal }) => fetchUser(id, { signal }));
 * console.log(bulkhead.active, bulkhead.queued);
 * ```
 */
export class Bulkhead<T = unknown> implements Policy<T> {
  /** How many calls may run at once. */
  readonly maxConcurrent: number;
  /** How many calls may wait for a slot. */
  readonly maxQueue: number;
  /** The longest a call may wait in the queue, in ms (`Infinity` when unbounded). */
  readonly queueTimeout: number;
  readonly #clock: Clock;
  #telemetry: Telemetry;
  #metrics: boolean;
  #traced: boolean;
  #maxConcurrent: number;
  #onRejected: ((reason: BulkheadRejectReason) => void) | undefined;
  readonly #queue: WaitQueue<Bulkhead<unknown>>;
  /** Settlement callbacks of a call in a slot: release the slot, pass the value or error on. */
  readonly #fulfilled: (value: unknown) => unknown;
  readonly #rejected: (error: unknown) => never;
  #active = 0;
  /** True while {@link Bulkhead.#release} hands freed slots over (a release meanwhile only counts itself). */
  #draining = false;
  /** Slots freed during a hand-over, still to be handed over by the loop. */
  #freed = 0;
  /** The config as built and updated, for `update()` to merge over. */
  #config: BulkheadConfig;
  /** The listeners of `on()`; `undefined` until the first one. */
  #events: EventHub<BulkheadEvents> | undefined = undefined;

  /**
   * @param config - `maxConcurrent` (required), `maxQueue`, `queueTimeout`, `onRejected`, `clock` and observability options
   * @throws TypeError or RangeError naming the option when the config is invalid
   */
  constructor(config: BulkheadConfig) {
    const c = configObject(OWNER, config) as Partial<BulkheadConfig>;
    checkConfigKeys(OWNER, c, knownConfigKeys, peerHints);
    this.maxConcurrent = requiredNumber(OWNER, 'maxConcurrent', c.maxConcurrent, { min: 1, integer: true });
    this.maxQueue = numberOption(OWNER, 'maxQueue', c.maxQueue, 0, { min: 0, integer: true, allowInfinity: true });
    this.queueTimeout = numberOption(OWNER, 'queueTimeout', c.queueTimeout, Number.POSITIVE_INFINITY, {
      min: 0,
      allowInfinity: true,
    });
    this.#onRejected = functionOption(OWNER, 'onRejected', c.onRejected);
    const clock = clockOption(OWNER, c.clock);
    this.#clock = clock;
    this.#telemetry = Telemetry.for('bulkhead', c);
    this.#metrics = this.#telemetry.metrics !== undefined;
    this.#traced = this.#telemetry.tracer !== undefined;
    this.#maxConcurrent = this.maxConcurrent;
    this.#queue = new WaitQueue(clock, this as Bulkhead<unknown>, queueHooks);
    this.#fulfilled = (value) => {
      this.#release();
      return value;
    };
    this.#rejected = (error) => {
      this.#release();
      throw error;
    };
    this.#config = c as BulkheadConfig;
    // A recorder shows the bulkhead (idle) from the start, not only after its first call.
    if (this.#metrics && !buildingUpdate) this.#telemetry.recordBulkheadUtilization(0, 0);
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
   * Runs `fn` when a slot is free: at once, after a wait in the queue, or not
   * at all (a {@link BulkheadFullError}). Settles with `fn`'s own value or
   * error. An already aborted `options.signal` rejects with its reason.
   */
  execute<R extends T>(fn: Operation<R>, options?: ExecuteOptions): Promise<R> {
    return this.#call(undefined, fn, options);
  }

  /** {@link Bulkhead.execute} of `invoke(op, arg, ctx)`: `fn(ctx)` itself, or a pipeline's step. */
  #call<R>(op: StepOp | undefined, arg: unknown, options: ExecuteOptions | undefined): Promise<R> {
    if (this.#traced) {
      return this.#telemetry.traced('resilience.bulkhead', undefined, () => this.#admit<R>(op, arg, options));
    }
    return this.#admit(op, arg, options);
  }

  static {
    queueHooks = {
      name: OWNER,
      changed: (owner) => owner.#record(),
      timedOut: (owner) => owner.#rejection('queue-timeout'),
      clockFailed: (owner, message, err) => owner.#telemetry.log('error', message, { err }),
    };
  }

  #admit<R>(op: StepOp | undefined, arg: unknown, options: ExecuteOptions | undefined): Promise<R> {
    // A Timeout's context is passed on as it is, and read without creating its lazy signal.
    let ctx: ExecutionContext;
    try {
      ctx = enter(OWNER, op ?? arg, options);
    } catch (err) {
      return Promise.reject(err);
    }
    if (this.#active < this.#maxConcurrent) {
      this.#active++;
      if (this.#metrics) this.#record();
      return this.#run(op, arg, ctx);
    }
    if (this.#queue.size < this.maxQueue) return this.#queue.enqueue(asOperation<R>(op, arg), ctx);
    return Promise.reject(this.#rejection('full'));
  }

  /** Runs the work in a slot; the slot is released once, when the work settles, by callbacks shared by every call. */
  #run<R>(op: StepOp | undefined, arg: unknown, ctx: ExecutionContext): Promise<R> {
    let result: R | PromiseLike<R>;
    try {
      result = invoke<R>(op, arg, ctx);
    } catch (error) {
      this.#release();
      return Promise.reject(error);
    }
    try {
      return Promise.resolve(result).then(this.#fulfilled as (value: R) => R, this.#rejected);
    } catch (error) {
      // A promise whose `constructor` or `then` getter throws: the slot is released once, the call rejects.
      this.#release();
      return Promise.reject(error);
    }
  }

  /**
   * A slot came free. With waiters, the oldest gets it; its work may throw
   * synchronously and free the slot again at once, so hand-overs run in a
   * loop here (a release during the loop only counts itself), never by
   * recursion: any number of queued sync throwers settle on a flat stack.
   */
  #release(): void {
    if (this.#queue.size === 0 || this.#active > this.#maxConcurrent) {
      this.#active--;
      if (this.#metrics) this.#record();
      return;
    }
    if (this.#draining) {
      this.#freed++;
      return;
    }
    this.#draining = true;
    try {
      let freed = 1;
      do {
        freed--;
        // Over a limit lowered by update() meanwhile, a freed slot is given back rather than handed over.
        const waiter = this.#active > this.#maxConcurrent ? null : this.#queue.take();
        if (waiter === null) {
          // The queue emptied meanwhile (an abort or a queue timeout during a hand-over), or the limit fell.
          this.#active--;
          if (this.#metrics) this.#record();
        } else {
          this.#handOver(waiter);
        }
        freed += this.#freed;
        this.#freed = 0;
      } while (freed > 0);
    } finally {
      this.#draining = false;
    }
  }

  /** The oldest waiter, just taken from the queue, gets the freed slot. */
  #handOver(waiter: Waiter): void {
    this.#record();
    waiter.resolve(this.#run(undefined, waiter.fn, waiter.ctx));
  }

  #rejection(reason: BulkheadRejectReason): BulkheadFullError {
    const telemetry = this.#telemetry;
    telemetry.invokeHook(this.#onRejected, 'onRejected', reason);
    this.#events?.emit('rejected', { reason, active: this.#active, queued: this.#queue.size });
    telemetry.log('debug', 'bulkhead rejected a call', { reason, active: this.#active, queued: this.#queue.size });
    return new BulkheadFullError(
      reason === 'full' ? {} : { message: `Bulkhead queue wait exceeded ${this.queueTimeout} ms` },
    );
  }

  #record(): void {
    this.#telemetry.recordBulkheadUtilization(this.#active, this.#queue.size);
  }

  /**
   * Follows the bulkhead from code that did not build it: `'rejected'`
   * (`{ reason, active, queued }`) for each refused call. Listeners run
   * synchronously after `onRejected`; one that throws or returns a rejected
   * promise is logged and changes nothing. Nobody listening costs nothing.
   *
   * @returns a subscription: `dispose()` it (or `using` it) to stop listening
   * @throws TypeError for an unknown event or a listener that is not a function
   */
  on<K extends keyof BulkheadEvents>(event: K, listener: EventListener<BulkheadEvents[K]>): Subscription {
    this.#events ??= new EventHub<BulkheadEvents>(OWNER, this.#telemetry);
    return this.#events.on(bulkheadEvents, event, listener);
  }

  /**
   * Changes settings at run time: `partial` is merged over the current config
   * and the whole result validated before anything changes (a bad value
   * throws, naming it, and the old settings stay). Running and queued calls
   * are kept. A larger `maxConcurrent` starts queued calls at once; a smaller
   * one lets running calls finish (`active` may stay above it until they do)
   * and starts no queued call until `active` is below it. A smaller
   * `maxQueue` keeps the calls already queued. A new `queueTimeout` applies
   * to calls queued afterwards (in FIFO order, so none leaves before an older
   * one). `name` and `clock` cannot change. An option given as `undefined`
   * goes back to its default.
   *
   * @throws TypeError or RangeError naming the option
   */
  update(partial: Partial<BulkheadConfig>): void {
    this.#prepare(partial)();
  }

  static {
    // biome-ignore lint/complexity/noThisInStatic: tsc 7 compiles the class's name here to undefined (see registerUpdater)
    registerUpdater(this, (bulkhead, partial) => bulkhead.#prepare(partial));
    // biome-ignore lint/complexity/noThisInStatic: as above
    registerStepRunner(this, (bulkhead, op, arg, options) => bulkhead.#call(op, arg, options));
  }

  /** The validating half of {@link Bulkhead.update}: throws, or returns what applies the change. */
  #prepare(partial: Partial<BulkheadConfig>): Commit {
    const config = mergeUpdate(OWNER, this.#config, partial, knownOptions.bulkhead);
    let next: Bulkhead<unknown>;
    buildingUpdate = true;
    try {
      next = new Bulkhead(config);
    } finally {
      buildingUpdate = false;
    }
    return () => {
      if (this.queueTimeout === Number.POSITIVE_INFINITY && next.queueTimeout !== Number.POSITIVE_INFINITY) {
        // Calls queued while the wait was unbounded wait the new bound from now.
        const expiresAt = this.#clock.now() + next.queueTimeout;
        for (let waiter = this.#queue.first; waiter !== null; waiter = waiter.listNext) waiter.expiresAt = expiresAt;
      }
      const self = this as { maxConcurrent: number; maxQueue: number; queueTimeout: number };
      self.maxConcurrent = next.maxConcurrent;
      self.maxQueue = next.maxQueue;
      self.queueTimeout = next.queueTimeout;
      this.#maxConcurrent = next.#maxConcurrent;
      this.#onRejected = next.#onRejected;
      const previousMetrics = this.#telemetry.metrics;
      this.#telemetry = next.#telemetry;
      this.#metrics = next.#metrics;
      this.#traced = next.#traced;
      this.#config = config;
      if (this.#events !== undefined) this.#events.telemetry = next.#telemetry;
      // A new recorder learns the current load at once, not at the next call.
      if (next.#metrics && next.#telemetry.metrics !== previousMetrics) this.#record();
      // Slots that came free: queued calls take them at once, oldest first (a loop, not a recursion).
      // Each new slot is handed over like a freed one (in #release's loop, so sync throwers stay flat); at most
      // one per queued call, also when this update runs inside a hand-over and the loop there does the handing.
      for (let room = Math.min(this.#maxConcurrent - this.#active, this.#queue.size); room > 0; room--) {
        this.#active++;
        this.#release();
      }
      this.#queue.arm();
    };
  }
}
