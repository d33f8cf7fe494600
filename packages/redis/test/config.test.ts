import { Bulkhead, RateLimiter } from '@resilience/core';
import { describe, expect, it } from 'vitest';
import { detectClient, RedisBulkhead, RedisRateLimiter } from '../src/index.js';
import { quiet } from './loggers.js';
import { unreachable } from './redis-server.js';

// Construction needs no server: these run with a client that never connects.
const client = await unreachable('ioredis');

describe('RedisRateLimiter config', () => {
  const base = { client, rate: 10, logger: quiet };

  it('exposes its settings with their defaults', () => {
    const limiter = new RedisRateLimiter(base);
    expect([limiter.rate, limiter.burst, limiter.interval, limiter.algorithm]).toEqual([10, 10, 1000, 'token-bucket']);
    expect([limiter.prefix, limiter.commandTimeout, limiter.maxWait, limiter.name]).toEqual([
      'resilience:rate_limit:',
      250,
      0,
      'rate_limit',
    ]);
    expect(new RedisRateLimiter({ ...base, rate: 0.5 }).burst).toBe(1);
    expect(new RedisRateLimiter({ ...base, name: 'api' }).redisKey('k')).toBe('resilience:api:tb:{k:k}');
    expect(new RedisRateLimiter({ ...base, algorithm: 'sliding-window' }).redisKey()).toBe(
      'resilience:rate_limit:sw:{default}',
    );
  });

  it.each([
    [{ rate: Number.NaN }, RangeError, /rate must be .* got NaN/],
    [{ rate: -1 }, RangeError, /rate must be .* > 0, got -1/],
    [{ rate: '10' }, TypeError, /rate must be .* got "10"/],
    [{ rate: undefined }, TypeError, /rate must be/],
    [{ interval: Number.POSITIVE_INFINITY }, RangeError, /interval .* got Infinity/],
    [{ burst: 0 }, RangeError, /burst .* >= 1, got 0/],
    [{ algorithm: 'leaky' }, RangeError, /algorithm must be one of .* got "leaky"/],
    [{ algorithm: 'sliding-window', burst: 20 }, RangeError, /burst must equal rate/],
    [{ algorithm: 'sliding-window', rate: 0.5 }, RangeError, /rate must be >= 1 with the sliding-window/],
    // Redis answers a script with integers: a count beyond 2^53 came back wrong (past 2^63, as -2^63).
    [{ rate: 1e300 }, RangeError, /burst must be at most 9007199254740991 .* got 1e\+300/],
    [{ rate: 1, burst: 2 ** 53 }, RangeError, /burst must be at most 9007199254740991 .* got 9007199254740992/],
    [
      { algorithm: 'sliding-window', rate: 1e20 },
      RangeError,
      /rate must be at most 9007199254740991 .* got 100000000000000000000/,
    ],
    // A window Redis cannot expire (PEXPIRE refused it, and every decision went to the fallback) or cannot index.
    [
      { algorithm: 'sliding-window', interval: 1e20 },
      RangeError,
      /interval must be .* <= 4503599627370496 .* got 100000000000000000000/,
    ],
    [{ algorithm: 'sliding-window', interval: 1e-300 }, RangeError, /interval must be >= 0.001 .* got 1e-300/],
    [{ commandTimeout: 0 }, RangeError, /commandTimeout .* got 0/],
    [{ commandTimeout: 2 ** 31 }, RangeError, /commandTimeout .* <= 2147483647/],
    [{ maxWait: -5 }, RangeError, /maxWait .* got -5/],
    [{ prefix: 42 }, TypeError, /prefix must be a string, got 42/],
    [{ prefix: 'a\uD800:' }, TypeError, /prefix must be well-formed Unicode \(no lone surrogate\), got "a\\ud800:"/],
    [{ name: '\uDC00' }, TypeError, /name must be well-formed Unicode/],
    [{ name: null }, TypeError, /name must be a string, got null/],
    [
      { whenUnavailable: 'maybe' },
      TypeError,
      /whenUnavailable must be "local", "allow", "deny" or a rate limiter, got "maybe"/,
    ],
    [{ whenUnavailable: {} }, TypeError, /whenUnavailable must have a consume\(\) method/],
    [{ onLimit: 'yes' }, TypeError, /onLimit must be a function/],
    [{ logger: {} }, TypeError, /logger must have a warn\(\) method/],
    [{ metrics: {} }, TypeError, /metrics must have a recordRateLimitHit\(\) method/],
    [{ clock: Date }, TypeError, /clock must be an object with now\(\)/],
    [{ points: 10 }, TypeError, /unknown option "points" \(rate-limiter-flexible's "points" is "rate" here\)/],
    [{ keyPrefix: 'x' }, TypeError, /unknown option "keyPrefix"/],
    [{ tracer: {} }, TypeError, /unknown option "tracer"/],
    [{ client: undefined }, TypeError, /client must be an ioredis client .* or a node-redis client .* got undefined/],
    [{ client: { get: () => 1 } }, TypeError, /client must be an ioredis client/],
  ])('refuses %o', (over, kind, message) => {
    expect(() => new RedisRateLimiter({ ...base, ...over } as never)).toThrow(kind);
    expect(() => new RedisRateLimiter({ ...base, ...over } as never)).toThrow(message);
  });

  it('refuses a config that is not an object', () => {
    expect(() => new RedisRateLimiter(null as never)).toThrow(/config must be an object, got null/);
    expect(() => new RedisRateLimiter(undefined as never)).toThrow(/client must be/);
  });

  it('accepts a limiter of your own as the fallback', () => {
    expect(() => new RedisRateLimiter({ ...base, whenUnavailable: new RateLimiter({ rate: 1 }) })).not.toThrow();
  });
});

describe('RedisBulkhead config', () => {
  const base = { client, name: 'b', maxConcurrent: 2, logger: quiet };

  it('exposes its settings with their defaults', () => {
    const b = new RedisBulkhead(base);
    expect([b.maxConcurrent, b.leaseMs, b.maxQueue, b.queueTimeout, b.pollInterval, b.commandTimeout]).toEqual([
      2,
      30_000,
      0,
      Number.POSITIVE_INFINITY,
      50,
      250,
    ]);
    expect(b.key).toBe('resilience:bulkhead:{b}');
    expect([b.active, b.queued]).toEqual([0, 0]);
  });

  it.each([
    [{ name: '' }, TypeError, /name must be a non-empty string, got ""/],
    [{ name: undefined }, TypeError, /name must be a non-empty string, got undefined/],
    [{ name: 'b\uD800' }, TypeError, /name must be well-formed Unicode \(no lone surrogate\), got "b\\ud800"/],
    [{ prefix: '\uDC00' }, TypeError, /prefix must be well-formed Unicode/],
    [{ maxConcurrent: 0 }, RangeError, /maxConcurrent must be an integer >= 1, got 0/],
    [{ maxConcurrent: 1.5 }, RangeError, /maxConcurrent .* got 1.5/],
    [{ maxConcurrent: Number.NaN }, RangeError, /maxConcurrent .* got NaN/],
    [{ leaseMs: 50 }, RangeError, /leaseMs .* >= 100 .* got 50/],
    [{ leaseMs: Number.POSITIVE_INFINITY }, RangeError, /leaseMs .* got Infinity/],
    [{ maxQueue: -1 }, RangeError, /maxQueue .* got -1/],
    [{ queueTimeout: Number.NaN }, RangeError, /queueTimeout .* got NaN/],
    [{ pollInterval: 0 }, RangeError, /pollInterval .* got 0/],
    [{ commandTimeout: -1 }, RangeError, /commandTimeout .* got -1/],
    [
      { whenUnavailable: 'later' },
      TypeError,
      /whenUnavailable must be "local", "allow", "deny" or a policy, got "later"/,
    ],
    [{ whenUnavailable: {} }, TypeError, /whenUnavailable must have an execute\(\) method/],
    [{ onRejected: 1 }, TypeError, /onRejected must be a function, got 1/],
    [{ concurrency: 3 }, TypeError, /unknown option "concurrency" \(use "maxConcurrent"\)/],
  ])('refuses %o', (over, kind, message) => {
    expect(() => new RedisBulkhead({ ...base, ...over } as never)).toThrow(kind);
    expect(() => new RedisBulkhead({ ...base, ...over } as never)).toThrow(message);
  });

  it('accepts a policy of your own as the fallback', () => {
    expect(() => new RedisBulkhead({ ...base, whenUnavailable: new Bulkhead({ maxConcurrent: 1 }) })).not.toThrow();
  });
});

describe('detectClient', () => {
  it('tells the two libraries apart and names anything else', async () => {
    expect(detectClient('X', client)).toBe('ioredis');
    expect(detectClient('X', await unreachable('redis'))).toBe('node-redis');
    expect(() => detectClient('X', 'redis://localhost')).toThrow(/X: client must be .* got "redis:\/\/localhost"/);
  });
});
