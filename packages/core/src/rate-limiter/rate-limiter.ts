import type { Clock } from '../clock/clock.js';
import type { ExecuteOptions, Operation, Policy } from '../context.js';
import { RateLimitExceededError } from '../errors/errors.js';
import { checkConfigKeys, knownKeys, type PeerHints } from '../internal/config-keys.js';
import { enter, neverAbortedSignal, notAFunction } from '../internal/context.js';
import { EventHub, type EventListener, type Subscription } from '../internal/events.js';
import { Telemetry } from '../internal/telemetry.js';
import { type Commit, knownOptions, mergeUpdate, registerUpdater } from '../internal/update.js';
import {
  clockOption,
  configObject,
  describeValue,
  functionOption,
  numberOption,
  oneOfOption,
  requiredNumber,
} from '../internal/validate.js';
import { type RateLimiterEvents, rateLimiterEvents } from './events.js';
import { type Algorithm, KeyState, TOKEN_EPSILON } from './key-state.js';
import { KeyStore } from './key-store.js';
import { LeakyBucket } from './leaky-bucket.js';
import { SlidingLog } from './sliding-log.js';
import { SlidingWindow } from './sliding-window.js';
import { TokenBucket } from './token-bucket.js';
import type {
  RateLimitAlgorithm,
  RateLimiterConfig,
  RateLimiterExecuteOptions,
  RateLimiterLike,
  RateLimitResult,
  RateLimitWaitOptions,
} from './types.js';
import { WaitScheduler } from './wait-queue.js';

const OWNER = 'RateLimiter';

/**
 * Runs `fn` under `limiter` spending `tokens` of `key`, with `options` as the
 * context (internal: a pipeline hands its per-call key to a rate-limit step
 * this way, keeping an outer `Timeout`'s lazy context lazy).
 */
export let executeKeyed: <R>(
  limiter: RateLimiter,
  fn: Operation<R>,
  options: ExecuteOptions | undefined,
  key: string | undefined,
  tokens: number | undefined,
) => Promise<R>;
const ALGORITHMS: readonly RateLimitAlgorithm[] = ['token-bucket', 'sliding-window', 'sliding-log', 'leaky-bucket'];
/** The largest `rate` of the sliding log (its memory per key is at most 8 × rate bytes). */
const MAX_LOG_RATE = 100_000;
const resolved: Promise<void> = Promise.resolve();

const knownConfigKeys = knownKeys([
  'rate',
  'interval',
  'burst',
  'algorithm',
  'maxKeys',
  'idleTtl',
  'maxWait',
  'onLimit',
  'clock',
]);

/** Options of peer libraries (rate-limiter-flexible, express-rate-limit, limiter, bottleneck), and what to use here. */
const peerHints: PeerHints = {
  points: `rate-limiter-flexible's points is "rate" here`,
  duration: `rate-limiter-flexible's duration (seconds) is "interval" here, in milliseconds`,
  blockDuration: `there is no block duration: a refused key refills at "rate" per "interval"`,
  windowMs: `express-rate-limit's windowMs is "interval" here`,
  max: `express-rate-limit's max is "rate" here`,
  limit: `express-rate-limit's limit is "rate" here`,
  tokensPerInterval: `limiter's tokensPerInterval is "rate" here`,
  bucketSize: `use "burst"`,
  capacity: `use "burst"`,
  maxConcurrent: `a concurrency limit is a Bulkhead's "maxConcurrent"`,
  reservoir: `bottleneck's reservoir is "burst" here (with "rate" per "interval" as its refresh)`,
  keyPrefix: `keys are plain strings here: prefix them yourself`,
};

/** The counting algorithm named `algorithm`. */
function makeAlgorithm(
  algorithm: RateLimitAlgorithm,
  rate: number,
  interval: number,
  burst: number,
  origin: number,
): Algorithm {
  switch (algorithm) {
    case 'token-bucket':
      return new TokenBucket(rate, interval, burst, origin);
    case 'sliding-window':
      return new SlidingWindow(rate, interval, origin);
    case 'sliding-log':
      return new SlidingLog(rate, interval);
    case 'leaky-bucket':
      return new LeakyBucket(rate, interval, burst, origin);
  }
}

