import { describe, expect, it } from 'vitest';
import { RateLimitExceededError } from '../errors/errors.js';
import { FakeClock } from '../testing/fake-clock.js';
import { RateLimiter } from './rate-limiter.js';

describe('RateLimiter.on', () => {
  it("reports 'rejected' after onLimit with the key, for every kind of refusal", async () => {
    const order: string[] = [];
    const limiter = new RateLimiter({ rate: 1, clock: new FakeClock(), onLimit: (key) => order.push(`hook ${key}`) });
    limiter.on('rejected', ({ key }) => order.push(`event ${key}`));
    expect(limiter.allow('a')).toBe(true);
    expect(limiter.allow('a')).toBe(false);
    expect(limiter.consume('a').allowed).toBe(false);
    await expect(limiter.execute(() => 1, { key: 'b' })).resolves.toBe(1);
    await expect(limiter.execute(() => 1, { key: 'b' })).rejects.toBeInstanceOf(RateLimitExceededError);
    await expect(limiter.wait(undefined, { maxWait: 0 })).resolves.toBeUndefined();
    await expect(limiter.wait(undefined, { maxWait: 0 })).rejects.toBeInstanceOf(RateLimitExceededError);
    expect(order).toEqual([
      'hook a',
      'event a',
      'hook a',
      'event a',
      'hook b',
      'event b',
      'hook undefined',
      'event undefined',
    ]);
  });
});

describe('RateLimiter.update', () => {
  it('validates first: a bad value throws, naming it, and nothing changes', () => {
    const limiter = new RateLimiter({ rate: 10, clock: new FakeClock() });
    expect(() => limiter.update({ rate: -1 })).toThrow(/RateLimiter: rate must be a finite number > 0, got -1/);
    expect(() => limiter.update({ algorithm: 'sliding-window' })).toThrow(/algorithm cannot be changed by update\(\)/);
    expect(() => limiter.update({ maxKeys: 5 })).toThrow(/maxKeys cannot be changed/);
    expect(() => limiter.update({ rat: 5 } as never)).toThrow(/unknown option "rat"/);
    expect(limiter.rate).toBe(10);
    expect(limiter.consume().limit).toBe(10);
  });

  it('every key keeps what it has used; the new rate refills from now on', async () => {
    const clock = new FakeClock();
    const limiter = new RateLimiter({ rate: 10, interval: 1_000, clock });
    expect(limiter.take('a', 6)).toBe(true);
    expect(limiter.take(undefined, 10)).toBe(true);
    limiter.update({ rate: 100, burst: 20 });
    expect(limiter.rate).toBe(100);
    expect(limiter.burst).toBe(20);
    expect(limiter.check('a').remaining).toBe(14);
    expect(limiter.check().remaining).toBe(10);
    expect(limiter.check('new').remaining).toBe(20);
    await clock.advance(50);
    expect(limiter.check().remaining).toBe(15);
    limiter.update({ burst: 4 });
    expect(limiter.check('a').remaining).toBe(3);
    expect(limiter.check().remaining).toBe(0);
    expect(limiter.check('new').remaining).toBe(4);
  });

  it('a sliding window keeps what it counted', () => {
    const clock = new FakeClock();
    const limiter = new RateLimiter({ rate: 10, algorithm: 'sliding-window', clock });
    expect(limiter.take('a', 4)).toBe(true);
    limiter.update({ rate: 5 });
    expect(limiter.check('a').remaining).toBe(1);
    expect(limiter.take('a', 2)).toBe(false);
  });

  it('queued waiters keep their place and are served under the new limits; burst cannot drop below one', async () => {
    const clock = new FakeClock();
    const limiter = new RateLimiter({ rate: 1, interval: 1_000, burst: 4, clock });
    expect(limiter.take(undefined, 4)).toBe(true);
    const served: number[] = [];
    const waits = [1, 3].map((tokens) => limiter.wait(undefined, { tokens }).then(() => served.push(tokens)));
    expect(() => limiter.update({ burst: 2 })).toThrow(
      new RangeError('RateLimiter: burst must be >= 3 while a wait() for that many tokens is queued, got 2'),
    );
    limiter.update({ rate: 10 });
    await clock.advance(999);
    expect(served).toEqual([]);
    await clock.advance(1);
    await Promise.all(waits);
    expect(served).toEqual([1, 3]);
    expect(clock.pendingTimers).toBe(0);
  });
});
