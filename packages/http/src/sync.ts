import { describeValue } from '@resilience/core/validate';
/**
 * Whether `value` has a callable `then` (may throw when `then` is a getter
 * that throws: call it where a throw is a limiter failure).
 */
export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

const mute = (): void => {};

/**
 * Handles the rejection of what a user's callback returned (an `async`
 * logger method), so that it never becomes an unhandled rejection, which
 * ends the process by default. A value that is not a thenable is left
 * alone; a `then` that throws leaves nothing pending.
 *
 * @param value - what the callback returned
 */
export function ignoreRejection(value: unknown): void {
  if (value === null || (typeof value !== 'object' && typeof value !== 'function')) return;
  try {
    const then = (value as { then?: unknown }).then;
    if (typeof then === 'function') then.call(value, undefined, mute);
  } catch {
    // A `then` getter or method that throws: nothing is pending, so nothing can go unhandled.
  }
}

/**
 * Throws a `TypeError` when a callback of the application (`key`, `skip`,
 * `cost`) returned a promise: they run on every request and must answer at
 * once. The promise is given a rejection handler first, so one that rejects
 * (an `async` key whose lookup failed) never becomes an unhandled rejection,
 * which would end the process.
 *
 * @param owner - the middleware named in the error
 * @param what - the callback, as the message names it (`key(req)`)
 * @param value - what it returned
 */
export function refuseThenable(owner: string, what: string, value: unknown): void {
  let thenable: boolean;
  try {
    thenable = isThenable(value);
  } catch {
    thenable = true; // a `then` getter that throws is no synchronous answer either
  }
  if (!thenable) return;
  try {
    Promise.resolve(value).then(undefined, mute);
  } catch {
    // Promise.resolve() turns a throwing then() into a rejection; nothing else can throw here.
  }
  throw new TypeError(`${owner}: ${what} returned a promise; it must answer synchronously (it runs on every request)`);
}

/**
 * What to hand a framework's `next(err)` or `done(err)` for a value a
 * callback threw (or a policy rejected with): the value itself, unless the
 * framework would read it as no error at all (`undefined`, `null`: the
 * request would go on, unlimited or unguarded) or, in Express, as a routing
 * instruction (`'route'`, `'router'`); then a `TypeError` naming `owner`,
 * `what` and the value, with the value as its `cause`.
 *
 * @param owner - the middleware named in the error
 * @param what - what threw, as the message names it (`breaker.acquire()`)
 * @param thrown - the thrown value
 */
export function passableError(owner: string, what: string, thrown: unknown): unknown {
  if (thrown !== undefined && thrown !== null && thrown !== 'route' && thrown !== 'router') return thrown;
  return new TypeError(`${owner}: ${what} threw ${describeValue(thrown)}, which is no error`, { cause: thrown });
}
