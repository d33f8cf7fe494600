import { requireMethod } from '@resilience/core/validate';
import {
  addressKey,
  answerWithin,
  requestKey as checkedKey,
  commonRateLimitOptionNames,
  isDecision,
  isThenable,
  notADecision,
  ProxyChecks,
  passableError,
  rateLimitSettings,
  rejectUnknownOptions,
  requestCost,
  retryAfterSeconds,
  skipsRequest,
} from '@resilience/http';
import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction, onRequestHookHandler } from 'fastify';
import { fastifyRateLimitHints } from './internal/option-hints.js';
import { asPlugin } from './internal/plugin.js';
import { fastifyProxyProbe } from './internal/proxy.js';
import { sendRejection, setReplyHeader } from './internal/reply.js';
import type { RateLimiterLike, RateLimitOptions, ResiliencePlugin } from './types.js';

const OWNER = 'rateLimit';

/**
 * Limits requests per key with a rate limiter, in an `onRequest` hook. Each
 * request takes `cost` tokens (1 by default) under `key(request)` (the
 * client's IP, `request.ip`, by default, IPv6 grouped by /56). Allowed
 * requests go on with the standard rate-limit headers set; refused ones are
 * answered 429 with `Retry-After` (seconds until enough tokens exist,
 * rounded up) and the same headers, before the body is read.
 *
 * The options and answers are those of `@resilience/express`'s
 * `rateLimit()`: draft-7 headers by default (draft-8, legacy or none on
 * request), `failMode` when the limiter throws, rejects, gives something that
 * is not a decision or takes longer than `limiterTimeout` (1000 ms), a cost
 * above `limiter.burst` answered 429 without `Retry-After`, and the proxy
 * checks (`validate`) against Fastify's `trustProxy` option.
 *
 * @param limiter - the core `RateLimiter`, a `RedisRateLimiter`, or any {@link RateLimiterLike}
 * @param options - key, cost, headers, failure mode, rejection status and body
 * @example
 * ```ts
 * const app = Fastify({ trustProxy: '10.0.0.1' }); // the address of your proxy
 * await app.register(rateLimit(new RateLimiter({ rate: 100, interval: 60_000 })));
 * // or on one route: app.get('/search', { ...rateLimit(limiter).hooks }, handler)
 * ```
 */
export function rateLimit(limiter: RateLimiterLike, options?: RateLimitOptions): ResiliencePlugin {
  const settings = rateLimitSettings<FastifyRequest>(OWNER, limiter, options);
  if (options !== undefined) rejectUnknownOptions(OWNER, options, commonRateLimitOptionNames, fastifyRateLimitHints);
  const { customKey, ipv6Subnet, cost, burst, skip, headers, failMode, logger, failures, limiterTimeout } = settings;
  const { limited, unavailable } = settings;
  const key = customKey ?? ((request: FastifyRequest): string => addressKey(request.ip ?? '', ipv6Subnet));
  const checks = new ProxyChecks(OWNER, options?.validate, logger, fastifyProxyProbe);
  if (checks.pending) requireMethod(OWNER, 'logger', logger, 'warn');

  const fail = (err: unknown, request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void => {
    failures.report(err);
    if (failMode === 'open') done();
    else sendRejection(unavailable, request, reply, err);
  };

  const decide = (
    decision: unknown,
    request: FastifyRequest,
    reply: FastifyReply,
    done: HookHandlerDoneFunction,
  ): void => {
    if (!isDecision(decision, headers.enabled)) {
      fail(notADecision(OWNER, decision), request, reply, done);
      return;
    }
    if (headers.enabled) headers.write(reply, decision, setReplyHeader);
    if (decision.allowed) done();
    else sendRejection(limited, request, reply, undefined, retryAfterSeconds(decision.retryAfterMs));
  };

  const onRequest: onRequestHookHandler = (request, reply, done) => {
    if (checks.pending) checks.inspect(request);
    let requestKey = '';
    let tokens = 0;
    let skipped: boolean;
    try {
      skipped = skipsRequest(OWNER, 'skip(request)', skip, request);
      if (!skipped) {
        // Not a string: an object would be a fresh bucket per request (no limit at all), undefined one for all.
        requestKey = checkedKey(OWNER, 'key(request)', key(request));
        tokens = requestCost(OWNER, 'cost(request)', cost, request);
      }
    } catch (err) {
      // A throwing key, cost or skip function, or a bad cost, is the application's error, not the limiter's.
      done(passableError(OWNER, 'key(request), skip(request) or cost(request)', err) as Error);
      return;
    }
    if (skipped) {
      done();
      return;
    }
    if (burst !== undefined && tokens > burst) {
      // More tokens than the bucket holds: this request can never pass, now or later (no Retry-After).
      sendRejection(limited, request, reply, undefined);
      return;
    }
    let decision: unknown;
    let later: boolean;
    try {
      decision = limiter.consume(requestKey, tokens);
      later = isThenable(decision); // inside the try: a `then` getter may throw
    } catch (err) {
      fail(err, request, reply, done);
      return;
    }
    if (later) {
      answerWithin(OWNER, decision as PromiseLike<unknown>, limiterTimeout).then(
        (answer) => decide(answer, request, reply, done),
        (err: unknown) => fail(err, request, reply, done),
      );
    } else {
      decide(decision, request, reply, done);
    }
  };

  return asPlugin(OWNER, { onRequest });
}
