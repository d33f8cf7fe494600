import { afterEach, describe, expect, it, vi } from 'vitest';
import { CircuitOpenError } from '../errors/errors.js';
import { FakeClock } from '../testing/index.js';
import { CircuitBreaker } from './circuit-breaker.js';
import type { CircuitBreakerSnapshot } from './types.js';

afterEach(() => {
  vi.useRealTimers();
});

const failing = (): never => {
  throw new Error('boom');
};

describe('CircuitBreaker: toJSON() and initialState', () => {
  it('saves and restores a closed breaker with its counts', async () => {
    const clock = new FakeClock();
    const breaker = new CircuitBreaker({ clock });
    await breaker.execute(() => 1);
    await expect(breaker.execute(failing)).rejects.toThrow('boom');
    const snapshot = JSON.parse(JSON.stringify(breaker)) as CircuitBreakerSnapshot;
    expect(snapshot).toMatchObject({
      state: 'closed',
      mode: 'auto',
      counts: { requests: 2, totalSuccesses: 1, totalFailures: 1, consecutiveSuccesses: 0, consecutiveFailures: 1 },
      failedEpisodes: 0,
    });
    expect(snapshot.openRemainingMs).toBeUndefined();
    const restored = new CircuitBreaker({ clock, initialState: snapshot });
    expect(restored.counts).toEqual(snapshot.counts);
    for (let i = 0; i < 5; i++) await expect(restored.execute(failing)).rejects.toThrow('boom');
    expect(restored.state).toBe('open');
  });

  it('restores an open breaker with the open time left, minus the wall-clock time since the save', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(1_000_000);
    const clock = new FakeClock();
    const breaker = new CircuitBreaker({ clock, readyToTrip: () => true, timeout: 1000, backoffMultiplier: 2 });
    await expect(breaker.execute(failing)).rejects.toThrow('boom');
    await clock.advance(1001);
    await expect(breaker.execute(failing)).rejects.toThrow('boom');
    await clock.advance(500);
    const snapshot = breaker.toJSON();
    expect(snapshot).toMatchObject({ state: 'open', openRemainingMs: 1500, failedEpisodes: 1, savedAt: 1_000_000 });

    vi.setSystemTime(1_000_400);
    const otherClock = new FakeClock({ now: 5_000_000 });
    const restored = new CircuitBreaker({ clock: otherClock, initialState: snapshot, timeout: 1000 });
    const err = await restored.execute(() => 1).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CircuitOpenError);
    expect((err as CircuitOpenError).retryAfterMs).toBe(1100);
    await otherClock.advance(1101);
    expect(restored.toJSON()).toMatchObject({ state: 'half-open', failedEpisodes: 1 });
  });

  it('starts a full open time from just a state, and a fresh episode from half-open', async () => {
    const clock = new FakeClock();
    const open = new CircuitBreaker({ clock, initialState: 'open', timeout: 300 });
    await clock.advance(300);
    expect(open.state).toBe('open');
    await clock.advance(1);
    expect(open.state).toBe('half-open');
    const half = new CircuitBreaker({
      clock,
      initialState: { state: 'half-open', counts: { ...open.counts, requests: 9 } },
    });
    expect(half.counts.requests).toBe(0);
    await half.execute(() => 1);
    expect(half.state).toBe('closed');
  });

  it('restores a forced mode', async () => {
    const isolated = new CircuitBreaker({ initialState: { state: 'closed', mode: 'isolated' } });
    expect(isolated.state).toBe('open');
    await expect(isolated.execute(() => 1)).rejects.toBeInstanceOf(CircuitOpenError);
    const disabled = new CircuitBreaker({ initialState: { state: 'open', mode: 'disabled' } });
    expect(disabled.state).toBe('closed');
    expect(disabled.toJSON()).toMatchObject({ mode: 'disabled' });
  });

  it('does not fire onStateChange for the initial state', () => {
    const onStateChange = vi.fn();
    const breaker = new CircuitBreaker({ initialState: 'open', onStateChange });
    expect(breaker.state).toBe('open');
    expect(onStateChange).not.toHaveBeenCalled();
  });

  it('refuses a bad snapshot, naming the field', () => {
    const bad: [unknown, RegExp][] = [
      ['sideways', /initialState must be one of "closed", "open", "half-open", got "sideways"/],
      [{ state: 'shut' }, /initialState\.state must be one of/],
      [{ state: 'open', mode: 'manual' }, /initialState\.mode must be one of/],
      [{ state: 'open', openRemainingMs: -1 }, /initialState\.openRemainingMs must be a finite number >= 0, got -1/],
      [{ state: 'open', failedEpisodes: 1.5 }, /initialState\.failedEpisodes must be an integer/],
      [{ state: 'open', savedAt: 'yesterday' }, /initialState\.savedAt must be a finite number/],
      [{ state: 'closed', counts: 3 }, /initialState\.counts must be an object, got 3/],
      [{ state: 'closed', counts: { requests: -2 } }, /initialState\.counts\.requests must be an integer >= 0, got -2/],
      [42, /initialState must be one of/],
    ];
    for (const [initialState, message] of bad) {
      expect(() => new CircuitBreaker({ initialState: initialState as CircuitBreakerSnapshot })).toThrow(message);
    }
  });
});

