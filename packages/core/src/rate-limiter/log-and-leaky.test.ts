import { getEventListeners } from 'node:events';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RateLimitExceededError } from '../errors/errors.js';
import { FakeClock } from '../testing/index.js';
import { RateLimiter } from './rate-limiter.js';

describe("RateLimiter algorithm 'sliding-log'", () => {
  it('admits at most rate tokens in any interval-long span, exactly', async () => {
    const clock = new FakeClock();
    const limiter = new RateLimiter({ rate: 3, interval: 100, algorithm: 'sliding-log', clock });
    expect(limiter.burst).toBe(3);
    for (const at of [0, 10, 20]) {
      await clock.advance(at - clock.now());
      expect(limiter.allow('k')).toBe(true);
    }
    await clock.advance(79); // t = 99: the entry of t = 0 is still in the window
    expect(limiter.allow('k')).toBe(false);
    expect(limiter.check('k')).toMatchObject({ allowed: false, remaining: 0, retryAfterMs: 1, resetMs: 21 });
    await clock.advance(1); // t = 100: it left
    expect(limiter.consume('k')).toMatchObject({ allowed: true, remaining: 0 });
    expect(limiter.check('k', 2)).toMatchObject({ allowed: false, retryAfterMs: 20 });
    expect(() => limiter.take('k', 4)).toThrow(RangeError);
  });

  it('execute rejects with retryAfterMs until the oldest entry leaves; wait() queues until then', async () => {
    const clock = new FakeClock();
    const limiter = new RateLimiter({ rate: 2, interval: 1000, algorithm: 'sliding-log', clock });
    await limiter.execute(() => 1);
    await clock.advance(300);
    await limiter.execute(() => 2);
    const refused = await limiter.execute(() => 3).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(RateLimitExceededError);
    expect((refused as RateLimitExceededError).retryAfterMs).toBe(700);
    const done: number[] = [];
    const waits = [limiter.wait(), limiter.wait()].map((w) => w.then(() => done.push(clock.now())));
    await clock.runAll();
    await Promise.all(waits);
    expect(done).toEqual([1000, 1300]);
  });

  it('keeps at most 8 × rate bytes per key and forgets idle keys like the other algorithms', async () => {
    const clock = new FakeClock();
    const limiter = new RateLimiter({ rate: 10, interval: 100, algorithm: 'sliding-log', maxKeys: 50, clock });
    for (let i = 0; i < 500; i++) limiter.allow(`user-${i}`);
    expect(limiter.size).toBe(50);
    await clock.advance(100);
    expect(limiter.prune()).toBe(50);
    expect(limiter.size).toBe(0);
  });

  it('refuses a rate it cannot log exactly, and a burst other than rate', () => {
    expect(() => new RateLimiter({ rate: 2.5, algorithm: 'sliding-log' })).toThrow(/whole number.*got 2.5/);
    expect(() => new RateLimiter({ rate: 0.5, algorithm: 'sliding-log' })).toThrow(/sliding-log/);
    expect(() => new RateLimiter({ rate: 1_000_000, algorithm: 'sliding-log' })).toThrow(/100000/);
    expect(() => new RateLimiter({ rate: 5, burst: 10, algorithm: 'sliding-log' })).toThrow(
      /burst must equal rate.*sliding-log.*got 10/,
    );
  });
});

describe("RateLimiter algorithm 'leaky-bucket'", () => {
  it('spaces admissions evenly with no burst, even after a quiet period', async () => {
    const clock = new FakeClock();
    const limiter = new RateLimiter({ rate: 10, interval: 1000, algorithm: 'leaky-bucket', clock });
    expect(limiter.burst).toBe(1);
    await clock.advance(10_000);
    expect(limiter.allow()).toBe(true);
    expect(limiter.allow()).toBe(false); // a token bucket would admit a burst here
    expect(limiter.consume()).toMatchObject({ allowed: false, remaining: 0, retryAfterMs: 100, limit: 1 });
    await clock.advance(99);
    expect(limiter.allow()).toBe(false);
    await clock.advance(1);
    expect(limiter.allow()).toBe(true);
  });

  it('paces wait() callers one by one at the rate', async () => {
    const clock = new FakeClock();
    const limiter = new RateLimiter({ rate: 10, interval: 1000, algorithm: 'leaky-bucket', clock });
    const done: number[] = [];
    const waits = Array.from({ length: 5 }, () => limiter.wait().then(() => done.push(clock.now())));
    expect(limiter.check()).toMatchObject({ allowed: false, retryAfterMs: 500 });
    await clock.runAll();
    await Promise.all(waits);
    expect(done).toEqual([0, 100, 200, 300, 400]);
    expect(clock.pendingTimers).toBe(0);
  });

  it('a weighted take pushes the next admission further; burst bounds one take', async () => {
    const clock = new FakeClock();
    const limiter = new RateLimiter({ rate: 10, interval: 1000, burst: 4, algorithm: 'leaky-bucket', clock });
    expect(limiter.take('k', 4)).toBe(true);
    expect(limiter.check('k')).toMatchObject({ allowed: false, retryAfterMs: 400 });
    expect(() => limiter.take('k', 5)).toThrow(RangeError);
    const one = new RateLimiter({ rate: 10, algorithm: 'leaky-bucket' });
    expect(() => one.take('k', 2)).toThrow(/<= 1/);
  });
});

