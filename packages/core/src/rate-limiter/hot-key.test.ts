import { describe, expect, it } from 'vitest';
import { FakeClock } from '../testing/index.js';
import { RateLimiter } from './rate-limiter.js';

// The key store answers the most recently used key from the tail of its recency list, without a Map lookup
// (issue 16: allow(key) at most one clock read + 15 ns). These check that the shortcut decides exactly as the Map would.
describe('RateLimiter: the most recent key answered from the recency list (issue 16)', () => {
  it('keeps exact LRU order around a repeated key', () => {
    const limiter = new RateLimiter({ rate: 5, maxKeys: 2, clock: new FakeClock() });
    limiter.take('a', 3);
    limiter.allow('a'); // the shortcut: 'a' is the most recent key
    limiter.allow('b');
    limiter.allow('a'); // 'a' becomes the most recent again, so 'b' is the least recent
    limiter.allow('c'); // evicts 'b'
    expect(limiter.size).toBe(2);
    expect(limiter.check('a').remaining).toBe(0); // 3 + 1 + 1 taken: kept
    expect(limiter.check('b').remaining).toBe(5); // forgotten: a fresh bucket
    expect(limiter.check('c').remaining).toBe(4);
  });

  it('starts a fresh bucket for the most recent key once it has been pruned or evicted', async () => {
    const clock = new FakeClock();
    const limiter = new RateLimiter({ rate: 1, interval: 1000, maxKeys: 1, clock });
    expect(limiter.allow('a')).toBe(true);
    expect(limiter.allow('a')).toBe(false);
    await clock.advance(1000);
    expect(limiter.prune()).toBe(1);
    expect(limiter.size).toBe(0);
    expect(limiter.allow('a')).toBe(true);
    expect(limiter.allow('a')).toBe(false);
    expect(limiter.allow('b')).toBe(true); // evicts 'a' (maxKeys 1)
    expect(limiter.allow('a')).toBe(true); // a new state, not the evicted one
  });

  it('tells a number key from the string of the same digits, as the Map does', () => {
    const limiter = new RateLimiter({ rate: 1, clock: new FakeClock() });
    expect(limiter.allow(7 as unknown as string)).toBe(true);
    expect(limiter.allow('7')).toBe(true);
    expect(limiter.allow('7')).toBe(false);
    expect(limiter.allow(7 as unknown as string)).toBe(false);
    expect(limiter.size).toBe(2);
  });

  it('still refuses a key that is not a string right after a kept key', () => {
    const limiter = new RateLimiter({ rate: 1, clock: new FakeClock() });
    limiter.allow('a');
    expect(() => limiter.allow({} as unknown as string)).toThrow(/RateLimiter: key must be a string/);
    expect(() => limiter.allow(null as unknown as string)).toThrow(TypeError);
  });
});