/** Checks a per-call number of `wait`/`execute`: `undefined` or a number obeying `ok`, else a `RangeError` naming it. */
function callNumber(field: string, value: unknown, rule: string, ok: (n: number) => boolean): RangeError | undefined {
  if (value === undefined || (typeof value === 'number' && ok(value))) return undefined;
  return new RangeError(`${OWNER}: ${field} must be ${rule}, got ${describeValue(value)}`);
}

/**
 * Limits how often something happens, per key (a user, an IP address, a
 * tenant) or for everyone (no key): `rate` tokens per `interval` ms, up to
 * `burst` at once. Decisions are synchronous and exact, refill is lazy
 * arithmetic on the clock (no timers), and a decision on a known key costs a
 * clock read and a `Map` lookup (none for the most recently used key), with no
 * allocation of its own (`performance.now()`, the default clock, returns a
 * boxed double: inject an integer clock for 0 B per decision).
 *
 * - `allow(key?)`, `take(key, tokens)`: take the tokens, or none.
 * - `consume(key?, tokens?)`: the same, plus what response headers need
 *   (`limit`, `remaining`, `resetMs`, `retryAfterMs`); `check` reports without taking.
 * - `wait(key?, { signal, tokens, maxWait, deadline })`: queue (FIFO per key)
 *   until the tokens exist; rejects at once when they cannot come in time.
 * - `execute(fn, { key, tokens, signal })`: take, then run `fn`.
 *
 * A key is a string (a number is tolerated): an object, `null` or a symbol
 * is a `TypeError` (thrown by the synchronous methods, a rejection from
 * `wait` and `execute`), since an object would be a fresh bucket per call. A key is never a metric
 * label, a span attribute or a log field: keys are often personal data. {@link RateLimiterLike} is the seam a distributed
 * limiter implements with the same method names, returning promises.
 *
 * @example
 * ```ts
 * const limiter = new RateLimiter({ rate: 100, interval: 60_000, burst: 20 });
 * const { allowed, remaining, retryAfterMs } = limiter.consume(req.ip);
 * if (!allowed) res.status(429).set('Retry-After', String(Math.ceil(retryAfterMs / 1000)));
 * await limiter.wait('export-job', { tokens: 5, maxWait: 10_000, signal });
 * ```
 */
export class RateLimiter implements RateLimiterLike, Policy<unknown, RateLimiterExecuteOptions> {
  /** Tokens added per `interval`. */
  readonly rate: number;
  /** The bucket size (for a sliding window or log, equal to `rate`; for a leaky bucket, the largest single take). */
  readonly burst: number;
  /** The period of `rate`, in ms. */
  readonly interval: number;
  /** The counting algorithm. */
  readonly algorithm: RateLimitAlgorithm;
  /** The cap on kept keys. */
  readonly maxKeys: number;
  /** How long an unused key whose state is back to that of a new key is kept, in ms. */
  readonly idleTtl: number;
  /** How long `execute` waits for tokens, in ms (0: not at all). */
  readonly maxWait: number;
  #algo: Algorithm;
  #limit: number;
  readonly #clock: Clock;
  readonly #store: KeyStore;
  readonly #default = new KeyState();
  readonly #scratch = new KeyState();
  readonly #scheduler: WaitScheduler;
  #telemetry: Telemetry;
  #onLimit: ((key: string | undefined) => void) | undefined;
  #waitByDefault: number;
  /** True while `onLimit` runs: a refusal inside the hook (the hook using this limiter) does not call it again. */
  #inOnLimit = false;
  /** The config as built and updated, for `update()` to merge over. */
  #config: RateLimiterConfig;
  /** The listeners of `on()`; `undefined` until the first one. */
  #events: EventHub<RateLimiterEvents> | undefined = undefined;

