import { isTimeoutError, type Policy } from '@resilience/core';
import { configObject } from '@resilience/core/validate';
import {
  defaultBodies,
  Rejection,
  rejectUnknownOptions,
  statusOption,
  timeoutOptionHints,
  timeoutPolicy,
} from '@resilience/http';
import type { Context, MiddlewareHandler } from 'hono';
import { goneResponse } from './internal/respond.js';
import { setSignal, signalOf } from './internal/signal.js';
import type { ResilienceEnv, TimeoutOptions } from './types.js';

const OWNER = 'timeout';
const OPTIONS = ['statusCode', 'body'] as const;

const ignore = (): void => {};

/** The accessor of `c.res` on Hono's `Context` prototype. */
function resAccessor(c: Context): PropertyDescriptor {
  for (let proto: object | null = Object.getPrototypeOf(c); proto !== null; proto = Object.getPrototypeOf(proto)) {
    const descriptor = Object.getOwnPropertyDescriptor(proto, 'res');
    if (descriptor?.get !== undefined && descriptor.set !== undefined) return descriptor;
  }
  throw new TypeError('timeout: this Hono context has no res accessor');
}

/**
 * Makes `response` the context's answer for good: assigned through Hono's own
 * setter (after `undefined`, so none of the handler's headers merge in), then
 * `c.res` ignores later assignments: a handler that answers or throws after
 * the time is up (Hono's compose assigns the answer of `onError`) cannot
 * replace it. Headers added with `c.header()` still reach it, for the
 * middlewares outside this one.
 */
function pinResponse(c: Context, response: Response): void {
  const accessor = resAccessor(c);
  accessor.set?.call(c, undefined);
  accessor.set?.call(c, response);
  Object.defineProperty(c, 'res', {
    configurable: true,
    enumerable: false,
    get: () => accessor.get?.call(c),
    set: ignore,
  });
}

/**
 * Gives every request a time limit. The handler gets an `AbortSignal` as
 * `c.var.signal` (also `signalOf(c)`) that aborts when the time is up
 * (reason: a `TimeoutError`) or the client disconnects (`c.req.raw.signal`);
 * pass it to whatever it awaits. When the time is up, the answer is 503
 * (set `statusCode: 504` if you prefer), given inside the abort, before a
 * handler listening to the signal can answer. It carries the headers set
 * before this middleware ran and none the handler set; what the handler
 * returns or throws later cannot replace it (after a timeout `c.res` ignores
 * assignments; middlewares outside can still add headers with `c.header()`).
 *
 * @param msOrTimeout - milliseconds, or a core `Timeout` (or any policy whose
 *   `execute` rejects with a `TimeoutError`) for its clock, hooks and telemetry
 * @param options - rejection status and body
 * @example
 * ```ts
 * app.get('/report', timeout(2_000), async (c) => {
 *   const res = await fetch(reportUrl, { signal: c.var.signal });
 *   return c.json(await res.json());
 * });
 * ```
 */
export function timeout(msOrTimeout: number | Policy, options?: TimeoutOptions): MiddlewareHandler<ResilienceEnv> {
  const policy = timeoutPolicy(OWNER, msOrTimeout);
  const opts = configObject(OWNER, options, 'options');
  rejectUnknownOptions(OWNER, opts, OPTIONS, timeoutOptionHints);
  const rejection = new Rejection<Context>(
    statusOption(OWNER, opts.statusCode, 503),
    opts.body,
    defaultBodies.timeout,
    OWNER,
  );

  return async (c, next) => {
    const caller = signalOf(c);
    // The headers set so far (CORS, an outer rateLimit's...) go out with a timeout answer; the handler's do not.
    const before = new Headers(c.res.headers);
    let answered: Response | undefined;
    const header = c.header;
    /** Our answer, pinned as c.res; until this middleware returns, the late handler's c.header() does nothing. */
    const answer = (err: unknown): Response => {
      if (answered === undefined) {
        const body = rejection.body(c, err);
        before.set('Content-Type', body.contentType);
        answered = new Response(body.payload, { status: rejection.statusCode, headers: before });
        pinResponse(c, answered);
        c.header = ignore;
      }
      return answered;
    };
    let pending: Promise<void> | undefined;
    try {
      await policy.execute(
        (ctx) => {
          setSignal(c, ctx.signal);
          // Before the handler can subscribe: this listener runs first when the time is up.
          ctx.signal.addEventListener(
            'abort',
            () => {
              if (isTimeoutError(ctx.signal.reason)) answer(ctx.signal.reason);
            },
            { once: true },
          );
          pending = next();
          return pending;
        },
        { signal: caller },
      );
    } catch (err) {
      // The rest of the chain may still settle, even with an error: nobody awaits it now.
      pending?.then(ignore, ignore);
      if (isTimeoutError(err)) {
        answer(err);
      } else if (!(caller.aborted && err === caller.reason)) {
        throw err;
      } else if (answered === undefined) {
        return goneResponse();
      }
    } finally {
      c.header = header;
    }
    return answered;
  };
}
