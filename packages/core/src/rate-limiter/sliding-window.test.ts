import { describe, expect, it } from 'vitest';
import { FakeClock } from '../testing/index.js';
import { RateLimiter } from './rate-limiter.js';

function setup(rate: number, interval: number) {
  const clock = new FakeClock();
  return { clock, limiter: new RateLimiter({ rate, interval, algorithm: 'sliding-window', clock }) };
}

describe('sliding window (two-window approximation)', () => {
  it('allows rate per window and weights the previous window by what is left of it', async () => {
    const { clock, limiter } = setup(10, 1000);
    expect(limiter.take('k', 10)).toBe(true);
    expect(limiter.allow('k')).toBe(false);
    // Last ms of the window: still 10 in it.
    await clock.advance(999);
    expect(limiter.allow('k')).toBe(false);
    // Exactly at the edge: the previous window counts fully (10 * (1 - 0)).
    await clock.advance(1);
    expect(limiter.check('k')).toMatchObject({ allowed: false, remaining: 0, retryAfterMs: 100 });
    // 10% into the new window: 10 * 0.9 = 9, so one fits.
    await clock.advance(100);
    expect(limiter.allow('k')).toBe(true);
    expect(limiter.allow('k')).toBe(false);
    // Half way: 10 * 0.5 + 1 = 6, four more fit.
    await clock.advance(400);
    expect(limiter.take('k', 4)).toBe(true);
    expect(limiter.allow('k')).toBe(false);
  });

  it('forgets a window that is two windows old', async () => {
    const { clock, limiter } = setup(5, 100);
    expect(limiter.take('k', 5)).toBe(true);
    await clock.advance(200);
    expect(limiter.check('k')).toEqual({ allowed: true, limit: 5, remaining: 5, resetMs: 0, retryAfterMs: 0 });
    expect(limiter.take('k', 5)).toBe(true);
  });

  it('reports resetMs until both windows are empty and retryAfterMs until the tokens fit', async () => {
    const { clock, limiter } = setup(4, 1000);
    await clock.advance(250);
    expect(limiter.consume('k', 3)).toEqual({ allowed: true, limit: 4, remaining: 1, resetMs: 1750, retryAfterMs: 0 });
    // 2 more do not fit this window (3 + 2 > 4): they fit in the next once 3 * (1 - f) <= 2, f = 1/3.
    const refused = limiter.consume('k', 2);
    expect(refused.allowed).toBe(false);
    expect(refused.retryAfterMs).toBeCloseTo(750 + 1000 / 3, 9);
    await clock.advance(750);
    // New window: only the previous one counts now.
    expect(limiter.check('k')).toMatchObject({ allowed: true, remaining: 1, resetMs: 1000 });
    await clock.advance(1000 / 3);
    expect(limiter.take('k', 2)).toBe(true);
  });

  it('takes the sliding-window limit from rate and refuses a different burst', () => {
    expect(() => new RateLimiter({ rate: 10, burst: 20, algorithm: 'sliding-window' })).toThrow(
      'RateLimiter: burst must equal rate (or be left out) with the sliding-window algorithm, got 20',
    );
    expect(() => new RateLimiter({ rate: 0.5, algorithm: 'sliding-window' })).toThrow(
      'RateLimiter: rate must be >= 1 with the sliding-window algorithm, got 0.5',
    );
    const limiter = new RateLimiter({ rate: 10, burst: 10, algorithm: 'sliding-window' });
    expect([limiter.rate, limiter.burst, limiter.algorithm]).toEqual([10, 10, 'sliding-window']);
  });

  it('never lets any fixed window exceed the limit, and serves waiters in order', async () => {
    const { clock, limiter } = setup(3, 100);
    const order: number[] = [];
    const waits = [1, 2, 3, 1].map((tokens, i) => limiter.wait('k', { tokens }).then(() => order.push(i)));
    await clock.advance(0);
    expect(order).toEqual([0, 1]);
    await clock.runAll();
    await Promise.all(waits);
    expect(order).toEqual([0, 1, 2, 3]);
    expect(clock.now()).toBeGreaterThanOrEqual(200);
  });

  it('forgets idle keys lazily once both windows are empty', async () => {
    const clock = new FakeClock();
    const limiter = new RateLimiter({ rate: 2, interval: 100, algorithm: 'sliding-window', idleTtl: 0, clock });
    limiter.allow('a');
    await clock.advance(150);
    limiter.allow('b');
    expect(limiter.size).toBe(2);
    // 'a' was used in window 0: at 250 ms window 1 (holding it as "previous") has ended.
    await clock.advance(100);
    limiter.allow('c');
    expect(limiter.size).toBe(2);
    expect(limiter.prune()).toBe(0);
    await clock.advance(300);
    expect(limiter.prune()).toBe(2);
    expect(limiter.size).toBe(0);
  });
});
