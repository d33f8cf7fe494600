import { describe, expect, it } from 'vitest';
import { CircuitBreaker } from './circuit-breaker.js';
import { normalizeSettings } from './config.js';
import type { CircuitBreakerConfig } from './types.js';

describe('CircuitBreaker: configuration', () => {
  it.each<[string, unknown, RegExp]>([
    ['timeout', -1, /CircuitBreaker: timeout must be a finite number >= 0, got -1/],
    ['timeout', Number.NaN, /CircuitBreaker: timeout must be a finite number >= 0, got NaN/],
    ['timeout', '60s', /CircuitBreaker: timeout must be a finite number >= 0, got "60s"/],
    ['interval', -5, /CircuitBreaker: interval must be a finite number \(or Infinity\) >= 0, got -5/],
    ['maxRequests', 1.5, /CircuitBreaker: maxRequests must be an integer >= 0, got 1.5/],
    ['maxRequests', -1, /CircuitBreaker: maxRequests must be an integer >= 0, got -1/],
    ['readyToTrip', 5, /CircuitBreaker: readyToTrip must be a function, got 5/],
    ['onStateChange', 'log', /CircuitBreaker: onStateChange must be a function/],
    ['isSuccessful', {}, /CircuitBreaker: isSuccessful must be a function, got an object/],
    ['isIgnored', true, /CircuitBreaker: isIgnored must be a function/],
    ['isExcluded', 1, /CircuitBreaker: isExcluded must be a function/],
    ['isFailureResult', 1, /CircuitBreaker: isFailureResult must be a function/],
    ['backoffMultiplier', 0.5, /CircuitBreaker: backoffMultiplier must be a finite number >= 1, got 0.5/],
    ['halfOpenTimeout', 0, /CircuitBreaker: halfOpenTimeout must be a finite number \(or Infinity\) > 0, got 0/],
    ['slowCallDuration', 100, /CircuitBreaker: slowCallDuration needs a window/],
    ['failureRateThreshold', 0.5, /CircuitBreaker: failureRateThreshold needs a window/],
    ['minimumCalls', 5, /CircuitBreaker: minimumCalls needs a window/],
    ['slowCallRateThreshold', 0.5, /CircuitBreaker: slowCallRateThreshold needs a window/],
    [
      'clock',
      { now: () => 0 },
      /CircuitBreaker: clock must be an object with now\(\), setTimeout\(\) and clearTimeout\(\), got an object/,
    ],
    ['clock', null, /CircuitBreaker: clock must be an object/],
    ['window', 'count', /CircuitBreaker: window must be an object, got "count"/],
    ['window', null, /CircuitBreaker: window must be an object, got null/],
  ])('refuses %s = %s', (option, value, message) => {
    expect(() => new CircuitBreaker({ [option]: value } as CircuitBreakerConfig)).toThrow(message);
  });

  it.each<[CircuitBreakerConfig, RegExp]>([
    [{ timeout: 1000, maxTimeout: 999 }, /maxTimeout must be a finite number >= 1000, got 999/],
    [{ window: { kind: 'count', size: 0 } }, /window\.size must be an integer >= 1, got 0/],
    [{ window: { kind: 'count' } as never }, /window\.size must be an integer >= 1, got undefined/],
    [{ window: { kind: 'time', duration: 0 } }, /window\.duration must be a finite number > 0, got 0/],
    [{ window: { kind: 'time', duration: 1000, buckets: 0 } }, /window\.buckets must be an integer >= 1/],
    [{ window: { kind: 'sliding' } as never }, /window\.kind must be one of "count", "time", got "sliding"/],
    [
      { window: { kind: 'count', size: 10 }, failureRateThreshold: 1.5 },
      /failureRateThreshold must be .* <= 1, got 1.5/,
    ],
    [{ window: { kind: 'count', size: 10 }, failureRateThreshold: 0 }, /failureRateThreshold must be .* > 0/],
    [{ window: { kind: 'count', size: 10 }, slowCallRateThreshold: -0.1 }, /slowCallRateThreshold must be/],
    [{ window: { kind: 'count', size: 10 }, minimumCalls: 11 }, /minimumCalls must be an integer >= 1 and <= 10/],
    [{ window: { kind: 'time', duration: 10 }, minimumCalls: 0 }, /minimumCalls must be an integer >= 1, got 0/],
  ])('refuses %o', (config, message) => {
    expect(() => new CircuitBreaker(config)).toThrow(message);
  });

  it('refuses a config that is not an object', () => {
    expect(() => new CircuitBreaker(null as never)).toThrow(/CircuitBreaker: config must be an object, got null/);
    expect(() => new CircuitBreaker(3 as never)).toThrow(TypeError);
  });

  it('shares one frozen settings object between instances with the default configuration', () => {
    const a = normalizeSettings({});
    expect(normalizeSettings({ name: 'x' })).toBe(a);
    expect(Object.isFrozen(a)).toBe(true);
    expect(a).toMatchObject({
      maxRequests: 1,
      interval: 0,
      timeout: 60_000,
      halfOpenTimeout: Number.POSITIVE_INFINITY,
      maxTimeout: 600_000,
      backoffMultiplier: 1,
      timed: false,
      window: undefined,
    });
    expect(normalizeSettings({ timeout: 5 })).not.toBe(a);
  });

  it('shares the defaults when they are spelt out, and the settings of breakers built in a row from one configuration', () => {
    const defaults = normalizeSettings({});
    expect(normalizeSettings({ timeout: 60_000, maxRequests: 1, interval: 0 })).toBe(defaults);
    const windowed = { window: { kind: 'count', size: 20 }, failureRateThreshold: 0.4 } as const;
    const first = normalizeSettings(windowed);
    expect(normalizeSettings({ ...windowed, window: { kind: 'count', size: 20 } })).toBe(first);
    expect(normalizeSettings({ ...windowed, failureRateThreshold: 0.3 })).not.toBe(first);
    const trip = () => true;
    const a = normalizeSettings({ readyToTrip: trip });
    expect(normalizeSettings({ readyToTrip: trip })).toBe(a);
    expect(normalizeSettings({ readyToTrip: () => true })).not.toBe(a);
    expect(normalizeSettings({ window: { kind: 'count', size: 20 } })).not.toBe(
      normalizeSettings({ window: { kind: 'time', duration: 20 } }),
    );
  });

  it('fills in gobreaker defaults: maxRequests 0 is 1, timeout 0 is 60000, interval Infinity never clears', () => {
    const settings = normalizeSettings({ maxRequests: 0, timeout: 0, interval: Number.POSITIVE_INFINITY });
    expect(settings).toMatchObject({ maxRequests: 1, timeout: 60_000, interval: 0 });
  });

  it('fills in window defaults', () => {
    expect(normalizeSettings({ window: { kind: 'count', size: 4 } }).window).toEqual({
      kind: 'count',
      slots: 4,
      bucketMs: 0,
      minimumCalls: 4,
      failureRateThreshold: 0.5,
      slowCallRateThreshold: 1,
    });
    expect(normalizeSettings({ window: { kind: 'time', duration: 5000 } }).window).toEqual({
      kind: 'time',
      slots: 10,
      bucketMs: 500,
      minimumCalls: 10,
      failureRateThreshold: 0.5,
      slowCallRateThreshold: 1,
    });
    expect(normalizeSettings({ window: { kind: 'count', size: 4 } }).readyToTrip).toBeUndefined();
    expect(normalizeSettings({ timeout: 1_000_000 }).maxTimeout).toBe(1_000_000);
  });

  it('measures durations only when slow calls or metrics need them', () => {
    expect(normalizeSettings({ window: { kind: 'count', size: 4 }, slowCallDuration: 10 }).timed).toBe(true);
    const metrics = {
      recordCircuitBreakerState: () => {},
      recordRetryAttempt: () => {},
      recordRateLimitHit: () => {},
      recordBulkheadUtilization: () => {},
      recordTimeout: () => {},
    };
    expect(normalizeSettings({ metrics }).timed).toBe(true);
    expect(normalizeSettings({ window: { kind: 'count', size: 4 } }).timed).toBe(false);
  });
});
