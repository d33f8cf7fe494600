import type { Logger } from '@resilience/core';
import {
  configObject,
  describeValue,
  functionOption,
  numberOption,
  oneOfOption,
  requireMethod,
} from '@resilience/core/validate';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { Rejection, retryAfterSeconds } from './internal/respond.js';
import { statusOption } from './internal/status.js';
import { ipKey } from './ip-key.js';
import { RateLimitHeaders } from './rate-limit-headers.js';
import type { LimiterFailMode, RateLimitDecision, RateLimiterLike, RateLimitOptions } from './types.js';

const OWNER = 'rateLimit';

const defaultBody = Object.freeze({ error: 'rate_limited', message: 'Too many requests. Try again later.' });
const unavailableBody = Object.freeze({
  error: 'service_unavailable',
  message: 'The service is temporarily unavailable. Try again later.',
});

/** Logs limiter failures at most once a second, counting the ones in between. */
class FailureLog {
  readonly #logger: Logger;
  readonly #mode: LimiterFailMode;
  #lastAt = Number.NEGATIVE_INFINITY;
  #suppressed = 0;

  constructor(logger: Logger, mode: LimiterFailMode) {
    this.#logger = logger;
    this.#mode = mode;
  }

  report(err: unknown): void {
    const now = Date.now();
    if (now - this.#lastAt < 1000) {
      this.#suppressed++;
      return;
    }
    const failures = this.#suppressed + 1;
    this.#lastAt = now;
    this.#suppressed = 0;
    const action = this.#mode === 'open' ? 'letting requests through' : 'answering 503';
    try {
      this.#logger.error(`rate limiter failed; ${action}`, { err, failures, failMode: this.#mode });
    } catch {
      // A broken logger must not break the request.
    }
  }
}

function positiveNumber(value: unknown): boolean {
  return typeof value === 'number' && Number.isFinite(value) && value > 0;
}

function isThenable(value: unknown): value is PromiseLike<RateLimitDecision> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

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
 * The core in-memory `RateLimiter` answers synchronously and is used on a
 * synchronous path (no promise per request); a distributed limiter whose
 * `consume` returns a promise works the same way. When the limiter throws
 * or rejects, `failMode` decides: `'open'` (default) lets the request
 * through, `'closed'` answers 503; the failure is logged either way.
 *
 * @param limiter - the core `RateLimiter`, a `RedisRateLimiter`, or any {@link RateLimiterLike}
 * @param options - key, cost, headers, failure mode, rejection status and body
 * @example
 * ```ts
 * app.set('trust proxy', 1); // behind one proxy: req.ip is the client's address
 * app.use(rateLimit(new RateLimiter({ rate: 100, interval: 60_000 })));
 * ```
 */
export function rateLimit(limiter: RateLimiterLike, options?: RateLimitOptions): RequestHandler {
  requireMethod(OWNER, 'limiter', limiter, 'consume');
  const opts = configObject(OWNER, options, 'options');
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
  const limited = new Rejection(statusOption(OWNER, opts.statusCode, 429), opts.body, defaultBody);
  const unavailable = new Rejection(503, undefined, unavailableBody);

  const decide = (decision: RateLimitDecision, req: Request, res: Response, next: NextFunction): void => {
    if (headers.enabled) headers.write(res, decision);
    if (decision.allowed) {
      next();
    } else {
      limited.send(req, res, undefined, retryAfterSeconds(decision.retryAfterMs));
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

  return (req: Request, res: Response, next: NextFunction): void => {
    let requestKey = '';
    let tokens = 0;
    let skipped: boolean;
    try {
      skipped = skip?.(req) === true;
      if (!skipped) {
        requestKey = key(req);
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
    let decision: RateLimitDecision | PromiseLike<RateLimitDecision>;
    try {
      decision = limiter.consume(requestKey, tokens);
    } catch (err) {
      fail(err, req, res, next);
      return;
    }
    if (isThenable(decision)) {
      decision.then(
        (settled) => decide(settled, req, res, next),
        (err: unknown) => fail(err, req, res, next),
      );
    } else {
      decide(decision, req, res, next);
    }
  };
}
