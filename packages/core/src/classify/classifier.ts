import type { ErrorClass } from '../errors/error-is.js';
import { errorIs } from '../errors/error-is.js';
import { isAsyncFunction } from '../internal/hooks.js';
import { describeValue } from '../internal/validate.js';

/** An error object or class to match with `errorIs` (the `cause` chain counts). */
export type ErrorMatcher = ErrorClass | object;

/** Decides about a thrown value: a truthy answer means it is handled. */
export type ErrorPredicate = (error: unknown) => boolean;

/** Decides about a returned value: a truthy answer means it is handled (counts as a failure). */
export type ResultPredicate<R> = (result: R) => boolean;

/**
 * What a classifier is made of, as plain data (its `parts`). Also readable
 * under a `Symbol.for` key, so that a classifier built by another installed
 * copy of the core is recognised too.
 */
export interface ClassifierParts {
  /** Every thrown value is handled (before `except`). */
  readonly all: boolean;
  /** Thrown values matching one of these (with `errorIs`, the `cause` chain counts) are handled. */
  readonly errors: readonly ErrorMatcher[];
  /** Thrown values one of these predicates accepts are handled. */
  readonly when: readonly ErrorPredicate[];
  /** Thrown values matching one of these are never handled; they win over everything else. */
  readonly except: readonly ErrorMatcher[];
  /** Returned values one of these predicates accepts are handled. */
  readonly results: readonly ResultPredicate<never>[];
}

/**
 * The key of the getter through which another installed copy of the core
 * reads a classifier's parts.
 */
const PARTS_KEY = Symbol.for('@resilience/core/classifier-parts');

const noParts: ClassifierParts = Object.freeze({
  all: false,
  errors: Object.freeze([]),
  when: Object.freeze([]),
  except: Object.freeze([]),
  results: Object.freeze([]),
});

/** The parts of a classifier of this copy of the core, `undefined` for any other object (set by the class). */
let ownParts: (value: object) => ClassifierParts | undefined;

/**
 * Says which outcomes of the work count: which thrown values and which
 * returned values are *handled*. One value serves every pattern, under the
 * option `handle`:
 *
 * | pattern | a handled error | a handled result |
 * | --- | --- | --- |
 * | `CircuitBreaker` | a failure (not handled: a success) | a failure |
 * | `Retry` | retried | retried (the last one is returned when attempts run out) |
 * | `Fallback` | replaced by the fallback | replaced by the fallback |
 * | `Hedging` | waits for the other attempts (not handled: ends the call at once) | waits for the other attempts |
 *
 * A classifier handles exactly what it names: start from {@link handle}
 * (classes or error objects), {@link handleWhen} (a predicate),
 * {@link handleAll} (every thrown value) or {@link handleResult} (returned
 * values only; then no thrown value is handled), and widen it with `or`,
 * `orWhen`, `orResult`, or narrow it with `except`. Each step returns a new
 * classifier: a classifier is immutable and can be shared by any number of
 * patterns.
 *
 * Predicates must answer synchronously: an `async` function is refused with
 * a `TypeError` when it is added. At run time, a predicate that throws or
 * returns a promise makes the pattern log it and answer as its option would
 * for a predicate that throws (see each pattern's `handle`).
 *
 * @typeParam R - the type of the returned values it classifies
 *
 * @example
 * ```ts
 * const transient = handle(TimeoutError, BulkheadFullError)
 *   .orWhen((err) => (err as { code?: unknown }).code === 'ECONNRESET')
 *   .orResult((res: Response) => res.status >= 500);
 * const breaker = new CircuitBreaker({ handle: transient });
 * const retry = new Retry({ handle: transient });
 * ```
 */
export class Classifier<R = unknown> {
  readonly #parts: ClassifierParts;

  /**
   * @param parts - what it handles (checked and copied); build one with {@link handle},
   *   {@link handleWhen}, {@link handleAll} or {@link handleResult} rather than by hand
   * @throws TypeError when a part is not what {@link ClassifierParts} says, naming it
   */
  constructor(parts: ClassifierParts) {
    if (parts === null || typeof parts !== 'object') {
      throw new TypeError(`Classifier: parts must be an object, got ${describeValue(parts)}`);
    }
    if (typeof parts.all !== 'boolean') {
      throw new TypeError(`Classifier: parts.all must be a boolean, got ${describeValue(parts.all)}`);
    }
    const list = <T>(field: keyof ClassifierParts, value: readonly T[]): readonly T[] => {
      if (!Array.isArray(value)) {
        throw new TypeError(`Classifier: parts.${field} must be an array, got ${describeValue(value)}`);
      }
      return Object.freeze([...value]);
    };
    const errors = list('errors', parts.errors);
    const except = list('except', parts.except);
    const when = list('when', parts.when);
    const results = list('results', parts.results);
    if (errors.length > 0) checkMatchers('Classifier', errors, 'parts.errors');
    if (except.length > 0) checkMatchers('Classifier', except, 'parts.except');
    for (const predicate of when) checkPredicate('Classifier', predicate, 'parts.when');
    for (const predicate of results) checkPredicate('Classifier', predicate, 'parts.results');
    this.#parts = Object.freeze({ all: parts.all, errors, when, except, results });
    Object.freeze(this);
  }

