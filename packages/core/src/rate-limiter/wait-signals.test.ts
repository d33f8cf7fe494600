import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { failOnUnhandledRejection } from '../../test/support.js';
import { captureWarnings, countingClock, isHeld, realDelay, THIRTY_DAYS } from '../../test/waits-support.js';
import { systemClock } from '../clock/clock.js';
import { FakeClock } from '../testing/index.js';
import { RateLimiter } from './rate-limiter.js';

failOnUnhandledRejection();

describe('RateLimiter.wait: a monthly quota', () => {
  it('waits 30 days on the fake clock, never early, re-arming in a few capped steps', async () => {
    const fake = new FakeClock();
    const clock = countingClock(fake);
    const limiter = new RateLimiter({ clock, rate: 1, interval: THIRTY_DAYS });
    expect(limiter.allow()).toBe(true);
    let served = false;
    const waiting = limiter.wait().then(() => {
      served = true;
    });
    await fake.advance(THIRTY_DAYS - 1);
    expect(served).toBe(false);
    await fake.advance(1);
    await waiting;
    expect(served).toBe(true);
    expect(clock.delays.every((ms) => ms > 0 && ms <= 2 ** 31 - 1)).toBe(true);
    expect(clock.delays.length).toBeLessThanOrEqual(3);
  });

  it('does not spin or warn on the system clock, holds its timer while waiting and clears it on abort', async () => {
    const clock = countingClock(systemClock);
    const cleared: unknown[] = [];
    const clearTimeout = clock.clearTimeout;
    clock.clearTimeout = (handle) => {
      cleared.push(handle);
      clearTimeout(handle);
    };
    const warnings = captureWarnings();
    const limiter = new RateLimiter({ clock, rate: 1, interval: THIRTY_DAYS });
    limiter.allow();
    const controller = new AbortController();
    const waiting = limiter.wait(undefined, { signal: controller.signal }).catch((err: unknown) => err);
    await realDelay(30);
    expect(clock.delays).toEqual([2 ** 31 - 1]);
    expect(isHeld(clock.handles[0])).toBe(true);
    const reason = new Error('stop');
    controller.abort(reason);
    expect(await waiting).toBe(reason);
    expect(cleared).toEqual([clock.handles[0]]);
    expect((await warnings.stop()).map((w) => w.name)).toEqual([]);
  });
});

describe('RateLimiter.wait: many waiters on one caller signal', () => {
  it('queues 40,000 waiters on one signal with one listener; an abort rejects them all and leaves none', async () => {
    const warnings = captureWarnings();
    const clock = new FakeClock();
    const limiter = new RateLimiter({ clock, rate: 1, interval: 1000 });
    limiter.allow();
    limiter.allow('k');
    const controller = new AbortController();
    const reason = new Error('client went away');
    const waits = Array.from({ length: 40_000 }, (_, i) =>
      limiter.wait(i % 2 === 0 ? undefined : 'k', { signal: controller.signal }).catch((err: unknown) => err),
    );
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
    controller.abort(reason);
    const outcomes = await Promise.all(waits);
    expect(outcomes.filter((o) => o !== reason)).toEqual([]);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    expect(clock.pendingTimers).toBe(0);
    expect(limiter.check().remaining).toBe(0); // the aborted waiters kept nothing
    await clock.advance(1000);
    expect(limiter.allow()).toBe(true);
    expect((await warnings.stop()).map((w) => w.name)).toEqual([]);
  });

  it('leaves no listener once the waiters on a shared signal are served', async () => {
    const clock = new FakeClock();
    const limiter = new RateLimiter({ clock, rate: 10, interval: 1000, burst: 1 });
    limiter.allow();
    const controller = new AbortController();
    const waits = Array.from({ length: 20 }, () => limiter.wait(undefined, { signal: controller.signal }));
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
    await clock.advance(2000);
    await Promise.all(waits);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });
});
