import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../testing/index.js';
import { KeyState } from './key-state.js';
import { RateLimiter } from './rate-limiter.js';
import { SlidingLog } from './sliding-log.js';

describe("'sliding-log' memory (regression: every key used to allocate 8 × rate bytes on its first take)", () => {
  it('a key that took one token holds a small ring, whatever the rate', () => {
    const log = new SlidingLog(100_000, 60_000);
    const state = new KeyState();
    expect(log.take(state, 1, 0)).toBe(true);
    expect(state.log?.length).toBeLessThanOrEqual(8);
    // It grows as the key takes more, never beyond the limit.
    for (let i = 1; i < 1000; i++) expect(log.take(state, 1, i)).toBe(true);
    expect(state.log?.length).toBeGreaterThanOrEqual(1000);
    expect(state.log?.length).toBeLessThanOrEqual(2048);
    const small = new SlidingLog(5, 1000);
    const s = new KeyState();
    for (let i = 0; i < 5; i++) expect(small.take(s, 1, i)).toBe(true);
    expect(small.take(s, 1, 10)).toBe(false);
    expect(s.log?.length).toBe(5);
  });

  it('many keys of a high-rate limiter stay cheap (arrayBuffers grow by KBs, not hundreds of MB)', () => {
    const limiter = new RateLimiter({
      rate: 100_000,
      interval: 60_000,
      algorithm: 'sliding-log',
      clock: new FakeClock(),
    });
    const before = process.memoryUsage().arrayBuffers;
    for (let i = 0; i < 2000; i++) expect(limiter.allow(`ip-${i}`)).toBe(true);
    // Before the fix: 2000 × 800 kB = 1.6 GB of zero-filled rings.
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(50_000_000);
  });

  it('agrees with a plain list of entry times on every take, delay, available and resetMs (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 1, max: 500 }),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 200 }), fc.integer({ min: 1, max: 40 })), { maxLength: 200 }),
        (limit, interval, steps) => {
          const algo = new SlidingLog(limit, interval);
          const state = new KeyState();
          let times: number[] = [];
          let now = 0;
          for (const [dt, rawTokens] of steps) {
            now += dt;
            const tokens = ((rawTokens - 1) % limit) + 1;
            times = times.filter((t) => t > now - interval);
            const over = times.length + tokens - limit;
            const expectedDelay = over <= 0 ? 0 : Math.max((times[over - 1] as number) + interval - now, 1e-6);
            expect(algo.delay(state, tokens, now)).toBe(expectedDelay);
            expect(algo.available(state, now)).toBe(limit - times.length);
            const expectedReset = times.length === 0 ? 0 : (times[times.length - 1] as number) + interval - now;
            expect(algo.resetMs(state, now)).toBe(expectedReset);
            const ok = algo.take(state, tokens, now);
            expect(ok).toBe(over <= 0);
            if (ok) for (let i = 0; i < tokens; i++) times.push(now);
            expect((state.log?.length ?? 0) <= limit).toBe(true);
          }
        },
      ),
    );
  });
});