describe('sliding-log and leaky-bucket properties', () => {
  const plan = fc.array(
    fc.record({
      gap: fc.integer({ min: 0, max: 120 }),
      tokens: fc.integer({ min: 1, max: 3 }),
      kind: fc.constantFrom('wait', 'allow', 'abort'),
      abortAfter: fc.integer({ min: 0, max: 300 }),
    }),
    { minLength: 1, maxLength: 25 },
  );

  it('sliding-log: no interval-long span ever holds more than rate; leaky-bucket: admissions are spaced by their tokens', async () => {
    await fc.assert(
      fc.asyncProperty(
        plan,
        fc.constantFrom('sliding-log' as const, 'leaky-bucket' as const),
        async (steps, algorithm) => {
          const clock = new FakeClock();
          const rate = 3;
          const interval = 100;
          const limiter = new RateLimiter({ rate, interval, burst: 3, algorithm, clock });
          const admitted: { at: number; tokens: number }[] = [];
          const settled: number[] = steps.map(() => 0);
          const signals: AbortSignal[] = [];
          const pending: Promise<unknown>[] = [];
          for (const [i, step] of steps.entries()) {
            await clock.advance(step.gap);
            if (step.kind === 'allow') {
              if (limiter.take('k', step.tokens)) admitted.push({ at: clock.now(), tokens: step.tokens });
              settled[i] = 1;
              continue;
            }
            const controller = new AbortController();
            signals.push(controller.signal);
            if (step.kind === 'abort') clock.setTimeout(() => controller.abort(new Error('stop')), step.abortAfter);
            pending.push(
              limiter.wait('k', { tokens: step.tokens, signal: controller.signal }).then(
                () => {
                  settled[i] = (settled[i] ?? 0) + 1;
                  admitted.push({ at: clock.now(), tokens: step.tokens });
                },
                (err: unknown) => {
                  settled[i] = (settled[i] ?? 0) + 1;
                  expect(err).toBe(controller.signal.reason);
                },
              ),
            );
          }
          await clock.runAll();
          await Promise.all(pending);
          expect(settled.every((n) => n === 1)).toBe(true);
          expect(clock.pendingTimers).toBe(0);
          for (const signal of signals) expect(getEventListeners(signal, 'abort')).toHaveLength(0);
          admitted.sort((a, b) => a.at - b.at);
          for (let i = 0; i < admitted.length; i++) {
            const first = admitted[i] as { at: number; tokens: number };
            if (algorithm === 'leaky-bucket') {
              const next = admitted[i + 1];
              if (next !== undefined)
                expect(next.at - first.at).toBeGreaterThanOrEqual((first.tokens * interval) / rate - 1e-6);
              continue;
            }
            let sum = 0;
            for (let j = i; j < admitted.length && (admitted[j] as { at: number }).at - first.at < interval; j++) {
              sum += (admitted[j] as { tokens: number }).tokens;
            }
            expect(sum).toBeLessThanOrEqual(rate);
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('sliding-log state from another limit', () => {
  it('a ring larger than the limit (another configuration) counts as empty; a smaller one is read entry by entry', async () => {
    const { KeyState } = await import('./key-state.js');
    const { SlidingLog } = await import('./sliding-log.js');
    const state = new KeyState();
    const large = new SlidingLog(5, 100);
    expect(large.take(state, 5, 0)).toBe(true);
    const small = new SlidingLog(2, 100);
    expect(small.available(state, 10)).toBe(2);
    expect(small.isFresh(state, 10)).toBe(true);
    expect(small.take(state, 2, 10)).toBe(true);
    expect(small.take(state, 1, 20)).toBe(false);
    expect(small.delay(state, 1, 20)).toBe(90);
    // Rings grow with the key's takes, so a ring smaller than the limit holds real entries.
    expect(large.available(state, 30)).toBe(3);
    expect(large.take(state, 3, 30)).toBe(true);
    expect(large.take(state, 1, 40)).toBe(false);
    expect(large.delay(state, 1, 40)).toBe(70);
  });
});

describe('waiting callers ahead of a new one', () => {
  it("sliding-log: retryAfterMs counts the queued callers' entries too", async () => {
    const clock = new FakeClock();
    const limiter = new RateLimiter({ rate: 2, interval: 1000, algorithm: 'sliding-log', clock });
    limiter.allow('k');
    await clock.advance(500);
    limiter.allow('k');
    const served: number[] = [];
    const a = limiter.wait('k').then(() => served.push(clock.now()));
    // A takes the slot freed at 1000; the next one frees at 1500.
    expect(limiter.check('k')).toMatchObject({ allowed: false, retryAfterMs: 1000 });
    const b = limiter.wait('k').then(() => served.push(clock.now()));
    expect(limiter.check('k')).toMatchObject({ allowed: false, retryAfterMs: 1500 });
    await clock.runAll();
    await Promise.all([a, b]);
    expect(served).toEqual([1000, 1500]);
  });

  it('leaky-bucket: retryAfterMs counts the queued callers, and a drained key is forgotten', async () => {
    const clock = new FakeClock();
    const limiter = new RateLimiter({ rate: 10, interval: 1000, algorithm: 'leaky-bucket', clock });
    expect(limiter.allow('k')).toBe(true);
    const waiting = limiter.wait('k');
    expect(limiter.check('k')).toMatchObject({ allowed: false, retryAfterMs: 200, resetMs: 100 });
    await clock.runAll();
    await waiting;
    await clock.advance(200);
    expect(limiter.check('k')).toMatchObject({ allowed: true, remaining: 1, resetMs: 0 });
    expect(limiter.prune()).toBe(1);
    expect(limiter.size).toBe(0);
  });
});
