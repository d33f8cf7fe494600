import { describe, expect, it } from 'vitest';
import { breakerOnFakeClock, recordingLogger } from '../../test/support.js';
import { CircuitOpenError } from '../errors/errors.js';
import { FakeClock } from '../testing/fake-clock.js';
import { CircuitBreaker } from './circuit-breaker.js';

const boom = new Error('boom');
const fail = (): never => {
  throw boom;
};

describe('CircuitBreaker.on', () => {
  it('reports state changes after onStateChange, outcomes and rejections', async () => {
    const { breaker, clock, transitions } = breakerOnFakeClock({
      readyToTrip: (c) => c.consecutiveFailures >= 2,
      isIgnored: (e) => e === 'ignore me',
      timeout: 1_000,
    });
    const seen: unknown[] = [];
    breaker.on('stateChange', ({ from, to }) => seen.push(`${from}->${to} after ${transitions.length} hook calls`));
    breaker.on('success', (e) => seen.push({ success: e }));
    breaker.on('failure', (e) => seen.push({ failure: e }));
    breaker.on('ignored', (e) => seen.push({ ignored: e }));
    breaker.on('rejected', ({ error }) => seen.push(error instanceof CircuitOpenError ? 'rejected' : error));
    await breaker.execute(() => 1);
    await expect(breaker.execute(() => Promise.reject('ignore me'))).rejects.toBe('ignore me');
    await expect(breaker.execute(fail)).rejects.toBe(boom);
    await expect(breaker.execute(fail)).rejects.toBe(boom);
    await expect(breaker.execute(() => 2)).rejects.toBeInstanceOf(CircuitOpenError);
    expect(() => breaker.acquire()).toThrow(CircuitOpenError);
    await clock.advance(1_001);
    await breaker.execute(() => 3);
    expect(seen).toEqual([
      { success: { result: 1 } },
      { ignored: { error: 'ignore me' } },
      { failure: { error: boom } },
      { failure: { error: boom } },
      'closed->open after 1 hook calls',
      'rejected',
      'rejected',
      'open->half-open after 2 hook calls',
      { success: { result: 3 } },
      'half-open->closed after 3 hook calls',
    ]);
  });

  it('reports result-based failures and successes counted by isSuccessful', async () => {
    const breaker = new CircuitBreaker<number>({ isFailureResult: (n) => n < 0, isSuccessful: (e) => e === 'fine' });
    const seen: unknown[] = [];
    breaker.on('failure', (e) => seen.push(e));
    breaker.on('success', (e) => seen.push(e));
    await breaker.execute(() => -1);
    await expect(breaker.execute(() => Promise.reject('fine'))).rejects.toBe('fine');
    expect(seen).toEqual([{ result: -1 }, { error: 'fine' }]);
  });

  it('keeps the fast path for nobody listening, and reports every success once someone does', async () => {
    const breaker = new CircuitBreaker();
    await breaker.execute(() => 1);
    let successes = 0;
    const sub = breaker.on('success', () => successes++);
    for (let i = 0; i < 10; i++) await breaker.execute(() => i);
    sub.dispose();
    await breaker.execute(() => 1);
    expect(successes).toBe(10);
    expect(breaker.counts.totalSuccesses).toBe(12);
  });

  it('a throwing or rejecting listener is logged and changes no outcome', async () => {
    const logger = recordingLogger();
    const breaker = new CircuitBreaker({ logger, readyToTrip: () => true });
    breaker.on('failure', () => {
      throw new Error('listener');
    });
    breaker.on('stateChange', () => Promise.reject(new Error('async listener')));
    await expect(breaker.execute(fail)).rejects.toBe(boom);
    await new Promise((resolve) => setImmediate(resolve));
    expect(breaker.state).toBe('open');
    const errors = logger.records.filter((r) => r.level === 'error').map((r) => r.msg);
    expect(errors).toEqual(['listener for "failure" threw', 'listener for "stateChange" threw']);
  });
});

