import { type Policy, Timeout } from '@resilience/core';
import { describeValue, functionOption, requireMethod } from '@resilience/core/validate';
import { failureStatusOption, syncPredicate } from './status.js';

/**
 * The default bodies of the rejections every adapter sends, one of each:
 * `rateLimited` (429), `unavailable` (an open breaker, a failed limiter in
 * `failMode: 'closed'`), `overloaded` (a full bulkhead) and `timeout`.
 */
export const defaultBodies: {
  readonly rateLimited: object;
  readonly unavailable: object;
  readonly overloaded: object;
  readonly timeout: object;
} = Object.freeze({
  rateLimited: Object.freeze({ error: 'rate_limited', message: 'Too many requests. Try again later.' }),
  unavailable: Object.freeze({
    error: 'service_unavailable',
    message: 'The service is temporarily unavailable. Try again later.',
  }),
  overloaded: Object.freeze({ error: 'overloaded', message: 'The service is busy. Try again later.' }),
  timeout: Object.freeze({ error: 'timeout', message: 'The request took too long to process.' }),
});

/**
 * The policy of a `timeout(msOrTimeout)` middleware: a core `Timeout` of
 * `ms` for a number, the given policy (anything with `execute`) otherwise.
 *
 * @param owner - the middleware named in the error
 * @param msOrTimeout - milliseconds (finite, > 0) or a policy
 * @throws RangeError naming `owner`, `ms` and the value for a number that is not finite and > 0; TypeError when
 *   it is neither a number nor has an `execute` method
 */
export function timeoutPolicy(owner: string, msOrTimeout: number | Policy): Policy {
  if (typeof msOrTimeout === 'number') {
    if (!Number.isFinite(msOrTimeout) || msOrTimeout <= 0) {
      throw new RangeError(`${owner}: ms must be a finite number > 0, got ${describeValue(msOrTimeout)}`);
    }
    return new Timeout({ defaultTimeout: msOrTimeout });
  }
  requireMethod(owner, 'msOrTimeout', msOrTimeout, 'execute');
  return msOrTimeout;
}

const everyError = (): boolean => true;

/**
 * The failure predicates of a `circuitBreaker()` middleware, checked:
 * `failureStatuses` (see {@link failureStatusOption}; every 5xx by default)
 * and `isFailureError` (every error by default). A predicate that returns a
 * promise is refused when it is called, as a `TypeError` naming it.
 *
 * @param owner - the middleware named in the errors
 * @param options - the middleware's options (already checked to be an object)
 * @throws TypeError naming `owner`, the option and the value when either option is malformed
 */
export function breakerPredicates(
  owner: string,
  options: {
    readonly failureStatuses?: readonly number[] | ((status: number) => boolean) | undefined;
    readonly isFailureError?: ((error: unknown) => boolean) | undefined;
  },
): { readonly isFailureStatus: (status: number) => boolean; readonly isFailureError: (error: unknown) => boolean } {
  const isFailureStatus = failureStatusOption(owner, options.failureStatuses);
  const custom = functionOption(owner, 'isFailureError', options.isFailureError);
  const isFailureError = custom === undefined ? everyError : syncPredicate(owner, 'isFailureError(error)', custom);
  return { isFailureStatus, isFailureError };
}
