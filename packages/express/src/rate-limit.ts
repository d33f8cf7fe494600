import { TimeoutError } from '@resilience/core';
import {
  configObject,
  describeValue,
  functionOption,
  numberOption,
  oneOfOption,
  requireMethod,
} from '@resilience/core/validate';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { FailureLog } from './internal/failure-log.js';
import { checkOptionKeys, REJECTION_HINTS, REJECTION_KEYS } from './internal/option-keys.js';
import { ProxyChecks } from './internal/proxy-checks.js';
import { Rejection, retryAfterSeconds } from './internal/respond.js';
import { statusOption } from './internal/status.js';
import { ipKey } from './ip-key.js';
import { RateLimitHeaders } from './rate-limit-headers.js';
import type { LimiterFailMode, RateLimitDecision, RateLimiterLike, RateLimitOptions } from './types.js';

const OWNER = 'rateLimit';

/** The longest delay a Node timer holds (about 24.8 days). */
const MAX_TIMER_MS = 2_147_483_647;

const defaultBody = Object.freeze({ error: 'rate_limited', message: 'Too many requests. Try again later.' });
const unavailableBody = Object.freeze({
  error: 'service_unavailable',
  message: 'The service is temporarily unavailable. Try again later.',
});

function positiveNumber(value: unknown): boolean {
  return typeof value === 'number' && Number.isFinite(value) && value > 0;
}

function finiteNumber(value: unknown): boolean {
  return typeof value === 'number' && Number.isFinite(value);
}

/**
 * Whether `value` is a decision the middleware can act on: `allowed` a
 * boolean, `retryAfterMs` a number, and, when headers are written, `limit`,
 * `remaining` and `resetMs` finite numbers.
 */
function isDecision(value: unknown, withHeaders: boolean): value is RateLimitDecision {
  if (value === null || typeof value !== 'object') return false;
  const d = value as Partial<Record<keyof RateLimitDecision, unknown>>;
  if (typeof d.allowed !== 'boolean') return false;
  if (!d.allowed && typeof d.retryAfterMs !== 'number') return false;
  return !withHeaders || (finiteNumber(d.limit) && finiteNumber(d.remaining) && finiteNumber(d.resetMs));
}

function isThenable(value: unknown): value is PromiseLike<RateLimitDecision> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

const RATE_LIMIT_KEYS: readonly string[] = [
  ...REJECTION_KEYS,
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
];

/** express-rate-limit's options, and what to use here instead. */
const RATE_LIMIT_HINTS = {
  ...REJECTION_HINTS,
  windowMs: `express-rate-limit's windowMs is the limiter's interval here: new RateLimiter({ rate, interval })`,
  max: `express-rate-limit's max is the limiter's rate here: new RateLimiter({ rate, interval })`,
  limit: `express-rate-limit's limit is the limiter's rate here: new RateLimiter({ rate, interval })`,
  keyGenerator: `express-rate-limit's keyGenerator is "key" here`,
  headers: `use "legacyHeaders" for the X-RateLimit-* headers`,
  store: `pass a distributed limiter (a RedisRateLimiter) as the first argument instead of the core RateLimiter`,
  skipFailedRequests: `not supported: a request takes its tokens when it arrives`,
  skipSuccessfulRequests: `not supported: a request takes its tokens when it arrives`,
  requestWasSuccessful: `not supported: a request takes its tokens when it arrives`,
  passOnStoreError: `use failMode: 'open' (the default) or 'closed'`,
  identifier: `use "policyName"`,
  ipv6Subnets: `use "ipv6Subnet"`,
} as const;

