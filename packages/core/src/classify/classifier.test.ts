import { describe, expect, it } from 'vitest';
import { CircuitOpenError, TimeoutError } from '../errors/errors.js';
import { Classifier, handle, handleAll, handleResult, handleWhen, isClassifier } from './classifier.js';
import { classifierOption, refuseAliases, supersede } from './compile.js';

class NetworkError extends Error {}
class ResetError extends NetworkError {}
class AuthError extends Error {}

const codeOf = (err: unknown): unknown => (err as { code?: unknown } | null | undefined)?.code;

describe('a classifier', () => {
  it('handles errors by class, through subclasses and the cause chain, and error objects by identity', () => {
    const reset = new ResetError('reset');
    const c = handle(NetworkError, TimeoutError);
    expect(c.handlesError(new NetworkError())).toBe(true);
    expect(c.handlesError(reset)).toBe(true);
    expect(c.handlesError(new Error('wrapped', { cause: reset }))).toBe(true);
    expect(c.handlesError(new AggregateError([new Error('x'), new TimeoutError({ timeoutMs: 5 })]))).toBe(true);
    expect(c.handlesError(new AuthError())).toBe(false);
    expect(c.handlesError('a string')).toBe(false);
    expect(c.handlesError(undefined)).toBe(false);

    const one = new Error('this one');
    const byObject = handle(one);
    expect(byObject.handlesError(one)).toBe(true);
    expect(byObject.handlesError(new Error('this one'))).toBe(false);
    expect(byObject.handlesError(new Error('outer', { cause: one }))).toBe(true);
  });

  it('handles errors a predicate accepts, with JavaScript truthiness, given the thrown value itself', () => {
    const seen: unknown[] = [];
    const c = handleWhen((err) => {
      seen.push(err);
      return codeOf(err) === 'ECONNRESET';
    });
    expect(c.handlesError(Object.assign(new Error('x'), { code: 'ECONNRESET' }))).toBe(true);
    expect(c.handlesError('ECONNRESET')).toBe(false);
    expect(seen).toHaveLength(2);
    const truthy = handleWhen((err) => codeOf(err) as boolean);
    expect(truthy.handlesError({ code: 'E' })).toBe(true);
    expect(truthy.handlesError({ code: '' })).toBe(false);
  });

  it('composes with or, orWhen, orResult and except; except wins over every other part', () => {
    const c = handle(NetworkError)
      .orWhen((err) => codeOf(err) === 'ETIMEDOUT')
      .or(TimeoutError)
      .except(ResetError)
      .orResult((res: { status: number }) => res.status >= 500);
    expect(c.handlesError(new NetworkError())).toBe(true);
    expect(c.handlesError(new TimeoutError({ timeoutMs: 1 }))).toBe(true);
    expect(c.handlesError({ code: 'ETIMEDOUT' })).toBe(true);
    expect(c.handlesError(new ResetError())).toBe(false);
    expect(c.handlesError(new Error('outer', { cause: new ResetError() }))).toBe(false);
    expect(c.handlesError(Object.assign(new ResetError(), { code: 'ETIMEDOUT' }))).toBe(false);
    expect(c.handlesResult({ status: 503 })).toBe(true);
    expect(c.handlesResult({ status: 200 })).toBe(false);
  });

  it('handleAll handles every thrown value, CircuitOpenError included, until except', () => {
    const all = handleAll();
    for (const value of [new Error('x'), 'str', undefined, null, 0, new CircuitOpenError()]) {
      expect(all.handlesError(value)).toBe(true);
    }
    const notOpen = all.except(CircuitOpenError);
    expect(notOpen.handlesError(new CircuitOpenError())).toBe(false);
    expect(notOpen.handlesError(new Error('x'))).toBe(true);
  });

  it('handleResult handles the results it accepts and no thrown value', () => {
    const c = handleResult((res: number) => res < 0);
    expect(c.handlesResult(-1)).toBe(true);
    expect(c.handlesResult(1)).toBe(false);
    expect(c.handlesError(new Error('x'))).toBe(false);
    const both = c.orResult((res) => res === 42);
    expect(both.handlesResult(42)).toBe(true);
    expect(both.handlesResult(-1)).toBe(true);
  });

  it('is immutable: every step returns a new classifier and leaves the old one as it was', () => {
    const base = handle(NetworkError);
    const wider = base.or(AuthError);
    const narrower = base.except(ResetError);
    expect(wider).not.toBe(base);
    expect(base.handlesError(new AuthError())).toBe(false);
    expect(base.handlesError(new ResetError())).toBe(true);
    expect(narrower.handlesError(new ResetError())).toBe(false);
    expect(Object.isFrozen(base)).toBe(true);
    expect(Object.isFrozen(base.parts)).toBe(true);
    expect(Object.isFrozen(base.parts.errors)).toBe(true);
    expect(() => {
      (base.parts.errors as unknown[]).push(AuthError);
    }).toThrow(TypeError);
    // A caller's array handed to the constructor is copied.
    const errors = [NetworkError];
    const direct = new Classifier({ all: false, errors, when: [], except: [], results: [] });
    errors.push(AuthError);
    expect(direct.handlesError(new AuthError())).toBe(false);
  });

  it('refuses bad input when it is built, naming the method and the value', () => {
    expect(() => handle()).toThrow(/handle\(\) needs at least one error class or error object \(handleAll\(\)/);
    expect(() => handle('ECONNRESET' as never)).toThrow(
      /handle\(\): errors\[0\] must be an error class or an error object, got "ECONNRESET" \(to match an error code/,
    );
    expect(() => handle(NetworkError, ((err: unknown) => err !== undefined) as never)).toThrow(
      /handle\(\): errors\[1\] must be .*got a function \(a function that is not a class: pass a predicate to handleWhen or orWhen\)/,
    );
    expect(() => handle(null as never)).toThrow(/errors\[0\] .* got null/);
    expect(() => handle(42 as never)).toThrow(/got 42/);
    expect(() => handle(NetworkError).or()).toThrow(/or\(\) needs at least one/);
    expect(() => handle(NetworkError).except(undefined as never)).toThrow(/except\(\): errors\[0\] .* got undefined/);
    expect(() => handleWhen(undefined as never)).toThrow(/handleWhen\(\): predicate must be a function, got undefined/);
    expect(() => handleWhen((async () => true) as never)).toThrow(
      /handleWhen\(\): predicate must be a synchronous function .* got an async function/,
    );
    expect(() => handle(NetworkError).orWhen((async () => true) as never)).toThrow(/orWhen\(\): .*async function/);
    expect(() => handleAll().orResult((async () => true) as never)).toThrow(/orResult\(\): .*async function/);
    expect(() => handleResult('503' as never)).toThrow(/handleResult\(\): predicate must be a function, got "503"/);
  });

  it('checks parts given to its constructor by hand, naming the field', () => {
    const base = { all: false, errors: [], when: [], except: [], results: [] };
    expect(() => new Classifier(null as never)).toThrow(/^Classifier: parts must be an object, got null/);
    expect(() => new Classifier({ ...base, all: 'yes' } as never)).toThrow(/parts\.all must be a boolean, got "yes"/);
    expect(() => new Classifier({ ...base, errors: 'x' } as never)).toThrow(/parts\.errors must be an array/);
    expect(() => new Classifier({ ...base, errors: ['x'] } as never)).toThrow(
      /Classifier\(\): parts\.errors\[0\] must be an error class or an error object, got "x"/,
    );
    expect(() => new Classifier({ ...base, except: [() => 1] } as never)).toThrow(/parts\.except\[0\]/);
    expect(() => new Classifier({ ...base, when: [async () => true] } as never)).toThrow(
      /parts\.when must be a synchronous function/,
    );
    expect(() => new Classifier({ ...base, results: [1] } as never)).toThrow(
      /parts\.results must be a function, got 1/,
    );
    expect(new Classifier({ ...base, all: true }).handlesError('x')).toBe(true);
  });

  it('lets a predicate that throws throw, and turns a promise into an error (its rejection caught)', async () => {
    const boom = new Error('predicate bug');
    const throwing = handleWhen(() => {
      throw boom;
    });
    expect(() => throwing.handlesError(new Error('x'))).toThrow(boom);
    const rejected = Promise.reject(new Error('late'));
    const promising = handle(NetworkError).orWhen((() => rejected) as never);
    expect(() => promising.handlesError(new Error('x'))).toThrow(/returned a promise/);
    const result = handleResult((() => Promise.resolve(true)) as never);
    expect(() => result.handlesResult(1)).toThrow(/returned a promise/);
    // A class that matches first answers before the predicate is asked.
    expect(promising.handlesError(new NetworkError())).toBe(true);
    await new Promise((resolve) => setImmediate(resolve)); // An unhandled rejection would fail the run.
  });
});

describe('isClassifier and the handle option', () => {
  it('recognises a classifier, also one from another installed copy of the core', () => {
    expect(isClassifier(handle(NetworkError))).toBe(true);
    for (const value of [undefined, null, {}, [], () => true, 'handle', { parts: {} }]) {
      expect(isClassifier(value)).toBe(false);
    }
    const parts = { all: false, errors: [NetworkError], when: [], except: [], results: [] };
    const foreign = { [Symbol.for('@resilience/core/classifier-parts')]: parts };
    expect(isClassifier(foreign)).toBe(true);
    const compiled = classifierOption('Test', foreign);
    expect(compiled?.errors).toBeTypeOf('function');
    const malformed = { [Symbol.for('@resilience/core/classifier-parts')]: { ...parts, when: [1] } };
    expect(isClassifier(malformed)).toBe(false);
    const asyncPredicate = {
      [Symbol.for('@resilience/core/classifier-parts')]: { ...parts, when: [async () => true] },
    };
    expect(isClassifier(asyncPredicate)).toBe(false);
    const badMatcher = { [Symbol.for('@resilience/core/classifier-parts')]: { ...parts, except: ['AuthError'] } };
    expect(isClassifier(badMatcher)).toBe(false);
    // Its parts are copied once: changing its arrays afterwards changes nothing.
    parts.errors.push(Error);
    expect(classifierOption('Test', foreign)).toBe(compiled);
    expect(compiled?.parts.errors).toEqual([NetworkError]);
    const hostile = new Proxy(
      {},
      {
        get() {
          throw new Error('trap');
        },
      },
    );
    expect(isClassifier(hostile)).toBe(false);
  });

  it('refuses anything else, naming the field and the value, with a hint for the usual mistakes', () => {
    expect(classifierOption('Retry', undefined)).toBeUndefined();
    expect(() => classifierOption('Retry', () => true)).toThrow(
      /^Retry: handle must be a classifier \(from handle\(\), handleWhen\(\), handleAll\(\) or handleResult\(\)\), got a function \(a predicate is not a classifier/,
    );
    expect(() => classifierOption('Retry', [NetworkError])).toThrow(
      /got an array \(wrap error classes as handle\(A, B\)\)/,
    );
    expect(() => classifierOption('Retry', 'transient')).toThrow(/got "transient"$/);
    expect(() => classifierOption('Retry', null)).toThrow(/got null$/);
  });

  it('compiles once per classifier, so patterns built from one value share its predicates', () => {
    const transient = handle(NetworkError).orResult((res: number) => res > 1);
    const a = classifierOption('A', transient);
    const b = classifierOption('B', transient);
    expect(a).toBe(b);
    // One result predicate is passed on as it is: the same function the old option would hold.
    expect(a?.results).toBe(transient.parts.results[0]);
    expect(classifierOption('C', handleAll())?.errors).toBe('all');
    expect(
      classifierOption(
        'C',
        handleResult(() => true),
      )?.errors,
    ).toBe('none');
    expect(classifierOption('C', handleAll())?.notHandled).toBeUndefined();
  });

  it('refuseAliases names both fields; supersede lets an update switch spelling', () => {
    expect(() => refuseAliases('Retry', { handle: handleAll(), isRetryable: () => true }, ['isRetryable'])).toThrow(
      /^Retry: give either handle or isRetryable, not both .*got handle and isRetryable a function/,
    );
    expect(() =>
      refuseAliases('Retry', { handle: handleAll(), isRetryable: undefined }, ['isRetryable']),
    ).not.toThrow();
    const current = { handle: handleAll(), maxAttempts: 3 };
    expect(supersede(current, { isRetryable: () => true }, ['isRetryable'])).toEqual({ maxAttempts: 3 });
    const old = { isRetryable: () => true, retryOnResult: () => true, maxAttempts: 3 };
    expect(supersede(old, { handle: handleAll() }, ['isRetryable', 'retryOnResult'])).toEqual({ maxAttempts: 3 });
    expect(supersede(old, { maxAttempts: 4 }, ['isRetryable'])).toBe(old);
    expect(supersede(old, null, ['isRetryable'])).toBe(old);
    // A key given as undefined resets only itself.
    expect(supersede(old, { handle: undefined }, ['isRetryable'])).toBe(old);
    expect(supersede(current, { isRetryable: undefined }, ['isRetryable'])).toBe(current);
  });

  it('never throws for a proxy: one whose traps throw, a revoked one, a proxy of a classifier (refused with the field named)', () => {
    const throwing = new Proxy(
      {},
      {
        get() {
          throw new Error('get trap');
        },
        getPrototypeOf() {
          throw new Error('getPrototypeOf trap');
        },
      },
    );
    const revocable = Proxy.revocable({}, {});
    revocable.revoke();
    const wrapped = new Proxy(handle(TimeoutError), {});
    for (const value of [throwing, revocable.proxy, wrapped]) {
      expect(isClassifier(value)).toBe(false);
      expect(() => classifierOption('Retry', value)).toThrow(/^Retry: handle must be a classifier .*got an object/);
    }
  });
});
