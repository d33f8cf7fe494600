// Unknown configuration keys are errors that name the key, and the option to
// use for well-known names of peer libraries (issue 10, item 16).
import { describe, expect, it } from 'vitest';
import { Bulkhead } from '../src/bulkhead/index.js';
import { CircuitBreaker } from '../src/circuit-breaker/index.js';
import { Fallback } from '../src/fallback/index.js';
import { RateLimiter } from '../src/rate-limiter/index.js';
import { Retry, RetryBudget } from '../src/retry/index.js';
import { Timeout } from '../src/timeout/index.js';

type Make = (config: Record<string, unknown>) => unknown;

const cases: [string, Make, Record<string, unknown>, RegExp][] = [
  [
    'CircuitBreaker',
    (c) => new CircuitBreaker(c),
    { resetTimeout: 30_000 },
    /CircuitBreaker: unknown option "resetTimeout" \(opossum's resetTimeout is "timeout" here \(ms the breaker stays open\); note that "timeout" here is not a call timeout/,
  ],
  [
    'CircuitBreaker',
    (c) => new CircuitBreaker(c),
    { errorThresholdPercentage: 50 },
    /"errorThresholdPercentage" \(opossum's errorThresholdPercentage is a "window" with "failureRateThreshold"/,
  ],
  [
    'CircuitBreaker',
    (c) => new CircuitBreaker(c),
    { halfOpenAfter: 10_000 },
    /"halfOpenAfter" \(cockatiel's halfOpenAfter is "timeout" here/,
  ],
  [
    'CircuitBreaker',
    (c) => new CircuitBreaker(c),
    { maxRequest: 2 },
    /unknown option "maxRequest" \(known options: maxRequests,/,
  ],
  [
    'Retry',
    (c) => new Retry(c),
    { retries: 2 },
    /Retry: unknown option "retries" \(p-retry's retries is "maxAttempts"/,
  ],
  [
    'RetryBudget',
    (c) => new RetryBudget(c),
    { retryRatio: 0.1 },
    /RetryBudget: unknown option "retryRatio" \(use "ratio"\)/,
  ],
  ['Timeout', (c) => new Timeout(c), { timeout: 100 }, /Timeout: unknown option "timeout" \(use "defaultTimeout"/],
  ['Timeout', (c) => new Timeout(c), { milliseconds: 100 }, /p-timeout's milliseconds is "defaultTimeout"/],
  [
    'Bulkhead',
    (c) => new Bulkhead({ maxConcurrent: 1, ...c }),
    { concurrency: 4 },
    /Bulkhead: unknown option "concurrency" \(p-limit's concurrency is "maxConcurrent" here\)/,
  ],
  [
    'Fallback',
    (c) => new Fallback({ fallback: 1, ...c }),
    // `handle` is an option since the classification vocabulary: a bare predicate is refused, naming it.
    { handle: () => true },
    /Fallback: handle must be a classifier .*got a function \(a predicate is not a classifier: wrap it as handleWhen\(fn\)/,
  ],
  ['RateLimiter', (c) => new RateLimiter({ rate: 1, ...c }), { duration: 1 }, /RateLimiter: unknown option "duration"/],
];

describe('unknown configuration keys', () => {
  it.each(cases)('%s refuses %o with a TypeError naming it', (_name, make, config, message) => {
    expect(() => make(config)).toThrow(TypeError);
    expect(() => make(config)).toThrow(message);
  });

  it('checks the keys of a breaker window, naming them with their path', () => {
    expect(() => new CircuitBreaker({ window: { kind: 'count', size: 10, duration: 5 } as never })).toThrow(
      /CircuitBreaker: unknown option "window.duration" \(known options: window.kind, window.size\)/,
    );
    expect(() => new CircuitBreaker({ window: { kind: 'time', duration: 1000, buckets: 5 } })).not.toThrow();
  });

  it('checks a key even when its value is undefined, and accepts the observability options', () => {
    expect(() => new Timeout({ ms: undefined } as never)).toThrow(/unknown option "ms"/);
    const observability = { name: 'n', logger: console, tracer: undefined, metrics: undefined };
    expect(
      () => new CircuitBreaker({ ...observability, initialState: 'closed', countCancellations: true }),
    ).not.toThrow();
    expect(() => new Retry(observability)).not.toThrow();
    expect(() => new Timeout(observability)).not.toThrow();
    expect(() => new Bulkhead({ maxConcurrent: 1, ...observability })).not.toThrow();
    expect(() => new Fallback({ fallback: 1, ...observability })).not.toThrow();
    expect(() => new RateLimiter({ rate: 1, ...observability })).not.toThrow();
  });

  it('ignores inherited keys', () => {
    const config = Object.create({ inherited: true }) as Record<string, unknown>;
    config.maxAttempts = 2;
    expect(() => new Retry(config)).not.toThrow();
  });
});
