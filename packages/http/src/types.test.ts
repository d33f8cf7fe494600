import type * as core from '@resilience/core';
import { CircuitBreaker, RateLimiter } from '@resilience/core';
import { FakeClock } from '@resilience/core/testing';
import { describe, expect, expectTypeOf, it } from 'vitest';
import type { CircuitPermitLike, MaybePromise, RateLimitDecision, RateLimiterLike } from './types.js';

// The type checks below run under `tsc` (the package's typecheck); the runtime lines show the same on real objects.
describe('the shared types are the core’s', () => {
  it('MaybePromise and RateLimitDecision are the core’s own definitions', () => {
    expectTypeOf<MaybePromise<number>>().toEqualTypeOf<core.MaybePromise<number>>();
    expectTypeOf<RateLimitDecision>().toEqualTypeOf<core.RateLimitResult>();
  });

  it('every core RateLimiterLike and CircuitPermit fits what a middleware needs', () => {
    const limiter = new RateLimiter({ rate: 2, clock: new FakeClock() });
    const asCore: core.RateLimiterLike = limiter;
    const needed: RateLimiterLike = asCore;
    expect(needed.consume('k', 1)).toMatchObject({ allowed: true, limit: 2, remaining: 1 });
    expect(needed.consume('k', 2)).toMatchObject({ allowed: false, remaining: 1 });
    const permit: CircuitPermitLike = new CircuitBreaker({ clock: new FakeClock() }).acquire();
    permit.success();
    expectTypeOf<core.RateLimiterLike>().toExtend<RateLimiterLike>();
    expectTypeOf<core.CircuitPermit>().toExtend<CircuitPermitLike>();
  });

  it('an object with just the four members a middleware calls is a RateLimiterLike', () => {
    const minimal: RateLimiterLike = {
      rate: 1,
      burst: 1,
      interval: 1000,
      consume: (key: string, tokens: number) => ({
        allowed: key.length > tokens,
        limit: 1,
        remaining: 0,
        resetMs: 0,
        retryAfterMs: 0,
      }),
    };
    expect(minimal.consume('ab', 1)).toMatchObject({ allowed: true });
  });
});