  static {
    // The parts under a Symbol.for key too: a classifier from another installed copy of the core is one here.
    // biome-ignore lint/complexity/noThisInStatic: tsc 7 compiles the class's name here to undefined (see registerUpdater)
    Object.defineProperty(this.prototype, PARTS_KEY, {
      get(this: Classifier): ClassifierParts {
        return this.parts;
      },
    });
    // A brand check, which never throws: `instanceof` runs a proxy's `getPrototypeOf` trap, and a proxy of a
    // classifier passes it but has no `#parts` to read.
    ownParts = (value) => (#parts in value ? value.#parts : undefined);
  }

  /** What it handles, as plain data (frozen). */
  get parts(): ClassifierParts {
    return this.#parts;
  }

  /**
   * Also handles thrown values matching one of `errors`: error classes
   * (an instance anywhere in the `cause` chain matches) or error objects
   * (that very object anywhere in the chain).
   *
   * @throws TypeError when `errors` is empty or holds anything else (a plain function: use `orWhen`)
   */
  or(...errors: ErrorMatcher[]): Classifier<R> {
    return this.#with({ errors: [...this.#parts.errors, ...checkMatchers('or', errors)] });
  }

  /**
   * Also handles thrown values `predicate` accepts (a truthy answer). The
   * predicate gets the thrown value itself, whatever it is (not only `Error`s).
   *
   * @throws TypeError when `predicate` is not a synchronous function
   */
  orWhen(predicate: ErrorPredicate): Classifier<R> {
    return this.#with({ when: [...this.#parts.when, checkPredicate('orWhen', predicate)] });
  }

  /**
   * Also handles returned values `predicate` accepts (an HTTP 503 response,
   * say): they count as failures although the work returned them.
   *
   * @throws TypeError when `predicate` is not a synchronous function
   */
  orResult<S extends R = R>(predicate: ResultPredicate<S>): Classifier<S> {
    const results = [...this.#parts.results, checkPredicate('orResult', predicate)];
    return new Classifier<S>({ ...this.#parts, results: results as ResultPredicate<never>[] });
  }

  /**
   * Never handles thrown values matching one of `errors` (classes or error
   * objects, through the `cause` chain), whatever else matches them: they win
   * over every other part (and, in a `Retry`, over `retryable()` marks).
   *
   * @throws TypeError when `errors` is empty or holds anything else
   */
  except(...errors: ErrorMatcher[]): Classifier<R> {
    return this.#with({ except: [...this.#parts.except, ...checkMatchers('except', errors)] });
  }

  /**
   * Whether `error` is handled: not matched by `except`, and matched by a
   * class or object, accepted by a predicate, or handled by `handleAll()`.
   * A predicate that throws throws here too (a pattern logs it).
   */
  handlesError(error: unknown): boolean {
    return errorHandled(this.#parts, error);
  }

  /** Whether a returned `result` is handled (one of the `orResult` predicates accepts it). */
  handlesResult(result: R): boolean {
    return resultHandled(this.#parts, result);
  }

  #with(change: Partial<ClassifierParts>): Classifier<R> {
    return new Classifier<R>({ ...this.#parts, ...change });
  }
}

/**
 * A classifier that handles thrown values matching one of `errors`: error
 * classes (an instance anywhere in the `cause` chain matches, as `errorIs`
 * says) or error objects (that very object anywhere in the chain).
 *
 * @throws TypeError when `errors` is empty or holds anything else (a plain function: use `handleWhen`)
 *
 * @example
 * ```ts
 * const transient = handle(TimeoutError, BulkheadFullError).orResult((res: Response) => res.status === 503);
 * ```
 */
export function handle(...errors: ErrorMatcher[]): Classifier {
  return new Classifier({ ...noParts, errors: checkMatchers('handle', errors) });
}

/**
 * A classifier that handles thrown values `predicate` accepts. The predicate
 * gets the thrown value itself, whatever it is.
 *
 * @throws TypeError when `predicate` is not a synchronous function
 *
 * @example
 * ```ts
 * const reset = handleWhen((err) => (err as { code?: unknown }).code === 'ECONNRESET');
 * ```
 */
export function handleWhen(predicate: ErrorPredicate): Classifier {
  return new Classifier({ ...noParts, when: [checkPredicate('handleWhen', predicate)] });
}

/**
 * A classifier that handles every thrown value (narrow it with `except`).
 * Note that this includes a `CircuitOpenError`: a `Retry` given it retries
 * into an open breaker (after its `retryAfterMs`); add
 * `.except(CircuitOpenError)` when it should not.
 *
 * @example
 * ```ts
 * const anyFailure = handleAll().except(ValidationError).orResult((res: Response) => res.status >= 500);
 * ```
 */
export function handleAll(): Classifier {
  return new Classifier({ ...noParts, all: true });
}

/**
 * A classifier that handles returned values `predicate` accepts, and no
 * thrown value: a breaker given it counts every throw as a success, a retry
 * rethrows it. Start from `handleAll()` or `handle(...)` and call `orResult`
 * to handle both.
 *
 * @throws TypeError when `predicate` is not a synchronous function
 *
 * @example
 * ```ts
 * const unavailable = handleResult((res: Response) => res.status === 503);
 * ```
 */
export function handleResult<R>(predicate: ResultPredicate<R>): Classifier<R> {
  return new Classifier<R>({
    ...noParts,
    results: [checkPredicate('handleResult', predicate) as ResultPredicate<never>],
  });
}

/**
 * Whether `value` is a classifier (also one built by another installed copy
 * of the core).
 */
export function isClassifier(value: unknown): value is Classifier {
  return partsOf(value) !== undefined;
}

/** The parts of a classifier, or `undefined` when `value` is none (or a malformed one). */
export function partsOf(value: unknown): ClassifierParts | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  const own = ownParts(value);
  if (own !== undefined) return own;
  const known = foreign.get(value);
  if (known !== undefined) return known;
  let parts: unknown;
  try {
    parts = (value as Record<symbol, unknown>)[PARTS_KEY];
  } catch {
    return undefined;
  }
  if (parts === null || typeof parts !== 'object') return undefined;
  // A classifier of another installed copy of the core: its parts are checked as this copy's builders check
  // them, then copied and frozen once, so that later changes to its arrays change nothing here.
  try {
    const copy = new Classifier(parts as ClassifierParts).parts;
    foreign.set(value, copy);
    return copy;
  } catch {
    return undefined;
  }
}

/** The checked, frozen copy of the parts of each classifier of another copy of the core seen so far. */
const foreign = new WeakMap<object, ClassifierParts>();

/** Whether `parts` handle the thrown `error` (see {@link Classifier.handlesError}). */
export function errorHandled(parts: ClassifierParts, error: unknown): boolean {
  for (const matcher of parts.except) if (errorIs(error, matcher)) return false;
  if (parts.all) return true;
  for (const matcher of parts.errors) if (errorIs(error, matcher)) return true;
  for (const predicate of parts.when) if (answer(predicate, error)) return true;
  return false;
}

/** Whether `parts` handle the returned `result`. */
export function resultHandled(parts: ClassifierParts, result: unknown): boolean {
  for (const predicate of parts.results) if (answer(predicate as (r: unknown) => unknown, result)) return true;
  return false;
}

/**
 * A predicate's answer with JavaScript truthiness. A promise (which would read
 * as `true`) is an error: its rejection is caught and a `TypeError` thrown,
 * which the pattern logs as a predicate that threw.
 */
export function answer(predicate: (arg: unknown) => unknown, arg: unknown): boolean {
  const value = predicate(arg);
  if ((typeof value === 'object' || typeof value === 'function') && value !== null) {
    let then: unknown;
    try {
      then = (value as { then?: unknown }).then;
    } catch {
      then = undefined;
    }
    if (typeof then === 'function') {
      try {
        (then as (ok: undefined, fail: () => void) => unknown).call(value, undefined, ignore);
      } catch {
        // A `then` that throws: nothing to subscribe to.
      }
      throw new TypeError('a predicate of the classifier returned a promise: predicates must answer synchronously');
    }
  }
  return Boolean(value);
}

function ignore(): void {}

/** Checks the error classes and objects given to `method` (as `field`). */
function checkMatchers(method: string, errors: readonly unknown[], field = 'errors'): ErrorMatcher[] {
  if (errors.length === 0) {
    throw new TypeError(
      `${method}() needs at least one error class or error object (handleAll() handles every thrown value)`,
    );
  }
  errors.forEach((item, index) => {
    const isClass = typeof item === 'function' && typeof item.prototype === 'object' && item.prototype !== null;
    if (isClass || (typeof item === 'object' && item !== null)) return;
    const hint =
      typeof item === 'function'
        ? ' (a function that is not a class: pass a predicate to handleWhen or orWhen)'
        : typeof item === 'string'
          ? ' (to match an error code, use orWhen((err) => err.code === ...))'
          : '';
    throw new TypeError(
      `${method}(): ${field}[${index}] must be an error class or an error object, got ${describeValue(item)}${hint}`,
    );
  });
  return errors as ErrorMatcher[];
}

/** Checks a predicate given to `method` (as `field`): a synchronous function. */
function checkPredicate<F extends (arg: never) => unknown>(method: string, predicate: F, field = 'predicate'): F {
  if (typeof predicate !== 'function') {
    throw new TypeError(`${method}(): ${field} must be a function, got ${describeValue(predicate)}`);
  }
  if (isAsyncFunction(predicate)) {
    throw new TypeError(
      `${method}(): ${field} must be a synchronous function returning a boolean, got an async function (a predicate's answer is needed at once)`,
    );
  }
  return predicate;
}