describe('CircuitBreaker.update', () => {
  it('validates the whole result first: a bad value throws, naming it, and nothing changes', async () => {
    const { breaker } = breakerOnFakeClock({ timeout: 1_000, readyToTrip: (c) => c.consecutiveFailures >= 1 });
    expect(() => breaker.update({ maxTimeout: 10 })).toThrow(/maxTimeout must be/);
    expect(() => breaker.update({ timeout: -1 })).toThrow(
      new RangeError('CircuitBreaker: timeout must be a finite number >= 0, got -1'),
    );
    expect(() => breaker.update({ slowCallDuration: 5 })).toThrow(/slowCallDuration needs a window/);
    expect(() => breaker.update({ timout: 5 } as never)).toThrow(
      new TypeError('CircuitBreaker: update() got an unknown option "timout"'),
    );
    expect(() => breaker.update({ clock: new FakeClock() })).toThrow(/clock cannot be changed by update\(\)/);
    expect(() => breaker.update({ initialState: 'open' })).toThrow(/initialState cannot be changed/);
    expect(() => breaker.update(null as never)).toThrow(/update\(\) takes an object of options, got null/);
    await expect(breaker.execute(fail)).rejects.toBe(boom);
    expect(breaker.toJSON().openRemainingMs).toBe(1_000);
  });

  it('keeps state and counts; a new timeout applies from the next opening; readyToTrip changes at once', async () => {
    const { breaker, clock } = breakerOnFakeClock({ timeout: 1_000, readyToTrip: (c) => c.consecutiveFailures >= 3 });
    await expect(breaker.execute(fail)).rejects.toBe(boom);
    await expect(breaker.execute(fail)).rejects.toBe(boom);
    breaker.update({ readyToTrip: (c) => c.consecutiveFailures >= 2, timeout: 5_000 });
    expect(breaker.counts.consecutiveFailures).toBe(2);
    await expect(breaker.execute(fail)).rejects.toBe(boom);
    expect(breaker.state).toBe('open');
    expect(breaker.toJSON().openRemainingMs).toBe(5_000);
    breaker.update({ timeout: 100 });
    await clock.advance(101);
    expect(breaker.state).toBe('open');
    await clock.advance(5_000);
    expect(breaker.state).toBe('half-open');
  });

  it('updates a breaker built with no config at all', async () => {
    const breaker = new CircuitBreaker();
    breaker.update({ readyToTrip: () => true });
    await expect(breaker.execute(fail)).rejects.toBe(boom);
    expect(breaker.state).toBe('open');
  });

  it('an option given as undefined goes back to its default', async () => {
    const breaker = new CircuitBreaker({ readyToTrip: () => true });
    breaker.update({ readyToTrip: undefined });
    for (let i = 0; i < 5; i++) await expect(breaker.execute(fail)).rejects.toBe(boom);
    expect(breaker.state).toBe('closed');
    await expect(breaker.execute(fail)).rejects.toBe(boom);
    expect(breaker.state).toBe('open');
  });

  it('a new interval restarts the closed period now; a new window starts empty', async () => {
    const clock = new FakeClock();
    const breaker = new CircuitBreaker({ clock });
    await expect(breaker.execute(fail)).rejects.toBe(boom);
    breaker.update({ interval: 1_000 });
    expect(breaker.counts.totalFailures).toBe(1);
    await clock.advance(1_001);
    expect(breaker.counts.totalFailures).toBe(0);
    breaker.update({ window: { kind: 'count', size: 4 }, minimumCalls: 2, failureRateThreshold: 0.5 });
    await expect(breaker.execute(fail)).rejects.toBe(boom);
    expect(breaker.state).toBe('closed');
    await expect(breaker.execute(fail)).rejects.toBe(boom);
    expect(breaker.state).toBe('open');
  });

  it('a new metrics recorder is told the current state; listeners survive an update', async () => {
    const states: string[] = [];
    const metrics = {
      recordCircuitBreakerState: (name: string, state: string) => states.push(`${name}:${state}`),
      recordRetryAttempt: () => {},
      recordRateLimitHit: () => {},
      recordBulkheadUtilization: () => {},
      recordTimeout: () => {},
    };
    const breaker = new CircuitBreaker({ name: 'payments', readyToTrip: () => true });
    const seen: string[] = [];
    breaker.on('stateChange', ({ to }) => seen.push(to));
    breaker.update({ metrics });
    expect(states).toEqual(['payments:closed']);
    await expect(breaker.execute(fail)).rejects.toBe(boom);
    expect(states).toEqual(['payments:closed', 'payments:open']);
    expect(seen).toEqual(['open']);
    breaker.update({ name: 'payments' });
  });
});

