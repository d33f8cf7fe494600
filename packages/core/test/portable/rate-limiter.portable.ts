// The rate limiter on every runtime, against the built core, on a fake clock.
import { isRateLimitExceededError, RateLimitExceededError, RateLimiter } from '@resilience/core';
import { FakeClock } from '@resilience/core/testing';
import { describe, expect, it, rejects, track } from './harness.ts';

describe('RateLimiter', () => {
  it('allows a burst, refuses the next, and refills with time (token bucket)', async () => {
    const clock = new FakeClock();
    const limiter = new RateLimiter({ clock, rate: 2, interval: 1_000 });
    expect(limiter.allow()).toBe(true);
    expect(limiter.allow()).toBe(true);
    expect(limiter.allow()).toBe(false);
    await clock.advance(500);
    expect(limiter.allow()).toBe(true);
    expect(limiter.allow()).toBe(false);
  });

  it('keeps one bucket per key', () => {
    const limiter = new RateLimiter({ clock: new FakeClock(), rate: 1 });
    expect(limiter.allow('a')).toBe(true);
    expect(limiter.allow('a')).toBe(false);
    expect(limiter.allow('b')).toBe(true);
  });

  it('consume() reports what rate-limit headers need, check() takes nothing', () => {
    const limiter = new RateLimiter({ clock: new FakeClock(), rate: 10, interval: 1_000, burst: 3 });
    expect(limiter.check('k').remaining).toBe(3);
    const first = limiter.consume('k', 2);
    expect(first.allowed).toBe(true);
    expect(first.limit).toBe(3);
    expect(first.remaining).toBe(1);
    const refused = limiter.consume('k', 2);
    expect(refused.allowed).toBe(false);
    expect(refused.retryAfterMs).toBeGreaterThan(0);
    expect(limiter.check('k').remaining).toBe(1);
  });

  it('execute() rejects at once without a token, and wait() waits for one on the clock', async () => {
    const clock = new FakeClock();
    const limiter = new RateLimiter({ clock, rate: 1, interval: 1_000 });
    expect(await limiter.execute(() => 'first')).toBe('first');
    const error = await rejects(
      limiter.execute(() => 'second'),
      RateLimitExceededError,
    );
    expect(isRateLimitExceededError(error)).toBe(true);
    const waited = track(limiter.wait());
    await clock.advance(999);
    expect(waited.settled()).toBe(false);
    await clock.advance(1);
    await waited.result;
    expect(waited.settled()).toBe(true);
  });

  it('wait() rejects at once when the token cannot come within maxWait', async () => {
    const limiter = new RateLimiter({ clock: new FakeClock(), rate: 1, interval: 60_000 });
    limiter.allow();
    const error = await rejects(limiter.wait(undefined, { maxWait: 1_000 }), RateLimitExceededError);
    expect((error as RateLimitExceededError).retryAfterMs).toBeGreaterThan(1_000);
  });

  it('counts within a sliding window', async () => {
    const clock = new FakeClock();
    const limiter = new RateLimiter({ clock, rate: 2, interval: 1_000, algorithm: 'sliding-window' });
    expect(limiter.allow()).toBe(true);
    expect(limiter.allow()).toBe(true);
    expect(limiter.allow()).toBe(false);
    await clock.advance(2_000);
    expect(limiter.allow()).toBe(true);
  });

  it('rejects bad input naming the field and the value', async () => {
    expect(() => new RateLimiter({ rate: -1 })).toThrow(/rate.*-1/);
    expect(() => new RateLimiter({ rate: 1, interval: Number.NaN })).toThrow(/interval.*NaN/);
    const limiter = new RateLimiter({ rate: 1 });
    // A per-call option is checked when the call is made: the promise rejects, it never throws.
    await rejects(limiter.wait(undefined, { maxWait: Number.NaN }), /maxWait.*NaN/);
  });
});
