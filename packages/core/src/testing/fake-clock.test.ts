import { describe, expect, it } from 'vitest';
import { Retry } from '../retry/retry.js';
import { FakeClock } from './fake-clock.js';

describe('FakeClock', () => {
  it('starts at 0 or at the given time and moves only when advanced', async () => {
    expect(new FakeClock().now()).toBe(0);
    const clock = new FakeClock({ now: 1000 });
    expect(clock.now()).toBe(1000);
    await clock.advance(250);
    expect(clock.now()).toBe(1250);
  });

  it('refuses a non-finite start or a negative advance', async () => {
    expect(() => new FakeClock({ now: Number.NaN })).toThrow('FakeClock: now must be a finite number, got NaN');
    const clock = new FakeClock();
    await expect(clock.advance(-1)).rejects.toThrow(RangeError);
    await expect(clock.advance(Number.POSITIVE_INFINITY)).rejects.toThrow('got Infinity');
  });

  it('fires due timers in time order, ties in scheduling order, each at its own time', async () => {
    const clock = new FakeClock();
    const fired: string[] = [];
    clock.setTimeout(() => fired.push(`c@${clock.now()}`), 30);
    clock.setTimeout(() => fired.push(`a@${clock.now()}`), 10);
    clock.setTimeout(() => fired.push(`b1@${clock.now()}`), 20);
    clock.setTimeout(() => fired.push(`b2@${clock.now()}`), 20);
    clock.setTimeout(() => fired.push(`late@${clock.now()}`), 100);
    await clock.advance(50);
    expect(fired).toEqual(['a@10', 'b1@20', 'b2@20', 'c@30']);
    expect(clock.now()).toBe(50);
    expect(clock.pendingTimers).toBe(1);
    expect(clock.nextTimerAt).toBe(100);
  });

  it('does not fire cleared timers and ignores unknown handles', async () => {
    const clock = new FakeClock();
    const fired: number[] = [];
    const a = clock.setTimeout(() => fired.push(1), 10);
    clock.setTimeout(() => fired.push(2), 10);
    clock.clearTimeout(a);
    clock.clearTimeout(a);
    clock.clearTimeout('nope');
    await clock.advance(10);
    expect(fired).toEqual([2]);
    expect(clock.pendingTimers).toBe(0);
    expect(clock.nextTimerAt).toBeUndefined();
  });

  it('fires timers scheduled by timers when they fall due within the same advance', async () => {
    const clock = new FakeClock();
    const fired: string[] = [];
    clock.setTimeout(() => {
      fired.push(`outer@${clock.now()}`);
      clock.setTimeout(() => fired.push(`inner@${clock.now()}`), 5);
      clock.setTimeout(() => fired.push(`beyond@${clock.now()}`), 50);
    }, 10);
    await clock.advance(20);
    expect(fired).toEqual(['outer@10', 'inner@15']);
    await clock.advance(40);
    expect(fired).toEqual(['outer@10', 'inner@15', 'beyond@60']);
  });

  it('treats a negative or NaN delay as 0', async () => {
    const clock = new FakeClock();
    const fired: number[] = [];
    clock.setTimeout(() => fired.push(1), -5);
    clock.setTimeout(() => fired.push(2), Number.NaN);
    await clock.advance(0);
    expect(fired).toEqual([1, 2]);
  });

  it('lets promise chains run between timers', async () => {
    const clock = new FakeClock();
    const sleep = (ms: number) => new Promise<void>((resolve) => clock.setTimeout(resolve, ms));
    const steps: string[] = [];
    const loop = (async () => {
      for (let i = 0; i < 3; i++) {
        await sleep(100);
        await Promise.resolve();
        steps.push(`step${i}@${clock.now()}`);
      }
    })();
    await clock.advance(1000);
    await loop;
    expect(steps).toEqual(['step0@100', 'step1@200', 'step2@300']);
  });

  it('runAll fires everything pending, following chains', async () => {
    const clock = new FakeClock();
    const fired: number[] = [];
    clock.setTimeout(() => {
      fired.push(clock.now());
      clock.setTimeout(() => fired.push(clock.now()), 1000);
    }, 10);
    await clock.runAll();
    expect(fired).toEqual([10, 1010]);
    expect(clock.now()).toBe(1010);
  });

  it('runAll waits for running work to arm its timers: a zero-delay retry runs to the end', async () => {
    const clock = new FakeClock();
    let calls = 0;
    const retry = new Retry<string>({ maxAttempts: 3, initialDelay: 0, clock });
    const done = retry.execute(() => (++calls < 3 ? Promise.reject(new Error('flaky')) : 'ok'));
    await clock.runAll();
    expect(calls).toBe(3);
    await expect(done).resolves.toBe('ok');
  });

  it('runAll finds a timer that a pending promise chain arms (a retry delay after a rejection)', async () => {
    const clock = new FakeClock();
    const fired: string[] = [];
    // Nothing is armed yet: the timer comes after the rejection is handled, in a microtask.
    void Promise.reject(new Error('attempt 1'))
      .catch(() => undefined)
      .then(() => clock.setTimeout(() => fired.push(`retry@${clock.now()}`), 0));
    await clock.runAll();
    expect(fired).toEqual(['retry@0']);
  });

  it('runAll stops a timer that reschedules itself forever', async () => {
    const clock = new FakeClock();
    const again = () => {
      clock.setTimeout(again, 1);
    };
    again();
    await expect(clock.runAll(50)).rejects.toThrow('more than 50 timers fired');
  });
});