describe('CircuitBreaker: a snapshot is not trusted (issue 10, item 13)', () => {
  it('clamps openRemainingMs to the longest open time of the breaker (maxTimeout)', async () => {
    const clock = new FakeClock();
    const breaker = new CircuitBreaker({
      clock,
      timeout: 1000,
      initialState: { state: 'open', openRemainingMs: 1e300 },
    });
    const err = await breaker.execute(() => 1).catch((e: unknown) => e);
    expect((err as CircuitOpenError).retryAfterMs).toBe(600_000);
    await clock.advance(600_001);
    expect(breaker.state).toBe('half-open');
    const capped = new CircuitBreaker({
      clock,
      timeout: 1000,
      maxTimeout: 5000,
      initialState: { state: 'open', openRemainingMs: 1e9 },
    });
    expect(capped.toJSON().openRemainingMs).toBe(5000);
  });

  it('clamps huge counts and makes them consistent', () => {
    const breaker = new CircuitBreaker({
      initialState: {
        state: 'closed',
        counts: {
          requests: 1,
          totalSuccesses: 1e300,
          totalFailures: 3,
          consecutiveSuccesses: 5,
          consecutiveFailures: 9,
        },
      },
    });
    const counts = breaker.counts;
    expect(counts.totalSuccesses).toBe(Number.MAX_SAFE_INTEGER);
    expect(counts.requests).toBe(Number.MAX_SAFE_INTEGER);
    expect(counts.consecutiveFailures).toBe(3);
    expect(counts.consecutiveSuccesses).toBe(0);
  });

  it('refuses Infinity, NaN and strings in every field, quoting strings', () => {
    const bad: [unknown, RegExp][] = [
      [{ state: 'open', openRemainingMs: Number.POSITIVE_INFINITY }, /initialState\.openRemainingMs .* got Infinity/],
      [{ state: 'open', failedEpisodes: Number.NaN }, /initialState\.failedEpisodes .* got NaN/],
      [{ state: 'open', savedAt: '2024' }, /initialState\.savedAt .* got "2024"/],
      [{ state: 'closed', counts: { requests: '1' } }, /initialState\.counts\.requests .* got "1"/],
      [{ state: 'closed', counts: 'none' }, /initialState\.counts must be an object, got "none"/],
    ];
    for (const [initialState, message] of bad) {
      expect(() => new CircuitBreaker({ initialState: initialState as CircuitBreakerSnapshot })).toThrow(message);
    }
  });
});

describe('CircuitBreaker: negative interval and timeout (issue 10, item 18)', () => {
  it('throws a RangeError naming the option and quoting strings, as the docs say', () => {
    expect(() => new CircuitBreaker({ interval: -1 })).toThrow(/CircuitBreaker: interval must be .*>= 0, got -1/);
    expect(() => new CircuitBreaker({ timeout: -1 })).toThrow(/CircuitBreaker: timeout must be .*>= 0, got -1/);
    expect(() => new CircuitBreaker({ timeout: '100' as never })).toThrow(
      /CircuitBreaker: timeout must be .*, got "100"/,
    );
    expect(() => new CircuitBreaker({ timeout: 0 }).toJSON()).not.toThrow();
  });
});
