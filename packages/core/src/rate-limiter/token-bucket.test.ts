import { describe, expect, it } from 'vitest';
import { FakeClock } from '../testing/index.js';
import { RateLimiter } from './rate-limiter.js';

function setup(config: { rate: number; interval?: number; burst?: number }) {
  const clock = new FakeClock();
  return { clock, limiter: new RateLimiter({ ...config, clock }) };
}

describe('token bucket arithmetic', () => {
  it('starts full, takes burst at once, then refills one token per interval / rate', async () => {
    const { clock, limiter } = setup({ rate: 10, interval: 1000, burst: 5 });
    for (let i = 0; i < 5; i++) expect(limiter.allow('k')).toBe(true);
    expect(limiter.allow('k')).toBe(false);
    await clock.advance(99);
    expect(limiter.allow('k')).toBe(false);
    await clock.advance(1);
    expect(limiter.allow('k')).toBe(true);
    expect(limiter.allow('k')).toBe(false);
    await clock.advance(300);
    expect(limiter.take('k', 3)).toBe(true);
    expect(limiter.allow('k')).toBe(false);
  });

  it('keeps fractional tokens exactly', async () => {
    const { clock, limiter } = setup({ rate: 3, interval: 1000, burst: 1 });
    expect(limiter.allow()).toBe(true);
    // One token per 333.33 ms: not there at 333 ms, there at 334 ms.
    await clock.advance(333);
    expect(limiter.allow()).toBe(false);
    await clock.advance(1);
    expect(limiter.allow()).toBe(true);
    // Three tokens take exactly 1000 ms: 0.5 token after 166.67 ms is not enough for one.
    await clock.advance(1000);
    expect(limiter.check(undefined, 1).remaining).toBe(1);
    expect(limiter.consume(undefined, 0.5)).toMatchObject({ allowed: true, remaining: 0 });
    expect(limiter.consume(undefined, 0.5)).toMatchObject({ allowed: true, remaining: 0, resetMs: 333.3333333333333 });
    expect(limiter.allow()).toBe(false);
    await clock.advance(166);
    expect(limiter.take(undefined, 0.5)).toBe(false);
    await clock.advance(1);
    expect(limiter.take(undefined, 0.5)).toBe(true);
  });

  it('never holds more than burst, however long it stays idle', async () => {
    const { clock, limiter } = setup({ rate: 100, interval: 1000, burst: 4 });
    expect(limiter.take('k', 4)).toBe(true);
    await clock.advance(365 * 24 * 3600 * 1000);
    expect(limiter.check('k')).toEqual({ allowed: true, limit: 4, remaining: 4, resetMs: 0, retryAfterMs: 0 });
    expect(limiter.take('k', 4)).toBe(true);
    expect(limiter.allow('k')).toBe(false);
  });

  it('reports limit, remaining, resetMs and retryAfterMs exactly', async () => {
    const { clock, limiter } = setup({ rate: 2, interval: 1000, burst: 4 });
    expect(limiter.consume('k')).toEqual({ allowed: true, limit: 4, remaining: 3, resetMs: 500, retryAfterMs: 0 });
    expect(limiter.consume('k', 3)).toEqual({ allowed: true, limit: 4, remaining: 0, resetMs: 2000, retryAfterMs: 0 });
    expect(limiter.consume('k', 2)).toEqual({
      allowed: false,
      limit: 4,
      remaining: 0,
      resetMs: 2000,
      retryAfterMs: 1000,
    });
    await clock.advance(250);
    expect(limiter.check('k')).toEqual({ allowed: false, limit: 4, remaining: 0, resetMs: 1750, retryAfterMs: 250 });
    await clock.advance(250);
    expect(limiter.check('k', 1)).toEqual({ allowed: true, limit: 4, remaining: 1, resetMs: 1500, retryAfterMs: 0 });
    expect(limiter.check('k', 1)).toMatchObject({ remaining: 1 });
  });

  it('takes all or nothing', async () => {
    const { limiter } = setup({ rate: 5 });
    expect(limiter.take('k', 3)).toBe(true);
    expect(limiter.take('k', 3)).toBe(false);
    expect(limiter.check('k').remaining).toBe(2);
    expect(limiter.take('k', 2)).toBe(true);
  });

  it('refuses token counts that could never be taken, with a clear error', () => {
    const { limiter } = setup({ rate: 10, burst: 5 });
    expect(() => limiter.take('k', 6)).toThrow(
      'RateLimiter: tokens must be a finite number > 0 and <= 5 (the limit), got 6',
    );
    expect(() => limiter.take('k', 0)).toThrow('got 0');
    expect(() => limiter.consume('k', -1)).toThrow(RangeError);
    expect(() => limiter.check('k', Number.NaN)).toThrow('got NaN');
    expect(() => limiter.take('k', '2' as unknown as number)).toThrow('got "2"');
    expect(limiter.size).toBe(0);
  });

  it('a check of an unknown key stores nothing', () => {
    const { limiter } = setup({ rate: 10 });
    expect(limiter.check('new')).toEqual({ allowed: true, limit: 10, remaining: 10, resetMs: 0, retryAfterMs: 0 });
    expect(limiter.size).toBe(0);
  });
});
