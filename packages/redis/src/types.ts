import type { Clock, Logger, MetricsRecorder, Policy, RateLimitAlgorithm, RateLimiterLike } from '@resilience/core';
import type { RedisClientLike } from './client.js';

/**
 * What a {@link RedisRateLimiter} does while Redis errs or does not answer
 * within `commandTimeout`:
 * - `'local'`: an in-memory core `RateLimiter` with the same settings decides
 *   (each process then admits the full rate on its own);
 * - `'allow'`: every call is admitted;
 * - `'deny'`: every call is refused (`retryAfterMs`: the time one token takes);
 * - a limiter of your own (its `consume` and `check` are used).
 */
export type RateLimiterFallback = 'local' | 'allow' | 'deny' | Pick<RateLimiterLike, 'consume' | 'check'>;

/** Configuration of a {@link RedisRateLimiter}. */
export interface RedisRateLimiterConfig {
  /** An ioredis client (`new Redis()`, `new Cluster()`) or a node-redis one (`createClient()`, connected). Required. */
  client: RedisClientLike;
  /** Tokens added per `interval`: a finite number > 0 (with `'sliding-window'`, from 1 to 2^53 − 1). Required. */
  rate: number;
  /**
   * The period `rate` refers to, in ms (finite, > 0; with `'sliding-window'`, from 0.001 to 2^52).
   * @default 1000
   */
  interval?: number | undefined;
  /**
   * The bucket size (from 1 to 2^53 − 1: Redis answers scripts with integers). With `'sliding-window'` leave it
   * out or make it equal `rate`.
   * @default rate
   */
  burst?: number | undefined;
  /**
   * The counting algorithm, with the core's meaning, computed on the Redis server's clock.
   * @default 'token-bucket'
   */
  algorithm?: RateLimitAlgorithm | undefined;
  /**
   * Prepended to every Redis key. Limiters that share a prefix (and an
   * algorithm) share their budgets, so give each limiter its own.
   * @default `"resilience:" + name + ":"`
   */
  prefix?: string | undefined;
  /**
   * The longest one decision may wait for Redis, in ms (finite, > 0); past it
   * `whenUnavailable` decides. Kept well under the Express adapter's
   * `limiterTimeout` (1000 ms) so the fallback decides, not the middleware.
   * @default 250
   */
  commandTimeout?: number | undefined;
  /**
   * What decides while Redis is unavailable (see {@link RateLimiterFallback}).
   * @default 'local'
   */
  whenUnavailable?: RateLimiterFallback | undefined;
  /**
   * How long `execute` may wait for tokens, in ms (>= 0, or `Infinity`); with
   * 0 it rejects at once with a `RateLimitExceededError`. Also the default
   * `maxWait` of `wait()`. A waiting call asks Redis again when the tokens
   * should exist (no FIFO order across processes).
   * @default 0 for `execute`, `Infinity` for `wait`
   */
  maxWait?: number | undefined;
  /**
   * Called each time a call is refused (not by `check`), with the key. An exception it throws is ignored.
   * @default none
   */
  onLimit?: ((key: string | undefined) => void) | undefined;
  /**
   * Where `commandTimeout` and the waits of `wait()` are timed (decisions use the Redis server's clock).
   * @default systemClock
   */
  clock?: Clock | undefined;
  /**
   * Used in log lines, metrics and the default `prefix`.
   * @default 'rate_limit'
   */
  name?: string | undefined;
  /**
   * Receives one line when Redis becomes unavailable (`warn`) and one when it answers again (`info`).
   * @default console
   */
  logger?: Logger | undefined;
  /** Receives `recordRateLimitHit(name)` for each refused call. @default none */
  metrics?: MetricsRecorder | undefined;
}

/**
 * What a {@link RedisBulkhead} does while Redis errs or does not answer within
 * `commandTimeout`:
 * - `'local'`: an in-memory core `Bulkhead` with the same `maxConcurrent`,
 *   `maxQueue` and `queueTimeout` runs the call (each process then admits
 *   `maxConcurrent` on its own);
 * - `'allow'`: the call runs without a lease;
 * - `'deny'`: the call is rejected with a `BulkheadFullError`;
 * - a policy of your own (a core `Bulkhead`, for example) runs it.
 */
export type BulkheadFallback = 'local' | 'allow' | 'deny' | Policy;

/** Configuration of a {@link RedisBulkhead}. */
export interface RedisBulkheadConfig {
  /** An ioredis client (`new Redis()`, `new Cluster()`) or a node-redis one (`createClient()`, connected). Required. */
  client: RedisClientLike;
  /** Identifies the bulkhead: every process using the same `name` (and `prefix`) shares its slots. Required. */
  name: string;
  /** How many calls may run at once across every process: a whole number >= 1. Required. */
  maxConcurrent: number;
  /**
   * How long a lease lasts without renewal, in ms (a whole number >= 100):
   * the time a slot of a crashed process stays taken. Leases of running calls
   * are renewed every `leaseMs / 3`.
   * @default 30000
   */
  leaseMs?: number | undefined;
  /**
   * How many calls of this process may wait for a slot, FIFO (a whole number >= 0, or `Infinity`).
   * @default 0
   */
  maxQueue?: number | undefined;
  /**
   * The longest a call may wait in the queue, in ms (>= 0, or `Infinity`).
   * @default Infinity
   */
  queueTimeout?: number | undefined;
  /**
   * While calls wait, how often the first of them asks Redis for a slot, in
   * ms (>= 1); a slot freed in this process is handed on at once.
   * @default 50
   */
  pollInterval?: number | undefined;
  /**
   * Prepended to the Redis key.
   * @default 'resilience:bulkhead:'
   */
  prefix?: string | undefined;
  /**
   * The longest one Redis command may take, in ms (finite, > 0); past it `whenUnavailable` decides.
   * @default 250
   */
  commandTimeout?: number | undefined;
  /**
   * What runs calls while Redis is unavailable (see {@link BulkheadFallback}).
   * @default 'local'
   */
  whenUnavailable?: BulkheadFallback | undefined;
  /**
   * Called each time a call is rejected with a `BulkheadFullError`. An exception it throws is ignored.
   * @default none
   */
  onRejected?: (() => void) | undefined;
  /** Where the queue timeout, the polling and the renewals are timed. @default systemClock */
  clock?: Clock | undefined;
  /**
   * Receives one line when Redis becomes unavailable, one when it answers
   * again, and one for each lease found lost on renewal.
   * @default console
   */
  logger?: Logger | undefined;
  /** Receives `recordBulkheadUtilization(name, active, queued)` as this process's load changes. @default none */
  metrics?: MetricsRecorder | undefined;
}
