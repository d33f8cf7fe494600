import type { Clock } from '../clock/clock.js';
import type { ExecuteOptions, ExecutionContext, Operation, Policy } from '../context.js';
import { checkConfigKeys, knownKeys, type PeerHints } from '../internal/config-keys.js';
import { canAbort, contextAbortReason, isAbortedContext, notAFunction, toContext } from '../internal/context.js';
import { EventHub, type EventListener, type Subscription } from '../internal/events.js';
import { isAbortSignal, notASignal, type SignalHub, type SignalWaiter, signalHub } from '../internal/signal-hub.js';
import { Telemetry } from '../internal/telemetry.js';
import { clearTimer, MAX_TIMER_MS } from '../internal/timers.js';
import { type Commit, knownOptions, mergeUpdate, registerUpdater } from '../internal/update.js';
import {
  booleanOption,
  clockOption,
  configObject,
  functionOption,
  numberOption,
  requiredNumber,
} from '../internal/validate.js';
import { type ChaosEvents, chaosEvents } from './events.js';
import type { ChaosConfig, ChaosInjection } from './types.js';

const OWNER = 'Chaos';

const knownConfigKeys = knownKeys(['rate', 'fault', 'latency', 'result', 'enabled', 'onInject', 'random', 'clock']);

/** Options of Polly's Simmy and others, and what to use here instead. */
const peerHints: PeerHints = {
  injectionRate: `Simmy's InjectionRate is "rate" here`,
  injectionRatio: `use "rate" (from 0 to 1)`,
  probability: `use "rate" (from 0 to 1)`,
  exception: `Simmy's fault is "fault" here`,
  error: `use "fault"`,
  outcome: `Simmy's outcome is "result" here (or "fault" for a failure)`,
  delay: `Simmy's latency is "latency" here, in ms`,
};

