import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { failOnUnhandledRejection } from '../../test/support.js';
import { captureWarnings } from '../../test/waits-support.js';
import { FakeClock } from '../testing/index.js';
import { Retry } from './retry.js';
import type { RetryConfig } from './types.js';

failOnUnhandledRejection();

describe('Retry: a zero delay still yields a timer turn', () => {
  it.each<[string, Partial<RetryConfig>]>([
    ['initialDelay 0', { initialDelay: 0 }],
    ['a delay hook giving 0', { delay: () => 0 }],
    ['a delay hook giving NaN (the backoff decides: 0 here)', { delay: () => Number.NaN, initialDelay: 0 }],
    ['a delay hook giving a negative number', { delay: () => -5 }],
    ['a jitter giving NaN', { jitter: () => Number.NaN }],
    ['a jitter giving a negative number', { jitter: () => -1 }],
    ['a retryAfterMs hint of 0', { initialDelay: 50 }],
  ])('waits on the clock with %s', async (_, config) => {
    const clock = new FakeClock();
    const retry = new Retry({ clock, maxAttempts: 3, ...config });
    let attempts = 0;
    const done = retry
      .execute(() => {
        attempts++;
        return Promise.reject(Object.assign(new Error('down'), { retryAfterMs: 0 }));
      })
      .catch((err: unknown) => err);
    await new Promise((resolve) => setImmediate(resolve));
    expect(attempts).toBe(1); // the retry waits for the clock, even for 0 ms
    expect(clock.pendingTimers).toBe(1);
    // the fake clock fires the timers due now, those scheduled meanwhile too: the other two attempts run
    await clock.advance(0);
    expect(attempts).toBe(3);
    expect(((await done) as Error).name).toBe('MaxAttemptsReachedError');
  });
});

describe('Retry: many calls on one caller signal', () => {
  it('5,000 retries sleeping on one signal share one listener; an abort ends every sleep and leaves none', async () => {
    const warnings = captureWarnings();
    const clock = new FakeClock();
    const retry = new Retry({ clock, maxAttempts: 5, initialDelay: 1000 });
    const controller = new AbortController();
    const reason = new Error('shutdown');
    const calls = Array.from({ length: 5000 }, () =>
      retry
        .execute(() => Promise.reject(new Error('down')), { signal: controller.signal })
        .catch((err: unknown) => err),
    );
    await new Promise((resolve) => setImmediate(resolve));
    expect(clock.pendingTimers).toBe(5000);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
    controller.abort(reason);
    const outcomes = await Promise.all(calls);
    expect(outcomes.filter((o) => o !== reason)).toEqual([]);
    expect(clock.pendingTimers).toBe(0);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    expect((await warnings.stop()).map((w) => w.name)).toEqual([]);
  });

  it('leaves no listener once sleeps on a shared signal end normally', async () => {
    const warnings = captureWarnings();
    const clock = new FakeClock();
    const retry = new Retry({ clock, maxAttempts: 2, initialDelay: 10 });
    const controller = new AbortController();
    let n = 0;
    const calls = Array.from({ length: 100 }, () =>
      retry.execute(() => (n++ < 100 ? Promise.reject(new Error('once')) : Promise.resolve('ok')), {
        signal: controller.signal,
      }),
    );
    await new Promise((resolve) => setImmediate(resolve));
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
    await clock.advance(10);
    expect(await Promise.all(calls)).toEqual(Array(100).fill('ok'));
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    expect((await warnings.stop()).map((w) => w.name)).toEqual([]);
  });
});
