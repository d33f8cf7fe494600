/**
 * Construction-time checks, worded like the core's: the middleware, the
 * option and the value it got ("rateLimit: cost must be ...").
 */

/** A short description of a bad value for an error message. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'function') return 'a function';
  if (Array.isArray(value)) return 'an array';
  if (value !== null && typeof value === 'object') return 'an object';
  return String(value);
}

/** Throws a `TypeError` when `options` is neither an object nor `undefined`. */
export function optionsObject<O extends object>(owner: string, options: O | undefined): Partial<O> {
  if (options === undefined) return {};
  if (options === null || typeof options !== 'object') {
    throw new TypeError(`${owner}: options must be an object, got ${describeValue(options)}`);
  }
  return options;
}

/** An integer in `[min, max]`, `fallback` when `undefined`; throws otherwise. */
export function integerOption(
  owner: string,
  field: string,
  value: unknown,
  fallback: number,
  min: number,
  max: number,
): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    const ErrorType = typeof value === 'number' ? RangeError : TypeError;
    throw new ErrorType(`${owner}: ${field} must be an integer >= ${min} and <= ${max}, got ${describeValue(value)}`);
  }
  return value;
}

/** A status code for an error answer (400–599), `fallback` when `undefined`. */
export function statusOption(owner: string, value: unknown, fallback: number): number {
  return integerOption(owner, 'statusCode', value, fallback, 400, 599);
}

/** A function or `undefined`; throws a `TypeError` otherwise. */
export function functionOption<F>(owner: string, field: string, value: F | undefined): F | undefined {
  if (value !== undefined && typeof value !== 'function') {
    throw new TypeError(`${owner}: ${field} must be a function, got ${describeValue(value)}`);
  }
  return value;
}

/** One of `allowed`, `fallback` when `undefined`; throws a `RangeError` otherwise. */
export function oneOfOption<V>(owner: string, field: string, value: unknown, allowed: readonly V[], fallback: V): V {
  if (value === undefined) return fallback;
  if (!(allowed as readonly unknown[]).includes(value)) {
    const list = allowed.map((a) => (typeof a === 'string' ? `"${a}"` : String(a))).join(', ');
    throw new RangeError(`${owner}: ${field} must be one of ${list}, got ${describeValue(value)}`);
  }
  return value as V;
}

/** Throws a `TypeError` unless `target` has a method `method`. */
export function requireMethod(owner: string, argument: string, target: unknown, method: string): void {
  if (
    target === null ||
    (typeof target !== 'object' && typeof target !== 'function') ||
    typeof (target as Record<string, unknown>)[method] !== 'function'
  ) {
    const article = /^[aeiou]/.test(method) ? 'an' : 'a';
    throw new TypeError(`${owner}: ${argument} must have ${article} ${method}() method, got ${describeValue(target)}`);
  }
}
