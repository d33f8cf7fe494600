import { type Logger, TimeoutError } from '@resilience/core';
import {
  configObject,
  describeValue,
  functionOption,
  MAX_TIMER_MS,
  numberOption,
  oneOfOption,
  requireMethod,
} from '@resilience/core/validate';
import { FailureLog } from './failure-log.js';
import { defaultBodies } from './guard-options.js';
import { RateLimitHeaders } from './rate-limit-headers.js';
import { Rejection } from './rejection.js';
import { statusOption } from './status.js';
import { refuseThenable } from './sync.js';
import type {
  LimiterFailMode,
  RateLimitDecision,
  RateLimiterLike,
  RateLimitValidations,
  RejectionBody,
  StandardHeadersVersion,
} from './types.js';

/** The longest delay a platform timer holds (about 24.8 days): the core's bound, re-exported for the adapters. */
export { MAX_TIMER_MS };

/** The rate-limit options every framework adapter shares, for a request of type `Req`. */
export interface CommonRateLimitOptions<Req> {
  /**
   * The key a request is counted under. A key that is not a string (a
   * finite number is made one) is the application's error, a `TypeError`:
   * an object (`req.user`) would count each request in a fresh bucket and
   * `undefined` every such request in one; use `skip` for requests that
   * have no key.
   * @default the client's address, IPv6 grouped by `ipv6Subnet`
   */
  key?: ((req: Req) => string | number) | undefined;
  /**
   * The prefix length IPv6 addresses are grouped by in the default key, or
   * `false` to key by the full address (in one canonical spelling).
   * IPv4-mapped IPv6 addresses are keyed as IPv4 either way.
   * @default 56
   */
  ipv6Subnet?: number | false | undefined;
  /**
   * How many tokens a request costs: a number or a function of the request.
   * A function's result that is not a finite number > 0 is the application's
   * error; a cost above `limiter.burst` is answered 429 at once.
   * @default 1
   */
  cost?: number | ((req: Req) => number) | undefined;
  /**
   * Requests for which this returns a truthy value pass without being
   * counted (as express-rate-limit reads it: `(req) => req.user?.admin`
   * skips admins and counts everyone else). A promise is refused.
   * @default none are skipped
   */
  skip?: ((req: Req) => unknown) | undefined;
  /**
   * Which IETF draft of `RateLimit-Policy` and `RateLimit` to write, or
   * `false` for none. draft-7: `RateLimit-Policy: 10;w=1` and
   * `RateLimit: limit=10, remaining=9, reset=1`; draft-8:
   * `RateLimit-Policy: "default";q=10;w=1` and `RateLimit: "default";r=9;t=1`.
   * @default 'draft-7'
   */
  standardHeaders?: StandardHeadersVersion | false | undefined;
  /**
   * Also write `X-RateLimit-Limit`, `X-RateLimit-Remaining` and
   * `X-RateLimit-Reset` (Unix time in seconds when the bucket is full).
   * @default false
   */
  legacyHeaders?: boolean | undefined;
  /**
   * The quota policy's name in draft-8 headers (a structured-field string).
   * @default 'default'
   */
  policyName?: string | undefined;
  /**
   * When the limiter throws, rejects or gives a malformed decision: `'open'`
   * lets the request through, `'closed'` answers 503. Either way the failure
   * is logged.
   * @default 'open'
   */
  failMode?: LimiterFailMode | undefined;
  /**
   * The longest a limiter that answers with a promise may take, in
   * milliseconds (at most 2147483647). Past it the request takes the
   * limiter-failure path (`failMode`) with a `TimeoutError`, and the
   * limiter's late answer is ignored. A limiter that answers synchronously
   * is never timed.
   * @default 1000
   */
  limiterTimeout?: number | undefined;
  /**
   * The proxy checks: each warns once per middleware through `logger.warn`.
   * `false` turns both off; an object turns single checks off.
   * @default true (both checks on)
   */
  validate?: boolean | RateLimitValidations | undefined;
  /**
   * Where a failing limiter is reported (at most one record per second, with
   * the number of failures since the last one) and where `validate`
   * warnings go.
   * @default console
   */
  logger?: Logger | undefined;
  /**
   * The status code of a refusal.
   * @default 429
   */
  statusCode?: number | undefined;
  /**
   * The body of a refusal.
   * @default `{"error":"rate_limited","message":"Too many requests. Try again later."}`
   */
  body?: RejectionBody<Req> | undefined;
}

/** The option names of {@link CommonRateLimitOptions}. */
export const commonRateLimitOptionNames: readonly string[] = Object.freeze([
  'key',
  'ipv6Subnet',
  'cost',
  'skip',
  'standardHeaders',
  'legacyHeaders',
  'policyName',
  'failMode',
  'limiterTimeout',
  'validate',
  'logger',
  'statusCode',
  'body',
]);

