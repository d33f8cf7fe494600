import { describe, expect, it } from 'vitest';
import { Bulkhead } from '../src/bulkhead/index.js';
import { isTimeoutError } from '../src/errors/index.js';
import type { MetricsRecorder } from '../src/observability/types.js';
import { RateLimiter } from '../src/rate-limiter/index.js';
import { Retry } from '../src/retry/index.js';
import { FakeClock } from '../src/testing/index.js';
import { Timeout } from '../src/timeout/index.js';
import { deferred, outcome, recordingLogger } from './support.js';

// A metrics recorder is an observer: when it throws, every pattern logs the
// error and goes on, so no call hangs, no slot leaks and no timer is lost.
function throwingRecorder(): MetricsRecorder {
  const boom = (): never => {
    throw new Error('recorder down');
  };
  return {
    recordCircuitBreakerState: boom,
    recordRetryAttempt: boom,
    recordRateLimitHit: boom,
    recordBulkheadUtilization: boom,
    recordTimeout: boom,
  };
}

const logged = (logger: ReturnType<typeof recordingLogger>): number =>
  logger.records.filter(({ msg }) => msg === 'metrics recorder threw').length;

describe('a metrics recorder that throws', () => {
  it('does not stop a Timeout from expiring every queued call', async () => {
    const clock = new FakeClock();
    const logger = recordingLogger();
    const timeout = new Timeout({ clock, defaultTimeout: 100, metrics: throwingRecorder(), logger });
    const a = outcome(timeout.execute(() => new Promise<never>(() => {})));
    await clock.advance(10);
    const b = outcome(timeout.execute(() => new Promise<never>(() => {})));
    await clock.advance(200);
    expect(isTimeoutError((await a).error)).toBe(true);
    expect(isTimeoutError((await b).error)).toBe(true);
    expect(logged(logger)).toBe(2);
  });

  it('does not lose a bulkhead slot or a waiter on a hand-over', async () => {
    const logger = recordingLogger();
    const bulkhead = new Bulkhead({ maxConcurrent: 1, maxQueue: 1, metrics: throwingRecorder(), logger });
    const first = deferred<number>();
    const running = bulkhead.execute(() => first.promise);
    const waiting = bulkhead.execute(async () => 2);
    first.resolve(1);
    await expect(running).resolves.toBe(1);
    await expect(waiting).resolves.toBe(2);
    expect([bulkhead.active, bulkhead.queued]).toEqual([0, 0]);
    expect(logged(logger)).toBeGreaterThan(0);
  });

  it('leaves a retry its own outcome', async () => {
    const logger = recordingLogger();
    const retry = new Retry({ maxAttempts: 2, initialDelay: 0, metrics: throwingRecorder(), logger });
    let calls = 0;
    await expect(retry.execute(async () => (++calls === 1 ? Promise.reject(new Error('once')) : 'ok'))).resolves.toBe(
      'ok',
    );
    expect(logged(logger)).toBe(2);
  });

  it('leaves a rate limiter its decision', () => {
    const logger = recordingLogger();
    const limiter = new RateLimiter({ rate: 1, clock: new FakeClock(), metrics: throwingRecorder(), logger });
    expect(limiter.allow('k')).toBe(true);
    expect(limiter.allow('k')).toBe(false);
    expect(logged(logger)).toBe(1);
  });
});