  /**
   * @param config - `rate` (required), `interval`, `burst`, `algorithm`, `maxKeys`, `idleTtl`, `maxWait`, `onLimit`, `clock` and observability options
   * @throws TypeError or RangeError naming the option when the config is invalid
   */
  constructor(config: RateLimiterConfig) {
    const c = configObject(OWNER, config) as Partial<RateLimiterConfig>;
    checkConfigKeys(OWNER, c, knownConfigKeys, peerHints);
    this.rate = requiredNumber(OWNER, 'rate', c.rate, { min: 0, minExclusive: true });
    this.interval = numberOption(OWNER, 'interval', c.interval, 1000, { min: 0, minExclusive: true });
    this.algorithm = oneOfOption(OWNER, 'algorithm', c.algorithm, ALGORITHMS, 'token-bucket');
    // A rate below 1 still admits one call at a time; a leaky bucket admits no bursts.
    const burstDefault = this.algorithm === 'leaky-bucket' ? 1 : Math.max(1, this.rate);
    this.burst = numberOption(OWNER, 'burst', c.burst, burstDefault, { min: 1 });
    const windowed = this.algorithm === 'sliding-window' || this.algorithm === 'sliding-log';
    if (windowed && c.burst !== undefined && this.burst !== this.rate) {
      throw new RangeError(
        `${OWNER}: burst must equal rate (or be left out) with the ${this.algorithm} algorithm, got ${this.burst}`,
      );
    }
    if (this.algorithm === 'sliding-window' && this.rate < 1) {
      throw new RangeError(`${OWNER}: rate must be >= 1 with the sliding-window algorithm, got ${this.rate}`);
    }
    if (this.algorithm === 'sliding-log' && !(Number.isInteger(this.rate) && this.rate <= MAX_LOG_RATE)) {
      throw new RangeError(
        `${OWNER}: rate must be a whole number from 1 to ${MAX_LOG_RATE} with the sliding-log algorithm (it keeps one entry per token), got ${this.rate}`,
      );
    }
    this.maxKeys = numberOption(OWNER, 'maxKeys', c.maxKeys, 100_000, { min: 1, integer: true });
    this.idleTtl = numberOption(OWNER, 'idleTtl', c.idleTtl, this.interval, { min: 0, allowInfinity: true });
    this.maxWait = numberOption(OWNER, 'maxWait', c.maxWait, 0, { min: 0, allowInfinity: true });
    this.#waitByDefault = c.maxWait === undefined ? Number.POSITIVE_INFINITY : this.maxWait;
    this.#onLimit = functionOption(OWNER, 'onLimit', c.onLimit);
    const clock = clockOption(OWNER, c.clock);
    this.#clock = clock;
    const origin = clock.now();
    this.#algo = makeAlgorithm(this.algorithm, this.rate, this.interval, this.burst, origin);
    this.#limit = this.#algo.limit;
    this.#store = new KeyStore(this.maxKeys, this.idleTtl, this.#algo);
    this.#scheduler = new WaitScheduler(this.#algo, clock);
    this.#telemetry = Telemetry.for('rate_limit', c);
    this.#config = c as RateLimiterConfig;
  }

  /** How many keys are kept now (the default bucket not counted). */
  get size(): number {
    return this.#store.size;
  }