/** The rate-limit options, checked and normalised once, at construction. */
export interface RateLimitSettings<Req> {
  /** The user's key function, if any (check what it gives with {@link requestKey}). */
  readonly customKey: ((req: Req) => string | number) | undefined;
  /** The IPv6 prefix length of the default key, or `false`. */
  readonly ipv6Subnet: number | false;
  /** The cost, a number > 0 or a function. */
  readonly cost: number | ((req: Req) => number);
  /** The limiter's burst when it is a finite number > 0 (costs above it never pass). */
  readonly burst: number | undefined;
  /** The skip predicate, if any. */
  readonly skip: ((req: Req) => unknown) | undefined;
  /** The header writer. */
  readonly headers: RateLimitHeaders;
  /** What a failing limiter means. */
  readonly failMode: LimiterFailMode;
  /** The logger (has `error`, and `warn` unless `validate` is `false`). */
  readonly logger: Logger;
  /** Where limiter failures are reported. */
  readonly failures: FailureLog;
  /** How long a limiter's promise may take. */
  readonly limiterTimeout: number;
  /** The refusal (429 by default). */
  readonly limited: Rejection<Req>;
  /** The answer of a failed limiter in `failMode: 'closed'` (503). */
  readonly unavailable: Rejection<Req>;
}

/** Whether `value` is a finite number > 0. */
export function positiveNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0;
}

function finiteNumber(value: unknown): boolean {
  return typeof value === 'number' && Number.isFinite(value);
}

/**
 * Checks every shared rate-limit option and the limiter, throwing a
 * `TypeError` or `RangeError` that names `owner`, the option and the value.
 * The `validate` option is left to the adapter (it needs the framework's
 * proxy setting), but its logger requirement is checked here.
 *
 * @param owner - the middleware named in errors
 * @param limiter - the limiter
 * @param options - the options, or `undefined`
 */
export function rateLimitSettings<Req>(
  owner: string,
  limiter: RateLimiterLike,
  options: CommonRateLimitOptions<Req> | undefined,
): RateLimitSettings<Req> {
  requireMethod(owner, 'limiter', limiter, 'consume');
  const opts: CommonRateLimitOptions<Req> = configObject(owner, options, 'options');
  const customKey = functionOption(owner, 'key', opts.key);
  const ipv6Subnet =
    opts.ipv6Subnet === false
      ? false
      : numberOption(owner, 'ipv6Subnet', opts.ipv6Subnet, 56, { min: 1, max: 128, integer: true });
  const cost = opts.cost ?? 1;
  if (typeof cost !== 'function' && !positiveNumber(cost)) {
    throw new RangeError(`${owner}: cost must be a finite number > 0 or a function, got ${describeValue(cost)}`);
  }
  const burst = positiveNumber(limiter.burst) ? limiter.burst : undefined;
  if (typeof cost === 'number' && burst !== undefined && cost > burst) {
    throw new RangeError(
      `${owner}: cost must be at most limiter.burst (${burst}): no request could ever pass, got ${describeValue(cost)}`,
    );
  }
  const skip = functionOption(owner, 'skip', opts.skip);
  const standard = oneOfOption<CommonRateLimitOptions<Req>['standardHeaders']>(
    owner,
    'standardHeaders',
    opts.standardHeaders,
    ['draft-7', 'draft-8', false],
    'draft-7',
  ) as StandardHeadersVersion | false;
  const legacy = oneOfOption(owner, 'legacyHeaders', opts.legacyHeaders, [true, false], false);
  const policyName = opts.policyName ?? 'default';
  if (typeof policyName !== 'string' || !/^[\x20-\x7e]*$/.test(policyName)) {
    throw new TypeError(`${owner}: policyName must be a string of printable ASCII, got ${describeValue(policyName)}`);
  }
  if (standard !== false || legacy) {
    for (const field of ['rate', 'burst', 'interval'] as const) {
      if (!positiveNumber(limiter[field])) {
        throw new TypeError(
          `${owner}: limiter.${field} must be a finite number > 0 to write rate-limit headers, got ${describeValue(limiter[field])}`,
        );
      }
    }
  }
  const headers = new RateLimitHeaders({
    standard,
    legacy,
    policyName,
    burst: limiter.burst,
    rate: limiter.rate,
    interval: limiter.interval,
  });
  const failMode = oneOfOption<LimiterFailMode>(owner, 'failMode', opts.failMode, ['open', 'closed'], 'open');
  const logger = opts.logger ?? console;
  requireMethod(owner, 'logger', logger, 'error');
  const limiterTimeout = numberOption(owner, 'limiterTimeout', opts.limiterTimeout, 1000, {
    min: 0,
    minExclusive: true,
    max: MAX_TIMER_MS,
  });
  return {
    customKey,
    ipv6Subnet,
    cost,
    burst,
    skip,
    headers,
    failMode,
    logger,
    failures: new FailureLog(logger, failMode),
    limiterTimeout,
    limited: new Rejection<Req>(statusOption(owner, opts.statusCode, 429), opts.body, defaultBodies.rateLimited, owner),
    unavailable: new Rejection<Req>(503, undefined, defaultBodies.unavailable, owner),
  };
}