/**
 * Limits requests per key with a rate limiter. Each request takes `cost`
 * tokens (1 by default) under `key(req)` (the client's IP by default, IPv6
 * grouped by /56). Allowed requests pass on with the standard rate-limit
 * headers set; refused ones are answered 429 with `Retry-After` (seconds
 * until enough tokens exist, rounded up) and the same headers.
 *
 * Headers: `RateLimit-Policy` and `RateLimit` in the IETF draft-7 form by
 * default (`RateLimit-Policy: 10;w=1`, `RateLimit: limit=10, remaining=9,
 * reset=1`), draft-8 on request (`RateLimit-Policy: "default";q=10;w=1`,
 * `RateLimit: "default";r=9;t=1`), `X-RateLimit-*` with `legacyHeaders`,
 * or none.
 *
 * A `key(req)` that gives no string (a number is made one) and a `cost(req)`
 * that is not a finite number > 0 are the application's errors and go to
 * `next(err)`; a cost above `limiter.burst` can never be paid
 * and is answered 429 without `Retry-After`.
 *
 * The core in-memory `RateLimiter` answers synchronously and is used on a
 * synchronous path (no promise per request); a distributed limiter whose
 * `consume` returns a promise works the same way. When the limiter throws,
 * rejects or gives something that is not a decision, `failMode` decides:
 * `'open'` (default) lets the request through, `'closed'` answers 503; the
 * failure is logged either way. A promise that takes longer than
 * `limiterTimeout` (1000 ms) is a failure too: a hung Redis never hangs the
 * request.
 *
 * Like express-rate-limit, it warns once (through `logger.warn`) when the
 * Express `trust proxy` setting is `true` (any client could pick its own
 * address) and when an `X-Forwarded-For` header arrives while `trust proxy`
 * is off (every client behind the proxy would share one quota);
 * `validate: false` silences both.
 *
 * @param limiter - the core `RateLimiter`, a `RedisRateLimiter`, or any {@link RateLimiterLike}
 * @param options - key, cost, headers, failure mode, rejection status and body
 * @example
 * ```ts
 * // Only when exactly one proxy of yours (a load balancer) sits in front and
 * // clients cannot reach the app directly: req.ip is then the client's address.
 * app.set('trust proxy', 1);
 * app.use(rateLimit(new RateLimiter({ rate: 100, interval: 60_000 })));
 * ```
 */
