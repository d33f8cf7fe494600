import { describeValue, functionOption, requireMethod } from '@resilience/core/validate';
import {
  addressKey,
  answerWithin,
  requestKey as checkedKey,
  commonRateLimitOptionNames,
  isDecision,
  isThenable,
  notADecision,
  ProxyChecks,
  type RateLimitDecision,
  rateLimitOptionHints,
  rateLimitSettings,
  rejectUnknownOptions,
  requestCost,
  retryAfterSeconds,
  skipsRequest,
} from '@resilience/http';
import type { Context, MiddlewareHandler } from 'hono';
import { honoProxyProbe } from './internal/proxy.js';
import { rejectionResponse, setContextHeader } from './internal/respond.js';
import type { RateLimiterLike, RateLimitOptions } from './types.js';

const OWNER = 'rateLimit';
const OPTIONS: readonly string[] = [...commonRateLimitOptionNames, 'getConnInfo'];

/**
 * Limits requests per key with a rate limiter. Each request takes `cost`
 * tokens (1 by default) under `key(c)`, by default the client's address from
 * the runtime's `getConnInfo` (IPv6 grouped by /56). Allowed requests go on
 * and their answer gets the standard rate-limit headers; refused ones are
 * answered 429 with `Retry-After` (seconds until enough tokens exist,
 * rounded up) and the same headers.
 *
 * The options and answers are those of `@resilience/express`'s
 * `rateLimit()`: draft-7 headers by default (draft-8, legacy or none on
 * request), `failMode` when the limiter throws, rejects, gives something
 * that is not a decision or takes longer than `limiterTimeout` (1000 ms), a
 * cost above `limiter.burst` answered 429 without `Retry-After`. A `key`,
 * `cost` or `skip` function that throws, or a bad cost, is thrown to Hono's
 * `onError` (your bug, not the limiter's).
 *
 * @param limiter - the core `RateLimiter`, a distributed one, or any {@link RateLimiterLike}
 * @param options - `getConnInfo` or `key`, cost, headers, failure mode, rejection status and body
 * @throws TypeError when neither `getConnInfo` nor `key` is given
 * @example
 * ```ts
 * import { getConnInfo } from 'hono/bun'; // or hono/deno, @hono/node-server/conninfo, ...
 * app.use(rateLimit(new RateLimiter({ rate: 100, interval: 60_000 }), { getConnInfo }));
 * ```
 */
export function rateLimit(limiter: RateLimiterLike, options?: RateLimitOptions): MiddlewareHandler {
  const settings = rateLimitSettings<Context>(OWNER, limiter, options);
  rejectUnknownOptions(OWNER, options ?? {}, OPTIONS, rateLimitOptionHints);
  const getConnInfo = functionOption(OWNER, 'getConnInfo', options?.getConnInfo);
  const { customKey, ipv6Subnet, cost, burst, skip, headers, failMode, logger, failures, limiterTimeout } = settings;
  const { limited, unavailable } = settings;
  const firstHeader = headers.firstHeader;
  let key: (c: Context) => string | number;
  if (customKey !== undefined) {
    key = customKey;
  } else if (getConnInfo !== undefined) {
    key = (c) => {
      let address: unknown;
      try {
        address = getConnInfo(c).remote.address;
      } catch (err) {
        // app.request() in tests has no connection: the runtime's getConnInfo has nothing to read.
        throw new TypeError(
          `${OWNER}: getConnInfo(c) failed (${err instanceof Error ? err.message : describeValue(err)}); without a connection (app.request() in tests), give a key(c) function`,
          { cause: err },
        );
      }
      if (typeof address !== 'string' || address === '') {
        throw new TypeError(
          `${OWNER}: getConnInfo(c) gave no remote address (got ${describeValue(address)}); give a key(c) function`,
        );
      }
      return addressKey(address, ipv6Subnet);
    };
  } else {
    throw new TypeError(
      `${OWNER}: Hono has no portable client address: give getConnInfo (from hono/bun, hono/deno, ` +
        'hono/cloudflare-workers or @hono/node-server/conninfo) or a key(c) function',
    );
  }
  // The X-Forwarded-For check only concerns the default key: a key of your own decides for itself.
  // The option is checked either way: a malformed validate is an error even when a key makes it moot.
  const validated = new ProxyChecks(OWNER, options?.validate, logger, honoProxyProbe);
  const checks = customKey === undefined ? validated : new ProxyChecks(OWNER, false, logger, honoProxyProbe);
  if (checks.pending) requireMethod(OWNER, 'logger', logger, 'warn');

  return async (c, next) => {
    if (checks.pending) checks.inspect(c);
    if (skipsRequest(OWNER, 'skip(c)', skip, c)) {
      await next();
      return undefined;
    }
    // Not a string: an object would be a fresh bucket per request (no limit at all), undefined one for all.
    const requestKey = checkedKey(OWNER, 'key(c)', key(c));
    const tokens = requestCost(OWNER, 'cost(c)', cost, c);
    if (burst !== undefined && tokens > burst) {
      // More tokens than the bucket holds: this request can never pass, now or later (no Retry-After).
      return rejectionResponse(limited, c, undefined);
    }
    let decision: RateLimitDecision;
    try {
      let answer: unknown = limiter.consume(requestKey, tokens);
      if (isThenable(answer)) answer = await answerWithin(OWNER, answer, limiterTimeout);
      if (!isDecision(answer, headers.enabled)) throw notADecision(OWNER, answer);
      decision = answer;
    } catch (err) {
      // The limiter failed (threw, rejected, hung or answered nonsense): failMode decides, and it is logged.
      failures.report(err);
      if (failMode === 'closed') return rejectionResponse(unavailable, c, err);
      await next();
      return undefined;
    }
    if (!decision.allowed) {
      if (headers.enabled) headers.write(c, decision, setContextHeader);
      return rejectionResponse(limited, c, undefined, retryAfterSeconds(decision.retryAfterMs));
    }
    // Set before next(): c.text(), c.json()... include them, and the runtime keeps its fast path for the answer.
    if (headers.enabled) headers.write(c, decision, setContextHeader);
    await next();
    // A handler that returned a Response of its own dropped them: add them to it (c.header() reaches any answer).
    // Not to a status below 200 (a 101 WebSocket upgrade on Deno or Workers, a Response.error()): c.header() would
    // rebuild it with new Response(), which refuses those statuses, and the answer would become a 500.
    const answer = c.res;
    if (firstHeader !== undefined && answer.status >= 200 && !answer.headers.has(firstHeader)) {
      headers.write(c, decision, setContextHeader);
    }
    return undefined;
  };
}
