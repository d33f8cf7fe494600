import { describe, expect, it } from 'vitest';
import { failOnUnhandledRejection } from '../../test/support.js';
import { askPredicate, catchRejection, isAsyncFunction, isThenable, predicateOption } from './hooks.js';

failOnUnhandledRejection();

/** `target` with a `then` property: the thenables these helpers must recognise. */
function withThen<T extends object>(target: T, then: unknown): T {
  return Object.defineProperty(target, 'then', { value: then, enumerable: true });
}

describe('hooks helpers', () => {
  it('isThenable: promises and objects with a callable then; a throwing then getter is not', () => {
    expect(isThenable(Promise.resolve())).toBe(true);
    expect(isThenable(withThen({}, () => {}))).toBe(true);
    expect(
      isThenable(
        withThen(
          () => {},
          () => {},
        ),
      ),
    ).toBe(true);
    for (const value of [undefined, null, 0, 'then', true, {}, withThen({}, 1)]) expect(isThenable(value)).toBe(false);
    const hostile = Object.defineProperty({}, 'then', {
      get() {
        throw new Error('then getter');
      },
    });
    expect(isThenable(hostile)).toBe(false);
  });

  it('catchRejection reports a rejection and a then that throws, and ignores anything else', async () => {
    const seen: unknown[] = [];
    catchRejection(Promise.reject(new Error('a')), (err) => seen.push((err as Error).message));
    catchRejection(
      withThen({}, () => {
        throw new Error('b');
      }),
      (err) => seen.push((err as Error).message),
    );
    catchRejection(42, () => seen.push('never'));
    await Promise.resolve();
    expect(seen.sort()).toEqual(['a', 'b']);
  });

  it('isAsyncFunction recognises async and async generator functions only', () => {
    expect(isAsyncFunction(async () => {})).toBe(true);
    expect(isAsyncFunction(async function* () {})).toBe(true);
    expect(isAsyncFunction(() => Promise.resolve())).toBe(false);
    expect(isAsyncFunction(function* () {})).toBe(false);
    const proxy = new Proxy(() => {}, {
      get() {
        throw new Error('get trap');
      },
    });
    expect(isAsyncFunction(proxy)).toBe(false);
  });

  it('predicateOption refuses non-functions and async functions, naming the owner and field', () => {
    expect(predicateOption('X', 'p', undefined)).toBeUndefined();
    const sync = (): boolean => true;
    expect(predicateOption('X', 'p', sync)).toBe(sync);
    expect(() => predicateOption('X', 'p', 'yes' as never)).toThrow('X: p must be a function, got "yes"');
    expect(() => predicateOption('X', 'p', (async () => true) as never)).toThrow(
      /^X: p must be a synchronous function returning a boolean, got an async function/,
    );
  });

  it('askPredicate: truthiness for sync answers; throws and thenables are reported and count as false', async () => {
    const reports: [string, unknown][] = [];
    const onError = (message: string, err: unknown): void => {
      reports.push([message, err]);
    };
    expect(askPredicate(() => 'ECONNRESET', 1, 'p', onError)).toBe(true);
    expect(askPredicate(() => 0, 1, 'p', onError)).toBe(false);
    expect(reports).toEqual([]);
    const boom = new Error('boom');
    expect(
      askPredicate(
        () => {
          throw boom;
        },
        1,
        'p',
        onError,
      ),
    ).toBe(false);
    expect(askPredicate(() => Promise.reject(boom), 1, 'p', onError)).toBe(false);
    await Promise.resolve();
    expect(reports).toEqual([
      ['p threw', boom],
      ['p returned a promise: predicates must answer synchronously, counted as false', undefined],
      ['p returned a promise that rejected', boom],
    ]);
  });
});