export function rateLimit(limiter: RateLimiterLike, options?: RateLimitOptions): RequestHandler {
  requireMethod(OWNER, 'limiter', limiter, 'consume');
  const opts = configObject(OWNER, options, 'options');
  checkOptionKeys(OWNER, opts, RATE_LIMIT_KEYS, RATE_LIMIT_HINTS);
  const customKey = functionOption(OWNER, 'key', opts.key);
  const subnet =
    opts.ipv6Subnet === false
      ? false
      : numberOption(OWNER, 'ipv6Subnet', opts.ipv6Subnet, 56, { min: 1, max: 128, integer: true });
  const key = customKey ?? ((req: Request): string => ipKey(req, subnet));
  const cost = opts.cost ?? 1;
  if (typeof cost !== 'function' && !positiveNumber(cost)) {
    throw new RangeError(`${OWNER}: cost must be a finite number > 0 or a function, got ${describeValue(cost)}`);
  }
  const burst = positiveNumber(limiter.burst) ? limiter.burst : undefined;
  if (typeof cost === 'number' && burst !== undefined && cost > burst) {
    throw new RangeError(
      `${OWNER}: cost must be at most limiter.burst (${burst}): no request could ever pass, got ${describeValue(cost)}`,
    );
  }
  const skip = functionOption(OWNER, 'skip', opts.skip);
  const standard = oneOfOption<RateLimitOptions['standardHeaders']>(
    OWNER,
    'standardHeaders',
    opts.standardHeaders,
    ['draft-7', 'draft-8', false],
    'draft-7',
  ) as 'draft-7' | 'draft-8' | false;
  const legacy = oneOfOption(OWNER, 'legacyHeaders', opts.legacyHeaders, [true, false], false);
  const policyName = opts.policyName ?? 'default';
  if (typeof policyName !== 'string' || !/^[\x20-\x7e]*$/.test(policyName)) {
    throw new TypeError(`${OWNER}: policyName must be a string of printable ASCII, got ${describeValue(policyName)}`);
  }
  if (standard !== false || legacy) {
    for (const field of ['rate', 'burst', 'interval'] as const) {
      if (!positiveNumber(limiter[field])) {
        throw new TypeError(
          `${OWNER}: limiter.${field} must be a finite number > 0 to write rate-limit headers, got ${describeValue(limiter[field])}`,
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
  const failMode = oneOfOption<LimiterFailMode>(OWNER, 'failMode', opts.failMode, ['open', 'closed'], 'open');
  const logger = opts.logger ?? console;
  requireMethod(OWNER, 'logger', logger, 'error');
  const failures = new FailureLog(logger, failMode);
  const limiterTimeout = numberOption(OWNER, 'limiterTimeout', opts.limiterTimeout, 1000, {
    min: 0,
    minExclusive: true,
    max: MAX_TIMER_MS,
  });
  const checks = new ProxyChecks(OWNER, opts.validate, logger);
  if (checks.pending) requireMethod(OWNER, 'logger', logger, 'warn');
  const limited = new Rejection(statusOption(OWNER, opts.statusCode, 429), opts.body, defaultBody, OWNER);
  const unavailable = new Rejection(503, undefined, unavailableBody, OWNER);

  const decide = (decision: unknown, req: Request, res: Response, next: NextFunction): void => {
    let allowed: boolean;
    let retryAfterMs: number | undefined;
    try {
      if (!isDecision(decision, headers.enabled)) {
        throw new TypeError(
          `${OWNER}: the limiter's consume() gave ${describeValue(decision)}, not a decision ({ allowed, limit, remaining, resetMs, retryAfterMs })`,
        );
      }
      if (headers.enabled) headers.write(res, decision);
      allowed = decision.allowed;
      retryAfterMs = decision.retryAfterMs;
    } catch (err) {
      // A malformed decision is a failure of the limiter, never a crash (this may run in a promise callback).
      fail(err, req, res, next);
      return;
    }
    if (allowed) {
      next();
    } else {
      limited.send(req, res, undefined, retryAfterSeconds(retryAfterMs));
    }
  };

  const fail = (err: unknown, req: Request, res: Response, next: NextFunction): void => {
    failures.report(err);
    if (failMode === 'open') {
      next();
    } else {
      unavailable.send(req, res, err);
    }
  };

  /** Waits for a limiter's promise, at most `limiterTimeout` ms; whichever comes first decides, once. */
  const awaitDecision = (pending: PromiseLike<unknown>, req: Request, res: Response, next: NextFunction): void => {
    let settled = false;
    const timer = setTimeout(() => {
      settled = true;
      fail(
        new TimeoutError({
          timeoutMs: limiterTimeout,
          message: `${OWNER}: the limiter did not answer within ${limiterTimeout} ms (limiterTimeout)`,
        }),
        req,
        res,
        next,
      );
    }, limiterTimeout);
    // Promise.resolve() also turns a thenable whose then() throws into a rejection.
    Promise.resolve(pending).then(
      (decision: unknown) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        decide(decision, req, res, next);
      },
      (err: unknown) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        fail(err, req, res, next);
      },
    );
  };

  return (req: Request, res: Response, next: NextFunction): void => {
    if (checks.pending) checks.inspect(req);
    let requestKey = '';
    let tokens: unknown = 0;
    let skipped: boolean;
    try {
      skipped = skip?.(req) === true;
      if (!skipped) {
        const given: unknown = key(req);
        if (typeof given === 'string') requestKey = given;
        else if (typeof given === 'number' && Number.isFinite(given)) requestKey = String(given);
        else {
          // An object would be a fresh bucket per request (no limit at all), undefined one bucket for all.
          next(
            new TypeError(
              `${OWNER}: key(req) must return a string (or a finite number), got ${describeValue(given)}; use skip(req) for requests that have no key`,
            ),
          );
          return;
        }
        tokens = typeof cost === 'function' ? cost(req) : cost;
      }
    } catch (err) {
      // A throwing key, cost or skip function is the application's error, not the limiter's.
      next(err);
      return;
    }
    if (skipped) {
      next();
      return;
    }
    if (!positiveNumber(tokens)) {
      // The application's mistake: the limiter would refuse the call, and failMode 'open' would let it through.
      next(new RangeError(`${OWNER}: cost(req) must return a finite number > 0, got ${describeValue(tokens)}`));
      return;
    }
    if (burst !== undefined && (tokens as number) > burst) {
      // More tokens than the bucket holds: this request can never pass, now or later (no Retry-After).
      limited.send(req, res, undefined);
      return;
    }
    let decision: unknown;
    let later: boolean;
    try {
      decision = limiter.consume(requestKey, tokens as number);
      later = isThenable(decision); // inside the try: a `then` getter may throw
    } catch (err) {
      fail(err, req, res, next);
      return;
    }
    if (later) {
      awaitDecision(decision as PromiseLike<unknown>, req, res, next);
    } else {
      decide(decision, req, res, next);
    }
  };
}
