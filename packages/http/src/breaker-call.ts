import { describeValue } from '@resilience/core/validate';
import type { CircuitPermitLike } from './types.js';

/**
 * Reports one admitted call to its circuit-breaker permit, and never
 * throws: it runs in a response's `close` listener or a framework hook,
 * where a throw would crash the process or replace a good answer.
 *
 * In order: an error the request failed with (boxed, so `undefined` can be
 * an error) that `isFailureError` accepts is a failure; an answer that did
 * not finish (the client went away) is ignored; a `status` that
 * `isFailureStatus` accepts is a failure; anything else a success (`status`
 * `undefined` skips that test). A predicate that throws counts the call as
 * a failure with its error; a permit whose method throws too (a broken
 * breaker-like) is given up on: nothing can be recorded, nothing escapes.
 *
 * @param permit - the permit of the call
 * @param error - the error the request failed with, boxed, if any
 * @param finished - whether the whole answer went out
 * @param status - the status of the answer, or `undefined` not to judge by it
 * @param isFailureError - whether an error counts as a failure
 * @param isFailureStatus - whether a status counts as a failure
 */
export function reportCall(
  permit: CircuitPermitLike,
  error: { readonly value: unknown } | undefined,
  finished: boolean,
  status: number | undefined,
  isFailureError: (error: unknown) => boolean,
  isFailureStatus: (status: number) => boolean,
): void {
  try {
    if (error !== undefined && isFailureError(error.value)) {
      permit.failure(error.value);
    } else if (!finished) {
      permit.ignore();
    } else if (status !== undefined && isFailureStatus(status)) {
      permit.failure(error?.value);
    } else {
      permit.success();
    }
  } catch (reportError) {
    // A throwing predicate (or permit method) counts the call as a failure.
    try {
      permit.failure(reportError);
    } catch {
      // A breaker-like whose permit throws too: nothing can be recorded, and nothing may escape.
    }
  }
}

/**
 * What `breaker.acquire()` gave, checked to be a permit (an object with
 * `success`, `failure` and `ignore` methods): a breaker-like that returns
 * anything else would record nothing, silently, for every call. Throws a
 * `TypeError` naming `owner` and the value.
 *
 * @param owner - the middleware named in the error
 * @param permit - what `acquire()` returned
 */
export function checkedPermit(owner: string, permit: unknown): CircuitPermitLike {
  const p = permit as Partial<Record<keyof CircuitPermitLike, unknown>> | null | undefined;
  if (
    p === null ||
    typeof p !== 'object' ||
    typeof p.success !== 'function' ||
    typeof p.failure !== 'function' ||
    typeof p.ignore !== 'function'
  ) {
    throw new TypeError(
      `${owner}: breaker.acquire() must return a permit with success(), failure() and ignore() methods, got ${describeValue(permit)}`,
    );
  }
  return permit as CircuitPermitLike;
}
