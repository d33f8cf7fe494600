// The circuit breaker on every runtime, against the built core, on a fake clock.
import { CircuitBreaker, CircuitOpenError, CircuitState, isCircuitOpenError } from '@resilience/core';
import { FakeClock } from '@resilience/core/testing';
import { describe, expect, it, rejects } from './harness.ts';

const boom = (): never => {
  throw new Error('boom');
};

async function failTimes(breaker: CircuitBreaker, n: number): Promise<void> {
  for (let i = 0; i < n; i++) await rejects(breaker.execute(boom), 'boom');
}

describe('CircuitBreaker', () => {
  it('passes results and the caller’s own errors through while closed, counting them', async () => {
    const breaker = new CircuitBreaker({ clock: new FakeClock() });
    expect(await breaker.execute(() => 42)).toBe(42);
    expect(await breaker.execute(async () => 'async')).toBe('async');
    const own = new Error('own');
    expect(await rejects(breaker.execute(() => Promise.reject(own)))).toBe(own);
    expect(await rejects(breaker.execute(() => Promise.reject('a string')))).toBe('a string');
    expect(breaker.state).toBe(CircuitState.Closed);
    expect(breaker.counts.totalSuccesses).toBe(2);
    expect(breaker.counts.totalFailures).toBe(2);
    expect(breaker.counts.consecutiveFailures).toBe(2);
  });

  it('opens after more than 5 consecutive failures and then rejects without calling fn', async () => {
    const clock = new FakeClock();
    const changes: string[] = [];
    const breaker = new CircuitBreaker({
      clock,
      timeout: 30_000,
      onStateChange: (from, to) => changes.push(`${from}>${to}`),
    });
    await failTimes(breaker, 5);
    expect(breaker.state).toBe('closed');
    await failTimes(breaker, 1);
    expect(breaker.state).toBe('open');
    let called = false;
    const error = await rejects(
      breaker.execute(() => {
        called = true;
      }),
      CircuitOpenError,
    );
    expect(called).toBe(false);
    expect(isCircuitOpenError(error)).toBe(true);
    expect((error as CircuitOpenError).retryAfterMs).toBe(30_000);
    expect(changes).toEqual(['closed>open']);
  });

  it('goes half-open strictly after the open timeout (lazily, no timer), closes on a successful probe', async () => {
    const clock = new FakeClock();
    const breaker = new CircuitBreaker({ clock, timeout: 1_000 });
    await failTimes(breaker, 6);
    expect(clock.pendingTimers).toBe(0);
    await clock.advance(1_000);
    expect(breaker.state).toBe('open');
    await clock.advance(1);
    expect(breaker.state).toBe('half-open');
    expect(await breaker.execute(() => 'probe')).toBe('probe');
    expect(breaker.state).toBe('closed');
    expect(breaker.counts.consecutiveFailures).toBe(0);
  });

  it('admits only maxRequests probes while half-open, and a failed probe opens it again', async () => {
    const clock = new FakeClock();
    const breaker = new CircuitBreaker({ clock, timeout: 1_000, maxRequests: 1 });
    await failTimes(breaker, 6);
    await clock.advance(1_001);
    let release!: () => void;
    const probe = breaker.execute(
      () =>
        new Promise<void>((_, reject) => {
          release = () => reject(new Error('still down'));
        }),
    );
    await rejects(
      breaker.execute(() => 'second'),
      CircuitOpenError,
    );
    release();
    await rejects(probe, 'still down');
    expect(breaker.state).toBe('open');
  });

  it('reset() closes it and clears the counts', async () => {
    const breaker = new CircuitBreaker({ clock: new FakeClock() });
    await failTimes(breaker, 6);
    breaker.reset();
    expect(breaker.state).toBe('closed');
    expect(breaker.counts.requests).toBe(0);
  });

  it('rejects a bad config at construction, naming the field and the value', () => {
    expect(() => new CircuitBreaker({ timeout: -1 })).toThrow(/timeout.*-1/);
    expect(() => new CircuitBreaker({ maxRequests: Number.NaN })).toThrow(/maxRequests.*NaN/);
    expect(() => new CircuitBreaker({ resetTimeout: 10 } as never)).toThrow('resetTimeout');
  });
});
