import { describe, expect, it } from 'vitest';
import { drain, outcome } from '../../test/support.js';
import { Retry } from '../retry/retry.js';
import { FakeClock } from '../testing/index.js';
import { errorIs, findInChain } from './error-is.js';
import { CircuitOpenError } from './errors.js';
import { isCircuitOpenError, isResilienceError } from './guards.js';
import { isRetryable } from './retryable.js';

/** An error whose `cause` getter throws, as some wrappers and proxies do. */
function poisonedCause(): Error {
  const err = new Error('the real failure');
  Object.defineProperty(err, 'cause', {
    get() {
      throw new Error('cause getter exploded');
    },
  });
  return err;
}

/** A proxy of an error whose every trap throws. */
function hostileProxy(): Error {
  return new Proxy(new Error('proxied'), {
    get() {
      throw new Error('get trap');
    },
    has() {
      throw new Error('has trap');
    },
    getPrototypeOf() {
      throw new Error('prototype trap');
    },
  });
}

describe('errors whose getters throw (issue 10, item 12)', () => {
  it('errorIs, findInChain, isRetryable and the guards answer false instead of throwing', () => {
    for (const err of [poisonedCause(), hostileProxy()]) {
      expect(errorIs(err, TypeError)).toBe(false);
      expect(errorIs(err, new Error('other'))).toBe(false);
      expect(findInChain(err, (c) => c === 42)).toBeUndefined();
      expect(isRetryable(err)).toBe(false);
      expect(isCircuitOpenError(err)).toBe(false);
      expect(isResilienceError(err)).toBe(false);
    }
    const poisoned = poisonedCause();
    expect(errorIs(poisoned, poisoned)).toBe(true);
    expect(errorIs(poisoned, Error)).toBe(true);
  });

  it('a throwing code getter does not break a guard', () => {
    const err = new Error('x');
    Object.defineProperty(err, 'code', {
      get() {
        throw new Error('code getter');
      },
    });
    expect(isCircuitOpenError(err)).toBe(false);
  });

  it('still finds what comes before the poisoned link, and the errors of an AggregateError with a throwing getter', () => {
    const open = new CircuitOpenError();
    const outer = new Error('outer', { cause: open });
    expect(findInChain(outer, isCircuitOpenError)).toBe(open);
    const aggregate = new AggregateError([open], 'many');
    Object.defineProperty(aggregate, 'errors', {
      get() {
        throw new Error('errors getter');
      },
    });
    expect(errorIs(aggregate, CircuitOpenError)).toBe(false);
  });

  it('a Retry with classifiers gives the caller the original failure, not the getter error', async () => {
    const clock = new FakeClock();
    const cases = [
      [{ nonRetryableErrors: [TypeError] }, 'retried'],
      [{ retryableErrors: [TypeError] }, 'rethrown'],
      [{}, 'retried'],
    ] as const;
    for (const [config, expected] of cases) {
      const retry = new Retry({ clock, maxAttempts: 2, initialDelay: 1, ...config });
      const failure = poisonedCause();
      const done = outcome(retry.execute(() => Promise.reject(failure)));
      await drain(clock);
      const { error } = await done;
      if (expected === 'rethrown') expect(error).toBe(failure);
      else expect(error).toMatchObject({ name: 'MaxAttemptsReachedError', attempts: 2, cause: failure });
    }
  });
});
