import { getEventListeners } from 'node:events';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { recordingSystemClock } from '../../test/support.js';
import { RateLimitExceededError } from '../errors/errors.js';
import { FakeClock } from '../testing/index.js';
import { RateLimiter } from './rate-limiter.js';

function setup(config: { rate: number; burst?: number; interval?: number; maxWait?: number } = { rate: 10, burst: 1 }) {
  const clock = new FakeClock();
  return { clock, limiter: new RateLimiter({ ...config, clock }) };
}

describe('RateLimiter.wait', () => {
  it('resolves at once when the tokens are there', async () => {
    const { clock, limiter } = setup({ rate: 5 });
    await limiter.wait('k', { tokens: 5 });
    expect(limiter.check('k').remaining).toBe(0);
    expect(clock.pendingTimers).toBe(0);
  });

  it('queues FIFO per key and resolves each waiter exactly when its tokens exist', async () => {
    const { clock, limiter } = setup({ rate: 10, burst: 2 });
    limiter.take('k', 2);
    const done: [string, number][] = [];
    const waits = [
      ['a', 2],
      ['b', 1],
      ['c', 1],
    ].map(([name, tokens]) =>
      limiter.wait('k', { tokens: tokens as number }).then(() => done.push([name as string, clock.now()])),
    );
    // While waiters are queued, nobody jumps the queue.
    await clock.advance(100);
    expect(limiter.allow('k')).toBe(false);
    expect(limiter.consume('k')).toMatchObject({ allowed: false, remaining: 0, retryAfterMs: 400 });
    await clock.runAll();
    await Promise.all(waits);
    expect(done).toEqual([
      ['a', 200],
      ['b', 300],
      ['c', 400],
    ]);
    expect(clock.pendingTimers).toBe(0);
    expect(limiter.allow('k')).toBe(false);
    await clock.advance(100);
    expect(limiter.allow('k')).toBe(true);
  });

  it('rejects at once, keeping nothing, when the tokens cannot come within maxWait or before the deadline', async () => {
    const { clock, limiter } = setup({ rate: 10, burst: 2, maxWait: 100 });
    limiter.take('k', 2);
    const tooLong = await limiter.wait('k', { tokens: 2 }).catch((e: unknown) => e);
    expect(tooLong).toBeInstanceOf(RateLimitExceededError);
    expect((tooLong as RateLimitExceededError).retryAfterMs).toBe(200);
    await expect(limiter.wait('k', { maxWait: 50 })).rejects.toMatchObject({ retryAfterMs: 100 });
    await expect(limiter.wait('k', { maxWait: 1000, deadline: 99 })).rejects.toMatchObject({ retryAfterMs: 100 });
    expect(clock.pendingTimers).toBe(0);
    expect(limiter.check('k')).toMatchObject({ allowed: false, retryAfterMs: 100 });
    const ok = limiter.wait('k', { deadline: 100 });
    await clock.advance(100);
    await ok;
    const unbounded = new RateLimiter({ rate: 1, interval: 3_600_000, clock });
    unbounded.allow();
    const later = unbounded.wait();
    await clock.advance(3_600_000);
    await later;
  });

  it('lets an aborted waiter leave at once, giving its place back to the next', async () => {
    const { clock, limiter } = setup({ rate: 10, burst: 3 });
    limiter.take('k', 3);
    const controller = new AbortController();
    const first = limiter.wait('k', { tokens: 3, signal: controller.signal });
    const times: number[] = [];
    const second = limiter.wait('k').then(() => times.push(clock.now()));
    expect(limiter.consume('k', 1).retryAfterMs).toBe(500);
    await clock.advance(50);
    const reason = new Error('no longer needed');
    controller.abort(reason);
    await expect(first).rejects.toBe(reason);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    // The second now only needs the next token, due at 100 ms.
    await clock.advance(50);
    await second;
    expect(times).toEqual([100]);
    expect(clock.pendingTimers).toBe(0);
  });

  it('an aborted waiter behind the head just leaves the queue', async () => {
    const { clock, limiter } = setup({ rate: 10, burst: 1 });
    limiter.allow();
    const head = limiter.wait();
    const controller = new AbortController();
    const behind = limiter.wait(undefined, { signal: controller.signal });
    const last = limiter.wait();
    controller.abort();
    await expect(behind).rejects.toMatchObject({ name: 'AbortError' });
    await clock.advance(100);
    await head;
    await clock.advance(100);
    await last;
    expect(clock.pendingTimers).toBe(0);
  });

  it('rejects with the reason of an already aborted signal, and refuses impossible token counts', async () => {
    const { limiter } = setup({ rate: 10, burst: 2 });
    const reason = new Error('already');
    await expect(limiter.wait('k', { signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
    await expect(limiter.wait('k', { tokens: 3 })).rejects.toThrow(
      'RateLimiter: tokens must be a finite number > 0 and <= 2 (the limit), got 3',
    );
    expect(limiter.size).toBe(0);
  });

  it('makes execute without maxWait refuse while waiters are queued, telling when the queue is through', async () => {
    const { clock, limiter } = setup({ rate: 10, burst: 1 });
    limiter.allow('k');
    const waiting = limiter.wait('k');
    const err = await limiter.execute(() => 'x', { key: 'k' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RateLimitExceededError);
    expect((err as RateLimitExceededError).retryAfterMs).toBe(200);
    await clock.advance(100);
    await waiting;
  });

  it('replays the queue of a sliding window to tell a new waiter its wait', async () => {
    const clock = new FakeClock();
    const limiter = new RateLimiter({ rate: 2, interval: 100, algorithm: 'sliding-window', clock });
    limiter.take('k', 2);
    const first = limiter.wait('k', { tokens: 2 });
    // The first waiter gets its 2 at 200 ms (window 1 holds 0 then, window 0 has decayed);
    // one more token fits once window 2's share of those 2 has decayed by half: 350 ms.
    expect(limiter.check('k').retryAfterMs).toBeCloseTo(350, 9);
    await expect(limiter.wait('k', { maxWait: 349 })).rejects.toBeInstanceOf(RateLimitExceededError);
    await clock.advance(200);
    await first;
    expect(limiter.check('k').retryAfterMs).toBeCloseTo(150, 9);
  });

  it('removes the listener of a waiter that was served', async () => {
    const { clock, limiter } = setup();
    limiter.allow();
    const signal = new AbortController().signal;
    const waiting = limiter.wait(undefined, { signal });
    expect(getEventListeners(signal, 'abort')).toHaveLength(1);
    await clock.advance(100);
    await waiting;
    expect(getEventListeners(signal, 'abort')).toHaveLength(0);
  });
});

describe('RateLimiter.wait properties', () => {
  const plan = fc.array(
    fc.record({
      gap: fc.integer({ min: 0, max: 120 }),
      tokens: fc.integer({ min: 1, max: 3 }),
      kind: fc.constantFrom('wait', 'allow', 'abort'),
      abortAfter: fc.integer({ min: 0, max: 300 }),
    }),
    { minLength: 1, maxLength: 25 },
  );

  it('never resolves a waiter before its tokens exist, settles every call once and leaves nothing behind', async () => {
    await fc.assert(
      fc.asyncProperty(
        plan,
        fc.constantFrom('token-bucket' as const, 'sliding-window' as const),
        async (steps, algorithm) => {
          const clock = new FakeClock();
          const rate = 3;
          const interval = 100;
          const limiter = new RateLimiter({ rate, interval, algorithm, clock });
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
            let sum = 0;
            for (let j = i; j < admitted.length; j++) {
              sum += (admitted[j] as { tokens: number }).tokens;
              const span = (admitted[j] as { at: number }).at - (admitted[i] as { at: number }).at;
              if (algorithm === 'token-bucket') {
                // Conformance: never more than burst plus what refilled in between.
                expect(sum).toBeLessThanOrEqual(rate + (rate * span) / interval + 1e-9);
              } else if (
                Math.floor((admitted[i] as { at: number }).at / interval) ===
                Math.floor((admitted[j] as { at: number }).at / interval)
              ) {
                // No fixed window holds more than the limit.
                expect(sum).toBeLessThanOrEqual(rate);
              }
            }
          }
        },
      ),
      { numRuns: 120 },
    );
  });
});

describe('RateLimiter.wait: process lifetime', () => {
  it('waits on an ordinary timer, as a caller awaits it, and leaves none once served', async () => {
    const { clock, handles } = recordingSystemClock();
    const limiter = new RateLimiter({ rate: 1, interval: 20, clock });
    expect(limiter.allow()).toBe(true);
    const waited = limiter.wait();
    expect(handles.length).toBeGreaterThan(0);
    expect(handles.every((handle) => handle.hasRef())).toBe(true);
    await waited;
    expect(limiter.allow()).toBe(false);
  });
});
