import { Bulkhead, Timeout, TimeoutError } from '@resilience/core';
import { describe, expect, it } from 'vitest';
import { breakerPredicates, defaultBodies, timeoutPolicy } from './guard-options.js';

describe('timeoutPolicy', () => {
  it('makes a core Timeout of a number of ms, and takes any policy as it is', async () => {
    const policy = timeoutPolicy('timeout', 5);
    expect(policy).toBeInstanceOf(Timeout);
    await expect(policy.execute(() => new Promise(() => {}))).rejects.toBeInstanceOf(TimeoutError);
    const own = new Bulkhead({ maxConcurrent: 1 });
    expect(timeoutPolicy('timeout', own)).toBe(own);
  });

  it('refuses what would time out never or at once, naming the owner, the field and the value', () => {
    for (const [bad, shown] of [
      [0, '0'],
      [-1, '-1'],
      [Number.NaN, 'NaN'],
      [Number.POSITIVE_INFINITY, 'Infinity'],
    ] as const) {
      expect(() => timeoutPolicy('timeout', bad)).toThrow(`timeout: ms must be a finite number > 0, got ${shown}`);
    }
    expect(() => timeoutPolicy('timeout', '100' as never)).toThrow(TypeError);
    expect(() => timeoutPolicy('timeout', {} as never)).toThrow(
      /^timeout: msOrTimeout must have an execute\(\) method/,
    );
  });
});

describe('breakerPredicates', () => {
  it('counts every 5xx and every error by default', () => {
    const { isFailureStatus, isFailureError } = breakerPredicates('circuitBreaker', {});
    expect([499, 500, 503, 599].map(isFailureStatus)).toEqual([false, true, true, true]);
    expect(isFailureError(undefined)).toBe(true);
    expect(isFailureError(new Error('x'))).toBe(true);
  });

  it('takes a list or a predicate, and refuses a predicate that answers with a promise when it is called', () => {
    const listed = breakerPredicates('circuitBreaker', { failureStatuses: [502, 504], isFailureError: () => false });
    expect([500, 502, 504].map(listed.isFailureStatus)).toEqual([false, true, true]);
    expect(listed.isFailureError(new Error('x'))).toBe(false);
    const asyncPredicate = breakerPredicates('circuitBreaker', { isFailureError: (async () => true) as never });
    expect(() => asyncPredicate.isFailureError(new Error('x'))).toThrow(/isFailureError\(error\)/);
  });

  it('refuses malformed options at once, naming them', () => {
    expect(() => breakerPredicates('circuitBreaker', { isFailureError: 'yes' as never })).toThrow(
      'circuitBreaker: isFailureError must be a function, got "yes"',
    );
    expect(() => breakerPredicates('circuitBreaker', { failureStatuses: [500.5] })).toThrow(
      'circuitBreaker: failureStatuses[0] must be a status code (an integer from 100 to 999), got 500.5',
    );
    // Each bad entry named with its value (it used to be "got an array"), and codes no response carries refused.
    for (const [statuses, message] of [
      [[500, '502'], 'failureStatuses[1] must be a status code (an integer from 100 to 999), got "502"'],
      [[99], 'failureStatuses[0] must be a status code (an integer from 100 to 999), got 99'],
      [[503, 1000], 'failureStatuses[1] must be a status code (an integer from 100 to 999), got 1000'],
      [[Number.NaN], 'failureStatuses[0] must be a status code (an integer from 100 to 999), got NaN'],
      [[null], 'failureStatuses[0] must be a status code (an integer from 100 to 999), got null'],
    ] as const) {
      expect(() => breakerPredicates('circuitBreaker', { failureStatuses: statuses as never })).toThrow(
        new RangeError(`circuitBreaker: ${message}`),
      );
    }
    expect(() => breakerPredicates('circuitBreaker', { failureStatuses: 500 as never })).toThrow(
      new TypeError('circuitBreaker: failureStatuses must be an array of status codes or a function, got 500'),
    );
    expect(breakerPredicates('circuitBreaker', { failureStatuses: [100, 999] }).isFailureStatus(999)).toBe(true);
  });
});

describe('defaultBodies', () => {
  it('are frozen, so no middleware can change another one’s answer', () => {
    expect(Object.isFrozen(defaultBodies)).toBe(true);
    for (const body of Object.values(defaultBodies)) expect(Object.isFrozen(body)).toBe(true);
    expect(defaultBodies.timeout).toEqual({ error: 'timeout', message: 'The request took too long to process.' });
  });
});