  /** Takes one token of `key` (the shared default bucket when omitted) if there is one. */
  allow(key?: string): boolean {
    const now = this.#clock.now();
    const state = key === undefined ? this.#default : this.#store.get(key, now);
    if (state.waiters === null && this.#algo.take(state, 1, now)) return true;
    this.#refused(key);
    return false;
  }

  /**
   * Takes `tokens` of `key` at once, or none (all or nothing).
   * @throws RangeError when `tokens` is not a finite number > 0 and <= the limit (it could never be taken)
   */
  take(key: string | undefined, tokens: number): boolean {
    if (!(typeof tokens === 'number' && tokens > 0 && tokens <= this.#limit)) throw this.#badTokens(tokens);
    const now = this.#clock.now();
    const state = key === undefined ? this.#default : this.#store.get(key, now);
    if (state.waiters === null && this.#algo.take(state, tokens, now)) return true;
    this.#refused(key);
    return false;
  }

  /**
   * Takes `tokens` when they are there and reports, in one step, what the
   * standard rate-limit response headers need.
   * @throws RangeError when `tokens` is not a finite number > 0 and <= the limit
   */
  consume(key?: string, tokens = 1): RateLimitResult {
    if (!(typeof tokens === 'number' && tokens > 0 && tokens <= this.#limit)) throw this.#badTokens(tokens);
    const now = this.#clock.now();
    const state = key === undefined ? this.#default : this.#store.get(key, now);
    const allowed = state.waiters === null && this.#algo.take(state, tokens, now);
    // The report is made before onLimit runs, so a hook that uses this limiter cannot change it.
    const report = this.#report(state, tokens, now, allowed);
    if (!allowed) this.#refused(key);
    return report;
  }

  /**
   * Reports what {@link RateLimiter.consume} would, without taking anything
   * (an unknown key is not stored).
   * @throws RangeError when `tokens` is not a finite number > 0 and <= the limit
   */
  check(key?: string, tokens = 1): RateLimitResult {
    if (!(typeof tokens === 'number' && tokens > 0 && tokens <= this.#limit)) throw this.#badTokens(tokens);
    const now = this.#clock.now();
    let state = key === undefined ? this.#default : this.#store.peek(key);
    if (state === undefined) {
      state = this.#scratch;
      state.reset();
    }
    const allowed = state.waiters === null && this.#algo.delay(state, tokens, now) === 0;
    return this.#report(state, tokens, now, allowed);
  }

  /**
   * Resolves once `tokens` (default 1) of `key` are taken, queueing FIFO
   * behind earlier waiters of the key. Rejects at once with a
   * {@link RateLimitExceededError} (with `retryAfterMs`) when they cannot be
   * taken within `maxWait` ms or before `deadline`, and with the signal's
   * reason when it aborts; a failed wait keeps nothing and gives back its place.
   */
  wait(key?: string, options?: RateLimitWaitOptions): Promise<void> {
    if (options === null) options = undefined;
    const signal = options?.signal;
    if (signal?.aborted) return Promise.reject(signal.reason);
    const tokens = options?.tokens ?? 1;
    if (!(typeof tokens === 'number' && tokens > 0 && tokens <= this.#limit))
      return Promise.reject(this.#badTokens(tokens));
    const bad =
      callNumber('maxWait', options?.maxWait, 'a number >= 0 (or Infinity)', (n) => n >= 0) ??
      callNumber('deadline', options?.deadline, 'a finite number (an absolute clock time)', Number.isFinite);
    if (bad !== undefined) return Promise.reject(bad);
    const now = this.#clock.now();
    let state: KeyState;
    try {
      state = key === undefined ? this.#default : this.#store.get(key, now);
    } catch (err) {
      // A key that is not a string: a promise-returning method rejects, never throws.
      return Promise.reject(err);
    }
    const queue = state.waiters;
    if (queue === null && this.#algo.take(state, tokens, now)) return resolved;
    const delay =
      queue === null ? this.#algo.delay(state, tokens, now) : this.#algo.queueDelay(state, queue, tokens, now);
    const maxWait = options?.maxWait ?? this.#waitByDefault;
    const deadline = options?.deadline;
    if (delay > maxWait || (deadline !== undefined && now + delay > deadline)) {
      this.#refused(key);
      return Promise.reject(new RateLimitExceededError({ retryAfterMs: delay }));
    }
    return this.#scheduler.enqueue(state, tokens, signal, now);
  }

  /**
   * Takes the tokens (`options.tokens`, default 1, of `options.key`), then runs
   * `fn` with the call's context. Without tokens it rejects at once with a
   * {@link RateLimitExceededError}, or, when the limiter has a `maxWait`, waits
   * like {@link RateLimiter.wait} (bounded by `options.deadline` too).
   */
  execute<R>(fn: Operation<R>, options?: RateLimiterExecuteOptions): Promise<R> {
    return this.#keyed(fn, options ?? undefined, options?.key, options?.tokens);
  }

  static {
    executeKeyed = (limiter, fn, options, key, tokens) => limiter.#keyed(fn, options, key, tokens);
  }

  /** {@link RateLimiter.execute} with the key and tokens given apart from the context (a pipeline's per-call key). */
  #keyed<R>(
    fn: Operation<R>,
    options: ExecuteOptions | undefined,
    key: string | undefined,
    tokens: number | undefined,
  ): Promise<R> {
    // Before the span: a call with no work gets none (enter() checks again, a typeof).
    if (typeof fn !== 'function') return Promise.reject(notAFunction(OWNER, fn));
    if (this.#telemetry.tracer === undefined) return this.#run(fn, options, key, tokens);
    return this.#telemetry.traced('resilience.rate_limit', undefined, () => this.#run(fn, options, key, tokens));
  }

  /**
   * Takes the tokens and runs `fn`, settling with its outcome. A limiter that
   * does not wait needs no async frame: it takes (or throws) synchronously and
   * hands back `fn`'s own promise, so an admitted call costs what `fn` does
   * plus the decision. Anything thrown before `fn`'s promise exists (a bad
   * key, no tokens, an aborted context, `fn` throwing synchronously) becomes
   * the returned rejection.
   */
  #run<R>(
    fn: Operation<R>,
    options: ExecuteOptions | undefined,
    key: string | undefined,
    requested: number | undefined,
  ): Promise<R> {
    if (this.maxWait > 0) return this.#execute(fn, options, key, requested);
    try {
      // A Timeout's context is passed on as it is, and read without creating its lazy signal.
      const ctx = enter(OWNER, fn, options);
      this.#takeOrThrow(key, requested ?? 1);
      // Inside the `try`: a promise whose `constructor` getter throws makes `Promise.resolve` throw.
      return Promise.resolve(fn(ctx));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Drops every key whose state is back to that of a key never seen (a full
   * bucket, an empty window). This also happens lazily as new keys arrive;
   * call it to free memory after a burst of keys. Returns how many were dropped.
   */
  prune(): number {
    return this.#store.prune(this.#clock.now());
  }

  /** {@link RateLimiter.execute} for a limiter with a `maxWait`: waits like {@link RateLimiter.wait}, then runs `fn`. */
  async #execute<R>(
    fn: Operation<R>,
    options: ExecuteOptions | undefined,
    key: string | undefined,
    requested: number | undefined,
  ): Promise<R> {
    // A Timeout's context is passed on as it is, and read without creating its lazy signal.
    const ctx = enter(OWNER, fn, options);
    const signal = ctx.signal;
    await this.wait(key, {
      signal: signal === neverAbortedSignal ? undefined : signal,
      tokens: requested ?? 1,
      maxWait: this.maxWait,
      deadline: ctx.deadline,
    });
    return await fn(ctx);
  }

  /**
   * Takes `tokens` of `key`, or throws a `RateLimitExceededError` (kept out of
   * the async frame of `execute`, so its locals do not enlarge every call).
   */
  #takeOrThrow(key: string | undefined, tokens: number): void {
    if (!(typeof tokens === 'number' && tokens > 0 && tokens <= this.#limit)) throw this.#badTokens(tokens);
    const now = this.#clock.now();
    const state = key === undefined ? this.#default : this.#store.get(key, now);
    const queue = state.waiters;
    if (queue === null && this.#algo.take(state, tokens, now)) return;
    // Everything is computed before onLimit runs: a hook that uses this limiter (and evicts the key) changes nothing.
    const retryAfterMs =
      queue === null ? this.#algo.delay(state, tokens, now) : this.#algo.queueDelay(state, queue, tokens, now);
    this.#refused(key);
    throw new RateLimitExceededError({ retryAfterMs });
  }

  #report(state: KeyState, tokens: number, now: number, allowed: boolean): RateLimitResult {
    const algo = this.#algo;
    const queue = state.waiters;
    const free = Math.floor(algo.available(state, now) - (queue === null ? 0 : queue.tokens) + TOKEN_EPSILON);
    let retryAfterMs = 0;
    if (!allowed) {
      retryAfterMs = queue === null ? algo.delay(state, tokens, now) : algo.queueDelay(state, queue, tokens, now);
    }
    return {
      allowed,
      limit: this.#limit,
      remaining: free > 0 ? free : 0,
      resetMs: algo.resetMs(state, now),
      retryAfterMs,
    };
  }

  #refused(key: string | undefined): void {
    const telemetry = this.#telemetry;
    telemetry.recordRateLimitHit();
    if (this.#onLimit !== undefined && !this.#inOnLimit) {
      this.#inOnLimit = true;
      try {
        telemetry.invokeHook(this.#onLimit, 'onLimit', key);
      } finally {
        this.#inOnLimit = false;
      }
    }
    this.#events?.emit('rejected', { key });
    if (telemetry.logger !== undefined) telemetry.log('debug', 'rate limit exceeded');
  }

  #badTokens(tokens: unknown): RangeError {
    const got = typeof tokens === 'string' ? JSON.stringify(tokens) : String(tokens);
    return new RangeError(`${OWNER}: tokens must be a finite number > 0 and <= ${this.#limit} (the limit), got ${got}`);
  }

  /**
   * Follows the limiter from code that did not build it: `'rejected'`
   * (`{ key }`) for each refused decision. Listeners run synchronously after
   * `onLimit`; one that throws or returns a rejected promise is logged and
   * changes nothing. Nobody listening costs nothing.
   *
   * @returns a subscription: `dispose()` it (or `using` it) to stop listening
   * @throws TypeError for an unknown event or a listener that is not a function
   */
  on<K extends keyof RateLimiterEvents>(event: K, listener: EventListener<RateLimiterEvents[K]>): Subscription {
    this.#events ??= new EventHub<RateLimiterEvents>(OWNER, this.#telemetry);
    return this.#events.on(rateLimiterEvents, event, listener);
  }

  /**
   * Changes settings at run time: `partial` is merged over the current config
   * and the whole result validated before anything changes (a bad value
   * throws, naming it, and the old settings stay). Every key keeps what it
   * has used: it has the new limit minus that, never below 0 (a sliding
   * window keeps what it counted and starts its current window now); the new
   * `rate` refills from now on. Queued `wait()` callers keep their place and are served under the
   * new limits (a wake-up already armed keeps its time). `algorithm`,
   * `maxKeys`, `idleTtl`, `name` and `clock` cannot change; nor can `burst`
   * drop below what a queued `wait()` asks for (a `RangeError`). An option
   * given as `undefined` goes back to its default.
   *
   * @throws TypeError or RangeError naming the option
   */
  update(partial: Partial<RateLimiterConfig>): void {
    this.#prepare(partial)();
  }

  static {
    // biome-ignore lint/complexity/noThisInStatic: tsc 7 compiles the class's name here to undefined (see registerUpdater)
    registerUpdater(this, (limiter, partial) => limiter.#prepare(partial));
  }

  /** The validating half of {@link RateLimiter.update}: throws, or returns what applies the change. */
  #prepare(partial: Partial<RateLimiterConfig>): Commit {
    const config = mergeUpdate(OWNER, this.#config, partial, knownOptions.rateLimiter, [
      'algorithm',
      'maxKeys',
      'idleTtl',
    ]);
    const next = new RateLimiter(config);
    const limit = next.#limit;
    for (const state of [this.#default, ...this.#store.states()]) {
      for (const waiter of state.waiters?.list ?? []) {
        if (waiter.tokens > limit) {
          throw new RangeError(
            `${OWNER}: burst must be >= ${waiter.tokens} while a wait() for that many tokens is queued, got ${limit}`,
          );
        }
      }
    }
    return () => {
      const from = this.#algo;
      const to = next.#algo;
      const now = this.#clock.now();
      const carry = (state: KeyState): void => {
        // What a key has used so far, carried over: a fresh state, then as many tokens taken (at most the new limit).
        const used = Math.min(Math.max(from.limit - from.available(state, now), 0), limit);
        const waiters = state.waiters;
        state.reset();
        state.waiters = waiters;
        if (used > TOKEN_EPSILON) to.take(state, used, now);
      };
      carry(this.#default);
      for (const state of this.#store.states()) carry(state);
      this.#store.retune(to);
      this.#scheduler.retune(to);
      this.#algo = to;
      this.#limit = limit;
      const self = this as { rate: number; burst: number; interval: number; maxWait: number };
      self.rate = next.rate;
      self.burst = next.burst;
      self.interval = next.interval;
      self.maxWait = next.maxWait;
      this.#waitByDefault = next.#waitByDefault;
      this.#onLimit = next.#onLimit;
      this.#telemetry = next.#telemetry;
      this.#config = config;
      if (this.#events !== undefined) this.#events.telemetry = next.#telemetry;
    };
  }
}
