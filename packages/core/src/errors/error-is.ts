/** A class of errors, as accepted by {@link errorIs}. */
// biome-ignore lint/suspicious/noExplicitAny: constructor parameters are irrelevant to matching.
export type ErrorClass<E = unknown> = abstract new (...args: any[]) => E;

/** What {@link searchChain} found, boxed so that a found `undefined` differs from nothing found. */
interface Found {
  readonly value: unknown;
}

/**
 * Depth-first walk of `err`, its `cause` chain and the `errors` of any
 * `AggregateError`, in that order; cycles are tolerated. Errors are data from
 * anywhere: a `cause` or `errors` getter that throws, a proxy whose traps throw
 * or a predicate that throws on a candidate makes that part of the walk count
 * as absent, so a classification never replaces the original failure with a new one.
 */
function searchChain(err: unknown, predicate: (candidate: unknown) => boolean): Found | undefined {
  const stack: unknown[] = [err];
  const seen = new Set<unknown>();
  while (stack.length > 0) {
    const current = stack.pop();
    try {
      if (predicate(current)) return { value: current };
    } catch {
      // A candidate whose getters throw does not match.
    }
    if (current === null || typeof current !== 'object' || seen.has(current)) continue;
    seen.add(current);
    pushLinks(current, stack);
  }
  return undefined;
}

/** Pushes the `errors` of an `AggregateError` (in reverse, so the first is next) and the `cause` of `current`. */
function pushLinks(current: object, stack: unknown[]): void {
  try {
    if ('cause' in current) stack.push(current.cause);
  } catch {
    // A `cause` getter (or a proxy's `has` trap) that throws: no cause.
  }
  try {
    if (current instanceof AggregateError) {
      const errors: unknown = current.errors;
      if (Array.isArray(errors)) for (let i = errors.length - 1; i >= 0; i--) stack.push(errors[i]);
    }
  } catch {
    // An `errors` getter that throws: no errors.
  }
}

/**
 * True when `err`, or any error in its `cause` chain (and the `errors` of an
 * `AggregateError`), is `target` itself or, where `target` is a class, an
 * instance of it. Go's `errors.Is` for promises that reject.
 *
 * @example
 * ```ts
 * errorIs(new Error('wrapped', { cause: connReset }), connReset); // true
 * errorIs(new AggregateError([new TimeoutError({ timeoutMs: 5 })]), TimeoutError); // true
 * ```
 */
export function errorIs(err: unknown, target: unknown): boolean {
  // Only a constructor (a function with a prototype object) can be an `instanceof` target; an arrow function is
  // matched by identity like any other value.
  if (typeof target === 'function' && typeof target.prototype === 'object' && target.prototype !== null) {
    const cls = target as ErrorClass;
    return (
      searchChain(err, (c) => c === target || (typeof c === 'object' && c !== null && c instanceof cls)) !== undefined
    );
  }
  return searchChain(err, (c) => c === target) !== undefined;
}

/**
 * The first value in `err`'s `cause` chain (see {@link errorIs} for the walk
 * order) for which `predicate` is true, or `undefined`. A predicate that
 * throws on a candidate counts as `false` for it; getters that throw hide
 * only their own part of the chain.
 *
 * @example
 * ```ts
 * const hinted = findInChain(err, (e): e is { retryAfterMs: number } =>
 *   typeof (e as { retryAfterMs?: unknown })?.retryAfterMs === 'number');
 * ```
 */
export function findInChain<T>(err: unknown, predicate: (candidate: unknown) => candidate is T): T | undefined;
/** The first value in `err`'s `cause` chain for which `predicate` is true, or `undefined`. */
export function findInChain(err: unknown, predicate: (candidate: unknown) => boolean): unknown;
export function findInChain(err: unknown, predicate: (candidate: unknown) => boolean): unknown {
  return searchChain(err, predicate)?.value;
}
