import { describeValue, numberOption } from '@resilience/core/validate';
import { refuseThenable } from './sync.js';

/**
 * A status code for an error answer (400–599), `fallback` when `undefined`;
 * throws a `RangeError` naming `owner`, `statusCode` and the value otherwise.
 *
 * @param owner - the middleware named in the error
 * @param value - the `statusCode` option
 * @param fallback - the default status
 */
export function statusOption(owner: string, value: unknown, fallback: number): number {
  return numberOption(owner, 'statusCode', value, fallback, { min: 400, max: 599, integer: true });
}

/** Whether `status` is a server error (5xx): the default failure of a circuit breaker. */
export function isServerError(status: number): boolean {
  return status >= 500;
}

/**
 * The `failureStatuses` option of a circuit breaker middleware as a
 * predicate: `undefined` gives {@link isServerError}, a function is used as
 * it is, an array of status codes (integers from 100 to 999, as Node
 * sends them) matches those codes; anything else is a `TypeError`, or a
 * `RangeError` naming the entry and its value.
 *
 * @param owner - the middleware named in the error
 * @param value - the option
 */
export function failureStatusOption(
  owner: string,
  value: readonly number[] | ((status: number) => boolean) | undefined,
): (status: number) => boolean {
  if (value === undefined) return isServerError;
  if (typeof value === 'function') return syncPredicate(owner, 'failureStatuses(status)', value);
  if (!Array.isArray(value)) {
    throw new TypeError(
      `${owner}: failureStatuses must be an array of status codes or a function, got ${describeValue(value)}`,
    );
  }
  // Each code checked and named: "got an array" would not say which entry is wrong, and a code no response can
  // carry (`99`, `1000`) would silently never match.
  for (let i = 0; i < value.length; i++) {
    const status: unknown = value[i];
    if (typeof status !== 'number' || !Number.isInteger(status) || status < 100 || status > 999) {
      throw new RangeError(
        `${owner}: failureStatuses[${i}] must be a status code (an integer from 100 to 999), got ${describeValue(status)}`,
      );
    }
  }
  const statuses = new Set<number>(value);
  return (status) => statuses.has(status);
}

/**
 * The `retryAfter` option of a bulkhead middleware: seconds (an integer
 * >= 0), `undefined` for the default of 1, `false` for no header (then
 * `undefined` is returned).
 *
 * @param owner - the middleware named in the error
 * @param value - the option
 */
export function retryAfterOption(owner: string, value: unknown): number | undefined {
  const retryAfter = value ?? 1;
  if (retryAfter === false) return undefined;
  if (typeof retryAfter !== 'number' || !Number.isInteger(retryAfter) || retryAfter < 0) {
    throw new RangeError(`${owner}: retryAfter must be an integer >= 0 or false, got ${describeValue(retryAfter)}`);
  }
  return retryAfter;
}

/** Options of other libraries a user may carry over, and what to use here instead. */
export type OptionHints = Readonly<Record<string, string>>;

/**
 * Throws a `TypeError` naming the first own key of `options` that is not in
 * `known`: a misspelt option, or one carried over from another library
 * (express-rate-limit's `windowMs`, @fastify/rate-limit's `timeWindow`), is
 * an error, never silently ignored. The message, in the core's form, gives
 * the hint for that name when `hints` has one (what to use here), else the
 * known options: `rateLimit: unknown option "windowMs" (express-rate-limit's
 * windowMs is ...)`, `timeout: unknown option "statsCode" (known options:
 * statusCode, body)`.
 *
 * @param owner - the middleware named in the error
 * @param options - the options object (already checked to be an object)
 * @param known - the option names the middleware reads
 * @param hints - for well-known names of other libraries, what to use here
 */
export function rejectUnknownOptions(
  owner: string,
  options: object,
  known: readonly string[],
  hints: OptionHints = {},
): void {
  for (const name of Object.keys(options)) {
    if (known.includes(name)) continue;
    const hint = Object.hasOwn(hints, name) ? hints[name] : undefined;
    throw new TypeError(
      `${owner}: unknown option ${JSON.stringify(name)} (${hint ?? `known options: ${known.join(', ')}`})`,
    );
  }
}

/**
 * `predicate`, checked on every call to answer synchronously: a promise (an
 * `async` predicate) is refused with a `TypeError` (its rejection muted, so
 * it never ends the process); any other value counts by its truthiness. The
 * middlewares call their user predicates inside a `try`, where that error
 * counts the call as a failure.
 *
 * @param owner - the middleware named in the error
 * @param what - the predicate, as the message names it (`isFailureError(error)`)
 * @param predicate - the user's function
 */
export function syncPredicate<A>(owner: string, what: string, predicate: (arg: A) => unknown): (arg: A) => boolean {
  return (arg) => {
    const verdict = predicate(arg);
    refuseThenable(owner, what, verdict);
    return Boolean(verdict);
  };
}
