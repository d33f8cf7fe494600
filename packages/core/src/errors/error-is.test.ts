import { describe, expect, it } from 'vitest';
import { errorIs, findInChain } from './error-is.js';
import { CircuitOpenError, ResilienceError, TimeoutError } from './errors.js';
import { isRetryable, RetryableError, retryable } from './retryable.js';

class ConnectionError extends Error {}

describe('errorIs', () => {
  it('matches the same object', () => {
    const err = new Error('x');
    expect(errorIs(err, err)).toBe(true);
    expect(errorIs(err, new Error('x'))).toBe(false);
  });

  it('matches a class, including subclasses', () => {
    expect(errorIs(new TimeoutError({ timeoutMs: 1 }), TimeoutError)).toBe(true);
    expect(errorIs(new TimeoutError({ timeoutMs: 1 }), ResilienceError)).toBe(true);
    expect(errorIs(new TimeoutError({ timeoutMs: 1 }), CircuitOpenError)).toBe(false);
  });

  it('walks nested causes', () => {
    const root = new ConnectionError('reset');
    const wrapped = new Error('outer', { cause: new Error('middle', { cause: root }) });
    expect(errorIs(wrapped, root)).toBe(true);
    expect(errorIs(wrapped, ConnectionError)).toBe(true);
    expect(errorIs(wrapped, TimeoutError)).toBe(false);
  });

  it('looks into the errors of an AggregateError, and their causes', () => {
    const inner = new ConnectionError('refused');
    const agg = new AggregateError([new Error('a'), new Error('b', { cause: inner })], 'all failed');
    expect(errorIs(agg, inner)).toBe(true);
    expect(errorIs(agg, ConnectionError)).toBe(true);
    expect(errorIs(new Error('wrap', { cause: agg }), ConnectionError)).toBe(true);
  });

  it('matches non-Error values by identity', () => {
    expect(errorIs('boom', 'boom')).toBe(true);
    expect(errorIs(new Error('w', { cause: 'boom' }), 'boom')).toBe(true);
    expect(errorIs(undefined, undefined)).toBe(true);
    expect(errorIs(new Error('w', { cause: undefined }), undefined)).toBe(true);
    expect(errorIs(new Error('w'), undefined)).toBe(false);
  });

  it('survives cycles in the cause chain', () => {
    const a = new Error('a');
    const b = new Error('b', { cause: a });
    Object.defineProperty(a, 'cause', { value: b });
    expect(errorIs(a, TimeoutError)).toBe(false);
    expect(errorIs(a, b)).toBe(true);
  });

  it('matches a function that is not a class by identity, never with instanceof', () => {
    const notAClass = () => new Error('x');
    expect(errorIs(new Error('x'), notAClass)).toBe(false);
    expect(errorIs(notAClass, notAClass)).toBe(true);
  });

  it('does not treat a plain object as an instance', () => {
    expect(errorIs({ name: 'TimeoutError' }, TimeoutError)).toBe(false);
    expect(errorIs(null, TimeoutError)).toBe(false);
  });
});

describe('findInChain', () => {
  it('returns the first match in cause order', () => {
    const hinted = new CircuitOpenError({ retryAfterMs: 30 });
    const err = new Error('outer', { cause: new Error('mid', { cause: hinted }) });
    const found = findInChain(err, (c): c is CircuitOpenError => c instanceof CircuitOpenError);
    expect(found).toBe(hinted);
  });

  it('visits AggregateError members in order', () => {
    const first = new ConnectionError('first');
    const second = new ConnectionError('second');
    const agg = new AggregateError([first, second]);
    expect(findInChain(agg, (c) => c instanceof ConnectionError)).toBe(first);
  });

  it('returns undefined when nothing matches', () => {
    expect(findInChain(new Error('x'), () => false)).toBeUndefined();
  });
});

describe('retryable', () => {
  it('wraps the original as cause and is recognised anywhere in a chain', () => {
    const original = new ConnectionError('reset');
    const marked = retryable(original);
    expect(marked).toBeInstanceOf(RetryableError);
    expect(marked.cause).toBe(original);
    expect(marked.message).toBe('reset');
    expect(marked.code).toBe('ERR_RETRYABLE');
    expect(isRetryable(marked)).toBe(true);
    expect(isRetryable(new Error('outer', { cause: marked }))).toBe(true);
    expect(isRetryable(original)).toBe(false);
    expect(errorIs(marked, original)).toBe(true);
  });

  it('wraps non-Error values', () => {
    const marked = retryable('503');
    expect(marked.message).toBe('Retryable failure: 503');
    expect(marked.cause).toBe('503');
  });

  it('recognises a mark from another copy of the core by code', () => {
    const foreign = Object.assign(new Error('x'), { code: 'ERR_RETRYABLE' });
    expect(isRetryable(foreign)).toBe(true);
    expect(isRetryable({ code: 'ERR_RETRYABLE' })).toBe(false);
    expect(isRetryable(undefined)).toBe(false);
  });
});