describe('CircuitBreaker.update: calls in flight', () => {
  it('a call that started unmeasured is not counted slow when an update adds slow-call detection', async () => {
    const clock = new FakeClock();
    await clock.advance(1_000_000);
    const breaker = new CircuitBreaker({ clock });
    let finish: (value: string) => void = () => {};
    const inFlight = breaker.execute(() => new Promise<string>((resolve) => (finish = resolve)));
    breaker.update({
      window: { kind: 'count', size: 1 },
      minimumCalls: 1,
      slowCallDuration: 100,
      slowCallRateThreshold: 1,
    });
    finish('done');
    await expect(inFlight).resolves.toBe('done');
    expect(breaker.state).toBe('closed');
    // A call measured from its start is: slow once it takes longer than 100 ms.
    const slow = breaker.execute(() => new Promise<string>((resolve) => clock.setTimeout(() => resolve('late'), 150)));
    await clock.advance(150);
    await expect(slow).resolves.toBe('late');
    expect(breaker.state).toBe('open');
  });
});

describe('CircuitBreaker: hostile listeners', () => {
  it('a stateChange listener may call update(); thousands of synchronous throws are all counted once', async () => {
    const clock = new FakeClock();
    const breaker = new CircuitBreaker({ clock, readyToTrip: (c) => c.consecutiveFailures >= 10_000 });
    let failures = 0;
    breaker.on('failure', () => failures++);
    breaker.on('stateChange', ({ to }) => {
      if (to === 'open') breaker.update({ timeout: 5 });
    });
    const settled = await Promise.allSettled(Array.from({ length: 10_000 }, () => breaker.execute(fail)));
    expect(settled.every((s) => s.status === 'rejected' && s.reason === boom)).toBe(true);
    expect(failures).toBe(10_000);
    expect(breaker.state).toBe('open');
    // The open time it started with (60 s) stands; the new 5 ms applies from the next opening.
    await clock.advance(5_000);
    expect(breaker.state).toBe('open');
    await clock.advance(60_000);
    expect(breaker.state).toBe('half-open');
  });
});

describe('CircuitBreaker.on: cancellations', () => {
  it("reports a call whose caller aborted while it ran as 'cancelled', neither success nor failure", async () => {
    const breaker = new CircuitBreaker();
    const seen: string[] = [];
    for (const event of ['success', 'failure', 'ignored', 'cancelled'] as const)
      breaker.on(event, () => seen.push(event));
    const controller = new AbortController();
    const call = breaker.execute(
      () =>
        new Promise((_resolve, reject) => {
          controller.signal.addEventListener('abort', () => reject(controller.signal.reason));
        }),
      { signal: controller.signal },
    );
    controller.abort(new Error('caller left'));
    await expect(call).rejects.toThrow('caller left');
    expect(seen).toEqual(['cancelled']);
    breaker.update({ countCancellations: true });
    const again = new AbortController();
    const counted = breaker.execute(() => Promise.reject(new Error('gone')), { signal: again.signal });
    again.abort();
    await expect(counted).rejects.toThrow('gone');
    expect(seen).toEqual(['cancelled', 'failure']);
    breaker.update({ countCancellations: false });
    breaker.acquire().cancel();
    expect(seen).toEqual(['cancelled', 'failure', 'cancelled']);
    // The two-step API reports to listeners too, once per permit.
    const permit = breaker.acquire();
    permit.success();
    permit.failure(new Error('late'));
    breaker.acquire().failure(new Error('down'));
    breaker.acquire().ignore();
    expect(seen).toEqual(['cancelled', 'failure', 'cancelled', 'success', 'failure', 'ignored']);
  });
});
