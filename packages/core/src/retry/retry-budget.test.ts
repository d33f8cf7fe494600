import { describe, expect, it } from 'vitest';
import { FakeClock } from '../testing/index.js';
import { RetryBudget } from './retry-budget.js';

describe('RetryBudget', () => {
  it('allows retries up to ratio times the calls of the window', () => {
    const clock = new FakeClock();
    const budget = new RetryBudget({ ratio: 0.2, minRetriesPerSecond: 0, clock });
    for (let i = 0; i < 10; i++) budget.recordCall();
    expect(budget.tryRetry()).toBe(true);
    expect(budget.tryRetry()).toBe(true);
    expect(budget.canRetry()).toBe(false);
    expect(budget.tryRetry()).toBe(false);
    expect(budget.calls).toBe(10);
    expect(budget.retries).toBe(2);
  });

  it('keeps a reserve of minRetriesPerSecond over the window', () => {
    const clock = new FakeClock();
    const budget = new RetryBudget({ ratio: 0, minRetriesPerSecond: 1, window: 3000, clock });
    expect([budget.tryRetry(), budget.tryRetry(), budget.tryRetry(), budget.tryRetry()]).toEqual([
      true,
      true,
      true,
      false,
    ]);
  });

  it('forgets calls and retries that fall out of the window', async () => {
    const clock = new FakeClock({ now: 5 });
    const budget = new RetryBudget({ ratio: 0.5, minRetriesPerSecond: 0, window: 1000, clock });
    budget.recordCall();
    budget.recordCall();
    expect(budget.tryRetry()).toBe(true);
    await clock.advance(500);
    budget.recordCall();
    budget.recordCall();
    expect(budget.tryRetry()).toBe(true);
    expect(budget.tryRetry()).toBe(false);
    await clock.advance(600); // the first two calls and the first retry left the window
    expect(budget.calls).toBe(2);
    expect(budget.retries).toBe(1);
    await clock.advance(5000); // everything left
    expect(budget.calls).toBe(0);
    expect(budget.retries).toBe(0);
  });

  it('works with a clock before zero', () => {
    const clock = new FakeClock({ now: -12_345 });
    const budget = new RetryBudget({ ratio: 1, minRetriesPerSecond: 0, clock });
    budget.recordCall();
    expect(budget.tryRetry()).toBe(true);
    expect(budget.retries).toBe(1);
  });

  it('has defaults like Finagle: 20%, 10 a second, 10 s', () => {
    const budget = new RetryBudget();
    expect([budget.ratio, budget.minRetriesPerSecond, budget.window]).toEqual([0.2, 10, 10_000]);
  });

  it.each([
    [{ ratio: 1.5 }, 'RetryBudget: ratio must be a finite number >= 0 and <= 1, got 1.5'],
    [{ ratio: -0.1 }, 'ratio'],
    [{ minRetriesPerSecond: -1 }, 'minRetriesPerSecond'],
    [{ window: 0 }, 'window'],
    [{ clock: 5 }, 'clock'],
  ])('rejects %o', (config, message) => {
    expect(() => new RetryBudget(config as never)).toThrow(message);
  });
});
