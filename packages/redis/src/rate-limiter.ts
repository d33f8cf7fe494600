import {
  type Clock,
  type ExecutionContext,
  type Logger,
  type MetricsRecorder,
  type Operation,
  type Policy,
  type RateLimitAlgorithm,
  RateLimitExceededError,
  RateLimiter,
  type RateLimiterExecuteOptions,
  type RateLimiterLike,
  type RateLimitResult,
  type RateLimitWaitOptions,
} from '@resilience/core';
import {
  clockOption,
  configObject,
  describeValue,
  functionOption,
  numberOption,
  oneOfOption,
  requiredNumber,
  requireMethod,
  stringOption,
} from '@resilience/core/validate';
import { type RedisClientKind, ScriptRunner } from './client.js';
import {
  codeUnitsHex,
  fallbackOption,
  hasLoneSurrogate,
  knownKeys,
  LIMITER_HINTS,
  LIMITER_OPTIONS,
  MAX_TIMER_MS,
  wellFormed,
} from './internal/config.js';
import { RedisGate } from './internal/gate.js';
import { ignoreRejection } from './internal/quiet.js';
import { sleep } from './internal/sleep.js';
import { type LuaScript, SLIDING_WINDOW, TOKEN_BUCKET } from './scripts.js';
import type { RateLimiterFallback, RedisRateLimiterConfig } from './types.js';

const OWNER = 'RedisRateLimiter';
const ALGORITHMS: readonly RateLimitAlgorithm[] = ['token-bucket', 'sliding-window'];
const neverAborted: AbortSignal = new AbortController().signal;
/** The longest refill time of a bucket (about 285 years): beyond it the server's arithmetic loses whole ms. */
const MAX_REFILL_MS = 2 ** 53;
/** The longest sliding window: its key lives two windows, which PEXPIRE must accept and a double must count in whole ms. */
const MAX_WINDOW_MS = 2 ** 52;

/**
 * The factor an allowed decision's reply is packed with (`remaining * factor
 * + resetMs`, see scripts.ts): the smallest power of two above any `resetMs`
 * (at most `longestReset` rounded up, plus one for rounding), or 0 when the
 * largest reply (`remaining` at most `limit` + 1) would not stay an exact
 * integer (then the script answers with a table).
 */
export function replyFactor(limit: number, longestReset: number): number {
  const bound = Math.ceil(longestReset) + 2;
  let factor = 1;
  while (factor <= bound) factor *= 2;
  return (limit + 2) * factor <= Number.MAX_SAFE_INTEGER ? factor : 0;
}

/** An integer of a script's reply: a number, or its decimal text (ioredis's `stringNumbers`); otherwise undefined. */
function integer(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  return typeof value === 'string' && /^-?\d{1,16}$/.test(value) ? Number(value) : undefined;
}

/** What decides while Redis is unavailable, once resolved from the config. */
type Fallback = Pick<RateLimiterLike, 'consume' | 'check'> | 'allow' | 'deny';

/**
 * A rate limiter whose budget is shared by every process using the same
 * Redis: the core {@link RateLimiter}'s surface and meaning (`rate` tokens per
 * `interval` ms, up to `burst` at once, token bucket or sliding window), with
 * `allow`, `take`, `consume` and `check` returning promises.
 *
 * Each decision is one round trip: a Lua script (sent as `EVALSHA`, its text
 * only after a `NOSCRIPT`) that reads the Redis server's clock (`TIME`), so
 * the clocks of the processes do not matter, and touches one key, named in
 * `KEYS` with a hash tag (it works on Redis Cluster); every key gets a TTL.
 * Keys are data, never code: any string is a valid key.
 *
 * When Redis errs or does not answer within `commandTimeout`,
 * `whenUnavailable` decides (an in-memory limiter with the same settings by
 * default) until Redis answers again; while it is down at most one decision at
 * a time probes it. One log line marks each transition.
 *
 * It works wherever a limiter is accepted: the Express `rateLimit`
 * middleware, `pipeline().rateLimit(…)` and the gRPC interceptors.
 *
 * @example
 * ```ts
 * import { Redis } from 'ioredis';
 * const limiter = new RedisRateLimiter({ client: new Redis(), rate: 100, interval: 60_000, burst: 20 });
 * const { allowed, remaining, retryAfterMs } = await limiter.consume(userId);
 * app.use(rateLimit(limiter)); // @resilience/express
 * ```
 */
