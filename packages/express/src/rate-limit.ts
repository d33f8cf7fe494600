import { requireMethod } from '@resilience/core/validate';
import {
  answerWithin,
  requestKey as checkedKey,
  commonRateLimitOptionNames,
  isDecision,
  isThenable,
  notADecision,
  ProxyChecks,
  passableError,
  rateLimitOptionHints,
  rateLimitSettings,
  rejectUnknownOptions,
  requestCost,
  skipsRequest,
} from '@resilience/http';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { expressProxyProbe } from './internal/proxy-checks.js';
import { retryAfterSeconds, sendRejection } from './internal/respond.js';
import { ipKey } from './ip-key.js';
import type { RateLimiterLike, RateLimitOptions } from './types.js';

const OWNER = 'rateLimit';

const setHeader = (res: Response, name: string, value: string): void => {
  res.setHeader(name, value);
};

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
 * A `key(req)` that gives no string (a finite number is made one) and a
 * `cost(req)` that is not a finite number > 0 are the application's errors
 * and go to `next(err)`; a cost above `limiter.burst` can never be paid
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
  const settings = rateLimitSettings<Request>(OWNER, limiter, options);
  if (options !== undefined) rejectUnknownOptions(OWNER, options, commonRateLimitOptionNames, rateLimitOptionHints);
  const { customKey, ipv6Subnet, cost, burst, skip, headers, failMode, logger, failures, limiterTimeout } = settings;
  const { limited, unavailable } = settings;
  const key = customKey ?? ((req: Request): string => ipKey(req, ipv6Subnet));
  const checks = new ProxyChecks(OWNER, options?.validate, logger, expressProxyProbe);
  if (checks.pending) requireMethod(OWNER, 'logger', logger, 'warn');

  const decide = (decision: unknown, req: Request, res: Response, next: NextFunction): void => {
    let allowed: boolean;
    let retryAfterMs: number | undefined;
    try {
      if (!isDecision(decision, headers.enabled)) {
        throw notADecision(OWNER, decision);
      }
      if (headers.enabled && !res.headersSent) headers.write(res, decision, setHeader);
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
      sendRejection(limited, req, res, undefined, retryAfterSeconds(retryAfterMs));
    }
  };

  const fail = (err: unknown, req: Request, res: Response, next: NextFunction): void => {
    failures.report(err);
    if (failMode === 'open') {
      next();
    } else {
      sendRejection(unavailable, req, res, err);
    }
  };

  /** Waits for a limiter's promise, at most `limiterTimeout` ms; whichever comes first decides, once. */
  const awaitDecision = (pending: PromiseLike<unknown>, req: Request, res: Response, next: NextFunction): void => {
    answerWithin(OWNER, pending, limiterTimeout).then(
      (decision: unknown) => decide(decision, req, res, next),
      (err: unknown) => fail(err, req, res, next),
    );
  };

  return (req: Request, res: Response, next: NextFunction): void => {
    if (checks.pending) checks.inspect(req);
    let requestKey = '';
    let tokens = 0;
    let skipped: boolean;
    try {
      skipped = skipsRequest(OWNER, 'skip(req)', skip, req);
      if (!skipped) {
        // Not a string: an object would be a fresh bucket per request (no limit at all), undefined one for all.
        requestKey = checkedKey(OWNER, 'key(req)', key(req));
        tokens = requestCost(OWNER, 'cost(req)', cost, req);
      }
    } catch (err) {
      // A throwing key, cost or skip function, or a bad cost, is the application's error, not the limiter's.
      next(passableError(OWNER, 'key(req), skip(req) or cost(req)', err));
      return;
    }
    if (skipped) {
      next();
      return;
    }
    if (burst !== undefined && tokens > burst) {
      // More tokens than the bucket holds: this request can never pass, now or later (no Retry-After).
      sendRejection(limited, req, res, undefined);
      return;
    }
    let decision: unknown;
    let later: boolean;
    try {
      decision = limiter.consume(requestKey, tokens);
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
