import { Bulkhead, CircuitBreaker, RateLimiter } from '@resilience/core';
import { describe, expect, it } from 'vitest';
import { bulkhead, circuitBreaker, rateLimit, timeout } from '../src/index.js';

describe('unknown options are errors that name them', () => {
  it('rateLimit names the option, with the way to say it here for express-rate-limit options', () => {
    const limiter = new RateLimiter({ rate: 10 });
    expect(() => rateLimit(limiter, { windowMs: 60_000, max: 100 } as never)).toThrow(
      new TypeError(
        `rateLimit: unknown option "windowMs" (windowMs is the limiter's interval here: new RateLimiter({ rate, interval }))`,
      ),
    );
    expect(() => rateLimit(limiter, { max: 100 } as never)).toThrow(`max is the limiter's rate here`);
    expect(() => rateLimit(limiter, { keyGenerator: () => 'k' } as never)).toThrow(
      `rateLimit: unknown option "keyGenerator" (keyGenerator is "key" here)`,
    );
    expect(() => rateLimit(limiter, { message: 'slow down' } as never)).toThrow('use "body"');
    expect(() => rateLimit(limiter, { limitertimeout: 5 } as never)).toThrow(
      /^rateLimit: unknown option "limitertimeout" \(known options: key, .*limiterTimeout/,
    );
    // Every documented option is known.
    expect(() =>
      rateLimit(limiter, {
        key: () => 'k',
        ipv6Subnet: 64,
        cost: 1,
        skip: () => false,
        standardHeaders: 'draft-8',
        legacyHeaders: true,
        policyName: 'p',
        failMode: 'closed',
        limiterTimeout: 500,
        validate: false,
        logger: console,
        statusCode: 429,
        body: 'no',
      }),
    ).not.toThrow();
  });

  it('timeout, bulkhead and circuitBreaker name theirs', () => {
    expect(() => timeout(100, { statsCode: 504 } as never)).toThrow(
      new TypeError('timeout: unknown option "statsCode" (known options: statusCode, body)'),
    );
    expect(() => timeout(100, { ms: 5 } as never)).toThrow(
      'pass the milliseconds (or a core Timeout) as the first argument',
    );
    expect(() => bulkhead(new Bulkhead({ maxConcurrent: 1 }), { maxConcurrent: 5 } as never)).toThrow(
      'bulkhead: unknown option "maxConcurrent" (set maxConcurrent on the core Bulkhead you pass',
    );
    expect(() => bulkhead(new Bulkhead({ maxConcurrent: 1 }), { retryafter: 2 } as never)).toThrow(
      'bulkhead: unknown option "retryafter" (known options: retryAfter, statusCode, body)',
    );
    expect(() => circuitBreaker(new CircuitBreaker(), { failureStatus: [500] } as never)).toThrow(
      'circuitBreaker: unknown option "failureStatus" (use "failureStatuses"',
    );
    expect(() =>
      circuitBreaker(new CircuitBreaker(), {
        failureStatuses: [500],
        isFailureError: () => true,
        statusCode: 503,
        body: {},
      }),
    ).not.toThrow();
    expect(() => timeout(100, { statusCode: 504, body: 'late' })).not.toThrow();
    expect(() => bulkhead(new Bulkhead({ maxConcurrent: 1 }), { retryAfter: false, statusCode: 503 })).not.toThrow();
  });
});