export class RedisRateLimiter implements RateLimiterLike, Policy<unknown, RateLimiterExecuteOptions> {
  /** Tokens added per `interval`. */
  readonly rate: number;
  /** The bucket size (for a sliding window, equal to `rate`). */
  readonly burst: number;
  /** The period of `rate`, in ms. */
  readonly interval: number;
  /** The counting algorithm. */
  readonly algorithm: RateLimitAlgorithm;
  /** Prepended to every Redis key. */
  readonly prefix: string;
  /** The longest a decision waits for Redis, in ms. */
  readonly commandTimeout: number;
  /** How long `execute` waits for tokens, in ms (0: not at all). */
  readonly maxWait: number;
  /** The pattern's name. */
  readonly name: string;
  /** Which client library it talks through. */
  readonly clientKind: RedisClientKind;
  readonly #limit: number;
  readonly #script: LuaScript;
  /** The script's constant arguments (two numbers; then tokens and take/check, then the reply factor). */
  readonly #args: readonly [string, string];
  /** The reply factor, as sent (see `ALLOWED` in scripts.ts). */
  readonly #factor: string;
  /** The arguments of a one-token take and of a one-token check, built once. */
  readonly #takeOne: readonly string[];
  readonly #checkOne: readonly string[];
  readonly #keyStart: string;
  readonly #hexKeyStart: string;
  readonly #defaultKey: string;
  readonly #gate: RedisGate;
  readonly #clock: Clock;
  readonly #fallback: Fallback;
  readonly #onLimit: ((key: string | undefined) => void) | undefined;
  readonly #metrics: MetricsRecorder | undefined;
  readonly #waitByDefault: number;
  readonly #toResult: (reply: unknown) => RateLimitResult | undefined;