/** Whether `value` is a class (which cannot be called without `new`). */
function isClass(value: unknown): boolean {
  if (typeof value !== 'function') return false;
  try {
    return /^class[\s{]/.test(Function.prototype.toString.call(value));
  } catch {
    return false;
  }
}

/** The injected latency of one call: a timer, and its place in the caller's signal's hub. */
class LatencyWait implements SignalWaiter {
  readonly #clock: Clock;
  readonly #hub: SignalHub | null;
  readonly #resolve: () => void;
  readonly #reject: (reason: unknown) => void;
  readonly #timer: unknown;
  readonly #onClearFailed: (err: unknown) => void;
  signalPrev: SignalWaiter | null = null;
  signalNext: SignalWaiter | null = null;

  constructor(
    clock: Clock,
    ms: number,
    ctx: ExecutionContext,
    resolve: () => void,
    reject: (reason: unknown) => void,
    onClearFailed: (err: unknown) => void,
  ) {
    this.#clock = clock;
    this.#resolve = resolve;
    this.#reject = reject;
    this.#onClearFailed = onClearFailed;
    // Checked before the timer is armed: a `signal` that is no AbortSignal rejects the call (a TypeError naming it).
    if (canAbort(ctx) && !isAbortSignal(ctx.signal)) throw notASignal(ctx.signal, 'Chaos');
    // A held timer: it is the pending part of a call someone awaits (latency is at most one platform timer).
    // A clock whose setTimeout throws rejects this call with its error (thrown in the promise's executor).
    this.#timer = clock.setTimeout(() => this.#done(), ms);
    this.#hub = canAbort(ctx) ? signalHub(ctx.signal) : null;
    this.#hub?.add(this);
  }

  #done(): void {
    this.#hub?.delete(this);
    this.#resolve();
  }

  /** The caller's signal aborted: the wait ends at once with its reason. */
  signalAborted(reason: unknown): void {
    // A clearTimeout that throws is logged (never thrown into the signal's dispatch): the timer then resolves a settled call.
    clearTimer(this.#clock, this.#timer, this.#onClearFailed);
    this.#reject(reason);
  }
}

/**
 * Fault injection for resilience tests, as Polly's Simmy: a share (`rate`)
 * of calls gets `latency` added, and then fails with `fault`, or returns
 * `result` without calling `fn`, or goes on to `fn`. It is off unless
 * enabled (`enabled: true` or {@link Chaos.enable}), so it can ship in every
 * environment and be switched at run time, for example from a feature flag in
 * staging. Put it innermost in a pipeline, where the dependency would be, so
 * the other patterns see its faults as the dependency's.
 *
 * @example
 * ```ts
 * const chaos = new Chaos({ rate: 0.1, fault: () => new Error('injected'), latency: 200 });
 * if (process.env.CHAOS === 'on') chaos.enable();
 * const policy = pipeline().retry({ maxAttempts: 3 }).circuitBreaker({}).use(chaos).build();
 * ```
 */
export class Chaos<T = unknown> implements Policy<T> {
  /** The share of calls injected into, from 0 to 1. */
  readonly rate: number;
  /** The latency added to picked calls, in ms. */
  readonly latency: number;
  #fault: unknown;
  #hasFault: boolean;
  #result: T | undefined;
  #hasResult: boolean;
  #onInject: ((injection: ChaosInjection, ctx: ExecutionContext) => void) | undefined;
  #random: () => number;
  readonly #clock: Clock;
  #telemetry: Telemetry;
  readonly #clearFailed: (err: unknown) => void;
  #enabled: boolean;
  /** The config as built and updated (with `enabled` following `enable()`/`disable()`), for `update()`. */
  #config: ChaosConfig<T>;
  /** The listeners of `on()`; `undefined` until the first one. */
  #events: EventHub<ChaosEvents> | undefined = undefined;

  /**
   * @param config - `rate` (required), `fault`, `latency`, `result`, `enabled`, `onInject`, `random`, `clock` and observability options
   * @throws TypeError or RangeError naming the option when the config is invalid
   */
  constructor(config: ChaosConfig<T>) {
    const c = configObject(OWNER, config) as Partial<ChaosConfig<T>>;
    checkConfigKeys(OWNER, c, knownConfigKeys, peerHints);
    this.rate = requiredNumber(OWNER, 'rate', c.rate, { min: 0, max: 1 });
    this.latency = numberOption(OWNER, 'latency', c.latency, 0, { min: 0, max: MAX_TIMER_MS });
    this.#hasFault = c.fault !== undefined;
    this.#hasResult = c.result !== undefined;
    if (isClass(c.fault)) {
      throw new TypeError(
        `${OWNER}: fault must be a value to throw or a function making one, got a class (wrap it: () => new ${(c.fault as { name: string }).name}())`,
      );
    }
    if (this.#hasFault && this.#hasResult) {
      throw new TypeError(`${OWNER}: fault and result cannot both be given (a picked call either fails or returns)`);
    }
    if (!this.#hasFault && !this.#hasResult && this.latency === 0) {
      throw new TypeError(`${OWNER}: needs at least one of fault, latency (> 0) or result, got none`);
    }
    this.#fault = c.fault;
    this.#result = c.result;
    this.#enabled = booleanOption(OWNER, 'enabled', c.enabled, false);
    this.#onInject = functionOption(OWNER, 'onInject', c.onInject);
    this.#random = functionOption(OWNER, 'random', c.random) ?? Math.random;
    this.#clock = clockOption(OWNER, c.clock);
    this.#telemetry = Telemetry.for('chaos', c);
    this.#clearFailed = (err) => this.#telemetry.log('error', 'clock.clearTimeout threw', { err });
    this.#config = c as ChaosConfig<T>;
  }

  /** Whether the policy injects anything now. */
  get enabled(): boolean {
    return this.#enabled;
  }

  /** Switches injection on (it applies to calls that start from now on). */
  enable(): void {
    this.#enabled = true;
    if (this.#config.enabled !== true) this.#config = { ...this.#config, enabled: true };
  }

  /** Switches injection off (calls already picked finish as picked). */
  disable(): void {
    this.#enabled = false;
    if (this.#config.enabled === true) this.#config = { ...this.#config, enabled: false };
  }

  /**
   * Runs `fn`, or, for a picked call while enabled, adds the latency and then
   * fails with the fault or returns the result. Never throws synchronously.
   */
  execute<R extends T>(fn: Operation<R>, options?: ExecuteOptions): Promise<R> {
    if (typeof fn !== 'function') return Promise.reject(notAFunction(OWNER, fn));
    const ctx = toContext(options);
    if (isAbortedContext(ctx)) return Promise.reject(contextAbortReason(ctx));
    if (this.#telemetry.tracer === undefined) return this.#run(fn, ctx);
    return this.#telemetry.traced('resilience.chaos', undefined, () => this.#run(fn, ctx));
  }

  async #run<R>(fn: Operation<R>, ctx: ExecutionContext): Promise<R> {
    if (!this.#enabled || this.rate === 0 || !(this.#draw() < this.rate)) return await fn(ctx);
    // A picked call is injected as picked, even when update() changes the injection during its latency.
    const latency = this.latency;
    const hasFault = this.#hasFault;
    const fault = this.#fault;
    const hasResult = this.#hasResult;
    const result = this.#result;
    if (latency > 0) {
      this.#injected('latency', ctx);
      await new Promise<void>(
        (resolve, reject) => new LatencyWait(this.#clock, latency, ctx, resolve, reject, this.#clearFailed),
      );
    }
    if (hasFault) {
      this.#injected('fault', ctx);
      // The onInject hook may have aborted the caller: the call settles with the caller's reason.
      if (isAbortedContext(ctx)) throw contextAbortReason(ctx);
      throw typeof fault === 'function' ? (fault as (ctx: ExecutionContext) => unknown)(ctx) : fault;
    }
    if (hasResult) {
      this.#injected('result', ctx);
      if (isAbortedContext(ctx)) throw contextAbortReason(ctx);
      return result as R;
    }
    const telemetry = this.#telemetry;
    if (telemetry.logger !== undefined) telemetry.log('debug', 'chaos delayed a call');
    return await fn(ctx);
  }

  #injected(injection: ChaosInjection, ctx: ExecutionContext): void {
    const telemetry = this.#telemetry;
    telemetry.invokeHook(this.#onInject, 'onInject', injection, ctx);
    this.#events?.emit('injected', { injection, attempt: ctx.attempt });
    if (telemetry.logger !== undefined) telemetry.log('debug', 'chaos injected into a call', { injection });
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
   * Follows the policy from code that did not build it: `'injected'`
   * (`{ injection, attempt }`) each time something is injected into a
   * picked call (`'latency'`, then `'fault'` or `'result'`). Listeners run
   * synchronously after `onInject`; one that throws or returns a rejected
   * promise is logged and changes nothing. Nobody listening costs nothing.
   *
   * @returns a subscription: `dispose()` it (or `using` it) to stop listening
   * @throws TypeError for an unknown event or a listener that is not a function
   */
  on<K extends keyof ChaosEvents>(event: K, listener: EventListener<ChaosEvents[K]>): Subscription {
    this.#events ??= new EventHub<ChaosEvents>(OWNER, this.#telemetry);
    return this.#events.on(chaosEvents, event, listener);
  }

  /**
   * Changes settings at run time: `partial` is merged over the current config
   * (whose `enabled` follows `enable()` and `disable()`) and the whole result
   * validated as the constructor does (a bad value throws, naming it, and the
   * old settings stay). Calls that start afterwards are picked and injected
   * with the new settings; a call already picked finishes as picked (its
   * latency, fault or result). `enabled` switches injection like `enable()`
   * and `disable()`. `name` and `clock` cannot change. An option given as
   * `undefined` goes back to its default (`enabled: undefined` switches it off).
   *
   * @throws TypeError or RangeError naming the option
   */
  update(partial: Partial<ChaosConfig<T>>): void {
    this.#prepare(partial)();
  }

  static {
    // biome-ignore lint/complexity/noThisInStatic: tsc 7 compiles the class's name here to undefined (see registerUpdater)
    registerUpdater(this, (chaos, partial) => chaos.#prepare(partial));
  }

  /** The validating half of {@link Chaos.update}: throws, or returns what applies the change. */
  #prepare(partial: Partial<ChaosConfig<T>>): Commit {
    const config = mergeUpdate(OWNER, this.#config, partial, knownOptions.chaos);
    const next = new Chaos<T>(config);
    return () => {
      const self = this as { rate: number; latency: number };
      self.rate = next.rate;
      self.latency = next.latency;
      this.#fault = next.#fault;
      this.#hasFault = next.#hasFault;
      this.#result = next.#result;
      this.#hasResult = next.#hasResult;
      this.#onInject = next.#onInject;
      this.#random = next.#random;
      this.#telemetry = next.#telemetry;
      this.#enabled = next.#enabled;
      this.#config = config;
      if (this.#events !== undefined) this.#events.telemetry = next.#telemetry;
    };
  }
}
