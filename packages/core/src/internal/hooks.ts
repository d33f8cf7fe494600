import { describeValue } from './validate.js';

/**
 * The one rule for user callbacks (hooks, predicates, loggers, recorders): what
 * they throw or reject with is reported to `onError` and never reaches the
 * pattern or the process.
 */

/** Whether `value` has a callable `then` (a promise or any thenable); a `then` getter that throws counts as not. */
export function isThenable<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  if ((typeof value !== 'object' && typeof value !== 'function') || value === null) return false;
  try {
    return typeof (value as { then?: unknown }).then === 'function';
  } catch {
    return false;
  }
}

/**
 * When `value` is a thenable, subscribes `onError` to its rejection, so that a
 * callback returning a rejected promise never becomes an unhandled rejection.
 * A `then` that throws is reported too. Anything else is left alone.
 */
export function catchRejection(value: unknown, onError: (err: unknown) => void): void {
  if (!isThenable(value)) return;
  try {
    value.then(undefined, onError);
  } catch (err) {
    onError(err);
  }
}

/**
 * Whether `fn` is an `async` function (or an async generator function), which
 * always returns a promise. A bound or transpiled async function is not
 * recognised; the run-time rule of {@link askPredicate} covers it.
 */
export function isAsyncFunction(fn: unknown): boolean {
  if (typeof fn !== 'function') return false;
  let tag: unknown;
  try {
    tag = (fn as { [Symbol.toStringTag]?: unknown })[Symbol.toStringTag];
  } catch {
    return false; // A proxy whose get trap throws: the run-time rule still applies.
  }
  return tag === 'AsyncFunction' || tag === 'AsyncGeneratorFunction';
}

/**
 * Checks a predicate option (`readyToTrip`, `isRetryable`, `shouldHandle`…):
 * a function or `undefined`. An `async` function is refused with a `TypeError`,
 * since a predicate's promise would be read as `true` and its answer lost.
 */
export function predicateOption<F extends (...args: never[]) => unknown>(
  owner: string,
  field: string,
  value: F | undefined,
): F | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'function') {
    throw new TypeError(`${owner}: ${field} must be a function, got ${describeValue(value)}`);
  }
  if (isAsyncFunction(value)) {
    throw new TypeError(
      `${owner}: ${field} must be a synchronous function returning a boolean, got an async function (a predicate's answer is needed at once)`,
    );
  }
  return value;
}

/** Reports a predicate that failed: what it threw, or that it returned a promise. */
export type PredicateErrorHandler = (message: string, err: unknown) => void;

/**
 * Asks a predicate: its synchronous answer with JavaScript truthiness
 * (`(e) => e.code` keeps working). A predicate that throws, or returns a
 * thenable (its rejection is caught), is reported to `onError` and counts as `false`.
 */
export function askPredicate<A>(
  predicate: (arg: A) => unknown,
  arg: A,
  name: string,
  onError: PredicateErrorHandler,
): boolean {
  let answer: unknown;
  try {
    answer = predicate(arg);
  } catch (err) {
    onError(`${name} threw`, err);
    return false;
  }
  if (isThenable(answer)) {
    catchRejection(answer, (err) => onError(`${name} returned a promise that rejected`, err));
    onError(`${name} returned a promise: predicates must answer synchronously, counted as false`, undefined);
    return false;
  }
  return Boolean(answer);
}