  /**
   * @param config - `client`, `rate` (required), `interval`, `burst`, `algorithm`, `prefix`, `commandTimeout`, `whenUnavailable`, `maxWait`, `onLimit`, `clock`, `name`, `logger`, `metrics`
   * @throws TypeError or RangeError naming the option when the config is invalid
   */
  constructor(config: RedisRateLimiterConfig) {
    const c = configObject(OWNER, config) as Partial<RedisRateLimiterConfig>;
    knownKeys(OWNER, c, LIMITER_OPTIONS, LIMITER_HINTS);
    const runner = new ScriptRunner(OWNER, c.client);
    this.clientKind = runner.kind;
    this.rate = requiredNumber(OWNER, 'rate', c.rate, { min: 0, minExclusive: true });
    this.interval = numberOption(OWNER, 'interval', c.interval, 1000, { min: 0, minExclusive: true });
    this.algorithm = oneOfOption(OWNER, 'algorithm', c.algorithm, ALGORITHMS, 'token-bucket');
    this.burst = numberOption(
      OWNER,
      'burst',
      c.burst,
      this.algorithm === 'token-bucket' ? Math.max(1, this.rate) : this.rate,
      { min: 1 },
    );
    if (this.algorithm === 'sliding-window') {
      if (this.rate < 1) {
        throw new RangeError(`${OWNER}: rate must be >= 1 with the sliding-window algorithm, got ${this.rate}`);
      }
      if (this.burst !== this.rate) {
        throw new RangeError(
          `${OWNER}: burst must equal rate (or be left out) with the sliding-window algorithm, got ${this.burst}`,
        );
      }
    }
    // Redis converts a script's numbers to integers: counts beyond 2^53 would come back wrong (past 2^63, as -2^63).
    const countField = this.algorithm === 'token-bucket' ? 'burst' : 'rate';
    const count = this.algorithm === 'token-bucket' ? this.burst : this.rate;
    if (count > Number.MAX_SAFE_INTEGER) {
      throw new RangeError(
        `${OWNER}: ${countField} must be at most ${Number.MAX_SAFE_INTEGER} (Redis answers scripts with integers), got ${count}`,
      );
    }
    // A window must be indexable on the server's clock (microseconds) and expirable by PEXPIRE (2 windows).
    if (this.algorithm === 'sliding-window' && !(this.interval >= 0.001 && this.interval <= MAX_WINDOW_MS)) {
      throw new RangeError(
        `${OWNER}: interval must be >= 0.001 and <= ${MAX_WINDOW_MS} with the sliding-window algorithm, got ${this.interval}`,
      );
    }
    this.name = wellFormed(OWNER, 'name', stringOption(OWNER, 'name', c.name, 'rate_limit'));
    this.prefix = wellFormed(OWNER, 'prefix', stringOption(OWNER, 'prefix', c.prefix, `resilience:${this.name}:`));
    this.commandTimeout = numberOption(OWNER, 'commandTimeout', c.commandTimeout, 250, {
      min: 0,
      minExclusive: true,
      max: MAX_TIMER_MS,
    });
    this.maxWait = numberOption(OWNER, 'maxWait', c.maxWait, 0, { min: 0, allowInfinity: true });
    this.#waitByDefault = c.maxWait === undefined ? Number.POSITIVE_INFINITY : this.maxWait;
    this.#onLimit = functionOption(OWNER, 'onLimit', c.onLimit);
    this.#clock = clockOption(OWNER, c.clock);
    const logger = c.logger ?? console;
    requireMethod(OWNER, 'logger', logger, 'warn');
    requireMethod(OWNER, 'logger', logger, 'info');
    if (c.metrics !== undefined) requireMethod(OWNER, 'metrics', c.metrics, 'recordRateLimitHit');
    this.#metrics = c.metrics;
    this.#limit = this.algorithm === 'token-bucket' ? this.burst : this.rate;
    const tokenBucket = this.algorithm === 'token-bucket';
    this.#script = tokenBucket ? TOKEN_BUCKET : SLIDING_WINDOW;
    // The token bucket gets its constants precomputed (String() of a number round-trips exactly).
    const per = this.interval / this.rate;
    if (tokenBucket && !(per * this.burst <= MAX_REFILL_MS)) {
      throw new RangeError(
        `${OWNER}: rate, interval and burst must let a bucket refill within ${MAX_REFILL_MS} ms (burst * interval / rate), got ${per * this.burst}`,
      );
    }
    this.#args = tokenBucket ? [String(per), String(per * this.burst)] : [String(this.rate), String(this.interval)];
    const factor = replyFactor(this.#limit, tokenBucket ? per * this.burst : 2 * this.interval);
    this.#factor = String(factor);
    this.#takeOne = [...this.#args, '1', '1', this.#factor];
    this.#checkOne = [...this.#args, '1', '0', this.#factor];
    // `{…}` is the hash tag: everything a decision touches lives in one slot.
    const kind = tokenBucket ? 'tb' : 'sw';
    this.#keyStart = `${this.prefix}${kind}:{k:`;
    this.#hexKeyStart = `${this.prefix}${kind}:{u:`;
    this.#defaultKey = `${this.prefix}${kind}:{default}`;
    this.#fallback = this.#fallbackOption(c.whenUnavailable);
    this.#gate = new RedisGate(runner, {
      owner: OWNER,
      name: this.name,
      commandTimeout: this.commandTimeout,
      clock: this.#clock,
      logger: logger as Logger,
    });
    const limit = this.#limit;
    this.#toResult = (reply) => {
      // ioredis with `stringNumbers: true` answers integers as decimal strings.
      const packed = typeof reply === 'number' ? reply : typeof reply === 'string' ? integer(reply) : undefined;
      if (packed !== undefined) {
        // An allowed decision, as one integer: remaining * factor + resetMs (factor a power of two, so exact).
        if (factor === 0 || !Number.isSafeInteger(packed) || packed < 0) return undefined;
        const remaining = Math.floor(packed / factor);
        return { allowed: true, limit, remaining, resetMs: packed - remaining * factor, retryAfterMs: 0 };
      }
      if (!Array.isArray(reply) || reply.length !== 4) return undefined;
      const remaining = integer(reply[1]);
      const resetMs = integer(reply[2]);
      const retryAfterMs = integer(reply[3]);
      if (remaining === undefined || resetMs === undefined || retryAfterMs === undefined) return undefined;
      return { allowed: integer(reply[0]) === 1, limit, remaining, resetMs, retryAfterMs };
    };
  }

  /** False while Redis is unavailable and `whenUnavailable` decides. */
  get available(): boolean {
    return this.#gate.available;
  }

  /**
   * The Redis key that holds the state of `key` (the default bucket when
   * omitted), for inspection. A key with a lone surrogate (which UTF-8 would
   * turn into U+FFFD, merging it with other keys) is spelled as the hex of its
   * UTF-16 code units instead, under `{u:…}`.
   */
  redisKey(key?: string): string {
    if (key === undefined) return this.#defaultKey;
    return hasLoneSurrogate(key) ? `${this.#hexKeyStart}${codeUnitsHex(key)}}` : `${this.#keyStart}${key}}`;
  }

  /** Takes one token of `key` (the shared default bucket when omitted) if there is one. */
  allow(key?: string): Promise<boolean> {
    return this.take(key, 1);
  }

  /**
   * Takes `tokens` of `key` at once, or none.
   * Rejects with a `RangeError` when `tokens` is not a finite number > 0 and <= the limit (it could never be taken).
   */
  async take(key: string | undefined, tokens: number): Promise<boolean> {
    return (await this.consume(key, tokens)).allowed;
  }

  /**
   * Takes `tokens` (default 1) when they are there and reports, in the same
   * round trip, what the standard rate-limit response headers need.
   * Rejects with a `RangeError` when `tokens` is not a finite number > 0 and <= the limit.
   */
  consume(key?: string, tokens = 1): Promise<RateLimitResult> {
    // Not an async function: the hot path, so no promise of its own on top of the decision's.
    try {
      this.#validate(key, tokens);
      return this.#decide(key, tokens, true, true);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Reports what {@link RedisRateLimiter.consume} would, without taking anything.
   * Rejects with a `RangeError` when `tokens` is not a finite number > 0 and <= the limit.
   */
  check(key?: string, tokens = 1): Promise<RateLimitResult> {
    try {
      this.#validate(key, tokens);
      return this.#decide(key, tokens, false, false);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Resolves once `tokens` (default 1) of `key` are taken. A refused caller
   * sleeps until the tokens should exist and asks again (callers of several
   * processes are not served in FIFO order). Rejects with a
   * `RateLimitExceededError` (with `retryAfterMs`) as soon as the tokens
   * cannot come within `maxWait` ms or before `deadline`, with the signal's
   * reason when it aborts, and with a `RangeError` naming a bad option.
   */
  async wait(key?: string, options?: RateLimitWaitOptions): Promise<void> {
    const signal = options?.signal;
    if (signal?.aborted) throw signal.reason;
    const tokens = options?.tokens ?? 1;
    this.#validate(key, tokens);
    const maxWait = options?.maxWait ?? this.#waitByDefault;
    if (typeof maxWait !== 'number' || Number.isNaN(maxWait) || maxWait < 0) {
      throw new RangeError(`${OWNER}: maxWait must be a number >= 0 (or Infinity), got ${describeValue(maxWait)}`);
    }
    const deadline = options?.deadline;
    if (deadline !== undefined && (typeof deadline !== 'number' || Number.isNaN(deadline))) {
      throw new RangeError(`${OWNER}: deadline must be a clock time (a number), got ${describeValue(deadline)}`);
    }
    const clock = this.#clock;
    const until = clock.now() + maxWait;
    for (;;) {
      const result = await this.#decide(key, tokens, true, false);
      if (result.allowed) return;
      if (signal?.aborted) throw signal.reason;
      const delay = Math.max(1, result.retryAfterMs);
      const at = clock.now() + delay;
      if (at > until || (deadline !== undefined && at > deadline)) {
        this.#refused(key);
        throw new RateLimitExceededError({ retryAfterMs: result.retryAfterMs });
      }
      await sleep(Math.min(delay, MAX_TIMER_MS), signal, clock);
    }
  }

  /**
   * Takes the tokens (`options.tokens`, default 1, of `options.key`), then
   * runs `fn` with the call's context. Without tokens it rejects with a
   * `RateLimitExceededError`, or, when the limiter has a `maxWait`, waits like
   * {@link RedisRateLimiter.wait} (bounded by `options.deadline` too). Never throws synchronously.
   */
  async execute<R>(fn: Operation<R>, options?: RateLimiterExecuteOptions): Promise<R> {
    const signal = options?.signal;
    if (signal?.aborted) throw signal.reason;
    if (typeof fn !== 'function') throw new TypeError(`${OWNER}: fn must be a function, got ${describeValue(fn)}`);
    const key = options?.key;
    const tokens = options?.tokens ?? 1;
    const deadline = options?.deadline;
    if (this.maxWait > 0) {
      await this.wait(key, { signal, tokens, maxWait: this.maxWait, deadline });
    } else {
      const result = await this.consume(key, tokens);
      if (!result.allowed) throw new RateLimitExceededError({ retryAfterMs: result.retryAfterMs });
    }
    if (signal?.aborted) throw signal.reason;
    const ctx: ExecutionContext = { signal: signal ?? neverAborted, attempt: options?.attempt ?? 1, deadline };
    return await fn(ctx);
  }

  /**
   * Stops the limiter's timer; decisions from now on are the fallback's. The
   * client is yours: it is not closed. Resolves at once.
   */
  close(): Promise<void> {
    this.#gate.close();
    return Promise.resolve();
  }

  /** One decision on Redis (or the fallback); `report` tells a refusal to metrics and `onLimit`. */
  #decide(key: string | undefined, tokens: number, take: boolean, report: boolean): Promise<RateLimitResult> {
    const args =
      tokens === 1
        ? take
          ? this.#takeOne
          : this.#checkOne
        : [...this.#args, String(tokens), take ? '1' : '0', this.#factor];
    const sent = this.#gate.call(this.#script, this.redisKey(key), args);
    if (sent === undefined) return this.#fallbackDecision(key, tokens, take, report);
    return sent.then(
      (reply) => {
        const result = this.#toResult(reply);
        if (result === undefined) return this.#fallbackDecision(key, tokens, take, report);
        if (report && !result.allowed) this.#refused(key);
        return result;
      },
      () => this.#fallbackDecision(key, tokens, take, report),
    );
  }

  async #fallbackDecision(
    key: string | undefined,
    tokens: number,
    take: boolean,
    report: boolean,
  ): Promise<RateLimitResult> {
    const result = await this.#unavailable(key, tokens, take);
    if (report && !result.allowed) this.#refused(key);
    return result;
  }

  async #unavailable(key: string | undefined, tokens: number, take: boolean): Promise<RateLimitResult> {
    const fallback = this.#fallback;
    if (fallback === 'allow') {
      return { allowed: true, limit: this.#limit, remaining: this.#limit, resetMs: 0, retryAfterMs: 0 };
    }
    if (fallback === 'deny') {
      const retryAfterMs = Math.max(1, Math.ceil(this.interval / this.rate));
      return { allowed: false, limit: this.#limit, remaining: 0, resetMs: retryAfterMs, retryAfterMs };
    }
    const answer: unknown = await (take ? fallback.consume(key, tokens) : fallback.check(key, tokens));
    if (answer === null || typeof answer !== 'object' || typeof (answer as RateLimitResult).allowed !== 'boolean') {
      throw new TypeError(
        `${OWNER}: whenUnavailable's ${take ? 'consume' : 'check'}() gave ${describeValue(answer)}, not a decision ({ allowed, limit, remaining, resetMs, retryAfterMs })`,
      );
    }
    return answer as RateLimitResult;
  }

  #fallbackOption(value: RateLimiterFallback | undefined): Fallback {
    return fallbackOption(
      OWNER,
      value,
      // Its refusals are reported by this limiter (metrics, onLimit), not by it.
      () =>
        new RateLimiter({
          rate: this.rate,
          interval: this.interval,
          burst: this.burst,
          algorithm: this.algorithm,
          name: this.name,
        }),
      ['consume', 'check'],
      'a rate limiter',
    );
  }

  #validate(key: unknown, tokens: unknown): void {
    if (key !== undefined && typeof key !== 'string') {
      throw new TypeError(
        `${OWNER}: key must be a string (or undefined for the default bucket), got ${describeValue(key)}`,
      );
    }
    if (!(typeof tokens === 'number' && tokens > 0 && tokens <= this.#limit)) {
      throw new RangeError(
        `${OWNER}: tokens must be a finite number > 0 and <= ${this.#limit} (the limit), got ${describeValue(tokens)}`,
      );
    }
  }

  #refused(key: string | undefined): void {
    try {
      ignoreRejection(this.#metrics?.recordRateLimitHit(this.name));
    } catch {
      // Observability never changes an outcome.
    }
    if (this.#onLimit === undefined) return;
    try {
      ignoreRejection(this.#onLimit(key));
    } catch {
      // An exception from onLimit is ignored, as documented.
    }
  }
}
