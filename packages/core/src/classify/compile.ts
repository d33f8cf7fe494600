import { describeValue } from '../internal/validate.js';
import {
  answer,
  type ClassifierParts,
  type ErrorPredicate,
  errorHandled,
  partsOf,
  resultHandled,
} from './classifier.js';

/**
 * How patterns turn a classifier (the `handle` option) into the predicates
 * they already evaluate: once, at construction and `update()`, never per call.
 * The compiled functions are cached per classifier, so that patterns built
 * from one classifier share them (a breaker's settings stay shareable).
 */

/** A classifier's thrown-value test: every value, none, or a function. */
export type ErrorTest = 'all' | 'none' | ErrorPredicate;

/** A classifier, compiled. */
export interface CompiledClassifier {
  /** The parts it was compiled from. */
  readonly parts: ClassifierParts;
  /** Which thrown values are handled, `except` included. */
  readonly errors: ErrorTest;
  /** The predicates' part of the error test (without classes and `except`): for `Retry`'s `isRetryable`. */
  readonly when: ErrorPredicate | undefined;
  /** Which thrown values are not handled (for a breaker's `isSuccessful`); `undefined` when every one is. */
  readonly notHandled: ErrorPredicate | undefined;
  /** Which returned values are handled; `undefined` when none is (the fast path stays open). */
  readonly results: ((result: never) => boolean) | undefined;
}

const compiled = new WeakMap<ClassifierParts, CompiledClassifier>();

const always: ErrorPredicate = () => true;

/**
 * Checks the `handle` option of `owner`: `undefined`, or a classifier. Any
 * other value is a `TypeError` naming the field and the value.
 */
export function classifierOption(owner: string, value: unknown, field = 'handle'): CompiledClassifier | undefined {
  if (value === undefined) return undefined;
  const parts = partsOf(value);
  if (parts === undefined) {
    const hint =
      typeof value === 'function'
        ? ' (a predicate is not a classifier: wrap it as handleWhen(fn), or handleResult(fn) for results)'
        : describeValue(value) === 'an array'
          ? ' (wrap error classes as handle(A, B))'
          : '';
    throw new TypeError(
      `${owner}: ${field} must be a classifier (from handle(), handleWhen(), handleAll() or handleResult()), got ${describeValue(value)}${hint}`,
    );
  }
  let entry = compiled.get(parts);
  if (entry === undefined) {
    entry = compile(parts);
    compiled.set(parts, entry);
  }
  return entry;
}

/**
 * Throws a `TypeError` naming `field` and the first alias of it that `config`
 * also sets (not `undefined`): the two would say the same thing twice.
 */
export function refuseAliases(owner: string, config: object, aliases: readonly string[], field = 'handle'): void {
  const values = config as Record<string, unknown>;
  for (const alias of aliases) {
    if (values[alias] !== undefined) {
      throw new TypeError(
        `${owner}: give either ${field} or ${alias}, not both (${alias} is an older spelling of part of ${field}; got ${field} and ${alias} ${describeValue(values[alias])})`,
      );
    }
  }
}

/**
 * The config `update(partial)` merges over: `current` without the options
 * `partial` supersedes. Giving `handle` replaces the aliases set before, and
 * giving an alias replaces a `handle` set before, so that switching from one
 * spelling to the other needs no `undefined` for the old one. A key given as
 * `undefined` resets only itself. Both in one `partial` still conflict (the
 * constructor says so).
 */
export function supersede<C extends object>(
  current: C,
  partial: unknown,
  aliases: readonly string[],
  field = 'handle',
): C {
  if (partial === null || typeof partial !== 'object') return current;
  const given = partial as Record<string, unknown>;
  // A key given as `undefined` only resets itself: it supersedes nothing.
  const sets = (key: string): boolean => Object.hasOwn(given, key) && given[key] !== undefined;
  const drop = sets(field)
    ? aliases.filter((alias) => !Object.hasOwn(given, alias))
    : aliases.some(sets)
      ? [field]
      : [];
  if (drop.length === 0) return current;
  const copy = { ...current } as Record<string, unknown>;
  for (const key of drop) delete copy[key];
  return copy as C;
}

function compile(parts: ClassifierParts): CompiledClassifier {
  const when = whenTest(parts.when);
  const errors = errorTest(parts, when);
  return {
    parts,
    errors,
    when: parts.all ? always : when,
    notHandled: errors === 'all' ? undefined : errors === 'none' ? always : (error) => !answer(errors, error),
    results: resultTest(parts.results),
  };
}

/** The predicates as one: the only one as it is (no wrapper), several asked in order. */
function whenTest(predicates: readonly ErrorPredicate[]): ErrorPredicate | undefined {
  if (predicates.length === 0) return undefined;
  // One predicate is passed on as it is (the pattern asks it with its own rule for a throw or a promise).
  if (predicates.length === 1) return predicates[0];
  return (error) => {
    for (const predicate of predicates) if (answer(predicate, error)) return true;
    return false;
  };
}

function errorTest(parts: ClassifierParts, when: ErrorPredicate | undefined): ErrorTest {
  const { all, errors, except } = parts;
  if (except.length === 0) {
    if (all) return 'all';
    if (errors.length === 0) return when ?? 'none';
  }
  if (!all && errors.length === 0 && when === undefined) return 'none';
  return (error) => errorHandled(parts, error);
}

function resultTest(predicates: ClassifierParts['results']): ((result: never) => boolean) | undefined {
  if (predicates.length === 0) return undefined;
  // One predicate is passed on as it is: a pattern asks it exactly as it asks its own result predicate,
  // with the same rule for a throw or a promise, at the same cost.
  if (predicates.length === 1) return predicates[0];
  const parts = { results: predicates } as unknown as ClassifierParts;
  return (result: never) => resultHandled(parts, result);
}
