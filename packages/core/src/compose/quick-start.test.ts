// The README's Quick start, run on a fake clock: once the breaker is open, the
// caller's `isCircuitOpenError(err)` check matches (issue 10, item 9).
import { describe, expect, it } from 'vitest';
import { drain, outcome } from '../../test/support.js';
import { isCircuitOpenError, isMaxAttemptsReachedError } from '../errors/guards.js';
import { FakeClock } from '../testing/index.js';
import { pipeline } from './pipeline.js';

describe('the Quick start pipeline', () => {
  it('hands the caller the CircuitOpenError (with retryAfterMs) once the breaker is open, without sleeping', async () => {
    const clock = new FakeClock();
    const getUser = pipeline<string>()
      .timeout({ clock, defaultTimeout: 10_000 })
      .retry({ clock, maxAttempts: 3, initialDelay: 200 })
      .circuitBreaker({ clock, timeout: 30_000 })
      .timeout({ clock, defaultTimeout: 2_000 })
      .bulkhead({ maxConcurrent: 10, maxQueue: 50 })
      .build();
    const down = (): Promise<never> => Promise.reject(new Error('ECONNREFUSED'));
    // Two calls of three failed attempts each: six consecutive failures open the breaker (gobreaker's default).
    for (let i = 0; i < 2; i++) {
      const call = outcome(getUser.execute(down));
      await drain(clock);
      expect(isMaxAttemptsReachedError((await call).error)).toBe(true);
    }
    const start = clock.now();
    const { error } = await outcome(getUser.execute(() => 'user'));
    expect(isCircuitOpenError(error)).toBe(true);
    const { retryAfterMs } = error as { retryAfterMs: number };
    expect(retryAfterMs).toBeGreaterThan(0);
    expect(retryAfterMs).toBeLessThanOrEqual(30_000);
    expect(clock.now()).toBe(start);
  });
});