/**
 * Whether `value` is a decision a middleware can act on: `allowed` a
 * boolean, `retryAfterMs` a number when refused, and, when headers are
 * written, `limit`, `remaining` and `resetMs` finite numbers.
 *
 * @param value - what the limiter gave
 * @param withHeaders - whether the header fields are needed
 */
export function isDecision(value: unknown, withHeaders: boolean): value is RateLimitDecision {
  if (value === null || typeof value !== 'object') return false;
  const d = value as Partial<Record<keyof RateLimitDecision, unknown>>;
  if (typeof d.allowed !== 'boolean') return false;
  if (!d.allowed && typeof d.retryAfterMs !== 'number') return false;
  return !withHeaders || (finiteNumber(d.limit) && finiteNumber(d.remaining) && finiteNumber(d.resetMs));
}

/**
 * The key a `key(req)` function gave, as the limiter takes it: a string as
 * it is, a finite number made a string. Anything else throws a `TypeError`
 * naming `owner`, `what` and the value (a promise is refused by
 * {@link refuseThenable}'s message, its rejection handled): an object key
 * would count each request in a fresh bucket, so nothing would ever be
 * limited, and `undefined` would put every such request in one bucket.
 *
 * @param owner - the middleware named in the error
 * @param what - the key function as the message names it (`key(req)`)
 * @param value - what it returned
 */
export function requestKey(owner: string, what: string, value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  refuseThenable(owner, what, value);
  throw new TypeError(
    `${owner}: ${what} must return a string (or a finite number), got ${describeValue(value)}; use skip for requests that have no key`,
  );
}

/**
 * Whether the `skip` predicate of a rate-limit middleware skips this
 * request (`false` without one).
 *
 * @param owner - the middleware named in the error
 * @param what - the predicate as the message names it (`skip(req)`)
 * @param skip - the predicate, if any
 * @param req - the request
 * @throws what the predicate throws; TypeError when it returns a promise (see {@link refuseThenable})
 */
export function skipsRequest<Req>(
  owner: string,
  what: string,
  skip: ((req: Req) => unknown) | undefined,
  req: Req,
): boolean {
  if (skip === undefined) return false;
  const verdict: unknown = skip(req);
  refuseThenable(owner, what, verdict);
  return Boolean(verdict);
}

/**
 * The tokens a request costs: the `cost` option as it is, or what the
 * `cost` function gives, which must be a finite number > 0 (the limiter
 * would refuse anything else, and `failMode: 'open'` would then let the
 * request through unlimited).
 *
 * @param owner - the middleware named in the error
 * @param what - the cost function as the message names it (`cost(req)`)
 * @param cost - the checked `cost` option
 * @param req - the request
 * @throws what the function throws; TypeError when it returns a promise; RangeError naming `what` and the
 *   value for anything that is not a finite number > 0
 */
export function requestCost<Req>(owner: string, what: string, cost: number | ((req: Req) => number), req: Req): number {
  if (typeof cost !== 'function') return cost;
  const tokens: unknown = cost(req);
  refuseThenable(owner, what, tokens);
  if (!positiveNumber(tokens)) {
    throw new RangeError(`${owner}: ${what} must return a finite number > 0, got ${describeValue(tokens)}`);
  }
  return tokens;
}

/** The error for a limiter answer that is not a decision. */
export function notADecision(owner: string, value: unknown): TypeError {
  return new TypeError(
    `${owner}: the limiter's consume() gave ${describeValue(value)}, not a decision ({ allowed, limit, remaining, resetMs, retryAfterMs })`,
  );
}

/**
 * Waits for a limiter's promise at most `timeoutMs` milliseconds: resolves
 * with its value, or rejects with its error or, past the time, with a
 * `TimeoutError` naming `limiterTimeout` (the late answer is then ignored).
 * The timer is cleared as soon as the limiter answers.
 *
 * @param owner - the middleware named in the timeout's message
 * @param pending - the limiter's answer
 * @param timeoutMs - the `limiterTimeout`
 */
export function answerWithin(owner: string, pending: PromiseLike<unknown>, timeoutMs: number): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(
        new TimeoutError({
          timeoutMs,
          message: `${owner}: the limiter did not answer within ${timeoutMs} ms (limiterTimeout)`,
        }),
      );
    }, timeoutMs);
    // Promise.resolve() also turns a thenable whose then() throws into a rejection.
    Promise.resolve(pending).then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err);
      },
    );
  });
}
